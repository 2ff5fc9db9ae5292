"""The cost and latency model of MODEL.md as small pure functions.

Every planner, the simulator, the runtime and `verify` use these; none re-derives a formula.
Times in ms, rates in req/s, prices in USD/h. Where each formula of MODEL.md lives is listed in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Protocol, Sequence

from skinflint.fanout import as_fraction
from skinflint.spec.types import App, Spec

# Relative tolerance for comparisons of computed floats (budgets are sums of profiled values).
RTOL = 1e-9

# The dispatch kinds of MODEL.md ("Dispatch policies and worst-case latency"), as plans name them.
BATCH_AWARE = "batch-aware"
ROUND_ROBIN = "round-robin"
CENTRAL_QUEUE = "central-queue"   # InferLine's: one queue per module, an idle worker takes up to b (docs/baselines.md)
DISPATCH_KINDS = (BATCH_AWARE, ROUND_ROBIN, CENTRAL_QUEUE)


def leq(a: float, b: float) -> bool:
    """a <= b up to floating-point noise."""
    return a <= b + RTOL * max(1.0, abs(a), abs(b))


def throughput(batch_size: int, latency_ms: float) -> float:
    """theta(h, b) = 1000 * b / d(h, b): requests/s of one busy worker."""
    return 1000.0 * batch_size / latency_ms


def fanout_lag_ms(rate_factor: float, app_rate: float) -> float:
    """Fan-out lag of a module whose factor is p/q in lowest terms: 1000 (1 - 1/p) / rate (0 for p = 1).

    A request's items reach the module together, not spread over the uniform stream at r_m that W
    assumes; its last item can finish this much later than W (docs/simulator.md). Added to W."""
    p, _ = as_fraction(rate_factor)
    return 1000.0 * (1.0 - 1.0 / p) / app_rate


def module_lags(app: App, counted: bool, app_rate: float | None = None) -> dict[str, float]:
    """Each module's fan-out lag, with its factor p/q as written in the app file and the APP's rate
    (`app_rate`, default `app.rate`; a plan's own rate where a plan is checked); all 0 where the
    plan does not count the lag (PlanOptions.fanout_lag / Plan.fanout_lag) and for a module whose
    items are spread (`fanout: spread` in the app file)."""
    rate = app.rate if app_rate is None else app_rate
    return {m.name: fanout_lag_ms(m.rate_factor, rate) if counted and m.fanout == "together" else 0.0
            for m in app.modules}


def worst_latency_ms(batch_size: int, latency_ms: float, rate: float, lag_ms: float = 0.0) -> float:
    """Batch-aware dispatch: W = 1000 (b - 1) / r + d(h, b) (+ the module's fan-out lag)."""
    return 1000.0 * (batch_size - 1) / rate + latency_ms + lag_ms


def worst_latency_rr_ms(batch_size: int, latency_ms: float, rate: float, workers: int, lag_ms: float = 0.0) -> float:
    """Per-request round-robin over n workers sharing `rate`: W_rr = 1000 (b - 1) n / r + d(h, b) (+ lag)."""
    return 1000.0 * (batch_size - 1) * workers / rate + latency_ms + lag_ms


def cycle_ms(total_batch: float, rate: float) -> float:
    """T_m = 1000 * sum(n * b) / r: the time the stream takes to fill one batch per worker."""
    return 1000.0 * total_batch / rate


def workers_to_carry(rate: float, throughput_: float, utilization: float) -> int:
    """Least n with n * u * theta >= r (MODEL.md's plain capacity rule), at least one worker."""
    return max(1, math.ceil(rate / (utilization * throughput_) - RTOL))


def cover_needed(slowest_ms: float, rate: float, utilization: float) -> int:
    """Least integer sum(n * b) for which the cycle fits the slowest batch time:
    max d <= u * 1000 * sum(n b) / r  <=>  sum(n b) >= r * D / (1000 u)."""
    need = rate * slowest_ms / (1000.0 * utilization)
    return max(1, math.ceil(need - RTOL * max(1.0, need)))


def shared_worst_latency_ms(batch_size: int, latency_ms: float, rate: float, cycle_ms_: float,
                            lag_ms: float = 0.0) -> float:
    """A request routed to a shared worker waits at most one shared cycle for its slot:
    W = 1000 (b - 1) / r + T_s + d(h, b) (+ the module's fan-out lag)."""
    return 1000.0 * (batch_size - 1) / rate + cycle_ms_ + latency_ms + lag_ms


def shared_worst_latency_rr_ms(latency_ms: float, cycle_ms_: float, lag_ms: float = 0.0) -> float:
    """Round-robin share on a shared worker (Nexus's duty cycle): the worker collects its own
    share and runs it once per cycle T_s, so a request waits at most T_s for its slot, then d:
    W = T_s + d(h, b) (+ lags: fan-out, shares; docs/baselines.md)."""
    return cycle_ms_ + latency_ms + lag_ms


def rr_share_lag_ms(shares: int, rate: float) -> float:
    """Weighted round-robin over G shares (groups and shared slots) of a module's stream at `rate`:
    each share's k-th item is within G - 1 items of its ideal uniform sequence, so a worker's items
    can reach it up to 1000 (G - 1) / r ms ahead of that sequence: added to W (0 for one share)."""
    return 1000.0 * (shares - 1) / rate if shares > 1 else 0.0


def pool_worst_latency_ms(batch_size: int, latency_ms: float, rate: float, members: int) -> float:
    """A pool serving k modules' streams merged (each uniform, any phase) at combined rate R:
    b - 1 more requests arrive within 1000 (b + k - 2) / R of any request, so
    W = 1000 (b + k - 2) / R + d(h, b)  (= MODEL.md's W for k = 1; docs/sharing-and-pools.md)."""
    return 1000.0 * (batch_size + members - 2) / rate + latency_ms


def worker_worst_ms(dispatch: str, batch_size: int, latency_ms: float, rate: float, *,
                    share_rate: float | None = None, workers: int = 1, shares: int = 1,
                    shared_cycle_ms: float | None = None, pool_members: int = 0, lag_ms: float = 0.0) -> float:
    """W of one worker of config (b, d) in a module whose stream runs at `rate`, by how it is fed:

      a pool's worker (pool_members = k, rate = the pool's R)    pool_worst_latency_ms
      batch-aware, dedicated / on a shared worker (T_s)          worst_latency_ms / shared_worst_latency_ms
      round-robin, its group's `share_rate` over `workers`       worst_latency_rr_ms
      round-robin share on a shared worker (T_s)                 shared_worst_latency_rr_ms
      central queue (InferLine)                                  d(h, b): no queueing bound; its tail
                                                                 is simulated (the plan's check)

    Plus `lag_ms` (the module's fan-out lag, module_lags) and, under round-robin, the lag of the
    module's `shares` round-robin shares (rr_share_lag_ms at `rate`); a pool member's items come
    `lag_ms` early relative to its own even stream, so its W is the pool's plus its own lag."""
    if pool_members:
        return pool_worst_latency_ms(batch_size, latency_ms, rate, pool_members) + lag_ms
    if dispatch == CENTRAL_QUEUE:
        return latency_ms
    if dispatch == ROUND_ROBIN:
        lag_ms += rr_share_lag_ms(shares, rate)
        if shared_cycle_ms is not None:
            return shared_worst_latency_rr_ms(latency_ms, shared_cycle_ms, lag_ms)
        assert share_rate is not None, "a round-robin group has a rate share"
        return worst_latency_rr_ms(batch_size, latency_ms, share_rate, workers, lag_ms)
    if shared_cycle_ms is not None:
        return shared_worst_latency_ms(batch_size, latency_ms, rate, shared_cycle_ms, lag_ms)
    return worst_latency_ms(batch_size, latency_ms, rate, lag_ms)


def pool_cover_needed(slowest_ms: float, rate: float, utilization: float, members: int) -> int:
    """A pool's cycle: N = sum n b consecutive requests of k merged uniform streams span at least
    1000 (N - k + 1) / R, so the slowest batch fits iff N >= R D / (1000 u) + k - 1."""
    return cover_needed(slowest_ms, rate, utilization) + members - 1


@dataclass(frozen=True)
class Config:
    """A configuration c = (h, b) of one module: effective batch time, price and worst latency."""

    hardware: str
    batch_size: int
    latency_ms: float          # effective d(h, b)
    exec_batch_size: int       # profiled size it runs padded to
    price_per_hour: float
    worst_latency_ms: float    # W_m(c) under batch-aware dispatch at the module's rate (+ fan-out lag if asked)

    @property
    def throughput(self) -> float:
        return throughput(self.batch_size, self.latency_ms)

    @property
    def cost_per_request(self) -> float:
        """price / theta: $/h per (req/s) of a fully busy worker — the fluid cost rate."""
        return self.price_per_hour / self.throughput


def module_configs(spec: Spec, module: str, rate: float, hardware: Iterable[str] | None = None,
                   fanout_lag: bool = True) -> list[Config]:
    """Every profiled (h, b) of the module's model on the catalog's hardware, at rate r_m; with
    `fanout_lag`, W includes the fan-out lag (a conservative option beyond MODEL.md)."""
    model = spec.app.module(module).model
    lag = module_lags(spec.app, fanout_lag)[module]
    allowed = set(spec.hardware) if hardware is None else set(hardware) & set(spec.hardware)
    out = []
    for curve in spec.profiles.for_model(model):
        if curve.hardware not in allowed:
            continue
        price = spec.price(curve.hardware)
        for b, d, e in zip(curve.batch_sizes, curve.effective_ms, curve.exec_batch_sizes):
            out.append(Config(curve.hardware, b, d, e, price, worst_latency_ms(b, d, rate, lag)))
    return out


def fluid_cost(rate: float, configs: Iterable[Config], budget_ms: float, utilization: float = 1.0) -> float:
    """Fluid lower bound of one module under a budget: r * min{price / theta : W <= L} / u."""
    rates = [c.cost_per_request for c in configs if leq(c.worst_latency_ms, budget_ms)]
    return rate * min(rates) / utilization if rates else float("inf")


class DagNode(NamedTuple):
    """A module as the path functions see it: its name and its parents' names (spec Modules fit)."""

    name: str
    parents: tuple[str, ...]


class _Node(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def parents(self) -> Sequence[str]: ...


def longest_before(modules: Sequence[_Node], latency_of: dict[str, float], hop_ms: float) -> dict[str, float]:
    """Per module, the longest sum of (latency + hop) over the paths from an entry to its parents
    (0 at an entry); `modules` in topological order, as App.modules are."""
    before: dict[str, float] = {}
    for m in modules:
        before[m.name] = max((before[p] + latency_of[p] + hop_ms for p in m.parents), default=0.0)
    return before


def longest_after(modules: Sequence[_Node], latency_of: dict[str, float], hop_ms: float) -> dict[str, float]:
    """Per module, the longest sum of (latency + hop) over the paths from its children to an exit
    (0 at an exit); `modules` in topological order."""
    children: dict[str, list[str]] = {m.name: [] for m in modules}
    for m in modules:
        for p in m.parents:
            children[p].append(m.name)
    after: dict[str, float] = {}
    for m in reversed(modules):
        after[m.name] = max((latency_of[k] + hop_ms + after[k] for k in children[m.name]), default=0.0)
    return after


def longest_path_ms(modules: Sequence[_Node], latency_of: dict[str, float], hop_ms: float) -> float:
    """Longest entry-to-exit sum of (latency + hop); `modules` in topological order."""
    before = longest_before(modules, latency_of, hop_ms)
    return max((before[m.name] + latency_of[m.name] + hop_ms for m in modules), default=0.0)


def path_through_ms(modules: Sequence[_Node], latency_of: dict[str, float], hop_ms: float) -> dict[str, float]:
    """Per module, the longest entry-to-exit sum of (latency + hop) over paths through it
    (`modules` in topological order); SLO minus it is the slack that module may still take."""
    before = longest_before(modules, latency_of, hop_ms)
    after = longest_after(modules, latency_of, hop_ms)
    return {m.name: before[m.name] + latency_of[m.name] + hop_ms + after[m.name] for m in modules}
