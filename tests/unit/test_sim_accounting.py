"""Every request ends completed on time, late, or dropped with a reason; metrics add up."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import skinflint
from skinflint.errors import SpecError
from skinflint.sim import percentiles, promise_violations, simulate
from skinflint.fanout import first_items, item_counts
from skinflint.sim.fidelity import item_excess_ms


@pytest.fixture(scope="module")
def traffic():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = skinflint.load_spec("examples/traffic/app.yaml")
    return spec, skinflint.plan_spec(spec, options=skinflint.planners.PlanOptions(fanout_lag=True))


def accounted(result) -> bool:
    return result.requests == result.on_time + result.late + sum(result.dropped.values())


def test_fanout_counts_are_exact_in_the_long_run_and_never_ahead():
    for f in (0.3, 1.0, 2.5, 3.0, 7 / 3):
        c = first_items(1000, f)
        assert c[-1] == int(np.ceil(1000 * f - 1e-9))            # ceil(n f) items for n requests
        counts = item_counts(1000, f)
        assert set(counts) <= {int(np.floor(f)), int(np.ceil(f))}
        j = np.arange(c[-1])
        assert np.all(np.repeat(np.arange(1000), counts) <= j / f + 1e-12)   # item j's request <= j / f


def test_uniform_at_the_planned_rate_keeps_the_promise(traffic):
    spec, plan = traffic
    result = simulate(plan, spec, "uniform", 20.0, np.random.default_rng(0))
    assert result.engine == "vector" and result.slo_attainment == 1.0 and accounted(result)
    assert promise_violations(result) == []
    modules = {m["name"]: m for m in result.module_stats()}
    assert modules["vehicle_type"]["items"] == int(np.ceil(2.5 * result.requests - 1e-9))


def test_without_the_lag_fanout_overshoots_w_by_at_most_the_lag(traffic):
    """MODEL.md's W assumes a module's items arrive spread evenly; a request's 2-3 crops arrive
    together, so a plan without the lag can be late by up to 1000 (1 - 1/5) / 300 = 2.67 ms."""
    spec, _ = traffic
    plan = skinflint.plan_spec(spec)                                  # MODEL.md's W, the default
    result = simulate(plan, spec, "uniform", 20.0, np.random.default_rng(0))
    lag = skinflint.model.fanout_lag_ms(2.5, plan.rate)
    excess = max(float(e.max()) for e in item_excess_ms(result).values())
    assert 0.0 < excess <= lag + 1e-9


def test_admission_control_refuses_with_a_reason_and_loses_nothing(traffic):
    spec, plan = traffic
    result = simulate(plan, spec, "bursty", 20.0, np.random.default_rng(1), max_in_flight=60)
    assert result.engine == "event" and accounted(result)
    (reason, count), = result.dropped.items()
    assert "refused at admission" in reason and count > 0
    assert result.late < result.requests / 10   # what is admitted mostly makes it


def test_drain_limit_drops_the_unfinished_with_a_reason(traffic):
    spec, plan = traffic
    result = simulate(plan, spec, "bursty", 20.0, np.random.default_rng(1), drain_s=0.0)
    assert accounted(result)
    assert any("unfinished" in r for r in result.dropped)


def test_early_close_turns_slow_fills_into_met_deadlines(traffic):
    spec, _ = traffic
    plan = skinflint.plan_spec(spec, options=skinflint.planners.PlanOptions(headroom=1.0))  # planned for 600 req/s
    late = {ec: simulate(plan, spec, "uniform", 10.0, np.random.default_rng(0), early_close=ec).late
            for ec in (False, True)}
    assert late[True] == 0 and late[True] <= late[False]


def test_result_metrics(traffic):
    spec, plan = traffic
    result = simulate(plan, spec, "poisson", 10.0, np.random.default_rng(2), dispatch="adaptive")
    d = result.to_dict()
    assert d["dispatch"] == {m.name: "adaptive" for m in plan.modules}
    assert set(d["latency_ms"]) == {"p50", "p90", "p99", "p99.9", "max"}
    assert all(0 < w["utilisation"] <= 1 for w in d["workers"])
    assert sum(sum(m["batch_histogram"].values()) for m in d["modules"]) == sum(m["batches"] for m in d["modules"])
    assert d["cost_usd"] == pytest.approx(plan.cost_per_hour * result.span_ms / 3.6e6)


def test_percentiles_are_observed_values():
    values = np.arange(1, 1001, dtype=float)
    p = percentiles(values)
    assert (p["p50"], p["p90"], p["p99"], p["max"]) == (500.0, 900.0, 990.0, 1000.0)
    assert p["p99.9"] in (999.0, 1000.0)        # 0.999 x 1000 in floating point
    assert np.isnan(percentiles(np.array([]))["max"])


def test_bad_options_are_spec_errors(traffic):
    spec, plan = traffic
    with pytest.raises(SpecError, match="unknown dispatch policy"):
        simulate(plan, spec, "uniform", 1.0, np.random.default_rng(0), dispatch="lifo")
    with pytest.raises(SpecError, match="vectorised path"):
        simulate(plan, spec, "uniform", 1.0, np.random.default_rng(0), early_close=True, engine="vector")
    with pytest.raises(SpecError, match="--duration"):
        simulate(plan, spec, "uniform", 0.0, np.random.default_rng(0))
