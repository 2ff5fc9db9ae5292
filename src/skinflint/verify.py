"""One `verify(plan, spec)` that every planner calls before returning and that the tests use.

It recomputes MODEL.md from the spec alone — rates, effective times, prices, worst latencies,
cycle rules, shared-worker rules, path budgets — and trusts nothing the plan says about itself.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Sequence

from skinflint import model
from skinflint.errors import PlanInvalidError
from skinflint.model import leq
from skinflint.plan import BATCH_AWARE, ROUND_ROBIN, FleetPlan, ModulePlan, Plan, Pool
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


def verify(plan: Plan, spec: Spec, pools: Mapping[str, Pool] | None = None) -> list[str]:
    """Every way `plan` breaks MODEL.md for `spec`; an empty list means the plan is valid.

    Pooled modules are checked against the plan's own pools (whose pool-level rules are checked
    here too) and `pools` (a fleet's, whose rules `verify_fleet` checks)."""
    out: list[str] = []
    app = spec.app
    u = plan.utilization
    if not (0 < u <= 1):
        out.append(f"utilization {u} is outside (0, 1]")
    if not _close(plan.slo_ms, app.slo_ms):
        out.append(f"plan slo_ms {plan.slo_ms} differs from the app's {app.slo_ms}")
    if not leq(app.rate, plan.rate):
        out.append(f"plan rate {plan.rate} is below the app's rate {app.rate}")
    if not _close(plan.hop_ms, app.hop_ms):
        out.append(f"plan hop_ms {plan.hop_ms} differs from the app's {app.hop_ms}")
    planned = {m.name: m for m in plan.modules}
    if sorted(planned) != sorted(m.name for m in app.modules) or len(planned) != len(plan.modules):
        out.append(f"plan modules {sorted(planned)} differ from the app's {sorted(m.name for m in app.modules)}")
        return out

    shared_by_module: dict[str, list[tuple[float, int, float, float | None]]] = defaultdict(list)  # (T_s, b, d, rate)
    for k, sw in enumerate(plan.shared_workers):
        where = f"shared_workers[{k}]"
        if sw.hardware in spec.hardware and not _close(sw.price_per_hour, spec.price(sw.hardware)):
            out.append(f"{where}: price {sw.price_per_hour} differs from the catalog's {spec.price(sw.hardware)}")
        total = 0.0
        names = [s.module for s in sw.slots]
        if not sw.slots or len(set(names)) != len(names):
            out.append(f"{where}: needs at least one slot and at most one slot per module")
        for s in sw.slots:
            if s.module not in planned:
                out.append(f"{where}: slot for unknown module {s.module!r}")
                continue
            d = _effective(spec, app.module(s.module).model, sw.hardware, s.batch_size, where, out)
            if d is None:
                continue
            total += d
            shared_by_module[s.module].append((sw.cycle_ms, s.batch_size, d, s.rate))
        # rule 1: slot times fit the shared cycle; a worker holding round-robin shares (Nexus's
        # duty cycle) keeps the utilization cap as its occupancy, sum d <= u T_s
        limit = sw.cycle_ms * (u if any(s.rate is not None for s in sw.slots) else 1.0)
        if not leq(total, limit):
            out.append(f"{where}: slot times sum to {total:.4f} ms > {limit:.4f} ms (cycle {sw.cycle_ms:.4f} ms)")

    pools = {p.name: p for p in plan.pools} | dict(pools or {})
    for m in app.modules:
        mp = planned[m.name]
        if mp.pool is not None:
            out += _verify_pooled(mp, spec, plan, pools)
            continue
        out += _verify_module(mp, spec, plan.rate * m.rate_factor, u, shared_by_module.get(m.name, []),
                              model.fanout_lag_ms(m.rate_factor, plan.rate) if plan.fanout_lag else 0.0)

    # the plan's own pools (one app's modules); a fleet's are checked by verify_fleet
    for p in plan.pools:
        member_rates = {f"{plan.app}/{mp.name}": plan.rate * app.module(mp.name).rate_factor
                        for mp in plan.modules if mp.pool == p.name}
        out += verify_pool(p, spec, member_rates, u)
    path = model.longest_path_ms(app.modules, {m.name: planned[m.name].budget_ms for m in app.modules}, app.hop_ms)
    if not leq(path, plan.slo_ms):
        out.append(f"the longest path's budgets plus hops take {path:.4f} ms > slo_ms {plan.slo_ms}")
    return out


def _verify_pooled(mp: ModulePlan, spec: Spec, plan: Plan, pools: Mapping[str, Pool]) -> list[str]:
    """A module served by a pool: the pool's worst latency must fit the module's budget."""
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
    worst = _pool_worst(pool, spec, out)
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
            worst = max(worst, model.pool_worst_latency_ms(g.batch_size, d, pool.rate, len(pool.members)))
    return worst


def verify_pool(pool: Pool, spec: Spec, member_rates: Mapping[str, float], utilization: float) -> list[str]:
    """Pool-level rules (docs/pools.md): its rate is its members' sum; groups are profiled and
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
    if pool.groups and not leq(slowest, utilization * 1000.0 * (total - k + 1) / pool.rate):
        out.append(f"{where}: slowest batch {slowest:.4f} ms does not fit the cycle of {total} requests "
                   f"from {k} merged streams at {pool.rate} req/s")
    return out


def _verify_module(mp: ModulePlan, spec: Spec, rate: float, u: float,
                   shared: list[tuple[float, int, float, float | None]], lag: float = 0.0) -> list[str]:
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
    worst = 0.0
    total_batch = sum(g.workers * g.batch_size for g in mp.groups) + sum(s[1] for s in shared)
    slowest = 0.0
    rr_rate = 0.0
    if mp.dispatch == ROUND_ROBIN:  # weighted round-robin over several shares deviates by G - 1 items
        lag += model.rr_share_lag_ms(len(mp.groups) + len(shared), rate)
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
            if g.rate is None or g.rate <= 0:
                out.append(f"{gw}: round-robin groups need a positive rate share")
                continue
            rr_rate += g.rate
            w = model.worst_latency_rr_ms(g.batch_size, d, g.rate, g.workers, lag)
            if not leq(g.rate / g.workers, u * model.throughput(g.batch_size, d)):
                out.append(f"{gw}: each worker sees {g.rate / g.workers:.3f} req/s > u x throughput")
        else:
            w = model.worst_latency_ms(g.batch_size, d, rate, lag)
            slowest = max(slowest, d)
        worst = max(worst, w)
        if not leq(w, mp.budget_ms):
            out.append(f"{gw}: worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
    if mp.dispatch == ROUND_ROBIN:
        for t_s, b, d, share in shared:  # a round-robin share on a shared worker (docs/baselines.md)
            if share is None or share <= 0:
                out.append(f"{where}: a round-robin module's shared slot needs a positive rate share")
                continue
            rr_rate += share
            if not leq(share * t_s / 1000.0, b):  # one batch holds every arrival of a cycle
                out.append(f"{where}: shared slot gets {share * t_s / 1000.0:.3f} requests per cycle > batch {b}")
            w = model.shared_worst_latency_rr_ms(d, t_s, lag)
            worst = max(worst, w)
            if not leq(w, mp.budget_ms):
                out.append(f"{where}: shared slot worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
        if not _close(rr_rate, rate):
            out.append(f"{where}: group rate shares sum to {rr_rate} != module rate {rate}")
    elif mp.dispatch == BATCH_AWARE:
        cycle = model.cycle_ms(total_batch, rate)
        for t_s, b, d, share in shared:
            if share is not None:
                out.append(f"{where}: a batch-aware module's shared slot takes no rate share")
            slowest = max(slowest, d)
            if not leq(t_s, cycle):  # rule 2: one slot per module cycle at least
                out.append(f"{where}: shared cycle {t_s:.4f} ms > module cycle {cycle:.4f} ms")
            w = model.shared_worst_latency_ms(b, d, rate, t_s, lag)  # rule 3
            worst = max(worst, w)
            if not leq(w, mp.budget_ms):
                out.append(f"{where}: shared slot worst latency {w:.4f} ms > budget {mp.budget_ms:.4f} ms")
        if not leq(slowest, u * cycle):
            out.append(f"{where}: slowest batch {slowest:.4f} ms > u x cycle = {u * cycle:.4f} ms "
                       f"(sum n*b = {total_batch} too small for rate {rate})")
    else:
        out.append(f"{where}: unknown dispatch {mp.dispatch!r}")
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
