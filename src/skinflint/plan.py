"""The plan: what to rent and how to dispatch, as frozen dataclasses with FORMATS.md's JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from skinflint.traffic import Traffic

from skinflint.model import BATCH_AWARE, CENTRAL_QUEUE, DISPATCH_KINDS, ROUND_ROBIN  # noqa: F401  (the kinds a plan names)


def _with_optional(d: dict[str, Any], exec_batch_size: int | None, share_rate: float | None) -> dict[str, Any]:
    """Add the optional keys: the padded size when it differs, the round-robin rate share."""
    if exec_batch_size is not None and exec_batch_size != d["batch_size"]:
        d["exec_batch_size"] = exec_batch_size
    if share_rate is not None:
        d["share_rate"] = share_rate
    return d


def _share_rate(d: dict[str, Any]) -> float | None:
    """A group's or slot's round-robin share: `share_rate`, or `rate` as plan files before it wrote."""
    value = d.get("share_rate", d.get("rate"))
    return None if value is None else float(value)


@dataclass(frozen=True)
class Group:
    """`workers` workers of config (hardware, batch_size). Under round-robin dispatch a group
    receives `share_rate` req/s of the module's stream (weighted round-robin); otherwise None."""

    hardware: str
    batch_size: int
    workers: int
    latency_ms: float
    price_per_hour: float
    worst_latency_ms: float
    exec_batch_size: int | None = None
    share_rate: float | None = None

    @property
    def cost_per_hour(self) -> float:
        return self.workers * self.price_per_hour

    def to_dict(self) -> dict[str, Any]:
        return _with_optional({"hardware": self.hardware, "batch_size": self.batch_size, "workers": self.workers,
                               "latency_ms": self.latency_ms, "worst_latency_ms": self.worst_latency_ms,
                               "price_per_hour": self.price_per_hour}, self.exec_batch_size, self.share_rate)


@dataclass(frozen=True)
class ModulePlan:
    """One module's groups under its latency budget."""

    name: str
    model: str
    rate: float
    budget_ms: float
    worst_latency_ms: float
    groups: tuple[Group, ...]
    dispatch: str = BATCH_AWARE
    pool: str | None = None     # served by this pool (plan.pools / fleet.pools) instead of own groups
    utilization: float | None = None   # its own cap u_m <= the plan's (capacity headroom), None: the plan's

    @property
    def cost_per_hour(self) -> float:
        return sum(g.cost_per_hour for g in self.groups)

    @property
    def workers(self) -> int:
        return sum(g.workers for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "model": self.model, "rate": self.rate, "dispatch": self.dispatch,
             "budget_ms": self.budget_ms, "worst_latency_ms": self.worst_latency_ms,
             "cost_per_hour": self.cost_per_hour, "groups": [g.to_dict() for g in self.groups]}
        if self.pool is not None:
            d["pool"] = self.pool
        if self.utilization is not None:
            d["utilization"] = self.utilization
        return d


@dataclass(frozen=True)
class Pool:
    """Workers serving several modules that run the same model, in one app or several, from one
    merged stream (docs/sharing-and-pools.md). Members are named "app/module"; `rate` is their sum."""

    name: str
    model: str
    members: tuple[str, ...]
    rate: float
    worst_latency_ms: float
    groups: tuple[Group, ...]

    @property
    def cost_per_hour(self) -> float:
        return sum(g.cost_per_hour for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "members": list(self.members), "rate": self.rate,
                "worst_latency_ms": self.worst_latency_ms, "cost_per_hour": self.cost_per_hour,
                "groups": [g.to_dict() for g in self.groups]}


@dataclass(frozen=True)
class SharedSlot:
    """Module `module`'s batch of `batch_size` run once per shared cycle. On a round-robin module
    the slot takes `share_rate` req/s of the module's stream (its round-robin share); otherwise None."""

    module: str
    batch_size: int
    latency_ms: float
    exec_batch_size: int | None = None
    share_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _with_optional({"module": self.module, "batch_size": self.batch_size, "latency_ms": self.latency_ms},
                              self.exec_batch_size, self.share_rate)


