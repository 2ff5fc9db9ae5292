"""Planners, one file each, found by name in one registry (skinflint.registry.Registry).

The planner modules do not import this package: the registry imports them (on the first lookup)
and registers their instances, so the arrows point one way. A plugin adds itself with
`register(planner)`.
"""

from __future__ import annotations

from skinflint.planners.base import Planner, PlanOptions
from skinflint.registry import Registry


def _builtin() -> dict[str, Planner]:
    from skinflint.planners.ablation import EVEN_SPLIT_PLANNERS
    from skinflint.planners.harpagon import HarpagonPlanner
    from skinflint.planners.inferline import InferLinePlanner
    from skinflint.planners.nexus import NexusPlanner
    from skinflint.planners.optimal import OptimalPlanner
    from skinflint.planners.triton import TritonPlanner

    planners: list[Planner] = [OptimalPlanner(), *EVEN_SPLIT_PLANNERS, NexusPlanner(), HarpagonPlanner(),
                               TritonPlanner(), InferLinePlanner()]
    return {p.name: p for p in planners}


_REGISTRY: Registry[Planner] = Registry("planner", "--planner", _builtin)


def register(planner: Planner) -> Planner:
    """Add a planner instance under its `name`; a duplicate name is a ValueError."""
    return _REGISTRY.register(planner.name, planner)


def get_planner(name: str) -> Planner:
    """The planner called `name`; the error (SpecError) lists the known ones."""
    return _REGISTRY.get(name)


def available() -> dict[str, Planner]:
    """All registered planners by name, in name order."""
    return _REGISTRY.entries()


__all__ = ["PlanOptions", "Planner", "available", "get_planner", "register"]
