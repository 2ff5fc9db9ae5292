"""The traffic model's pieces: syntax and defaults, the new arrival processes, item counts and
spread offsets, jitter from a profile's tails, the shared admission rule, the plan's record."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from skinflint.admission import Admission, Stage, default_max_in_flight
from skinflint.errors import SpecError
from skinflint.plan import TrafficCheck, plan_from_dict
from skinflint.sim.arrivals import make_arrivals
from skinflint.sim.draws import draw, spread_offsets_ms
from skinflint.sim.jitter_model import lognormal_sigma, tail_sigma
from skinflint.spec.types import App, Module
from skinflint.traffic import Traffic


def test_defaults_and_the_worst_case():
    t = Traffic()
    assert (t.arrivals, t.fanout, t.jitter, t.target) == ("poisson", "together", "profile", 0.999)
    assert not t.is_worst_case
    # `uniform` alone is MODEL.md's contract: exact batch times, every request
    assert Traffic.parse("uniform") == Traffic("uniform", "together", "none", 1.0) == Traffic.worst_case()
    assert Traffic.parse("uniform", target=0.99).target == 0.99     # a simulated plan for uniform arrivals
    assert Traffic.parse("mmpp:ratio=2", target=0.99, base=Traffic(jitter="none")).jitter == "none"


@pytest.mark.parametrize("kwargs, option", [
    ({"arrivals": "poisson", "target": 1.0}, "--target"),          # 1 is provable only in the worst case
    ({"arrivals": "poisson", "target": 1.5}, "--target"),
    ({"arrivals": "poisson", "fanout": "burst"}, "--fanout"),
    ({"arrivals": "poisson", "jitter": "gauss:0.1"}, "--jitter"),
    ({"arrivals": "poisson:ratio"}, "--traffic"),
])
def test_bad_traffic_names_the_option(kwargs, option):
    arrivals = kwargs.pop("arrivals")
    with pytest.raises(SpecError, match=option):
        Traffic.parse(arrivals, **kwargs)


def test_cameras_are_periodic_streams_at_random_phases():
    cams = make_arrivals("cameras", rate=40.0, fps=10.0)          # 40 req/s at 10 fps: 4 cameras
    assert cams.count == 4 and cams.rate == 40.0
    t = cams.times_ms(10.0, np.random.default_rng(3))
    assert t.size == 400 and np.all(np.diff(t) >= 0)
    # every camera brings one frame per 100 ms: frames k and k + 4 are one period apart
    assert np.allclose(t[4:] - t[:-4], 100.0)
    with pytest.raises(SpecError, match="differs from the rate"):
        make_arrivals("cameras", rate=50.0, count=4, fps=10.0)


def test_mmpp_keeps_its_mean_rate():
    t = make_arrivals("mmpp", rate=200.0, ratio=1.5, share=0.2).times_ms(400.0, np.random.default_rng(1))
    assert t.size / 400.0 == pytest.approx(200.0, rel=0.05)


def test_poisson_fanout_counts_follow_the_factor_and_agree_between_siblings():
    app = App("a", 100.0, 100.0, (Module("d", "m"), Module("x", "m", ("d",), 2.5), Module("y", "m", ("d",), 2.5),
                                  Module("z", "m", ("d",), 1.0)))
    d = draw(app, Traffic(fanout="poisson"), np.arange(20_000, dtype=float), 100.0, np.random.default_rng(0), False)
    x, y, z = (np.diff(d.firsts[k]) for k in (1, 2, 3))
    assert np.array_equal(x, y)                                   # the same crops for both classifiers
    assert np.all(z == 1)                                         # a factor of 1 stays one item
    assert x.mean() == pytest.approx(2.5, rel=0.03) and x.var() == pytest.approx(2.5, rel=0.06)
    assert (x == 0).mean() == pytest.approx(poisson.pmf(0, 2.5), abs=0.01)


def test_spread_items_follow_the_even_stream():
    # factor 2.5 at 10 req/s: items j at j / 25 s; request i at i / 10 s; C(i) = ceil(2.5 i)
    firsts = np.array([0, 3, 5, 8])
    off = spread_offsets_ms(firsts, 2.5, 25.0, fixed=True)
    # request 0: items 0,1,2 at 0, 40, 80 ms; request 1 (at 100 ms): items 3,4 at 120, 160 ms -> 20, 60
    assert off == pytest.approx([0, 40, 80, 20, 60, 0, 40, 80])


def test_jitter_sigma_from_tails_and_cv():
    assert tail_sigma(10.0, None, 10.0 * math.exp(2.3263478740408408 * 0.1)) == pytest.approx(0.1)
    assert tail_sigma(10.0, 10.0 * math.exp(1.6448536269514722 * 0.2), None) == pytest.approx(0.2)
    assert tail_sigma(10.0, None, None) == 0.0
    cv = 0.1   # sqrt(exp(sigma^2) - 1) = cv
    assert math.sqrt(math.exp(lognormal_sigma(cv) ** 2) - 1) == pytest.approx(cv)


def test_admission_estimate_by_hand():
    # two modules in a chain: throughputs 100 and 400 items/s, slowest batches 8 and 5 ms, hop 1 ms
    adm = Admission([Stage((), False, 100.0, 8.0), Stage((0,), True, 400.0, 5.0)], slo_ms=60.0, hop_ms=1.0,
                    max_in_flight=3)
    assert adm.estimate_ms([0, 0]) == pytest.approx(1 + 8 + 1 + 5)
    # 3 items waiting at the first module: + 1000 * 3 / 100 = 30 ms; 4 at the second: + 10 ms
    assert adm.estimate_ms([3, 4]) == pytest.approx(15 + 30 + 10)
    assert adm.decide([3, 4], 0).admit                      # 55 ms <= 60
    assert not adm.decide([3, 4], 0, waited_ms=6).admit     # 61 ms: the edge wait counts
    assert not adm.decide([0, 0], 3).admit                  # the bounded queue
    assert default_max_in_flight(300.0, 500.0) == 300 and default_max_in_flight(10.0, 100.0) == 64


def test_a_plans_traffic_record_round_trips():
    check = TrafficCheck(Traffic("mmpp:ratio=1.5,share=0.2", "poisson", "lognormal:0.1", 0.99), 0.9951, (1, 2), 4000,
                         6.8, 0.15, 7.4)
    d = {"app": "a", "planner": "optimal", "rate": 10.0, "slo_ms": 100.0, "modules": []} | check.to_dict()
    assert plan_from_dict(d).check == check
