"""The runtime numbers a pool's items online exactly as the simulator numbers them offline
(sim.composite.pool_order: promise-release order, ties by member, then item), whatever order
items are handed over in, and holds an item handed before its number until it has one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skinflint.fanout import first_items
from skinflint.runtime.pool import PoolFeed, PoolItems
from skinflint.sim.composite import pool_order


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 4))
def test_online_numbers_equal_the_simulators(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    offsets = rng.choice([0.0, 2.0, 10.0, 35.0], size=k)
    factors = rng.choice([1.0, 0.5, 2.0, 2.5], size=k)
    arrivals = np.sort(rng.uniform(0, 200, size=int(rng.integers(1, 30))))   # one app's requests, all members
    firsts = [first_items(arrivals.size, f) for f in factors]
    # the simulator: every item keyed by its request's arrival + its member's offset
    keys = [arrivals[np.repeat(np.arange(arrivals.size), np.diff(fi))] + o for fi, o in zip(firsts, offsets)]
    member, item, _ = pool_order(keys)
    # the runtime: requests admitted at their arrival, numbers handed out as time passes
    feed, got = PoolFeed(offsets), []
    events = sorted(set(arrivals.tolist()) | {float(x) for ks in keys for x in ks})
    i = 0
    for now in events:
        while i < arrivals.size and arrivals[i] <= now:
            for m, fi in enumerate(firsts):
                feed.add(m, float(arrivals[i]), int(fi[i]), int(fi[i + 1]))
            i += 1
        got += feed.due(now)
    assert feed.next_at() is None
    assert [x for x, _, _ in got] == list(range(len(got)))
    assert [(m, j) for _, m, j in got] == list(zip(member.tolist(), item.tolist()))


def test_an_item_handed_before_its_number_waits_for_it_and_skips_pass_through() -> None:
    pool = PoolItems([0.0, 30.0])          # member 1's numbers are final 30 ms after its request
    pool.feed.add(0, 0.0, 0, 1)
    pool.feed.add(1, 0.0, 0, 1)
    pool.feed.add(0, 10.0, 1, 2)
    assert pool.number(10.0) == ([], [])                # 0/0 (key 0) and 0/1 (key 10) numbered, not handed
    assert pool.hand(0, 0, "a") == 0 and pool.hand(0, 1, None) == 1   # handed: go now (1 is skipped)
    assert pool.hand(1, 0, "b") is None                 # key 30, final only at 30 - 0: waits
    assert pool.waiting_for_hand(2) is None and pool.records() == ["b"]
    assert pool.feed.next_at() == 30.0
    assert pool.number(30.0) == ([(2, "b")], [])        # numbered: it goes, with its record
