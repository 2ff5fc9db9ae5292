"""One `verify(plan, spec)` that the API runs on every plan before returning it, and the tests use.

It recomputes MODEL.md from the spec alone — rates, effective times, prices, worst latencies,
cycle rules, shared-worker rules, path budgets — and trusts nothing the plan says about itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from skinflint import model
from skinflint.errors import PlanInvalidError
from skinflint.model import leq
from skinflint.plan import BATCH_AWARE, CENTRAL_QUEUE, ROUND_ROBIN, FleetPlan, ModulePlan, Plan, Pool
from skinflint.spec.types import Spec


def _close(a: float, b: float) -> bool:
    return leq(a, b) and leq(b, a)


def _effective(spec: Spec, model_name: str, hardware: str, batch: int, where: str, out: list[str]) -> float | None:
    if hardware not in spec.hardware:
        out.append(f"{where}: hardware {hardware!r} is not in the catalog")
        return None
    try:
        return spec.profiles.get(model_name, hardware).effective(batch)
    except (KeyError, ValueError):
        out.append(f"{where}: {model_name} has no profile at batch {batch} on {hardware}")
        return None


@dataclass(frozen=True)
class _SlotRef:
    """A module's slot on a shared worker as verify sees it: T_s, b, the effective d, its share."""

    cycle_ms: float
    batch_size: int
    latency_ms: float
    share_rate: float | None


def verify(plan: Plan, spec: Spec, pools: Mapping[str, Pool] | None = None) -> list[str]:
    """Every way `plan` breaks MODEL.md for `spec`; an empty list means the plan is valid.

    Pooled modules are checked against the plan's own pools (whose pool-level rules are checked
    here too) and `pools` (a fleet's, whose rules `verify_fleet` checks)."""
    app = spec.app
    out = _verify_header(plan, spec)
    planned = {m.name: m for m in plan.modules}
    if sorted(planned) != sorted(m.name for m in app.modules) or len(planned) != len(plan.modules):
        out.append(f"plan modules {sorted(planned)} differ from the app's {sorted(m.name for m in app.modules)}")
        return out
    shared_by_module = _verify_shared_workers(plan, spec, out)
    pools = {p.name: p for p in plan.pools} | dict(pools or {})
    lags = model.module_lags(app, plan.fanout_lag, plan.rate)
    for m in app.modules:
        mp = planned[m.name]
        if mp.pool is not None:
            out += _verify_pooled(mp, spec, plan, pools, lags[m.name])
            continue
        u_m = plan.utilization if mp.utilization is None else mp.utilization
        if not (0 < u_m and leq(u_m, plan.utilization)):
            out.append(f"module {m.name!r}: utilization {u_m} is outside (0, the plan's {plan.utilization}]")
        out += _verify_module(mp, spec, plan.rate * m.rate_factor, u_m, shared_by_module[m.name], lags[m.name])
    # the plan's own pools (one app's modules); a fleet's are checked by verify_fleet
    for p in plan.pools:
        member_rates = {f"{plan.app}/{mp.name}": plan.rate * app.module(mp.name).rate_factor
                        for mp in plan.modules if mp.pool == p.name}
        out += verify_pool(p, spec, member_rates, plan.utilization)
    path = model.longest_path_ms(app.modules, {m.name: planned[m.name].budget_ms for m in app.modules}, app.hop_ms)
    if not leq(path, plan.slo_ms):
        out.append(f"the longest path's budgets plus hops take {path:.4f} ms > slo_ms {plan.slo_ms}")
    return out


def _verify_header(plan: Plan, spec: Spec) -> list[str]:
    """The plan's own numbers against the app's: utilization, SLO, rate, hop."""
    out: list[str] = []
    app, u = spec.app, plan.utilization
    if not (0 < u <= 1):
        out.append(f"utilization {u} is outside (0, 1]")
    if not _close(plan.slo_ms, app.slo_ms):
        out.append(f"plan slo_ms {plan.slo_ms} differs from the app's {app.slo_ms}")
    if not leq(app.rate, plan.rate):
        out.append(f"plan rate {plan.rate} is below the app's rate {app.rate}")
    if not _close(plan.hop_ms, app.hop_ms):
        out.append(f"plan hop_ms {plan.hop_ms} differs from the app's {app.hop_ms}")
    return out


