"""Planners, one file each, found by name in one registry."""

from __future__ import annotations


from skinflint.planners.base import Planner, PlanOptions

_REGISTRY: dict[str, Planner] = {}


def register(planner: Planner) -> Planner:
    """Add a planner instance under its `name`; a duplicate name is an error."""
    if planner.name in _REGISTRY:
        raise ValueError(f"planner {planner.name!r} is already registered")
    _REGISTRY[planner.name] = planner
    return planner


def get_planner(name: str) -> Planner:
    """The planner called `name`; the error lists the known ones."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        from skinflint.errors import SpecError

        raise SpecError("command line", "--planner", f"unknown planner {name!r}",
                        f"choose one of: {', '.join(sorted(_REGISTRY))}") from None


def available() -> dict[str, Planner]:
    """All registered planners by name."""
    _load_builtin()
    return dict(sorted(_REGISTRY.items()))


_BUILTIN = ("optimal", "ablation", "nexus", "harpagon")


def _load_builtin() -> None:
    import importlib

    for mod in _BUILTIN:
        importlib.import_module(f"skinflint.planners.{mod}")


__all__ = ["PlanOptions", "Planner", "available", "get_planner", "register"]
