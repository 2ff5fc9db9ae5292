"""The general, event-driven executor: any dispatch policy, early close, admission control.

One heap of events ordered by (time, priority, sequence): batch completions (priority 0) before
releases of items to a module (1) before policy timers (2); the sequence number makes ties
deterministic. Entry arrivals come from the sorted arrival array, merged with the heap.

A request's items at a module are released together when the request is done at every parent
(plus `hop_ms`); entry modules get them at arrival + `hop_ms`. A request with no item at a module
passes it at once. A request is done when it is done at every exit module.
"""

from __future__ import annotations

import heapq
import math
from typing import Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, Launch
from skinflint.dispatch.base import next_slot
from skinflint.sim.fanout import first_items
from skinflint.sim.topology import SimModel
from skinflint.sim.trace import COMPLETED, REFUSED, UNFINISHED, ModuleTrace, Trace

_DONE, _RELEASE, _TIMER = 0, 1, 2


def run_events(sm: SimModel, arrival_ms: np.ndarray, policies: Sequence[DispatchPolicy],
               jitter: Sequence[np.ndarray | None], *, max_in_flight: int | None = None,
               stop_ms: float = math.inf, timers: bool = False) -> Trace:
    """Simulate every request of `arrival_ms` (sorted, ms) through the application."""
    n = len(arrival_ms)
    arrivals = arrival_ms.tolist()
    mods = sm.modules
    hop = sm.hop_ms
    firsts_np = [first_items(n, m.rate_factor) for m in mods]
    first = [f.tolist() for f in firsts_np]
    item_req = [np.repeat(np.arange(n, dtype=np.int64), np.diff(f)).tolist() for f in firsts_np]
    expected = [int(f[-1]) for f in firsts_np]
    received = [0] * len(mods)
    left = [np.diff(f).tolist() for f in firsts_np]
    join_left = [[len(m.parents)] * n if m.parents else None for m in mods]
    children = [m.children for m in mods]
    is_exit = [m.is_exit for m in mods]
    deadline_off = [m.deadline_ms for m in mods]
    n_exits = sum(is_exit)
    exits_left = [n_exits] * n
    entries = [k for k, m in enumerate(mods) if not m.parents]
    times = [[w.worker.times_ms for w in m.workers] for m in mods]
    shared = [[(w.shared, w.offset_ms, w.cycle_ms) if w.shared >= 0 else None for w in m.workers] for m in mods]
    shared_booked: list[list[tuple[float, float]]] = [[] for _ in sm.shared_hardware]
    jit = [None if j is None else j.tolist() for j in jitter]

    ready = [[math.nan] * e for e in expected]
    item_batch = [[-1] * e for e in expected]
    b_worker: list[list[int]] = [[] for _ in mods]
    b_start: list[list[float]] = [[] for _ in mods]
    b_ms: list[list[float]] = [[] for _ in mods]
    b_size: list[list[int]] = [[] for _ in mods]
    done = [math.nan] * n
    fate = [COMPLETED] * n
    timer_at: list[float | None] = [None] * len(mods)
    heap: list = []
    seq = 0
    in_flight = 0

    def launch(m: int, out: Sequence[Launch], now: float) -> None:
        nonlocal seq
        for w, items in out:
            q = len(b_start[m])
            dur = times[m][w][len(items) - 1]
            if jit[m] is not None:  # keyed by the batch's first item: the same draw on both paths
                dur *= jit[m][items[0]]
            slot = shared[m][w]
            start = now
            if slot is not None:  # its module's next slot; after the batch before it if that overran
                s, offset, cycle = slot
                start = next_slot(now, offset, cycle)
                booked = shared_booked[s]
                booked[:] = [(b0, b1) for b0, b1 in booked if b1 > now - cycle]
                start = max([start] + [b1 for b0, b1 in booked if b0 < start])
                booked.append((start, start + dur))
            b_worker[m].append(w)
            b_start[m].append(start)
            b_ms[m].append(dur)
            b_size[m].append(len(items))
            ib = item_batch[m]
            for j in items:
                ib[j] = q
            seq += 1
            heapq.heappush(heap, (start + dur, _DONE, seq, m, w, items))

    def rearm(m: int, now: float) -> None:
        nonlocal seq
        at = policies[m].wake_at(now)
        if at is not None and at != timer_at[m]:
            timer_at[m] = at
            seq += 1
            heapq.heappush(heap, (max(at, now), _TIMER, seq, m, at, None))

    def release(m: int, i: int, t: float) -> None:
        a, b = first[m][i], first[m][i + 1]
        if a == b:
            module_done(m, i, t)
            return
        pol = policies[m]
        ready[m][a:b] = [t] * (b - a)
        out = pol.arrive_run(a, b, t, arrivals[i] + deadline_off[m])
        if out:
            launch(m, out, t)
        received[m] += b - a
        if received[m] == expected[m]:
            launch(m, pol.end_of_stream(t), t)
        if timers:
            rearm(m, t)

    def release_many(m: int, reqs: list[int], t: float) -> None:
        """Release several requests at once; consecutive ones as one run of items (no timers)."""
        if timers or reqs[-1] - reqs[0] + 1 != len(reqs):
            for i in reqs:
                release(m, i, t)
            return
        fm = first[m]
        for i in reqs:
            if fm[i] == fm[i + 1]:
                module_done(m, i, t)
        a, b = fm[reqs[0]], fm[reqs[-1] + 1]
        if a == b:
            return
        pol = policies[m]
        ready[m][a:b] = [t] * (b - a)
        out = pol.arrive_run(a, b, t, arrivals[reqs[0]] + deadline_off[m])
        if out:
            launch(m, out, t)
        received[m] += b - a
        if received[m] == expected[m]:
            launch(m, pol.end_of_stream(t), t)

    def module_done(m: int, i: int, t: float, later: list | None = None) -> None:
        """Request i is done at m; its children's releases go to `later` if given."""
        nonlocal seq, in_flight
        for c in children[m]:
            jl = join_left[c]
            jl[i] -= 1
            if jl[i] == 0:
                if later is not None:
                    later.append((c, i))
                elif not hop:
                    release(c, i, t)
                else:
                    seq += 1
                    heapq.heappush(heap, (t + hop, _RELEASE, seq, c, [i], None))
        if is_exit[m]:
            exits_left[i] -= 1
            if exits_left[i] == 0:
                done[i] = t
                in_flight -= 1

    def refuse(i: int, t: float) -> None:
        fate[i] = REFUSED
        for m, pol in enumerate(policies):
            a, b = first[m][i], first[m][i + 1]
            for j in range(a, b):
                out = pol.skip(j, t)
                if out:
                    launch(m, out, t)
            received[m] += b - a
            if b > a and received[m] == expected[m]:
                launch(m, pol.end_of_stream(t), t)

    nxt = 0
    while True:
        t_arr = arrivals[nxt] + hop if nxt < n else math.inf
        if heap and (heap[0][0] < t_arr or (heap[0][0] == t_arr and heap[0][1] <= _RELEASE)):
            t, kind, _, m, x, items = heapq.heappop(heap)
            if t > stop_ms:
                break
            if kind == _DONE:
                out = policies[m].worker_done(x, t)
                if out:
                    launch(m, out, t)
                lm, reqs = left[m], item_req[m]
                later: list = []
                for j in items:
                    i = reqs[j]
                    lm[i] -= 1
                    if lm[i] == 0:
                        module_done(m, i, t, later)
                if later:  # the batch's requests released to each child together
                    for c in sorted({c for c, _ in later}):
                        reqs = [i for k, i in later if k == c]
                        if hop:
                            seq += 1
                            heapq.heappush(heap, (t + hop, _RELEASE, seq, c, reqs, None))
                        else:
                            release_many(c, reqs, t)
                if timers:
                    rearm(m, t)
            elif kind == _RELEASE:
                release_many(m, x, t)
            elif x == timer_at[m]:
                timer_at[m] = None
                out = policies[m].tick(t)
                if out:
                    launch(m, out, t)
                rearm(m, t)
        elif nxt < n:
            if t_arr > stop_ms:
                break
            i, nxt = nxt, nxt + 1
            if max_in_flight is not None and in_flight >= max_in_flight:
                refuse(i, t_arr)
                continue
            in_flight += 1
            for m in entries:
                release(m, i, t_arr)
        else:
            break

    done_np = np.array(done, dtype=float)
    fate_np = np.array(fate, dtype=np.int8)
    fate_np[(fate_np == COMPLETED) & np.isnan(done_np)] = UNFINISHED
    traces = tuple(
        ModuleTrace(m.name, np.array(item_req[k], dtype=np.int64), np.array(ready[k], dtype=float),
                    np.array(item_batch[k], dtype=np.int64), np.array(b_worker[k], dtype=np.int64),
                    np.array(b_start[k], dtype=float), np.array(b_ms[k], dtype=float),
                    np.array(b_size[k], dtype=np.int64))
        for k, m in enumerate(mods))
    return Trace(np.asarray(arrival_ms, dtype=float), done_np, fate_np, traces)