def _verify_shared_workers(plan: Plan, spec: Spec, out: list[str]) -> dict[str, list[_SlotRef]]:
    """Shared-worker rule 1 and prices (problems appended to `out`); each module's slots."""
    app = spec.app
    names = {m.name for m in app.modules}
    slots: dict[str, list[_SlotRef]] = defaultdict(list)
    for k, sw in enumerate(plan.shared_workers):
        where = f"shared_workers[{k}]"
        if sw.hardware in spec.hardware and not _close(sw.price_per_hour, spec.price(sw.hardware)):
            out.append(f"{where}: price {sw.price_per_hour} differs from the catalog's {spec.price(sw.hardware)}")
        total = 0.0
        served = [s.module for s in sw.slots]
        if not sw.slots or len(set(served)) != len(served):
            out.append(f"{where}: needs at least one slot and at most one slot per module")
        for s in sw.slots:
            if s.module not in names:
                out.append(f"{where}: slot for unknown module {s.module!r}")
                continue
            d = _effective(spec, app.module(s.module).model, sw.hardware, s.batch_size, where, out)
            if d is None:
                continue
            total += d
            slots[s.module].append(_SlotRef(sw.cycle_ms, s.batch_size, d, s.share_rate))
        # rule 1: slot times fit the shared cycle; a worker holding round-robin shares (Nexus's
        # duty cycle) keeps the utilization cap as its occupancy, sum d <= u T_s
        limit = sw.cycle_ms * (plan.utilization if any(s.share_rate is not None for s in sw.slots) else 1.0)
        if not leq(total, limit):
            out.append(f"{where}: slot times sum to {total:.4f} ms > {limit:.4f} ms (cycle {sw.cycle_ms:.4f} ms)")
    return slots


def _verify_pooled(mp: ModulePlan, spec: Spec, plan: Plan, pools: Mapping[str, Pool], lag_ms: float) -> list[str]:
    """A module served by a pool: the pool's worst latency plus the module's fan-out lag must
    fit the module's budget."""
    where = f"module {mp.name!r}"
    pool = pools.get(mp.pool or "")
    if pool is None:
        return [f"{where}: pool {mp.pool!r} does not exist"]
    out = []
    if mp.groups:
        out.append(f"{where}: a pooled module has no groups of its own")
    if pool.model != spec.app.module(mp.name).model:
        out.append(f"{where}: pool {pool.name!r} runs {pool.model!r}, not the module's model")
    if f"{plan.app}/{mp.name}" not in pool.members:
        out.append(f"{where}: not a member of pool {pool.name!r}")
    worst = _pool_worst(pool, spec, out) + lag_ms
    if not leq(worst, mp.budget_ms):
        out.append(f"{where}: pool worst latency {worst:.4f} ms > budget {mp.budget_ms:.4f} ms")
    if not leq(worst, mp.worst_latency_ms):
        out.append(f"{where}: reported worst latency {mp.worst_latency_ms} < the pool's {worst}")
    return out


def _pool_worst(pool: Pool, spec: Spec, out: list[str]) -> float:
    worst = 0.0
    for g in pool.groups:
        d = _effective(spec, pool.model, g.hardware, g.batch_size, f"pool {pool.name!r}", out)
        if d is not None:
            worst = max(worst, model.worker_worst_ms(BATCH_AWARE, g.batch_size, d, pool.rate,
                                                     pool_members=len(pool.members)))
    return worst


def verify_pool(pool: Pool, spec: Spec, member_rates: Mapping[str, float], utilization: float) -> list[str]:
    """Pool-level rules (docs/sharing-and-pools.md): its rate is its members' sum; groups are profiled and
    priced; N = sum n b satisfies max d <= u 1000 (N - k + 1) / R."""
    where = f"pool {pool.name!r}"
    out: list[str] = []
    if not pool.groups:
        out.append(f"{where}: no workers")
    if sorted(member_rates) != sorted(pool.members):
        out.append(f"{where}: members {sorted(pool.members)} differ from the modules that use it {sorted(member_rates)}")
    if not _close(sum(member_rates.values()), pool.rate):
        out.append(f"{where}: rate {pool.rate} differs from its members' sum {sum(member_rates.values())}")
    slowest, total = 0.0, 0
    for g in pool.groups:
        d = _effective(spec, pool.model, g.hardware, g.batch_size, where, out)
        if d is None:
            continue
        if not _close(g.latency_ms, d) or not _close(g.price_per_hour, spec.price(g.hardware)):
            out.append(f"{where}: group {g.hardware} @ {g.batch_size} has the wrong latency or price")
        slowest, total = max(slowest, d), total + g.workers * g.batch_size
    k = len(pool.members)
    if pool.groups and not leq(slowest, utilization * model.cycle_ms(total - k + 1, pool.rate)):
        out.append(f"{where}: slowest batch {slowest:.4f} ms does not fit the cycle of {total} requests "
                   f"from {k} merged streams at {pool.rate} req/s")
    return out