@dataclass(frozen=True)
class SharedWorker:
    """A worker that serves several modules' batches in a fixed cycle of `cycle_ms` (MODEL.md)."""

    hardware: str
    cycle_ms: float
    price_per_hour: float
    slots: tuple[SharedSlot, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"hardware": self.hardware, "cycle_ms": self.cycle_ms, "price_per_hour": self.price_per_hour,
                "slots": [s.to_dict() for s in self.slots]}


@dataclass(frozen=True)
class TrafficCheck:
    """What a plan was made for and what its check measured (MODEL.md, "Traffic and attainment"):
    the traffic and its target, the attainment simulated on `seeds` with `requests` requests in
    all (None for a worst-case plan: proven by MODEL.md, not simulated), and the two references
    a searching planner reports — the uniform optimum (the exact worst-case plan at the offered
    rate) and the exact optimum at the smallest single headroom that reaches the target."""

    traffic: Traffic
    attained: float | None = None
    seeds: tuple[int, ...] = ()
    requests: int = 0
    uniform_optimum_per_hour: float | None = None
    single_headroom: float | None = None
    single_headroom_per_hour: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The plan JSON's traffic keys (FORMATS.md): traffic, target, attained, seeds, requests, references."""
        d: dict[str, Any] = {"traffic": self.traffic.to_dict(), "target": self.traffic.target,
                             "attained": self.attained, "seeds": list(self.seeds), "requests": self.requests}
        refs = {"uniform_optimum_per_hour": self.uniform_optimum_per_hour, "single_headroom": self.single_headroom,
                "single_headroom_per_hour": self.single_headroom_per_hour}
        if any(v is not None for v in refs.values()):
            d["references"] = refs
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrafficCheck | None":
        """From a plan JSON (None when it has no `traffic`: a plan written before traffic-aware planning)."""
        if d.get("traffic") is None:
            return None
        refs = d.get("references") or {}
        return cls(Traffic.from_dict(d["traffic"], float(d.get("target") or 1.0)),
                   None if d.get("attained") is None else float(d["attained"]), tuple(int(s) for s in d.get("seeds", ())),
                   int(d.get("requests", 0)), refs.get("uniform_optimum_per_hour"), refs.get("single_headroom"),
                   refs.get("single_headroom_per_hour"))


@dataclass(frozen=True)
class Plan:
    """An application plan. `rate` is the rate planned for (offered rate x (1 + headroom))."""

    app: str
    planner: str
    rate: float
    slo_ms: float
    modules: tuple[ModulePlan, ...]
    hop_ms: float = 0.0
    shared_workers: tuple[SharedWorker, ...] = ()
    lower_bound_per_hour: float = 0.0
    planning_ms: float = 0.0
    utilization: float = 1.0
    headroom: float = 0.0
    notes: tuple[str, ...] = field(default=())
    fanout_lag: bool = False
    pools: tuple[Pool, ...] = ()
    check: TrafficCheck | None = None

    @property
    def cost_per_hour(self) -> float:
        return (sum(m.cost_per_hour for m in self.modules) + sum(s.price_per_hour for s in self.shared_workers)
                + sum(p.cost_per_hour for p in self.pools))

    @property
    def offered_rate(self) -> float:
        return self.rate / (1.0 + self.headroom)

    @property
    def gap(self) -> float:
        """cost / lower bound (1.0 = provably optimal against the fluid bound)."""
        return self.cost_per_hour / self.lower_bound_per_hour if self.lower_bound_per_hour > 0 else float("nan")

    def workers_by_hardware(self) -> dict[str, int]:
        """Workers rented per hardware type: modules' groups, shared workers and pools, each once."""
        out: dict[str, int] = {}
        groups = [g for m in self.modules for g in m.groups] + [g for p in self.pools for g in p.groups]
        for hardware, n in [(g.hardware, g.workers) for g in groups] + [(s.hardware, 1) for s in self.shared_workers]:
            out[hardware] = out.get(hardware, 0) + n
        return dict(sorted(out.items()))

    def module(self, name: str) -> ModulePlan:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    def with_timing(self, planning_ms: float) -> "Plan":
        return replace(self, planning_ms=planning_ms)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "app": self.app, "planner": self.planner, "rate": self.rate, "slo_ms": self.slo_ms,
            "cost_per_hour": self.cost_per_hour, "lower_bound_per_hour": self.lower_bound_per_hour,
            "planning_ms": self.planning_ms, "hop_ms": self.hop_ms, "utilization": self.utilization,
            "headroom": self.headroom, "offered_rate": self.offered_rate, "fanout_lag": self.fanout_lag,
            "cost_per_month": self.cost_per_hour * HOURS_PER_MONTH,
            "modules": [m.to_dict() for m in self.modules],
        }
        if self.shared_workers:
            d["shared_workers"] = [s.to_dict() for s in self.shared_workers]
        if self.pools:
            d["pools"] = [p.to_dict() for p in self.pools]
        if self.check is not None:
            d |= self.check.to_dict()
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


