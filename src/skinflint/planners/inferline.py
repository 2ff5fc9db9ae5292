"""`inferline`: InferLine's low-frequency Planner (Crankshaw et al., SoCC'20), on skinflint's simulator.

  dispatch     a central queue per stage; an idle replica takes up to its max batch of what is
               queued, at once (dispatch.central_queue; the plan's `central-queue` kind)
  stage        one configuration per stage: hardware, max batch size, replica count
  estimator    the pipeline simulated on a sampled arrival trace: the traffic's arrival process
               on the oracle's seeds (sim.attainment.Oracle, as the runtime serves the plan);
               "P99 <= SLO" generalised to the traffic's target (feasible = planners.attain.accepts)
  initialise   each stage on its lowest-latency hardware at the smallest batch, enough replicas to
               carry its rate; while infeasible, one more replica on the bottleneck stage (the
               least capacity per unit of rate); no plan where the service times alone miss the SLO
  greedy       repeatedly take the feasible action that saves the most, over every stage:
                 grow batch      the smallest larger profiled batch size that frees a replica,
                                 with the fewest replicas that stay feasible
                 remove replica  one replica fewer
                 downgrade hw    the next cheaper hardware type at the profiled batch that needs the
                                 fewest replicas to stay feasible, if that costs less
               until no action saves money
  budgets      InferLine has none; the plan records each stage's batch time as its W and splits the
               rest of the SLO toward the exits (nexus.give_slack_to_exits), bookkeeping only

Every guess about the paper is listed in docs/baselines.md ("inferline").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from skinflint import model
from skinflint.errors import InfeasibleError
from skinflint.model import CENTRAL_QUEUE, RTOL
from skinflint.plan import Group, ModulePlan, Plan, TrafficCheck
from skinflint.planners.attain import TargetUnreachable, accepts, plan_seeds, sampling
from skinflint.planners.base import PlanOptions
from skinflint.planners.nexus import give_slack_to_exits
from skinflint.planners.solve.bounds import configs_by_module, plan_bound
from skinflint.sim.attainment import Measured, Oracle
from skinflint.spec.types import Spec
from skinflint.traffic import Traffic

MORE_REPLICAS = 4.0
"""Initialisation gives up when the bottleneck stage has this many times the replicas its rate needs."""


@dataclass(frozen=True)
class Stage:
    """One stage's configuration: hardware, max batch size, replicas."""

    hardware: str
    batch: int
    replicas: int


State = tuple[Stage, ...]   # per module, in the app's order


class Estimator:
    """InferLine's Estimator on the oracle: is a configuration feasible (attains the target)?"""

    def __init__(self, spec: Spec, options: PlanOptions, traffic: Traffic) -> None:
        self.spec, self.options, self.traffic = spec, options, traffic
        offered = replace(spec, app=replace(spec.app, rate=spec.app.rate / (1.0 + options.headroom)))
        count, per_seed = sampling(traffic, offered.app.rate, spec.sources.get("app"))
        self.seeds = plan_seeds(options.seed, count)
        self.oracle = Oracle(offered, traffic, self.seeds, per_seed)
        self._seen: dict[State, Measured | None] = {}
        self.best = 0.0

    def measure(self, state: State) -> Measured | None:
        """The state's measure on the oracle (None: its service times alone miss the SLO)."""
        if state not in self._seen:
            plan = to_plan(self.spec, state, self.options)
            got = None if plan is None else self.oracle.measure(plan, stop_early=True)
            self._seen[state] = got
            if got is not None:
                self.best = max(self.best, got.attained)
        return self._seen[state]

    def feasible(self, state: State) -> bool:
        got = self.measure(state)
        return got is not None and accepts(got, self.traffic.target)


def batch_ms(spec: Spec, module: str, stage: Stage) -> float:
    return spec.profiles.get(spec.app.module(module).model, stage.hardware).effective(stage.batch)