def _verify_module(mp: ModulePlan, spec: Spec, rate: float, u: float, shared: list[_SlotRef],
                   lag: float = 0.0) -> list[str]:
    """One module's own groups and slots: profiles, prices, W within the budget, the cycle rule
    (batch-aware) or the rate shares (round-robin), and its reported worst latency."""
    out: list[str] = []
    where = f"module {mp.name!r}"
    model_name = spec.app.module(mp.name).model
    if mp.model != model_name:
        out.append(f"{where}: model {mp.model!r} differs from the app's {model_name!r}")
    if not _close(mp.rate, rate):
        out.append(f"{where}: rate {mp.rate} differs from rate x rate_factor = {rate}")
    if not mp.groups and not shared:
        out.append(f"{where}: no workers serve it")
        return out
    groups = _verify_groups(mp, spec, rate, u, len(shared), lag)
    out += groups.problems
    if mp.dispatch == ROUND_ROBIN:
        w_slots, problems = _verify_rr_slots(mp, rate, shared, lag, groups.share_sum)
    elif mp.dispatch == BATCH_AWARE:
        w_slots, problems = _verify_ba_slots(mp, rate, u, shared, lag, groups.slowest_ms)
    elif mp.dispatch == CENTRAL_QUEUE:
        w_slots, problems = 0.0, _verify_central_queue(mp, spec, rate, u, shared)
    else:
        w_slots, problems = 0.0, [f"{where}: unknown dispatch {mp.dispatch!r}"]
    return out + problems + _verify_reported(mp, max(groups.worst_ms, w_slots))


@dataclass
class _Groups:
    """What a module's dedicated groups add up to: the largest W, the slowest batch-aware d, the
    sum of the valid round-robin shares, and the problems found."""

    worst_ms: float = 0.0
    slowest_ms: float = 0.0
    share_sum: float = 0.0
    problems: list[str] = field(default_factory=list)


