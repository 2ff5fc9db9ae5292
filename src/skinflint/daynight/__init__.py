"""A day in simulation: the control loop (skinflint.control) driven by simulated time over a
day-long rate curve with bursts, re-planning with the real planner and switching plans without
losing requests; compared against static peak provisioning and Nexus-style epochs.

    curve = DayCurve.from_csv("examples/daynight/city_day.csv")
    results = compare_day(spec, curve, rng=np.random.default_rng(1))

docs/daynight.md describes the model and shows the figures.
"""

from skinflint.daynight.curve import Bursts, DayCurve, parse_bursts
from skinflint.control.loop import LoopSettings, PlanCache, Switch
from skinflint.daynight.loop import Schedule, run_loop
from skinflint.daynight.day import DayResult, compare_day, default_contenders, simulate_day

__all__ = ["Bursts", "DayCurve", "DayResult", "LoopSettings", "PlanCache", "Schedule", "Switch", "compare_day",
           "default_contenders", "parse_bursts", "run_loop", "simulate_day"]