def least_replicas(spec: Spec, module: str, hardware: str, batch: int, utilization: float) -> int:
    """The fewest replicas of (hardware, batch) that carry the module's rate at utilization u."""
    d = spec.profiles.get(spec.app.module(module).model, hardware).effective(batch)
    return model.workers_to_carry(spec.app.module_rate(module), model.throughput(batch, d), utilization)


def to_plan(spec: Spec, state: State, options: PlanOptions, name: str = "inferline") -> Plan | None:
    """The plan of a state (None where the stages' batch times and hops alone exceed the SLO)."""
    app = spec.app
    worst = {m.name: batch_ms(spec, m.name, s) for m, s in zip(app.modules, state)}
    if model.longest_path_ms(app.modules, worst, app.hop_ms) > app.slo_ms * (1 + RTOL):
        return None
    budgets = give_slack_to_exits(app, worst)
    modules = []
    for m, s in zip(app.modules, state):
        curve = spec.profiles.get(m.model, s.hardware)
        g = Group(s.hardware, s.batch, s.replicas, worst[m.name], spec.price(s.hardware), worst[m.name],
                  curve.exec_batch_size(s.batch))
        modules.append(ModulePlan(m.name, m.model, app.module_rate(m.name), budgets[m.name], worst[m.name], (g,),
                                  CENTRAL_QUEUE))
    configs = configs_by_module(spec, options.fanout_lag)
    return Plan(app.name, name, app.rate, app.slo_ms, tuple(modules), app.hop_ms,
                lower_bound_per_hour=plan_bound(spec, configs, options.utilization, options.bound), utilization=options.utilization,
                headroom=options.headroom, fanout_lag=options.fanout_lag)


def cost(spec: Spec, state: State) -> float:
    return sum(s.replicas * spec.price(s.hardware) for s in state)


