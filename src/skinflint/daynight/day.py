"""Simulate a day: the schedule's plans, each serving the requests that arrive while it is live.

A switch moves new arrivals to the new plan once its workers are up; the old plan serves every
request that arrived before and drains. So each live period is one simulation (`sim.simulate`
with the period's arrivals), run until every request is done. Cost integrates each plan's $/h
over the time it is live, plus the overlap of a switch: the new workers' $/h over the start-up
delay and the drained workers' $/h until their last batch is done. Periods longer than
`max_segment_s` are cut (memory); at a cut the simulator starts with empty queues — below one
batch time of effect, and no cost is added for it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from skinflint.control import ControlPolicy, RateGrid, make_policy
from skinflint.daynight.curve import DayCurve
from skinflint.control.loop import LoopSettings, PlanCache
from skinflint.daynight.loop import Schedule, counts_per_tick, run_loop
from skinflint.sim import percentiles, simulate
from skinflint.spec.types import Spec


@dataclass
class DayResult:
    """One policy's day: money, requests, latency, plan changes and the $/h over time."""

    name: str
    cost_usd: float
    requests: int
    on_time: int
    dropped: int
    plan_changes: int
    latency: dict[str, float]
    cost_timeline: list[tuple[float, float]]    # (time_s, $/h of the live plan) at each change
    switch_overlap_usd: float
    distinct_plans: int
    wall_s: float
    hourly_attainment: list[float] = field(default_factory=list)

    @property
    def slo_attainment(self) -> float:
        """Share of the day's requests completed within the SLO (dropped ones are misses)."""
        return self.on_time / self.requests if self.requests else math.nan

    @property
    def worst_hour(self) -> float:
        """The lowest SLO attainment of any hour of the day."""
        return min(self.hourly_attainment, default=math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"policy": self.name, "cost_usd": self.cost_usd, "requests": self.requests, "on_time": self.on_time,
                "dropped": self.dropped, "slo_attainment": self.slo_attainment, "worst_hour_attainment": self.worst_hour,
                "plan_changes": self.plan_changes, "latency_ms": self.latency,
                "switch_overlap_usd": self.switch_overlap_usd, "distinct_plans": self.distinct_plans,
                "cost_timeline": [list(p) for p in self.cost_timeline], "hourly_attainment": self.hourly_attainment,
                "wall_s": self.wall_s}


def simulate_day(spec: Spec, schedule: Schedule, times_ms: np.ndarray, length_s: float, rng: np.random.Generator,
                 name: str, max_segment_s: float = 3600.0, hour_s: float = 3600.0,
                 early_close: bool = True) -> DayResult:
    """Serve the arrivals `times_ms` with the schedule's plans; count money, SLO and changes.

    early_close: the runtime's deadline-aware early close (MODEL.md); without it a batch waits to
    fill, which at a rate far below the planned one (static peak at night) misses the SLO."""
    start_wall = time.perf_counter()
    slo = spec.app.slo_ms
    cost, overlap = schedule.cost_usd(length_s)
    on_time, dropped = 0, 0
    latencies: list[np.ndarray] = []
    hours = max(1, math.ceil(length_s / hour_s - 1e-9))
    hour_req, hour_ok = np.zeros(hours), np.zeros(hours)
    drain_ms: list[float] = []
    for t0, t1, plan in schedule.segments(length_s):
        tail = 0.0
        for a in np.arange(t0, t1, max_segment_s):
            b = min(a + max_segment_s, t1)
            lo, hi = np.searchsorted(times_ms, [1000.0 * a, 1000.0 * b])
            if hi == lo:
                continue
            arrivals = times_ms[lo:hi] - 1000.0 * a
            result = simulate(plan, spec, arrivals, b - a, rng, early_close=early_close)
            lat = result.trace.latency_ms
            latencies.append(lat.astype(np.float32))
            on_time += result.on_time
            dropped += sum(result.dropped.values())
            ok = _on_time_mask(result, slo)
            hour = np.minimum(((arrivals / 1000.0 + a) / hour_s).astype(np.int64), hours - 1)
            hour_req += np.bincount(hour, minlength=hours)
            hour_ok += np.bincount(hour, weights=ok, minlength=hours)
            tail = max(0.0, result.span_ms - 1000.0 * (b - a))
        drain_ms.append(tail)
    for k, s in enumerate(schedule.switches):
        # drained workers are paid until the old plan's last batch ends
        if not s.steps.is_noop and s.live_s < length_s:
            overlap += s.steps.drain_cost_per_hour * drain_ms[k] / 3.6e6   # segment k ends at switch k
    all_lat = np.concatenate(latencies) if latencies else np.zeros(0)
    timeline = schedule.timeline(length_s)
    distinct = len({id(schedule.initial)} | {id(s.plan) for s in schedule.switches})
    hourly = [float(ok / n) if n else math.nan for ok, n in zip(hour_ok, hour_req)]
    return DayResult(name, cost + overlap, int(times_ms.size), on_time, dropped, schedule.changes,
                     percentiles(all_lat), timeline, overlap, distinct, time.perf_counter() - start_wall, hourly)


def _on_time_mask(result: Any, slo_ms: float) -> np.ndarray:
    """Per arrival: 1.0 when completed within the SLO (NaN latency for dropped ones counts as a miss)."""
    lat = result.trace.done_ms - result.trace.arrival_ms
    return np.nan_to_num(lat <= slo_ms + 1e-9 * max(1.0, slo_ms)).astype(float)


Contender = tuple[str, Callable[[DayCurve], ControlPolicy], LoopSettings]


def default_contenders(settings: LoopSettings = LoopSettings(), grid: RateGrid = RateGrid(),
                       epoch_s: float = 30.0, headroom: float = 0.15) -> list[Contender]:
    """skinflint's hysteresis loop, static peak provisioning, and Nexus-style epochs of `epoch_s`."""
    epoch = LoopSettings(settings.tick_s, settings.startup_s, settings.half_life_s, epoch_s, only_cheaper_down=False)
    h = f"{100 * headroom:g} %"
    return [
        (f"skinflint (hysteresis, {h} headroom)",
         lambda c: make_policy("hysteresis", headroom=headroom, grid=grid), settings),
        (f"static peak (+{h})", lambda c: make_policy("static", rate=c.peak * (1 + headroom), grid=grid), settings),
        (f"nexus epochs ({epoch_s:g} s)", lambda c: make_policy("epoch", epoch_s=epoch_s, grid=grid), epoch),
        (f"nexus epochs ({epoch_s:g} s, +{h})",
         lambda c: make_policy("epoch", epoch_s=epoch_s, grid=grid, headroom=headroom), epoch),
    ]


def compare_day(spec: Spec, curve: DayCurve, rng: np.random.Generator, plans: PlanCache | None = None,
                contenders: list[Contender] | None = None, times_ms: np.ndarray | None = None,
                early_close: bool = True) -> list[DayResult]:
    """Every contender over the same arrivals (drawn once from `rng` along `curve`)."""
    plans = PlanCache(spec) if plans is None else plans
    times = curve.arrival_times_ms(rng) if times_ms is None else times_ms
    out = []
    for name, make, settings in contenders or default_contenders():
        counts = counts_per_tick(times, curve.length_s, settings.tick_s)
        first = counts[: max(1, int(round(60.0 / settings.tick_s)))]
        initial = float(first.sum()) / (first.size * settings.tick_s)
        schedule = run_loop(make(curve), counts, plans, settings, initial)
        out.append(simulate_day(spec, schedule, times, curve.length_s, rng, name, early_close=early_close))
    return out
