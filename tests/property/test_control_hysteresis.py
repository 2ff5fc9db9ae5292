"""The hysteresis policy's promises on random load sequences."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from skinflint.control import RateEstimate, RateGrid, make_policy

loads = st.lists(st.tuples(st.floats(1.0, 1000.0), st.floats(0.0, 2.0)), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(loads, st.floats(0.0, 0.5), st.floats(0.0, 60.0), st.floats(0.05, 1.0))
def test_up_covers_the_want_downs_respect_dwell_and_step(seq, headroom, dwell_s, down_step):
    grid = RateGrid(1.0, 0.01)
    p = make_policy("hysteresis", headroom=headroom, dwell_s=dwell_s, down_after_s=5.0, band=0.1,
                    down_step=down_step, grid=grid)
    current, last_change = None, None
    for k, (ewma, burst) in enumerate(seq):
        now = 3.0 * k
        e = RateEstimate(now, ewma, ewma, ewma * (1 + burst))
        want = p.wanted(e)
        new = p.decide(now, e, current)
        if current is None or want > current:
            assert new == want                                    # up (or first): at once, to what is wanted
        elif new is not None:
            assert new < current                                  # otherwise only down
            assert now - last_change >= dwell_s                   # after the dwell
            assert new >= current * (1 - down_step) * (1 - 1e-9)   # by one step at most
            assert new >= want                                    # never below what is wanted
        if new is not None:
            current, last_change = new, now
