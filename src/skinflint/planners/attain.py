"""Plans for a stated traffic and a target attainment (MODEL.md, "Traffic and attainment").

No closed form gives the cheapest plan that attains a target under random traffic, so this
searches, with the exact planner as its backbone and the simulator as its oracle:

  1. *Single headroom* (every planner): the smallest headroom h of a fine grid whose exact plan
     attains the target on the oracle's seeds (galloping up the grid, then bisecting). This is MODEL.md's
     reference "exact optimum at the smallest single headroom that reaches alpha", and how every
     baseline is given the same traffic and target (each its own smallest headroom).
  2. *Per-module slack* (the default planner): from that plan, each module's own headroom h_m
     (capacity for the offered rate x (1 + h_m); W stays at the planned rate x (1 + min h_m),
     PlanOptions.utilization_of) is lowered one grid step at a time where that saves the most
     money, as long as the plan still attains the target. Slack stays where it buys attainment.
     The result never costs more than step 1's plan, which is in its search space.

A plan is accepted when its attainment pooled over the oracle's seeds reaches the target and no
single seed falls below target - (1 - target) / 2, the check MODEL.md applies to it with seeds
the planner never used. Every candidate runs on the same draws (common random numbers), so
plans are compared on their merits, and the search is deterministic for a seed.

  3. *Confirmation*: a search that picks among many candidates the cheapest one its seeds accept
     favours plans those seeds happen to flatter. So the answer of each step is measured again on
     as many other seeds (the planner's own, still not a check's) and must be accepted there too;
     where it is not, step 1 moves up the grid and step 2 falls back along the plans it accepted,
     to the cheapest one both sets accept. The plan records both sets of seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

from skinflint.errors import SkinflintError
from skinflint.plan import Plan, TrafficCheck
from skinflint.planners.base import Planner, PlanOptions, planned_spec
from skinflint.sim.attainment import Measured, Oracle
from skinflint.sim.traffic_run import arrival_process
from skinflint.spec.types import Spec
from skinflint.traffic import Traffic

HEADROOM_GRID = (tuple(k / 100 for k in range(0, 21)) + (0.225, 0.25, 0.275, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7,
                 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0))
"""Headrooms tried, in order: 1 % steps to 20 %, then coarser up to 4 (five times the rate)."""

MODULE_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
"""Headrooms a single module steps down through in the per-module search."""

SEEDS_PER_PLAN = 4
CAMERA_SEEDS = 64


class TargetUnreachable(SkinflintError):
    """No headroom on the grid makes the plan attain the target (CLI exit 3)."""

    exit_code = 3

    def __init__(self, app: str, traffic: Traffic, best: float, headroom: float) -> None:
        super().__init__(f"{app}: no plan attains {traffic.target:g} under {traffic.describe()}; the best reached "
                         f"{best:.4f} at headroom {headroom:g} (lower the target, raise slo_ms, or add faster hardware)")


BURST_CYCLES = 20
"""Burst cycles (calm + burst) each seed's run spans under bursty arrivals."""


def requests_per_seed(target: float) -> int:
    """Enough requests per seed that a miss rate of 1 - target is seen about 25 times, within
    [12,500, 50,000] (shorter runs of a near-saturated plan misjudge it: its queue's busy periods
    outlast them)."""
    return int(min(50_000, max(12_500, math.ceil(25.0 / max(1.0 - target, 1e-9)))))


def burst_requests(traffic: Traffic, rate: float, base: str | None = None) -> int:
    """Requests in BURST_CYCLES of the traffic's burst cycle (0 without bursts): most of a bursty
    traffic's randomness is in how long its bursts last, so a run must see many (capped at
    400,000 requests)."""
    cycle_s = getattr(arrival_process(traffic, rate, base), "cycle_s", 0.0)
    return int(min(400_000, math.ceil(BURST_CYCLES * cycle_s * rate)))


def plan_seeds(seed: int, count: int = SEEDS_PER_PLAN) -> tuple[int, ...]:
    """The oracle's seeds for planner seed `seed` (a check uses others)."""
    return tuple(1_000_003 * seed + k for k in range(1, count + 1))


