"""Dispatch policies, driven by hand with explicit times (no clock anywhere)."""

from __future__ import annotations

import pytest

from skinflint.dispatch import EarlyClose, Worker, make_policy, policy_names, register_policy
from skinflint.errors import SpecError


def w(b: int, d: float, group: int = 0) -> Worker:
    return Worker(b, tuple(d * (k + 1) / b for k in range(b)), group=group)


def test_registry_lists_policies_and_rejects_unknown_and_duplicate_names():
    assert {"cyclic", "adaptive", "round-robin", "central-queue"} <= set(policy_names())
    with pytest.raises(SpecError, match="choose one of: adaptive, central-queue, cyclic, round-robin"):
        make_policy("fifo", [w(1, 1.0)])
    with pytest.raises(ValueError, match="already registered"):
        register_policy("cyclic", lambda *a, **k: None)
    assert make_policy("batch-aware", [w(1, 1.0)]).name == "cyclic"  # the plan's kind maps to its policy


def test_cyclic_cuts_consecutive_runs_in_a_fixed_worker_order():
    p = make_policy("cyclic", [w(2, 5.0), w(3, 5.0)])
    launches = [out for j in range(10) for out in p.arrive(j, float(j), 100.0)]
    # runs of 2, 3, then (workers busy) nothing more until they finish
    assert launches == [(0, [0, 1]), (1, [2, 3, 4])]
    assert list(p.worker_done(0, 10.0)) == [(0, [5, 6])]       # closed while busy, waiting for worker 0
    assert list(p.worker_done(1, 10.0)) == [(1, [7, 8, 9])]


def test_cyclic_restores_index_order_and_passes_over_skipped_items():
    p = make_policy("cyclic", [w(2, 1.0), w(2, 1.0)])
    assert list(p.arrive(1, 0.0, 9.0)) == []          # item 0 not here yet: 1 waits
    assert list(p.arrive(3, 0.1, 9.0)) == []
    assert list(p.skip(2, 0.2)) == []
    assert list(p.arrive(0, 0.3, 9.0)) == [(0, [0, 1])]  # 0 and 1; 2 skipped; 3 opens the next run
    assert list(p.arrive(4, 0.4, 9.0)) == [(1, [3, 4])]


def test_cyclic_end_of_stream_and_early_close():
    p = make_policy("cyclic", [w(4, 8.0)], early_close=EarlyClose(margin_ms=1.0))
    assert list(p.arrive(0, 0.0, 20.0)) == []
    assert p.wake_at(0.0) == pytest.approx(20.0 - 8.0 - 1.0)   # deadline - full batch time - margin
    assert list(p.tick(10.0)) == []                           # not yet due
    assert list(p.tick(11.0)) == [(0, [0])]
    assert p.wake_at(11.0) is None
    q = make_policy("cyclic", [w(4, 8.0)])
    q.arrive(0, 0.0, 20.0)
    assert q.wake_at(0.0) is None                             # no early close: no timer
    assert list(q.end_of_stream(5.0)) == [(0, [0])]


def test_adaptive_gives_the_largest_fitting_batch_to_an_idle_worker():
    p = make_policy("adaptive", [w(1, 1.0), w(4, 3.0)])
    assert list(p.arrive(0, 0.0, 50.0)) == [(0, [0])]        # only the b=1 worker fits one item
    out = [o for j in range(1, 5) for o in p.arrive(j, 0.1 * j, 50.0)]
    assert out == [(1, [1, 2, 3, 4])]                         # b=4 worker takes a full run
    assert list(p.arrive(5, 1.0, 50.0)) == []                 # both busy
    assert list(p.worker_done(0, 1.5)) == [(0, [5])]


def test_round_robin_turns_per_request_and_batches_per_worker():
    p = make_policy("round-robin", [w(2, 1.0), w(2, 1.0)])
    out = [o for j in range(4) for o in p.arrive(j, float(j), 99.0)]
    assert out == [(0, [0, 2]), (1, [1, 3])]