class Search:
    """Algorithm 1 (a feasible start) and the greedy cost minimisation, on one estimator."""

    def __init__(self, spec: Spec, options: PlanOptions, estimator: Estimator) -> None:
        self.spec, self.options, self.est = spec, options, estimator
        self.names = [m.name for m in spec.app.modules]

    def hardware_of(self, module: str) -> list[str]:
        """Hardware types that profile the module's model, most expensive first (then by name)."""
        model_name = self.spec.app.module(module).model
        hw = [c.hardware for c in self.spec.profiles.for_model(model_name) if c.hardware in self.spec.hardware]
        return sorted(hw, key=lambda h: (-self.spec.price(h), h))

    def _least(self, k: int, hardware: str, batch: int) -> int:
        return least_replicas(self.spec, self.names[k], hardware, batch, self.options.utilization)

    def initial(self) -> State:
        """Lowest-latency hardware at the smallest batch; replicas on the bottleneck until feasible."""
        stages = []
        for k, name in enumerate(self.names):
            model_name = self.spec.app.module(name).model
            curves = [self.spec.profiles.get(model_name, h) for h in self.hardware_of(name)]
            best = min(curves, key=lambda c: (c.effective(c.batch_sizes[0]), self.spec.price(c.hardware), c.hardware))
            b = best.batch_sizes[0]
            stages.append(Stage(best.hardware, b, self._least(k, best.hardware, b)))
        state = tuple(stages)
        if to_plan(self.spec, state, self.options) is None:
            app = self.spec.app
            need = model.longest_path_ms(app.modules, {n: batch_ms(self.spec, n, s) for n, s in zip(self.names, state)},
                                         app.hop_ms)
            raise InfeasibleError(f"{app.name} (inferline)", app.slo_ms, need)
        while not self.est.feasible(state):
            k = min(range(len(state)), key=lambda i: (self._spare(state, i), i))
            if state[k].replicas >= MORE_REPLICAS * self._least(k, state[k].hardware, state[k].batch):
                raise TargetUnreachable(self.spec.app.name, self.est.traffic, self.est.best, 0.0)
            state = self._with(state, k, replace(state[k], replicas=state[k].replicas + 1))
        return state

    def _spare(self, state: State, k: int) -> float:
        """Capacity per unit of rate of stage k: n theta / r_m."""
        s = state[k]
        d = batch_ms(self.spec, self.names[k], s)
        return s.replicas * model.throughput(s.batch, d) / self.spec.app.module_rate(self.names[k])

    @staticmethod
    def _with(state: State, k: int, stage: Stage) -> State:
        return state[:k] + (stage,) + state[k + 1:]

    def fewest(self, state: State, k: int, hardware: str, batch: int, most: int) -> State | None:
        """Stage k at (hardware, batch) with the fewest replicas in [least, most] that keep the
        pipeline feasible (bisection: more replicas never hurt), None if `most` does not."""
        lo = self._least(k, hardware, batch)
        if most < lo or not self.est.feasible(self._with(state, k, Stage(hardware, batch, most))):
            return None
        hi = most
        while lo < hi:
            mid = (lo + hi) // 2
            if self.est.feasible(self._with(state, k, Stage(hardware, batch, mid))):
                hi = mid
            else:
                lo = mid + 1
        return self._with(state, k, Stage(hardware, batch, hi))

    def grow_batch(self, state: State, k: int) -> State | None:
        s = state[k]
        sizes = self.spec.profiles.get(self.spec.app.module(self.names[k]).model, s.hardware).batch_sizes
        for b in (b for b in sizes if b > s.batch):   # the smallest larger batch that frees a replica
            got = self.fewest(state, k, s.hardware, b, s.replicas - 1)
            if got is not None:
                return got
        return None

    def remove_replica(self, state: State, k: int) -> State | None:
        s = state[k]
        fewer = self._with(state, k, replace(s, replicas=s.replicas - 1))
        ok = s.replicas > self._least(k, s.hardware, s.batch) and self.est.feasible(fewer)
        return fewer if ok else None

    def downgrade(self, state: State, k: int) -> State | None:
        s = state[k]
        price = self.spec.price(s.hardware)
        cheaper = [h for h in self.hardware_of(self.names[k]) if self.spec.price(h) < price * (1 - RTOL)]
        if not cheaper:
            return None
        h = cheaper[0]
        sizes = self.spec.profiles.get(self.spec.app.module(self.names[k]).model, h).batch_sizes
        most = math.ceil(s.replicas * price / self.spec.price(h) * (1 - RTOL)) - 1   # costs less than now
        best: State | None = None
        for batch in sizes:   # the batch with the fewest feasible replicas (the smallest such batch)
            got = self.fewest(state, k, h, batch, most if best is None else best[k].replicas - 1)
            if got is not None:
                best = got
        return best

    def minimise(self, state: State) -> State:
        """The greedy: the feasible action that saves the most, until none saves anything."""
        actions = (self.grow_batch, self.remove_replica, self.downgrade)
        while True:
            now = cost(self.spec, state)
            best: tuple[float, State] | None = None
            for k in range(len(state)):
                for act in actions:
                    got = act(state, k)
                    if got is not None and cost(self.spec, got) < now * (1 - 1e-12):
                        saving = now - cost(self.spec, got)
                        if best is None or saving > best[0] * (1 + 1e-12):
                            best = (saving, got)
            if best is None:
                return state
            state = best[1]


class InferLinePlanner:
    """InferLine's Planner: greedy over hardware, batch and replicas per stage, simulated against the target."""

    name = "inferline"
    description = "InferLine (SoCC'20): greedy per stage over hardware, batch, replicas; central queues; simulated tail"
    plans_for_traffic = True   # it searches against the traffic itself (api.plan_spec gives it no headroom scan)

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        traffic = options.traffic or Traffic.worst_case()
        est = Estimator(spec, options, traffic)
        search = Search(spec, options, est)
        state = search.minimise(search.initial())
        plan = to_plan(spec, state, options, self.name)
        assert plan is not None, "a feasible state has a plan"
        measured = est.measure(state)
        assert measured is not None
        return replace(plan, check=TrafficCheck(traffic, measured.attained, est.seeds, measured.requests,
                                                single_headroom=options.headroom,
                                                single_headroom_per_hour=plan.cost_per_hour))


__all__ = ["Estimator", "InferLinePlanner", "Search", "Stage", "to_plan"]