def sampling(traffic: Traffic, rate: float, base: str | None = None) -> tuple[int, int]:
    """(seeds, requests per seed) of the oracle. Most of a traffic's randomness is inside a run, so
    a few long runs, each spanning BURST_CYCLES bursts where the traffic has them; a few periodic
    cameras are random mostly in their phases, drawn once per run, so many short runs (a plan
    must hold for nearly every phase draw: accepted on 64 of them, a fresh draw falls below the
    check about 1 time in 65 at worst, and rarely so)."""
    per_seed = requests_per_seed(traffic.target)
    if traffic.kind == "cameras":
        return CAMERA_SEEDS, max(1_000, per_seed // 16)
    return SEEDS_PER_PLAN, max(per_seed, burst_requests(traffic, rate, base))


def accepts(measured: Measured, target: float) -> bool:
    """Every seed ran, the pooled attainment reaches the target and no seed falls below
    target - (1 - target) / 2."""
    return (measured.complete and measured.reaches(target)
            and min(measured.per_seed) >= target - (1.0 - target) / 2 - 1e-12)


def signature(plan: Plan) -> str:
    """What a run depends on: each module's budget and workers, the shared workers and pools."""
    return repr([(m.name, round(m.budget_ms, 9), [(g.hardware, g.batch_size, g.workers) for g in m.groups], m.pool)
                 for m in plan.modules] + [s.to_dict() for s in plan.shared_workers] + [p.to_dict() for p in plan.pools])


@dataclass
class Search:
    """One search: the spec as given (not yet planned), the options, the planner, the oracle."""

    spec: Spec
    options: PlanOptions
    planner: Planner
    oracle: Oracle
    confirm: Oracle   # other seeds, on which the answer must be accepted too

    def __post_init__(self) -> None:
        self._plans: dict[tuple, Plan | None] = {}
        self._measured: dict[str, Measured] = {}
        self._keys: dict[str, tuple] = {}   # signature -> the (headroom, module headroom) that planned it
        self._infeasible: SkinflintError | None = None   # why the planner found no plan at some headroom

    @property
    def target(self) -> float:
        return self.oracle.traffic.target

    def plan_at(self, headroom: float, module_headroom: tuple[tuple[str, float], ...] = ()) -> Plan | None:
        """The planner's plan at this headroom (None where no plan meets the SLO), without its
        lower bound (`bounded` adds it to the answer)."""
        key = (headroom, module_headroom)
        if key not in self._plans:
            try:
                self._plans[key] = plan = self._plan(headroom, module_headroom, bound=False)
                self._keys.setdefault(signature(plan), key)
            except SkinflintError as e:
                self._plans[key] = None
                self._infeasible = self._infeasible or e
        return self._plans[key]

    def bounded(self, plan: Plan) -> Plan:
        """`plan` with the lower bound its planner records (one more planner call, for the answer only)."""
        return replace(plan, lower_bound_per_hour=self._plan(*self._keys[signature(plan)], bound=True).lower_bound_per_hour)

    def _plan(self, headroom: float, module_headroom: tuple[tuple[str, float], ...], bound: bool) -> Plan:
        """The planner called at these headrooms, in MODEL.md's worst case (no traffic of its own)."""
        opts = replace(self.options, headroom=headroom, module_headroom=module_headroom, traffic=None, bound=bound)
        return self.planner.plan(planned_spec(self.spec, opts), opts)

    def measure(self, plan: Plan) -> Measured:
        key = signature(plan)
        if key not in self._measured:
            self._measured[key] = self.oracle.measure(plan, stop_early=True)
        return self._measured[key]

    def accepted_at(self, headroom: float) -> tuple[Plan, Measured] | None:
        """The plan at this headroom and its measure, if it is accepted."""
        plan = self.plan_at(headroom)
        if plan is None:
            return None
        measured = self.measure(plan)
        self._best = max(self._best, (measured.attained, -headroom))
        return (plan, measured) if accepts(measured, self.target) else None

    def single_headroom(self) -> tuple[float, Plan, Measured]:
        """The smallest headroom of the grid whose plan is accepted (MODEL.md's reference), by
        galloping up the grid and bisecting back (attainment grows with headroom; where it does
        not quite, this finds an accepted headroom whose next smaller grid value is not)."""
        grid = [h for h in HEADROOM_GRID if h >= self.options.headroom] or [self.options.headroom]
        self._best = (-1.0, 0.0)
        rejected, index, step = -1, 0, 1
        found: tuple[Plan, Measured] | None = None
        while found is None:
            found = self.accepted_at(grid[index])
            if found is None:
                if index == len(grid) - 1:
                    if self._best[0] < 0 and self._infeasible is not None:
                        raise self._infeasible   # no plan at any headroom: the planner's own reason (exit 3)
                    raise TargetUnreachable(self.spec.app.name, self.oracle.traffic, self._best[0], -self._best[1])
                rejected, index, step = index, min(index + step, len(grid) - 1), step * 2
        while index - rejected > 1:
            mid = (rejected + index) // 2
            got = self.accepted_at(grid[mid])
            if got is None:
                rejected = mid
            else:
                index, found = mid, got
        return grid[index], found[0], found[1]

    def confirmed(self, plan: Plan, measured: Measured) -> Measured | None:
        """`measured` pooled with the plan's measure on the confirming seeds, if those accept it too."""
        again = self.confirm.measure(plan, stop_early=True)
        return measured.pooled_with(again) if accepts(again, self.target) else None

    def confirmed_single(self) -> tuple[float, Plan, Measured]:
        """single_headroom's answer, or the next grid headroom up whose plan both sets of seeds accept."""
        h, plan, measured = self.single_headroom()
        for g in [h] + [x for x in HEADROOM_GRID if x > h]:
            found = (plan, measured) if g == h else self.accepted_at(g)
            both = None if found is None else self.confirmed(*found)
            if both is not None:
                return g, found[0], both
        raise TargetUnreachable(self.spec.app.name, self.oracle.traffic, self._best[0], -self._best[1])

    def confirmed_per_module(self, start: float, plan: Plan, measured: Measured) -> tuple[Plan, Measured]:
        """per_module's answer, or the last plan on its way there that the confirming seeds accept
        too (the start, `plan`, is confirmed already: `measured` pools both sets)."""
        path = self.per_module(start, plan, measured)
        for cheaper, got in reversed(path[1:]):
            both = self.confirmed(cheaper, got)
            if both is not None:
                return cheaper, both
        return plan, measured

    def per_module(self, start: float, plan: Plan, measured: Measured) -> list[tuple[Plan, Measured]]:
        """Lower single modules' headroom from `start`, cheapest saving first, while accepted; every
        plan accepted on the way, from `plan` on."""
        names = [m.name for m in self.spec.app.modules]
        levels = {m: start for m in names}
        path = [(plan, measured)]
        while True:
            candidates = []
            for m in names:
                trial = self._step_down(levels, m, plan)
                if trial is not None:
                    candidates.append(trial)
            candidates.sort(key=lambda t: (-(plan.cost_per_hour - t[2].cost_per_hour), t[0]))
            for m, h_m, cheaper in candidates:
                got = self.measure(cheaper)
                if accepts(got, self.target):
                    levels[m], plan = h_m, cheaper
                    path.append((plan, got))
                    break
            else:
                return path

    def _step_down(self, levels: dict[str, float], module: str, plan: Plan) -> tuple[str, float, Plan] | None:
        """The next lower grid headroom for `module` whose plan is cheaper than `plan`, if any."""
        for h_m in sorted((h for h in MODULE_GRID if self.options.headroom <= h < levels[module]), reverse=True):
            trial = dict(levels, **{module: h_m})
            floor = min(trial.values())
            cheaper = self.plan_at(floor, tuple(sorted((m, h) for m, h in trial.items() if h > floor)))
            if cheaper is not None and cheaper.cost_per_hour < plan.cost_per_hour * (1 - 1e-9):
                return module, h_m, cheaper
        return None


def plan_for_traffic(spec: Spec, options: PlanOptions, planner: Planner, per_module: bool,
                     uniform_optimum: Callable[[], float | None]) -> Plan:
    """The cheapest plan (in the search above) that attains options.traffic's target, with its
    check and references recorded; `per_module` adds step 2 (the default planner)."""
    traffic = options.traffic
    assert traffic is not None
    count, per_seed = sampling(traffic, spec.app.rate, spec.sources.get("app"))
    seeds = plan_seeds(options.seed, 2 * count)
    search = Search(spec, options, planner, Oracle(spec, traffic, seeds[:count], per_seed),
                    Oracle(spec, traffic, seeds[count:], per_seed))
    h, plan, measured = search.confirmed_single()
    reference = plan.cost_per_hour
    if per_module:
        plan, measured = search.confirmed_per_module(h, plan, measured)
    check = TrafficCheck(traffic, measured.attained, seeds, measured.requests, uniform_optimum(), h, reference)
    return replace(search.bounded(plan), check=check)
