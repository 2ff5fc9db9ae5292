"""The deterministic discrete-event simulator of an application plan.

    from skinflint.sim import simulate
    result = simulate(plan, spec, "poisson", duration_s=60, rng=np.random.default_rng(1))
    result.slo_attainment, result.to_dict()

Public API: `simulate`, `simulate_fleet` (several apps planned together, pools shared), `SimResult`, `promise_violations` (hold a run to the plan's promise),
the arrival registry (`make_arrivals`, `arrival_kinds`) and jitter (`LogNormal`, `UniformJitter`).
docs/simulator.md describes the model of execution and what it has shown.
"""

from skinflint.sim.api import simulate, simulate_fleet
from skinflint.sim.arrivals import ArrivalProcess, arrival_kinds, make_arrivals, register_arrivals
from skinflint.sim.fidelity import fleet_promise_violations, item_excess_ms, promise_violations
from skinflint.sim.jitter import LogNormal, UniformJitter, parse_jitter
from skinflint.sim.result import SimResult, percentiles

__all__ = ["ArrivalProcess", "LogNormal", "SimResult", "UniformJitter", "arrival_kinds", "item_excess_ms",
           "make_arrivals", "parse_jitter", "percentiles", "promise_violations", "register_arrivals", "simulate", "simulate_fleet", "fleet_promise_violations"]
