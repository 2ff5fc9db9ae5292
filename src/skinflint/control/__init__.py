"""Following the load: a clock-free rate estimator, re-planning policies with a registry, and the
transition between two plans (which workers to start before which to drain).

    estimator = RateEstimator(half_life_s=60, window_s=10)
    estimator.observe(t_s, count)                    # arrivals counted since the last call
    policy = make_policy("hysteresis", headroom=0.15)
    target = policy.decide(t_s, estimator.estimate(t_s), current_rate)   # a rate to plan for, or None
    steps = transition(old_plan, new_plan)          # start these, then drain those

Time is always a parameter (seconds, any origin): the runtime passes its clock, the simulator
(skinflint.daynight) simulated time. docs/daynight.md describes the policies.
"""

from skinflint.control.estimator import RateEstimate, RateEstimator
from skinflint.control.policies import (ControlPolicy, RateGrid, make_policy, policy_names,
                                        register_policy)
from skinflint.control.transition import Transition, WorkerKey, transition, worker_counts

__all__ = ["ControlPolicy", "RateEstimate", "RateEstimator", "RateGrid", "Transition", "WorkerKey",
           "make_policy", "policy_names", "register_policy", "transition", "worker_counts"]
