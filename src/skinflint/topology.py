"""A plan and its spec compiled into what the simulator runs: modules in topological order with
their workers (dedicated ones, then shared slots), batch times, deadlines and promises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from skinflint import model
from skinflint.dispatch import DEFAULT_FOR_KIND, Worker
from skinflint.errors import SpecError
from skinflint.plan import ROUND_ROBIN, Plan, Pool
from skinflint.spec.types import Spec


@dataclass(frozen=True)
class SimWorker:
    """One worker of one module: what its policy sees, its hardware, MODEL.md's worst latency for
    its config at the planned rate, fan-out lag included (`promise_ms`), for a shared worker
    its index, cycle and slot offset, and for a pool's worker the pool's name."""

    worker: Worker
    hardware: str
    promise_ms: float
    shared: int = -1
    cycle_ms: float = 0.0
    offset_ms: float = 0.0
    pool: str = ""


@dataclass(frozen=True)
class SimModule:
    """One module as simulated. `deadline_ms`: its items are due this long after their request
    arrived — the SLO less what the longest path after it needs (its budgets and hops), the
    latest time that still leaves the rest of the request its planned budgets. `promise_offset_ms`:
    the promise for its parents' part (their worst latencies and hops), so an item on worker k is
    promised by arrival + promise_offset_ms + workers[k].promise_ms."""

    name: str
    rate_factor: float
    parents: tuple[int, ...]
    children: tuple[int, ...]
    workers: tuple[SimWorker, ...]
    dispatch: str
    group_rates: tuple[float, ...] | None
    deadline_ms: float
    promise_offset_ms: float
    worst_latency_ms: float
    fanout_lag_ms: float
    pool: str | None = None
    pool_scope: str = ""       # the app whose own pool it is ("" for a fleet's pool)

    @property
    def is_exit(self) -> bool:
        """No module comes after it."""
        return not self.children


@dataclass(frozen=True)
class SimModel:
    """The whole application as simulated."""

    modules: tuple[SimModule, ...]
    hop_ms: float
    slo_ms: float
    cost_per_hour: float
    shared_hardware: tuple[str, ...]
    app: str = ""

    def index(self, name: str) -> int:
        """Position of module `name` (topological order)."""
        return next(k for k, m in enumerate(self.modules) if m.name == name)


def _batch_times(spec: Spec, model_name: str, hardware: str, batch_size: int, where: str) -> tuple[float, ...]:
    """times[k-1]: effective time of a batch of k <= b, run padded to the smallest profiled size >= k."""
    try:
        curve = spec.profiles.get(model_name, hardware)
        curve.effective(batch_size)
    except (KeyError, ValueError):
        raise SpecError(spec.sources.get("app", "plan"), where, f"no profile of {model_name!r} on {hardware!r} at "
                        f"batch {batch_size}", "simulate a plan made for this application's profiles") from None
    out = []
    for k in range(1, batch_size + 1):
        size = next(s for s in curve.batch_sizes if s >= k)
        out.append(curve.effective(size))
    return tuple(out)


def pool_workers(pool: Pool, spec: Spec) -> tuple[SimWorker, ...]:
    """A pool's workers, each promising model.pool_worst_latency_ms for its group, recomputed
    from the profile (k merged uniform streams at the pool's combined rate)."""
    workers: list[SimWorker] = []
    for g_idx, g in enumerate(pool.groups):
        where = f"pool {pool.name!r} group {g_idx}"
        if g.workers < 1:
            raise SpecError("plan", where, f"workers must be positive (got {g.workers})", "fix the plan")
        times = _batch_times(spec, pool.model, g.hardware, g.batch_size, where)
        promise = model.pool_worst_latency_ms(g.batch_size, times[-1], pool.rate, len(pool.members))
        workers += [SimWorker(Worker(g.batch_size, times, group=g_idx), g.hardware, promise, pool=pool.name)
                    for _ in range(g.workers)]
    if not workers:
        raise SpecError("plan", f"pool {pool.name!r}", "no workers serve it", "give the pool a group")
    return tuple(workers)


def compile_model(plan: Plan, spec: Spec, pools: Mapping[str, Pool] | None = None) -> SimModel:
    """Check that the plan covers the app's modules and build the simulated application.
    Pooled modules are served by the plan's own pools or by `pools` (a fleet's)."""
    own = {p.name for p in plan.pools}
    pools = {p.name: p for p in plan.pools} | dict(pools or {})
    app = spec.app
    names = [m.name for m in app.modules]
    planned = {m.name: m for m in plan.modules}
    if sorted(planned) != sorted(names):
        raise SpecError("plan", "modules", f"plan modules {sorted(planned)} differ from the app's {sorted(names)}",
                        "simulate the plan with the application it was made for")
    index = {n: k for k, n in enumerate(names)}
    slots: dict[str, list[tuple]] = {n: [] for n in names}  # (shared index, worker, slot, offset, times)
    for s_idx, sw in enumerate(plan.shared_workers):
        offset = 0.0
        for slot in sw.slots:
            where = f"shared_workers[{s_idx}] slot {slot.module!r}"
            if slot.module not in planned:
                raise SpecError("plan", where, "slot for a module the app does not have", "fix the plan")
            times = _batch_times(spec, app.module(slot.module).model, sw.hardware, slot.batch_size, where)
            slots[slot.module].append((s_idx, sw, slot, offset, times))
            offset += times[-1]

    modules = []
    tail: dict[str, float] = {}  # what the longest path after a module needs: sum of (hop + budget)
    for m in reversed(app.modules):
        tail[m.name] = max((app.hop_ms + planned[c].budget_ms + tail[c] for c in app.children(m.name)), default=0.0)
    promise: dict[str, float] = {}
    for m in app.modules:
        mp = planned[m.name]
        lag = model.fanout_lag_ms(m.rate_factor, plan.rate) if plan.fanout_lag else 0.0
        workers = list(_pooled_workers(plan, spec, m.name, mp.pool, pools, slots[m.name])) if mp.pool else []
        rr_lag = lag + (model.rr_share_lag_ms(len(mp.groups) + len(slots[m.name]), plan.rate * m.rate_factor)
                        if mp.dispatch == ROUND_ROBIN else 0.0)
        for g_idx, g in enumerate(mp.groups):
            where = f"module {m.name!r} group {g_idx}"
            if g.workers < 1:
                raise SpecError("plan", where, f"workers must be positive (got {g.workers})", "fix the plan")
            times = _batch_times(spec, m.model, g.hardware, g.batch_size, where)
            if mp.dispatch == ROUND_ROBIN:
                promise_ms = (model.worst_latency_rr_ms(g.batch_size, times[-1], g.rate, g.workers, rr_lag)
                              if g.rate else g.worst_latency_ms)
            else:
                promise_ms = model.worst_latency_ms(g.batch_size, times[-1], plan.rate * m.rate_factor, lag)
            workers += [SimWorker(Worker(g.batch_size, times, group=g_idx), g.hardware, promise_ms)
                        for _ in range(g.workers)]
        slot_rates = []
        for s_idx, sw, slot, offset, times in slots[m.name]:
            if mp.dispatch == ROUND_ROBIN:  # collects its own share, runs it at each slot start
                promise_ms = model.shared_worst_latency_rr_ms(times[-1], sw.cycle_ms, rr_lag)
                worker = Worker(slot.batch_size, times, slot_wait_ms=sw.cycle_ms,
                                group=len(mp.groups) + len(slot_rates), collect_offset_ms=offset)
                slot_rates.append(slot.rate)
            else:
                promise_ms = model.shared_worst_latency_ms(slot.batch_size, times[-1], plan.rate * m.rate_factor,
                                                           sw.cycle_ms, lag)
                worker = Worker(slot.batch_size, times, slot_wait_ms=sw.cycle_ms, group=-1)
            workers.append(SimWorker(worker, sw.hardware, promise_ms, s_idx, sw.cycle_ms, offset))
        if not workers:
            raise SpecError("plan", f"module {m.name!r}", "no workers serve it", "give every module a group")
        offset = max((promise[p] for p in m.parents), default=0.0) + app.hop_ms
        worst = max(w.promise_ms for w in workers)
        promise[m.name] = offset + worst
        group_rates = None
        if mp.dispatch == ROUND_ROBIN and all(g.rate for g in mp.groups) and all(slot_rates):
            group_rates = tuple(float(g.rate) for g in mp.groups) + tuple(float(r) for r in slot_rates)
        modules.append(SimModule(
            m.name, m.rate_factor, tuple(index[p] for p in m.parents),
            tuple(index[c] for c in app.children(m.name)), tuple(workers),
            DEFAULT_FOR_KIND.get(mp.dispatch, mp.dispatch), group_rates, plan.slo_ms - tail[m.name], offset, worst,
            0.0 if mp.pool else lag, mp.pool, plan.app if mp.pool in own else ""))
    return SimModel(tuple(modules), app.hop_ms, plan.slo_ms, plan.cost_per_hour,
                    tuple(s.hardware for s in plan.shared_workers), plan.app)


def _pooled_workers(plan: Plan, spec: Spec, module: str, pool_name: str, pools: Mapping[str, Pool],
                    slots: list[SimWorker]) -> tuple[SimWorker, ...]:
    where = f"module {module!r}"
    pool = pools.get(pool_name)
    if pool is None:
        raise SpecError("plan", where, f"pool {pool_name!r} does not exist",
                        "simulate a fleet plan with simulate_fleet, or fix the plan")
    if f"{plan.app}/{module}" not in pool.members:
        raise SpecError("plan", where, f"not a member of pool {pool_name!r}", "fix the plan")
    if slots or plan.module(module).groups:
        raise SpecError("plan", where, "a pooled module has no workers of its own", "fix the plan")
    return pool_workers(pool, spec)
