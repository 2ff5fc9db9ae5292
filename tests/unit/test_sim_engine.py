"""The event engine's extension points, driven directly: item counts come in as data (here
random, Poisson crop counts), and admission is a decision object asked once per arrival."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import skinflint
from skinflint.dispatch import make_policy
from skinflint.sim.admission import EngineView, MaxInFlight
from skinflint.sim.composite import compose
from skinflint.sim.engine import run_events
from skinflint.sim.events import EventKind
from skinflint.topology import compile_model
from skinflint.sim.trace import COMPLETED, REFUSED
from skinflint.sim.vector import run_vector
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec


@pytest.fixture(scope="module")
def chain():
    """detect (x1) -> classify (x2 on average), 50 req/s, hop 1 ms, planned by the default planner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles([(Path("p.csv"), f"{m}/{b}", (m, "h0", b, t)) for m, b, t in
                                   (("det", 1, 4.0), ("det", 4, 9.0), ("cls", 1, 2.0), ("cls", 8, 6.0))])
    app = App("crops", 50.0, 200.0, (Module("detect", "det"), Module("classify", "cls", ("detect",), 2.0)), 1.0)
    spec = Spec(app, {"h0": Hardware("h0", 1.0)}, profiles)
    return compose([compile_model(skinflint.plan_spec(spec), spec)])


def policies(cm):
    return [make_policy("cyclic", [w.worker for w in m.workers]) for m in cm.modules]


def test_event_kinds_order_simultaneous_events():
    assert EventKind.DONE < EventKind.RELEASE < EventKind.TIMER


def test_random_crop_counts_run_on_both_paths_alike(chain):
    rng = np.random.default_rng(7)
    arrivals = np.sort(rng.uniform(0.0, 10_000.0, 400))
    counts = [np.ones(400, dtype=np.int64), rng.poisson(2.0, 400)]   # some requests bring no crop
    assert (counts[1] == 0).any()
    jitter = [None, None]
    event = run_events(chain, [arrivals], policies(chain), jitter, counts)[0]
    vector = run_vector(chain.apps[0], arrivals, jitter, counts)
    assert np.all(event.fate == COMPLETED)
    np.testing.assert_array_equal(event.done_ms, vector.done_ms)
    for e, v, c in zip(event.modules, vector.modules, counts):
        np.testing.assert_array_equal(np.bincount(e.item_request, minlength=400), c)  # the counts given
        np.testing.assert_array_equal(e.item_worker, v.item_worker)
        np.testing.assert_array_equal(e.done_ms, v.done_ms)
    detect, classify = event.modules
    # a request without a crop is done once it reaches classify (detect done + the 1 ms hop):
    # classify passes it at once
    none = np.flatnonzero(counts[1] == 0)
    np.testing.assert_array_equal(event.done_ms[none], detect.done_ms[none] + 1.0)
    with pytest.raises(ValueError, match="400 non-negative integer item counts"):
        run_events(chain, [arrivals], policies(chain), jitter, [counts[0], counts[1][:-1]])


@dataclass
class Recording:
    """Asks `rule` and records what the view showed: (request, in flight, pending at detect, admitted)."""

    rule: MaxInFlight
    seen: list[tuple[int, int, int, bool]] = field(default_factory=list)

    def admit(self, request: int, app: int, now: float, view: EngineView) -> bool:
        ok = self.rule.admit(request, app, now, view)
        self.seen.append((request, view.in_flight(app), view.pending(0), ok))
        return ok


def test_admission_is_asked_once_per_arrival_and_sees_the_engine(chain):
    arrivals = np.arange(200) * 2.0                  # 500 req/s: ten times the planned rate
    counts = [np.ones(200, dtype=np.int64), np.full(200, 2, dtype=np.int64)]
    rule = Recording(MaxInFlight(3))
    trace = run_events(chain, [arrivals], policies(chain), [None, None], counts, admission=rule)[0]
    assert [r for r, *_ in rule.seen] == list(range(200))            # every arrival, once, in order
    assert all((flying < 3) == ok for _, flying, _, ok in rule.seen)  # the rule's answer, on the view
    assert all(0 <= pending <= flying for _, flying, pending, _ in rule.seen)  # detect: 1 item a request
    refused = np.array([not ok for *_, ok in rule.seen])
    assert refused.any() and not refused.all()
    np.testing.assert_array_equal(trace.fate == REFUSED, refused)
    assert np.all(trace.fate[~refused] == COMPLETED)