HOURS_PER_MONTH = 730.0  # 365 * 24 / 12, the usual cloud-billing month


@dataclass(frozen=True)
class FleetPlan:
    """Several applications planned together; pools may serve modules of several of them.
    Each app plan's cost excludes the fleet's pools, which are counted once here."""

    apps: tuple[Plan, ...]
    pools: tuple[Pool, ...]
    separate_cost_per_hour: float      # the same apps each planned alone
    planning_ms: float = 0.0

    @property
    def cost_per_hour(self) -> float:
        return sum(p.cost_per_hour for p in self.apps) + sum(p.cost_per_hour for p in self.pools)

    @property
    def saving_per_hour(self) -> float:
        return self.separate_cost_per_hour - self.cost_per_hour

    def to_dict(self) -> dict[str, Any]:
        return {"fleet": [p.to_dict() for p in self.apps], "pools": [p.to_dict() for p in self.pools],
                "cost_per_hour": self.cost_per_hour, "cost_per_month": self.cost_per_hour * HOURS_PER_MONTH,
                "separate_cost_per_hour": self.separate_cost_per_hour, "saving_per_hour": self.saving_per_hour,
                "planning_ms": self.planning_ms}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _groups_from(items: list[dict[str, Any]]) -> tuple[Group, ...]:
    return tuple(Group(g["hardware"], int(g["batch_size"]), int(g["workers"]), float(g["latency_ms"]),
                       float(g["price_per_hour"]), float(g["worst_latency_ms"]), g.get("exec_batch_size"),
                       _share_rate(g)) for g in items)


def pool_from_dict(d: dict[str, Any]) -> Pool:
    return Pool(d["name"], d["model"], tuple(d["members"]), float(d["rate"]), float(d["worst_latency_ms"]),
                _groups_from(d["groups"]))


def plan_from_dict(d: dict[str, Any]) -> Plan:
    """Rebuild a Plan from its JSON form (as written by `Plan.to_dict`)."""
    modules = tuple(
        ModulePlan(m["name"], m["model"], float(m["rate"]), float(m["budget_ms"]), float(m["worst_latency_ms"]),
                   _groups_from(m["groups"]), m.get("dispatch", BATCH_AWARE), m.get("pool"),
                   None if m.get("utilization") is None else float(m["utilization"]))
        for m in d["modules"])
    shared = tuple(
        SharedWorker(s["hardware"], float(s["cycle_ms"]), float(s["price_per_hour"]),
                     tuple(SharedSlot(x["module"], int(x["batch_size"]), float(x["latency_ms"]),
                                      x.get("exec_batch_size"), _share_rate(x)) for x in s["slots"]))
        for s in d.get("shared_workers", []))
    return Plan(d["app"], d["planner"], float(d["rate"]), float(d["slo_ms"]), modules, float(d.get("hop_ms", 0.0)),
                shared, float(d.get("lower_bound_per_hour", 0.0)), float(d.get("planning_ms", 0.0)),
                float(d.get("utilization", 1.0)), float(d.get("headroom", 0.0)), tuple(d.get("notes", ())),
                bool(d.get("fanout_lag", False)), tuple(pool_from_dict(p) for p in d.get("pools", ())),
                TrafficCheck.from_dict(d))


def load_plan(path: Any, spec: Any = None) -> Plan:
    """The plan in a JSON file (FORMATS.md), validated at the edge (spec.plan_file); with `spec`,
    also checked to be a plan of its app. Bad input is a SpecError naming the file and field."""
    from skinflint.spec.plan_file import check_plan_fits, read_plan_file

    plan = plan_from_dict(read_plan_file(path))
    if spec is not None:
        check_plan_fits(plan, spec, path)
    return plan
