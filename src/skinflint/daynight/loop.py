"""The control loop in simulated time: every `tick_s` the estimator is fed the arrivals counted
in the tick, the policy is asked, and a new target becomes a plan from the real planner. A new
plan goes live `startup_s` after the decision (its new workers start first; the old plan keeps
serving meanwhile); no decision is taken while a switch is under way. The loop's pieces that
the live runtime shares (settings, plan cache, switch, `choose`) are skinflint.control.loop."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from skinflint.control import ControlPolicy, RateEstimator, transition
from skinflint.control.loop import LoopSettings, PlanCache, Switch, choose
from skinflint.plan import Plan


@dataclass
class Schedule:
    """The loop's outcome: the initial plan and every switch, in time order."""

    initial: Plan
    initial_target: float
    switches: list[Switch] = field(default_factory=list)
    refused: int = 0   # targets the planner could not meet (the loop kept the current plan)

    @property
    def changes(self) -> int:
        """Switches that started or drained a worker."""
        return sum(not s.steps.is_noop for s in self.switches)

    def cost_usd(self, length_s: float) -> tuple[float, float]:
        """(plans' $ over their live time, $ of new workers during start-up) over [0, length_s)."""
        live = sum(p.cost_per_hour * (b - a) / 3600.0 for a, b, p in self.segments(length_s))
        startup = sum(s.steps.start_cost_per_hour * (s.live_s - s.decided_s) / 3600.0
                      for s in self.switches if not s.steps.is_noop and s.live_s < length_s)
        return live, startup

    def timeline(self, length_s: float) -> list[tuple[float, float]]:
        """(time_s, $/h of the live plan) at the start and at each switch."""
        return [(0.0, self.initial.cost_per_hour)] + [(s.live_s, s.plan.cost_per_hour)
                                                      for s in self.switches if s.live_s < length_s]

    def segments(self, length_s: float) -> list[tuple[float, float, Plan]]:
        """(start_s, end_s, live plan) covering [0, length_s): the initial plan's, then one per switch
        (empty where a switch took effect at once, or after the end)."""
        bounds = [0.0] + [min(s.live_s, length_s) for s in self.switches] + [length_s]
        plans = [self.initial] + [s.plan for s in self.switches]
        return list(zip(bounds[:-1], bounds[1:], plans))


def counts_per_tick(times_ms: np.ndarray, length_s: float, tick_s: float) -> np.ndarray:
    """Arrivals in each tick [k tick, (k+1) tick) of the day."""
    ticks = math.ceil(length_s / tick_s - 1e-9)
    idx = np.minimum((times_ms / (1000.0 * tick_s)).astype(np.int64), ticks - 1)
    return np.bincount(idx, minlength=ticks)


def run_loop(policy: ControlPolicy, counts: np.ndarray, plans: PlanCache, settings: LoopSettings,
             initial_rate: float) -> Schedule:
    """Drive `policy` over the per-tick arrival `counts`; the estimator starts at `initial_rate`."""
    estimator = RateEstimator(settings.half_life_s, settings.window_s, 0.0, initial_rate)
    target = policy.decide(0.0, estimator.estimate(0.0), None)
    if target is None:
        raise ValueError(f"policy {policy.name!r} gave no initial target")
    schedule = Schedule(plans(target), target)
    live, pending = schedule.initial, None
    for k, n in enumerate(counts, start=1):
        now = k * settings.tick_s
        estimator.observe(now, int(n))
        if pending is not None and now + 1e-9 >= pending.live_s:
            live, pending = pending.plan, None
        if pending is not None:
            continue
        choice = choose(policy, now, estimator.estimate(now), target, live, plans, settings.only_cheaper_down)
        if choice is None:
            continue
        if choice.plan is None:
            schedule.refused += 1
            continue
        wanted, plan = choice.target, choice.plan
        target = wanted
        steps = transition(live, plan)
        if steps.is_noop:   # same workers: the switch is only a new rate on paper, and instant
            schedule.switches.append(Switch(now, now, wanted, plan, steps))
            live = plan
            continue
        pending = Switch(now, now + settings.startup_s, wanted, plan, steps)
        schedule.switches.append(pending)
    return schedule