def test_weighted_round_robin_follows_group_rates():
    p = make_policy("round-robin", [w(1, 0.1, 0), w(1, 0.1, 1)], group_rates=[3.0, 1.0])
    picks = []
    for j in range(400):
        for k, items in p.arrive(j, float(j), 1e9):
            picks.append(k)
            p.worker_done(k, float(j))
    assert picks.count(0) == 300 and picks.count(1) == 100
    assert max(len(run) for run in "".join(map(str, picks)).split("1")) == 3   # spread evenly: 0001 0001 ...


def test_round_robin_early_close_sends_a_partial_batch_when_due():
    p = make_policy("round-robin", [w(4, 2.0)], early_close=EarlyClose())
    p.arrive(0, 0.0, 10.0)
    assert p.wake_at(0.0) == pytest.approx(8.0)
    assert list(p.tick(8.0)) == [(0, [0])]


def test_worker_needs_one_time_per_batch_size():
    with pytest.raises(ValueError):
        Worker(2, (1.0,))


def test_early_close_lets_hopeless_batches_fill_until_their_deadline_and_leaves_busy_workers_alone():
    p = make_policy("cyclic", [w(4, 8.0)], early_close=EarlyClose())
    p.arrive(0, 0.0, 5.0)                     # a batch of 1 takes 2 ms: can leave until t = 3
    assert p.wake_at(0.0) == pytest.approx(0.0)   # close time (5 - 8) has passed, but it can still make it
    assert p.wake_at(3.5) == pytest.approx(5.0)   # at 3.5 it cannot: let the batch fill (throughput) ...
    assert list(p.tick(3.5)) == []
    assert list(p.tick(5.0)) == [(0, [0])]        # ... until its deadline: then it leaves, late anyway
    busy = make_policy("cyclic", [w(1, 1.0), w(4, 8.0)], early_close=EarlyClose())
    assert list(busy.arrive(0, 0.0, 100.0)) == [(0, [0])]
    assert list(busy.arrive(1, 0.0, 100.0)) == []     # open batch for worker 1
    assert busy.wake_at(0.0) == pytest.approx(92.0)


def test_cyclic_declares_its_open_batch_for_a_caller_that_must_close_it():
    from skinflint.dispatch import InOrder, OpenBatch
    p = make_policy("cyclic", [w(2, 5.0)])
    assert isinstance(p, OpenBatch) and isinstance(p, InOrder) and p.in_order
    assert not isinstance(make_policy("adaptive", [w(2, 5.0)]), (OpenBatch, InOrder))  # arrival order
    assert p.waits_for() is None                          # no open batch
    assert list(p.arrive(0, 0.0, 9.0)) == []
    assert p.waits_for() == 1                             # the open batch [0] waits for item 1
    assert list(p.arrive(1, 0.1, 9.0)) == [(0, [0, 1])]
    assert list(p.arrive(2, 0.2, 9.0)) == [] and list(p.arrive(3, 0.3, 9.0)) == []
    assert p.is_queued(3) and not p.is_queued(4)          # [2, 3] closed while worker 0 is busy
    assert list(p.arrive(4, 0.4, 9.0)) == []
    assert list(p.close_open(0.5)) == []                  # [4] closed, queued behind [2, 3]
    assert p.waits_for() is None and p.is_queued(4)
    assert list(p.worker_done(0, 5.0)) == [(0, [2, 3])]


def test_central_queue_takes_what_is_queued_at_this_instants_timer():
    """InferLine's dispatch: nothing starts on arrival; at the instant's timer an idle worker takes
    up to its batch of the queue at once (no waiting for a full batch), the next idle one the rest."""
    policy = make_policy("central-queue", [w(4, 1.0), w(4, 1.0)])
    assert not policy.arrive_run(0, 3, 0.0, 100.0) and policy.wake_at(0.0) == 0.0
    assert policy.tick(0.0) == [(0, [0, 1, 2])]
    assert policy.wake_at(0.0) is None
    policy.arrive_run(3, 9, 1.0, 100.0)
    assert policy.tick(1.0) == [(1, [3, 4, 5, 6])]
    assert policy.backlog() == 2 and policy.wake_at(1.0) is None   # both busy: 7, 8 wait
    assert not policy.worker_done(0, 2.0) and policy.tick(2.0) == [(0, [7, 8])]
