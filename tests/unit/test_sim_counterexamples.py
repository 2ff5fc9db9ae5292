"""The two cases where MODEL.md's W, as first written, was not a guarantee; each test fails with
the rule it guards removed (docs/simulator.md, "Fidelity")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import skinflint
from skinflint import model
from skinflint.dispatch import cyclic, register_policy
from skinflint.plan import Group, ModulePlan, Plan
from skinflint.sim import item_excess_ms, promise_violations, simulate
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec


class ArrivalOrderCyclic(cyclic.CyclicPolicy):
    """The cyclic policy cutting runs in arrival order instead of index order (what not to do)."""

    def arrive(self, index, now, deadline):
        if not self.open:
            self.oldest_deadline = deadline
        self.open.append(index)
        if len(self.open) == self.sizes[self.turn]:
            self._close()
        return self._flush()

    def arrive_run(self, start, stop, now, deadline):
        return [launch for j in range(start, stop) for launch in self.arrive(j, now, deadline)]


register_policy("test-arrival-order", lambda workers, early_close=None, group_rates=None: ArrivalOrderCyclic(workers))


def spec_of(rows, modules, rate, slo) -> Spec:
    hardware = {h: Hardware(h, 1.0) for _, h, _, _ in rows}
    return Spec(App("case", rate, slo, modules), hardware, build_profiles([(Path("p.csv"), "x", r) for r in rows]))


def test_runs_must_be_cut_in_request_order_downstream_of_mixed_configs():
    # P: a slow worker (19 ms) and a fast one (1 ms), b = 1, 100 req/s: cycle 20 ms, W_P = 19;
    # request 1 leaves P at 11 ms, request 0 at 19 ms. C: one worker, b = 1, 10 ms: W_C = 10.
    spec = spec_of([("p", "slow", 1, 19.0), ("p", "fast", 1, 1.0), ("c", "fast", 1, 10.0)],
                   (Module("P", "p"), Module("C", "c", ("P",))), 100.0, 29.0)
    plan = Plan("case", "hand", 100.0, 29.0, (
        ModulePlan("P", "p", 100.0, 19.0, 19.0, (Group("slow", 1, 1, 19.0, 1.0, 19.0), Group("fast", 1, 1, 1.0, 1.0, 1.0))),
        ModulePlan("C", "c", 100.0, 10.0, 10.0, (Group("fast", 1, 1, 10.0, 1.0, 10.0),))))
    assert skinflint.verify(plan, spec) == []
    arrivals = np.arange(200) * 10.0
    good = simulate(plan, spec, arrivals, 2.0, np.random.default_rng(0), engine="event")
    assert promise_violations(good) == [] and good.latency_ms.max() == 29.0
    bad = simulate(plan, spec, arrivals, 2.0, np.random.default_rng(0), dispatch="test-arrival-order")
    # request 0 reaches C at 19 behind request 1 (there since 11, running 11-21): done at 31 > 29
    assert bad.latency_ms.max() == 31.0


def test_fanout_lag_is_needed_and_reached():
    # 2 req/s, each request brings 2 items (rate_factor 2, r_m = 4/s); a b = 1 and a b = 2 worker
    # in the cycle (T = 750 ms): the b = 2 run takes the 2nd item of one request and the 1st of the
    # next, so the earlier one waits a whole request gap, 500 ms, where W counts (2 - 1) x 250.
    spec = spec_of([("m", "h", 1, 1.0), ("m", "h", 2, 1.0)], (Module("M", "m", (), 2.0),), 2.0, 1000.0)
    lag = model.fanout_lag_ms(2.0, 2.0)
    assert lag == 250.0                                          # 1000 (1 - 1/2) / 2
    w_b2 = model.worst_latency_ms(2, 1.0, 4.0)                   # 251 without the lag
    plan = Plan("case", "hand", 2.0, 1000.0, (ModulePlan("M", "m", 4.0, 251.0 + lag, 251.0 + lag, (
        Group("h", 1, 1, 1.0, 1.0, 1.0 + lag), Group("h", 2, 1, 1.0, 1.0, w_b2 + lag))),), fanout_lag=True)
    assert skinflint.verify(plan, spec) == []
    result = simulate(plan, spec, np.arange(400) * 500.0, 200.0, np.random.default_rng(0))
    assert promise_violations(result) == []
    mt = result.trace.modules[0]
    on_b2 = mt.batch_size[mt.item_batch] == 2
    worst_b2 = float((mt.done_ms - result.trace.arrival_ms[mt.item_request])[on_b2].max())
    assert worst_b2 == w_b2 + lag                                # the lag is reached exactly
    assert max(float(e.max()) for e in item_excess_ms(result).values()) == 0.0
