"""A plan JSON file (FORMATS.md, as `skinflint plan --format json` writes it), validated at the edge.

Every number passes spec.bounds, the structure is checked field by field (one SpecError naming
the file and the field), and, given the spec the plan is meant for, that it is this app's plan:
same app, same modules running the same models. Keys this version does not know are allowed
(FORMATS.md: fields are added freely); derived ones (`cost_per_hour`, ...) are recomputed.
`skinflint.plan.load_plan` builds the Plan from what `read_plan_file` returns (the plan layer
sits above this one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from skinflint.errors import SpecError
from skinflint.spec.bounds import check_plan_workers, limit
from skinflint.spec.files import Bounded, read_text, validate
from skinflint.spec.parse import load_json
from skinflint.spec.types import Spec

DISPATCH = ("batch-aware", "round-robin", "central-queue")  # skinflint.plan.DISPATCH_KINDS (a test keeps them equal)

Name = Annotated[StrictStr, Field(min_length=1)]
FIX = "write the plan with `skinflint plan APP.yaml --format json -o PLAN.json`"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")


class GroupEntry(_Entry):
    hardware: Name
    batch_size: Bounded("batch_size")
    workers: Bounded("workers")
    latency_ms: Bounded("latency_ms")
    worst_latency_ms: Bounded("latency_ms")
    price_per_hour: Bounded("price_per_hour")
    exec_batch_size: Optional[Bounded("batch_size")] = None
    rate: Optional[Bounded("module_rate")] = None


class ModuleEntry(_Entry):
    name: Name
    model: Name
    rate: Bounded("module_rate")
    dispatch: Literal[DISPATCH] = DISPATCH[0]  # type: ignore[valid-type]
    budget_ms: Bounded("slo_ms")
    worst_latency_ms: Bounded("elapsed_ms")
    groups: Annotated[list[GroupEntry], Field(max_length=limit("batch_sizes"))]
    pool: Optional[Name] = None
    utilization: Optional[Bounded("utilization")] = None


class SlotEntry(_Entry):
    module: Name
    batch_size: Bounded("batch_size")
    latency_ms: Bounded("latency_ms")
    exec_batch_size: Optional[Bounded("batch_size")] = None
    rate: Optional[Bounded("module_rate")] = None


class SharedEntry(_Entry):
    hardware: Name
    cycle_ms: Bounded("latency_ms")
    price_per_hour: Bounded("price_per_hour")
    slots: Annotated[list[SlotEntry], Field(min_length=1, max_length=limit("modules"))]


class PoolEntry(_Entry):
    name: Name
    model: Name
    members: Annotated[list[Name], Field(min_length=1)]
    rate: Bounded("module_rate")
    worst_latency_ms: Bounded("elapsed_ms")
    groups: Annotated[list[GroupEntry], Field(min_length=1, max_length=limit("batch_sizes"))]


class TrafficEntry(_Entry):
    arrivals: Name
    fanout: Literal["together", "poisson", "spread"] = "together"
    jitter: Name = "profile"


class ReferencesEntry(_Entry):
    uniform_optimum_per_hour: Optional[Bounded("price_per_hour")] = None
    single_headroom: Optional[Bounded("plan_headroom")] = None
    single_headroom_per_hour: Optional[Bounded("price_per_hour")] = None


class PlanFile(_Entry):
    app: Name
    planner: StrictStr
    rate: Bounded("rate")
    slo_ms: Bounded("slo_ms")
    hop_ms: Bounded("hop_ms") = 0.0
    utilization: Bounded("utilization") = 1.0
    headroom: Bounded("plan_headroom") = 0.0
    fanout_lag: StrictBool = False
    notes: list[StrictStr] = []
    modules: Annotated[list[ModuleEntry], Field(min_length=1, max_length=limit("modules"))]
    shared_workers: Annotated[list[SharedEntry], Field(max_length=limit("plan_workers"))] = []
    pools: Annotated[list[PoolEntry], Field(max_length=limit("modules"))] = []
    traffic: Optional[TrafficEntry] = None
    target: Optional[Bounded("target")] = None
    attained: Optional[Annotated[float, Field(ge=0, le=1)]] = None
    seeds: list[Bounded("seed")] = []
    requests: Annotated[int, Field(ge=0, le=10**10)] = 0
    references: Optional[ReferencesEntry] = None


def read_plan_file(path: Path) -> dict[str, Any]:
    """The plan JSON in `path`, validated (structure, bounds, no module twice, workers within the
    bound), as a dict `skinflint.plan.plan_from_dict` reads."""
    data = load_json(read_text(path, "plan"), path, FIX)
    if isinstance(data, dict) and "fleet" in data and "modules" not in data:
        raise SpecError(path, "fleet", "this is a fleet plan, not one application's",
                        "simulate the fleet's app files together (they are planned as a fleet), without --plan")
    if not isinstance(data, dict):
        raise SpecError(path, "", "not a plan: the file holds no JSON object", FIX)
    parsed = validate(PlanFile, data, path)
    names = [m.name for m in parsed.modules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpecError(path, "modules", f"module(s) {', '.join(map(repr, twice))} planned twice", FIX)
    workers = (sum(g.workers for m in parsed.modules for g in m.groups) + len(parsed.shared_workers)
               + sum(g.workers for p in parsed.pools for g in p.groups))
    check_plan_workers(workers, path)
    return parsed.model_dump()


def check_plan_fits(plan: Any, spec: Spec, path: str | Path) -> None:
    """The plan is one of `spec`'s app: same name, same modules, each running the app's model."""
    app = spec.app
    if plan.app != app.name:
        raise SpecError(path, "app", f"the plan is for app {plan.app!r}, not {app.name!r}",
                        "simulate a plan made for this application")
    models = {m.name: m.model for m in app.modules}
    for i, m in enumerate(plan.modules):
        if m.name not in models:
            raise SpecError(path, f"modules[{i}].name", f"{app.name} has no module {m.name!r}",
                            f"its modules are: {', '.join(models)}")
        if m.model != models[m.name]:
            raise SpecError(path, f"modules[{i}].model", f"module {m.name!r} runs {models[m.name]!r}, "
                            f"not {m.model!r}", "simulate a plan made for this application")
    missing = [n for n in models if n not in {m.name for m in plan.modules}]
    if missing:
        raise SpecError(path, "modules", f"no plan for module(s) {', '.join(missing)}",
                        "simulate a plan made for this application")
