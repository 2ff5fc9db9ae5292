"""turns.Turns: a threaded actor's calls run one at a time in the driver's numbering, whatever
order the threads arrive in; a restarted actor's first call sets the start; a missing number
delays the others at most `wait_s`."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings, strategies as st

from skinflint.runtime.backends.turns import Turns


def run_all(turns: Turns, order: list[int], hold_s: float = 0.0) -> list[int]:
    """Start one thread per number in `order` (in that order); the numbers as they ran."""
    ran: list[int] = []
    running = [0]
    overlap = []

    def call(seq: int) -> None:
        with turns.turn(seq):
            running[0] += 1
            overlap.append(running[0])
            ran.append(seq)
            time.sleep(hold_s)
            running[0] -= 1
    threads = [threading.Thread(target=call, args=(s,)) for s in order]
    for t in threads:
        t.start()
        time.sleep(0.001)
    for t in threads:
        t.join(10)
    assert max(overlap) == 1   # one at a time
    return ran


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(6))))
def test_calls_run_in_their_numbers_order_whatever_order_they_arrive_in(order: list[int]) -> None:
    assert run_all(Turns(0), order) == sorted(order)


def test_a_restarted_actor_starts_at_its_first_call_and_older_numbers_do_not_wait() -> None:
    # restarted: 57 and 58 were in flight; 58's retry arrived first
    assert run_all(Turns(None), [58, 57, 59], hold_s=0.02) == [58, 57, 59]


def test_a_missing_number_delays_the_next_by_at_most_wait_s() -> None:
    t0 = time.perf_counter()
    assert run_all(Turns(0, wait_s=0.2), [1, 2]) == [1, 2]   # 0 never comes
    assert 0.15 < time.perf_counter() - t0 < 2.0
