"""One module's dispatcher over fake workers whose futures the test completes by hand: the
policy's decisions become submitted batches, outputs go back per item, the policy hears when a
worker is free again, skipped items do not stall the cyclic order, and early close fires."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np

from skinflint.dispatch import EarlyClose, Worker, make_policy
from skinflint.runtime.dispatcher import ModuleDispatcher
from skinflint.runtime.timers import Timers


class FakeWorker:
    """Records batches; the test completes their futures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.jobs: list[tuple[np.ndarray, Future]] = []

    def submit(self, batch: np.ndarray) -> Future:
        fut: Future = Future()
        self.jobs.append((batch, fut))
        return fut

    def finish(self, k: int = -1) -> None:
        batch, fut = self.jobs[k]
        fut.set_result({"double": 2 * batch})

    def kill(self) -> None:  # pragma: no cover - not used here
        pass

    def close(self) -> None:  # pragma: no cover - not used here
        pass


def make(policy: str, sizes: list[int], close: EarlyClose | None = None, clock=None):
    now = [0.0]
    clock = clock or (lambda: now[0])
    timers = Timers(clock)
    workers = [FakeWorker(f"w{k}") for k in range(len(sizes))]
    policy_obj = make_policy(policy, [Worker(b, tuple(1.0 + k for k in range(b))) for b in sizes], early_close=close)
    delivered: list[tuple[list[int], object]] = []
    d = ModuleDispatcher("m", policy_obj, workers, clock, timers,
                         lambda items, out, err, s, e, w: delivered.append((items, out if err is None else err)))
    return d, workers, delivered, now, timers


def item(v: float) -> np.ndarray:
    return np.full((2,), v, dtype=np.float32)


def test_cyclic_batches_go_to_workers_in_turn_and_outputs_come_back_per_item():
    d, (w0, w1), delivered, now, timers = make("cyclic", [2, 2])
    d.arrive_run(0, [item(0), item(1)], deadline_ms=100.0)     # fills worker 0's batch
    d.arrive_run(2, [item(2)], deadline_ms=100.0)
    assert len(w0.jobs) == 1 and len(w1.jobs) == 0
    np.testing.assert_array_equal(w0.jobs[0][0][:, 0], [0, 1])
    d.arrive_run(3, [item(3)], deadline_ms=100.0)               # fills worker 1's batch
    np.testing.assert_array_equal(w1.jobs[0][0][:, 0], [2, 3])
    assert d.pending == 4
    w1.finish()
    w0.finish()
    assert [items for items, _ in delivered] == [[2, 3], [0, 1]]
    np.testing.assert_array_equal(delivered[0][1]["double"][:, 0], [4, 6])   # 2 * items 2, 3
    assert d.pending == 0
    timers.close()


def test_a_busy_worker_gets_its_next_batch_only_when_free():
    d, (w0,), delivered, now, timers = make("cyclic", [1])
    d.arrive_run(0, [item(0)], 100.0)
    d.arrive_run(1, [item(1)], 100.0)
    assert len(w0.jobs) == 1          # item 1 waits: the policy never gives a busy worker a batch
    w0.finish(0)
    assert len(w0.jobs) == 2          # worker_done released it
    np.testing.assert_array_equal(w0.jobs[1][0][:, 0], [1])
    w0.finish(1)
    assert [i for i, _ in delivered] == [[0], [1]]
    timers.close()


def test_skipped_items_do_not_stall_the_cyclic_order():
    d, (w0,), delivered, now, timers = make("cyclic", [2])
    d.arrive_run(2, [item(2), item(3)], 100.0)   # arrives ahead of 0, 1: waits in the reorder buffer
    assert w0.jobs == []
    d.skip(0, 2)                                 # items 0, 1 will never come (their request failed)
    assert len(w0.jobs) == 1
    np.testing.assert_array_equal(w0.jobs[0][0][:, 0], [2, 3])
    timers.close()


def test_round_robin_policy_runs_behind_the_same_interface():
    d, (w0, w1), delivered, now, timers = make("round-robin", [1, 1])
    for k in range(2):
        d.arrive_run(k, [item(k)], 100.0)
    assert [len(w.jobs) for w in (w0, w1)] == [1, 1]
    timers.close()


def test_early_close_sends_a_partial_batch_before_the_deadline_on_the_timer_thread():
    import time
    start = time.perf_counter()
    clock = lambda: 1000.0 * (time.perf_counter() - start)  # noqa: E731
    d, (w0,), delivered, now, timers = make("cyclic", [4], EarlyClose(), clock=clock)
    sent = threading.Event()
    orig = w0.submit
    w0.submit = lambda batch: (sent.set(), orig(batch))[1]
    d.arrive_run(0, [item(0)], deadline_ms=clock() + 20.0)   # batch of 4 never fills
    assert sent.wait(5.0), "early close never fired"
    assert w0.jobs[0][0].shape[0] == 1
    timers.close()
