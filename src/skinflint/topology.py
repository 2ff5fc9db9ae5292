"""A plan and its spec compiled into what the simulator and the runtime run: modules in
topological order with their workers (dedicated ones, then shared slots, or their pool's),
batch times, deadlines and promises. `verify` checks the same rules from the same formulas
(model.worker_worst_ms, model.module_lags, model.longest_before / longest_after)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from skinflint import model
from skinflint.dispatch import DEFAULT_FOR_KIND, Worker
from skinflint.errors import SpecError
from skinflint.plan import ROUND_ROBIN, Group, ModulePlan, Plan, Pool, SharedSlot, SharedWorker
from skinflint.spec.types import Module, Spec


@dataclass(frozen=True)
class SimWorker:
    """One worker of one module: what its policy sees, its hardware, its promise, for a shared
    worker its index, cycle and slot offset, and for a pool's worker the pool's name.

    `promise_ms` is MODEL.md's W of this worker's config at the planned rate, lags included
    (model.worker_worst_ms; a plan calls it `worst_latency_ms`): the worker's part of the
    cumulative promise W — an item it runs is done by arrival + promise_offset_ms + promise_ms."""

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

    @property
    def dag(self) -> tuple[model.DagNode, ...]:
        """The modules as the path functions of `model` take them (names, topological order)."""
        return tuple(model.DagNode(m.name, tuple(self.modules[p].name for p in m.parents)) for m in self.modules)


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


def exec_sizes(spec: Spec, model_name: str, hardware: str, batch_size: int) -> tuple[int, ...]:
    """The profiled sizes a worker of `batch_size` executes, a batch of k <= b run padded to the
    smallest profiled size >= k (and that to its exec size, MODEL.md's effective time): the
    shapes a GPU engine must be built and warmed for."""
    curve = spec.profiles.get(model_name, hardware)
    out = {curve.exec_batch_size(next(s for s in curve.batch_sizes if s >= k)) for k in range(1, batch_size + 1)}
    return tuple(sorted(out))


def _group_times(spec: Spec, model_name: str, group: Group, where: str) -> tuple[float, ...]:
    """A group's batch times; a group without workers is an error in the plan."""
    if group.workers < 1:
        raise SpecError("plan", where, f"workers must be positive (got {group.workers})", "fix the plan")
    return _batch_times(spec, model_name, group.hardware, group.batch_size, where)


def pool_workers(pool: Pool, spec: Spec, lag_ms: float = 0.0) -> tuple[SimWorker, ...]:
    """A pool's workers as one member sees them, each promising model.pool_worst_latency_ms for
    its group, recomputed from the profile (k merged uniform streams at the pool's combined
    rate), plus the member's fan-out lag."""
    workers: list[SimWorker] = []
    for g_idx, g in enumerate(pool.groups):
        times = _group_times(spec, pool.model, g, f"pool {pool.name!r} group {g_idx}")
        promise = model.worker_worst_ms(model.BATCH_AWARE, g.batch_size, times[-1], pool.rate,
                                        pool_members=len(pool.members), lag_ms=lag_ms)
        workers += [SimWorker(Worker(g.batch_size, times, group=g_idx), g.hardware, promise, pool=pool.name)
                    for _ in range(g.workers)]
    if not workers:
        raise SpecError("plan", f"pool {pool.name!r}", "no workers serve it", "give the pool a group")
    return tuple(workers)


@dataclass(frozen=True)
class _Slot:
    """A module's slot on shared worker `index`, `offset_ms` into its cycle, with its batch times."""

    index: int
    worker: SharedWorker
    slot: SharedSlot
    offset_ms: float
    times: tuple[float, ...]


def _slots(plan: Plan, spec: Spec) -> dict[str, list[_Slot]]:
    """Each module's slots on the plan's shared workers, in the order the plan lists them."""
    out: dict[str, list[_Slot]] = {m.name: [] for m in spec.app.modules}
    for s_idx, sw in enumerate(plan.shared_workers):
        offset = 0.0
        for slot in sw.slots:
            where = f"shared_workers[{s_idx}] slot {slot.module!r}"
            if slot.module not in out:
                raise SpecError("plan", where, "slot for a module the app does not have", "fix the plan")
            times = _batch_times(spec, spec.app.module(slot.module).model, sw.hardware, slot.batch_size, where)
            out[slot.module].append(_Slot(s_idx, sw, slot, offset, times))
            offset += times[-1]
    return out


def _dedicated_workers(m: Module, mp: ModulePlan, spec: Spec, rate: float, shares: int,
                       lag_ms: float) -> list[SimWorker]:
    """The module's own groups' workers, each promising its config's W (model.worker_worst_ms)."""
    workers = []
    for g_idx, g in enumerate(mp.groups):
        times = _group_times(spec, m.model, g, f"module {m.name!r} group {g_idx}")
        if mp.dispatch == ROUND_ROBIN and not g.share_rate:  # no share to recompute W from: the plan's W
            promise_ms = g.worst_latency_ms
        else:
            promise_ms = model.worker_worst_ms(mp.dispatch, g.batch_size, times[-1], rate, share_rate=g.share_rate,
                                               workers=g.workers, shares=shares, lag_ms=lag_ms)
        workers += [SimWorker(Worker(g.batch_size, times, group=g_idx), g.hardware, promise_ms)
                    for _ in range(g.workers)]
    return workers


def _slot_workers(mp: ModulePlan, slots: list[_Slot], rate: float, shares: int, lag_ms: float) -> list[SimWorker]:
    """The module's slots on shared workers. A round-robin share collects its own stream and runs
    it at each slot start (its own group index); a batch-aware slot joins the module's cycle."""
    workers = []
    for k, s in enumerate(slots):
        promise_ms = model.worker_worst_ms(mp.dispatch, s.slot.batch_size, s.times[-1], rate, shares=shares,
                                           shared_cycle_ms=s.worker.cycle_ms, lag_ms=lag_ms)
        if mp.dispatch == ROUND_ROBIN:
            worker = Worker(s.slot.batch_size, s.times, slot_wait_ms=s.worker.cycle_ms, group=len(mp.groups) + k,
                            collect_offset_ms=s.offset_ms)
        else:
            worker = Worker(s.slot.batch_size, s.times, slot_wait_ms=s.worker.cycle_ms, group=-1)
        workers.append(SimWorker(worker, s.worker.hardware, promise_ms, s.index, s.worker.cycle_ms, s.offset_ms))
    return workers


def _group_rates(mp: ModulePlan, slots: list[_Slot]) -> tuple[float, ...] | None:
    """Round-robin shares per group, then per slot, when the plan gives every one of them."""
    shares = [g.share_rate for g in mp.groups] + [s.slot.share_rate for s in slots]
    if mp.dispatch != ROUND_ROBIN or not all(shares):
        return None
    return tuple(float(r) for r in shares)  # type: ignore[arg-type]  (all set: checked above)


def compile_model(plan: Plan, spec: Spec, pools: Mapping[str, Pool] | None = None) -> SimModel:
    """Check that the plan covers the app's modules and build the compiled application.
    Pooled modules are served by the plan's own pools or by `pools` (a fleet's)."""
    own = {p.name for p in plan.pools}
    pools = {p.name: p for p in plan.pools} | dict(pools or {})
    app = spec.app
    names = [m.name for m in app.modules]
    planned = {m.name: m for m in plan.modules}
    if sorted(planned) != sorted(names):
        raise SpecError("plan", "modules", f"plan modules {sorted(planned)} differ from the app's {sorted(names)}",
                        "simulate the plan with the application it was made for")
    slots = _slots(plan, spec)
    lags = model.module_lags(app, plan.fanout_lag, plan.rate)
    workers: dict[str, list[SimWorker]] = {}
    for m in app.modules:
        mp, rate = planned[m.name], plan.rate * m.rate_factor
        shares = len(mp.groups) + len(slots[m.name])
        workers[m.name] = (list(_pooled_workers(plan, spec, m.name, mp.pool, pools, slots[m.name], lags[m.name]))
                           if mp.pool else
                           _dedicated_workers(m, mp, spec, rate, shares, lags[m.name])
                           + _slot_workers(mp, slots[m.name], rate, shares, lags[m.name]))
        if not workers[m.name]:
            raise SpecError("plan", f"module {m.name!r}", "no workers serve it", "give every module a group")
    worst = {name: max(w.promise_ms for w in ws) for name, ws in workers.items()}
    before = model.longest_before(app.modules, worst, app.hop_ms)   # the parents' promises
    after = model.longest_after(app.modules, {n: planned[n].budget_ms for n in names}, app.hop_ms)
    index = {n: k for k, n in enumerate(names)}
    modules = []
    for m in app.modules:
        mp = planned[m.name]
        modules.append(SimModule(
            m.name, m.rate_factor, parents=tuple(index[p] for p in m.parents),
            children=tuple(index[c] for c in app.children(m.name)), workers=tuple(workers[m.name]),
            dispatch=DEFAULT_FOR_KIND.get(mp.dispatch, mp.dispatch), group_rates=_group_rates(mp, slots[m.name]),
            deadline_ms=plan.slo_ms - after[m.name], promise_offset_ms=before[m.name] + app.hop_ms,
            worst_latency_ms=worst[m.name], fanout_lag_ms=lags[m.name], pool=mp.pool,
            pool_scope=plan.app if mp.pool in own else ""))
    return SimModel(tuple(modules), app.hop_ms, plan.slo_ms, plan.cost_per_hour,
                    tuple(s.hardware for s in plan.shared_workers), plan.app)


def _pooled_workers(plan: Plan, spec: Spec, module: str, pool_name: str, pools: Mapping[str, Pool],
                    slots: list[_Slot], lag_ms: float) -> tuple[SimWorker, ...]:
    where = f"module {module!r}"
    pool = pools.get(pool_name)
    if pool is None:
        raise SpecError("plan", where, f"pool {pool_name!r} does not exist",
                        "simulate a fleet plan with simulate_fleet, or fix the plan")
    if f"{plan.app}/{module}" not in pool.members:
        raise SpecError("plan", where, f"not a member of pool {pool_name!r}", "fix the plan")
    if slots or plan.module(module).groups:
        raise SpecError("plan", where, "a pooled module has no workers of its own", "fix the plan")
    return pool_workers(pool, spec, lag_ms)