def _verify_groups(mp: ModulePlan, spec: Spec, rate: float, u: float, slots: int, lag: float) -> _Groups:
    """The module's dedicated groups: profiled, priced, each worker within u x throughput
    (round-robin), each W within the budget."""
    found = _Groups()
    out = found.problems
    where = f"module {mp.name!r}"
    model_name = spec.app.module(mp.name).model
    for i, g in enumerate(mp.groups):
        gw = f"{where} group {i} ({g.workers} x {g.hardware} @ {g.batch_size})"
        if g.workers < 1 or g.batch_size < 1:
            out.append(f"{gw}: workers and batch_size must be positive")
            continue
        d = _effective(spec, model_name, g.hardware, g.batch_size, gw, out)
        if d is None:
            continue
        if not _close(g.latency_ms, d):
            out.append(f"{gw}: latency_ms {g.latency_ms} differs from the effective profiled time {d}")
        if not _close(g.price_per_hour, spec.price(g.hardware)):
            out.append(f"{gw}: price {g.price_per_hour} differs from the catalog's {spec.price(g.hardware)}")
        if mp.dispatch == ROUND_ROBIN:
            if g.share_rate is None or g.share_rate <= 0:
                out.append(f"{gw}: round-robin groups need a positive rate share")
                continue
            found.share_sum += g.share_rate
            if not leq(g.share_rate / g.workers, u * model.throughput(g.batch_size, d)):
                out.append(f"{gw}: each worker sees {g.share_rate / g.workers:.3f} req/s > u x throughput")
        else:
            found.slowest_ms = max(found.slowest_ms, d)
        w = model.worker_worst_ms(mp.dispatch, g.batch_size, d, rate, share_rate=g.share_rate, workers=g.workers,
                                  shares=len(mp.groups) + slots, lag_ms=lag)
        found.worst_ms = max(found.worst_ms, w)
        if not leq(w, mp.budget_ms):
            out.append(f"{gw}: worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
    return found


def _verify_rr_slots(mp: ModulePlan, rate: float, shared: list[_SlotRef], lag: float,
                     share_sum: float) -> tuple[float, list[str]]:
    """A round-robin module's shares on shared workers (docs/baselines.md), and that all its
    shares (`share_sum`: its groups') add up to its rate."""
    out: list[str] = []
    where = f"module {mp.name!r}"
    worst = 0.0
    for s in shared:
        if s.share_rate is None or s.share_rate <= 0:
            out.append(f"{where}: a round-robin module's shared slot needs a positive rate share")
            continue
        share_sum += s.share_rate
        if not leq(s.share_rate * s.cycle_ms / 1000.0, s.batch_size):  # one batch holds every arrival of a cycle
            out.append(f"{where}: shared slot gets {s.share_rate * s.cycle_ms / 1000.0:.3f} requests per cycle "
                       f"> batch {s.batch_size}")
        w = model.worker_worst_ms(ROUND_ROBIN, s.batch_size, s.latency_ms, rate, shares=len(mp.groups) + len(shared),
                                  shared_cycle_ms=s.cycle_ms, lag_ms=lag)
        worst = max(worst, w)
        if not leq(w, mp.budget_ms):
            out.append(f"{where}: shared slot worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
    if not _close(share_sum, rate):
        out.append(f"{where}: group rate shares sum to {share_sum} != module rate {rate}")
    return worst, out


def _verify_ba_slots(mp: ModulePlan, rate: float, u: float, shared: list[_SlotRef], lag: float,
                     slowest: float) -> tuple[float, list[str]]:
    """A batch-aware module's slots (shared-worker rules 2 and 3) and the cycle rule."""
    out: list[str] = []
    where = f"module {mp.name!r}"
    total_batch = sum(g.workers * g.batch_size for g in mp.groups) + sum(s.batch_size for s in shared)
    cycle = model.cycle_ms(total_batch, rate)
    worst = 0.0
    for s in shared:
        if s.share_rate is not None:
            out.append(f"{where}: a batch-aware module's shared slot takes no rate share")
        slowest = max(slowest, s.latency_ms)
        if not leq(s.cycle_ms, cycle):  # rule 2: one slot per module cycle at least
            out.append(f"{where}: shared cycle {s.cycle_ms:.4f} ms > module cycle {cycle:.4f} ms")
        w = model.worker_worst_ms(BATCH_AWARE, s.batch_size, s.latency_ms, rate, shared_cycle_ms=s.cycle_ms,
                                  lag_ms=lag)  # rule 3
        worst = max(worst, w)
        if not leq(w, mp.budget_ms):
            out.append(f"{where}: shared slot worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
    if not leq(slowest, u * cycle):
        out.append(f"{where}: slowest batch {slowest:.4f} ms > u x cycle = {u * cycle:.4f} ms "
                   f"(sum n*b = {total_batch} too small for rate {rate})")
    return worst, out


def _verify_central_queue(mp: ModulePlan, spec: Spec, rate: float, u: float, shared: list[_SlotRef]) -> list[str]:
    """A central-queue module (InferLine, docs/baselines.md): dedicated workers only, and enough of
    them that the queue is stable, sum n u theta(b) >= r (its tail latency is simulated, not bounded)."""
    where = f"module {mp.name!r}"
    out = [f"{where}: a central-queue module has no shared slots"] if shared else []
    model_name = spec.app.module(mp.name).model
    capacity = 0.0
    for g in mp.groups:
        try:
            capacity += g.workers * u * model.throughput(g.batch_size, spec.profiles.get(model_name, g.hardware)
                                                         .effective(g.batch_size))
        except (KeyError, ValueError):
            pass   # reported by _verify_groups
    if not leq(rate, capacity):
        out.append(f"{where}: its workers carry {capacity:.3f} req/s at u = {u:g} < rate {rate:.3f}")
    return out


def _verify_reported(mp: ModulePlan, worst: float) -> list[str]:
    """The module's reported worst latency: at least the actual one, and within its budget."""
    out = []
    where = f"module {mp.name!r}"
    if not leq(worst, mp.worst_latency_ms):
        out.append(f"{where}: reported worst latency {mp.worst_latency_ms} < actual {worst}")
    if not leq(mp.worst_latency_ms, mp.budget_ms):
        out.append(f"{where}: worst latency {mp.worst_latency_ms} > budget {mp.budget_ms}")
    return out


def verify_fleet(fleet: FleetPlan, specs: Sequence[Spec]) -> list[str]:
    """Every app plan against its spec with the fleet's pools, and every pool's own rules."""
    out: list[str] = []
    pools = {p.name: p for p in fleet.pools}
    by_app = {s.app.name: s for s in specs}
    rates: dict[str, dict[str, float]] = {p.name: {} for p in fleet.pools}
    for plan in fleet.apps:
        spec = by_app.get(plan.app)
        if spec is None:
            out.append(f"fleet: no spec for app {plan.app!r}")
            continue
        out += [f"{plan.app}: {v}" for v in verify(plan, spec, pools)]
        for mp in plan.modules:
            if mp.pool in rates:
                rates[mp.pool][f"{plan.app}/{mp.name}"] = plan.rate * spec.app.module(mp.name).rate_factor
    for p in fleet.pools:
        member_app = p.members[0].split("/", 1)[0]
        if member_app in by_app:
            u = next(x.utilization for x in fleet.apps if x.app == member_app)
            out += verify_pool(p, by_app[member_app], rates[p.name], u)
    return out


def check(plan: Plan, spec: Spec) -> Plan:
    """Return `plan` if it verifies, else raise PlanInvalidError listing every violation."""
    problems = verify(plan, spec)
    if problems:
        raise PlanInvalidError(problems)
    return plan
