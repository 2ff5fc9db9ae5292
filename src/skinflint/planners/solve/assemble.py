"""Frontier points turned into the plan's parts: groups, module plans, shared workers, pools."""

from __future__ import annotations

from skinflint.model import Config
from skinflint.plan import BATCH_AWARE, Group, ModulePlan, SharedSlot, SharedWorker
from skinflint.planners.solve.frontier import FrontierPoint
from skinflint.planners.solve.sharing import Bin
from skinflint.spec.types import Spec


def group(config: Config, workers: int) -> Group:
    """`workers` dedicated workers of one config, with the config's W."""
    return Group(config.hardware, config.batch_size, workers, config.latency_ms, config.price_per_hour,
                 config.worst_latency_ms, config.exec_batch_size)


def groups(point: FrontierPoint) -> tuple[Group, ...]:
    """The dedicated groups of a frontier point (its least-cost cover)."""
    return tuple(group(c, n) for c, n in point.groups())


def module_plan(spec: Spec, name: str, point: FrontierPoint, dispatch: str = BATCH_AWARE,
                utilization: float | None = None) -> ModulePlan:
    """Turn a frontier point into a module plan with its dedicated groups (a slot on a shared
    worker, if any, counts in its worst latency; the worker itself is listed by the plan)."""
    m = spec.app.module(name)
    rate = spec.app.module_rate(name)
    gs = groups(point)
    worst = max([g.worst_latency_ms for g in gs] + ([point.slot.worst_latency_ms(rate)] if point.slot else []))
    return ModulePlan(name, m.model, rate, point.budget_ms, worst, gs, dispatch, utilization=utilization)


def shared_workers(bins: tuple[Bin, ...]) -> tuple[SharedWorker, ...]:
    """The plan's shared workers, cycle T_s = sum of the slots' batch times."""
    return tuple(SharedWorker(b.hardware, b.cycle_ms, b.price_per_hour,
                              tuple(SharedSlot(m, c.batch_size, c.latency_ms, c.exec_batch_size) for m, c in b.slots))
                 for b in bins)
