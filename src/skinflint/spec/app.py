"""The application file (YAML): a DAG of modules with its rate, SLO and hop delay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from skinflint.errors import SpecError
from skinflint.spec.bounds import limit
from skinflint.spec.files import Bounded, validate
from skinflint.spec.types import App, Module

Name = Annotated[StrictStr, Field(min_length=1)]


class ModuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    model: Name
    after: list[Name] | Name = []
    rate_factor: Bounded("rate_factor") = 1.0
    adapter: StrictStr = ""  # runtime: how its inputs are made from the request and its parents' outputs
    fanout: Literal["together", "spread"] = "together"  # MODEL.md's fan-out lag: items of a request at once
    description: StrictStr = ""


class AppFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    profiles: Name | Annotated[list[Name], Field(min_length=1)]
    hardware: Name
    rate: Bounded("rate")
    slo_ms: Bounded("slo_ms")
    hop_ms: Bounded("hop_ms") = 0.0
    description: StrictStr = ""
    modules: Annotated[list[ModuleEntry], Field(min_length=1, max_length=limit("modules"))]


def build_app(parsed: AppFile, source: Path) -> App:
    """Check names, parents and acyclicity; return the app in topological order."""
    index: dict[str, int] = {}
    for i, m in enumerate(parsed.modules):
        if m.name in index:
            raise SpecError(source, f"modules[{i}].name", f"duplicate module name {m.name!r} "
                            f"(also modules[{index[m.name]}])", "give each module a unique name")
        index[m.name] = i
    parents: dict[str, tuple[str, ...]] = {}
    for i, m in enumerate(parsed.modules):
        after = [m.after] if isinstance(m.after, str) else list(m.after)
        for p in after:
            if p not in index:
                raise SpecError(source, f"modules[{i}].after", f"unknown parent {p!r}",
                                f"use one of: {', '.join(index)}")
            if p == m.name:
                raise SpecError(source, f"modules[{i}].after", f"module {p!r} lists itself as a parent",
                                "remove it from its own 'after'")
        if len(set(after)) != len(after):
            raise SpecError(source, f"modules[{i}].after", "a parent is listed twice", "list each parent once")
        parents[m.name] = tuple(after)
    order = _topological_order(parents, source, index)
    entries = {m.name: m for m in parsed.modules}
    modules = tuple(Module(n, entries[n].model, parents[n], float(entries[n].rate_factor), entries[n].adapter,
                           entries[n].fanout)
                    for n in order)
    return App(parsed.name, float(parsed.rate), float(parsed.slo_ms), modules, float(parsed.hop_ms))


def _topological_order(parents: dict[str, tuple[str, ...]], source: Path, index: dict[str, int]) -> list[str]:
    """Kahn's algorithm, stable in file order; a cycle is reported with its members."""
    remaining = dict(parents)
    order: list[str] = []
    done: set[str] = set()
    while remaining:
        ready = [n for n, ps in remaining.items() if all(p in done for p in ps)]
        if not ready:
            cycle = sorted(remaining, key=index.get)
            raise SpecError(source, "modules", f"the 'after' links form a cycle among {', '.join(cycle)}",
                            "an application must be a DAG: remove one 'after' link of the cycle")
        for n in ready:
            order.append(n)
            done.add(n)
            del remaining[n]
    return order


def parse_app(data: dict, source: Path) -> tuple[AppFile, App]:
    """Validate a parsed YAML mapping as an application file."""
    parsed = validate(AppFile, data, source)
    return parsed, build_app(parsed, source)
