"""The general, event-driven executor: any dispatch policy, early close, admission control.

One heap of events ordered by (time, priority, sequence): batch completions (priority 0) before
releases of items to a module (1) before policy timers (2); the sequence number makes ties
deterministic. Entry arrivals come from the sorted arrival array, merged with the heap.

A request's items at a module are released together when the request is done at every parent
(plus `hop_ms`); entry modules get them at arrival + `hop_ms`. A request with no item at a module
passes it at once. A request is done when it is done at every exit module.

Several apps run together (sim.composite): each module's items are numbered within its app, and
a pool's dispatcher sees its members' items merged in promise-release order.
"""

from __future__ import annotations

import heapq
import math
from typing import Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, Launch
from skinflint.dispatch.base import next_slot
from skinflint.sim.composite import Composite, pool_order
from skinflint.fanout import item_counts
from skinflint.sim.trace import COMPLETED, REFUSED, UNFINISHED, ModuleTrace, Trace

_DONE, _RELEASE, _TIMER = 0, 1, 2


def _requests(cm: Composite, arrivals: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """All apps' requests in one order, by entry release time (arrival + the app's hop; ties by
    app): (arrival, release, app, index within its app) of each."""
    app = np.concatenate([np.full(a.size, k, dtype=np.int64) for k, a in enumerate(arrivals)])
    local = np.concatenate([np.arange(a.size, dtype=np.int64) for a in arrivals])
    arrival = np.concatenate([np.asarray(a, dtype=float) for a in arrivals])
    release = arrival + np.array([m.hop_ms for m in cm.apps])[app]
    order = np.lexsort((local, app, release))
    return arrival[order], release[order], app[order], local[order]


def run_events(cm: Composite, arrivals_per_app: Sequence[np.ndarray], policies: Sequence[DispatchPolicy],
               jitter: Sequence[np.ndarray | None], *, max_in_flight: int | None = None,
               stop_ms: float = math.inf, timers: bool = False) -> list[Trace]:
    """Simulate every request of every app (`arrivals_per_app[k]`: app k's sorted times, ms);
    `policies[s]` and `jitter[s]` (keyed by the server's item index) per server. One Trace per
    app; `max_in_flight` holds per app."""
    arr_np, rel_np, app_np, local_np = _requests(cm, arrivals_per_app)
    n = arr_np.size
    arrivals, releases, req_app = arr_np.tolist(), rel_np.tolist(), app_np.tolist()
    mods = cm.modules
    n_mod = len(mods)
    hop_of = [cm.apps[a].hop_ms for a in cm.app_of]
    firsts_np = []
    for k, m in enumerate(mods):
        mine = app_np == cm.app_of[k]
        counts = np.zeros(n, dtype=np.int64)
        counts[mine] = item_counts(int(mine.sum()), m.rate_factor)
        firsts_np.append(np.concatenate(([0], np.cumsum(counts))))
    first = [f.tolist() for f in firsts_np]
    item_req_np = [np.repeat(np.arange(n, dtype=np.int64), np.diff(f)) for f in firsts_np]
    item_req = [r.tolist() for r in item_req_np]
    left = [np.diff(f).tolist() for f in firsts_np]
    join_left = [[len(m.parents)] * n if m.parents else None for m in mods]
    children = [cm.children(k) for k in range(n_mod)]
    is_exit = [m.is_exit for m in mods]
    deadline_off = [m.deadline_ms for m in mods]
    exits_of_app = [sum(m.is_exit for m in a.modules) for a in cm.apps]
    exits_left = [exits_of_app[a] for a in req_app]
    entries = [[cm.base[a] + k for k, m in enumerate(app.modules) if not m.parents] for a, app in enumerate(cm.apps)]
    srv = list(cm.server)
    # pools: the merged stream in promise-release order (sim.composite)
    to_pool: list[list[int] | None] = [None] * n_mod
    pool_mod: list[list[int]] = []
    pool_item: list[list[int]] = []
    for pool in cm.pools:
        keys = [arr_np[item_req_np[k]] + mods[k].promise_offset_ms for k in pool.members]
        member, item, inverse = pool_order(keys)
        pool_mod.append(np.array(pool.members, dtype=np.int64)[member].tolist())
        pool_item.append(item.tolist())
        for k, inv in zip(pool.members, inverse):
            to_pool[k] = inv.tolist()
    n_srv = cm.n_servers
    expected = [int(firsts_np[s][-1]) if s < n_mod else len(pool_item[s - n_mod]) for s in range(n_srv)]
    received = [0] * n_srv
    workers = [cm.server_workers(s) for s in range(n_srv)]
    times = [[w.worker.times_ms for w in ws] for ws in workers]
    sbase = cm.shared_base()
    shared = [[(sbase[cm.app_of[s]] + w.shared, w.offset_ms, w.cycle_ms) if w.shared >= 0 else None for w in ws]
              for s, ws in enumerate(workers)]
    shared_booked: list[list[tuple[float, float]]] = [[] for a in cm.apps for _ in a.shared_hardware]
    jit = [None if j is None else j.tolist() for j in jitter]

    ready = [[math.nan] * int(f[-1]) for f in firsts_np]
    item_batch = [[-1] * int(f[-1]) for f in firsts_np]
    b_worker: list[list[int]] = [[] for _ in range(n_srv)]
    b_start: list[list[float]] = [[] for _ in range(n_srv)]
    b_ms: list[list[float]] = [[] for _ in range(n_srv)]
    b_size: list[list[int]] = [[] for _ in range(n_srv)]
    done = [math.nan] * n
    fate = [COMPLETED] * n
    timer_at: list[float | None] = [None] * n_srv
    heap: list = []
    seq = 0
    in_flight = [0] * len(cm.apps)

    def launch(s: int, out: Sequence[Launch], now: float) -> None:
        nonlocal seq
        for w, items in out:
            q = len(b_start[s])
            dur = times[s][w][len(items) - 1]
            if jit[s] is not None:  # keyed by the batch's first item: the same draw on both paths
                dur *= jit[s][items[0]]
            slot = shared[s][w]
            start = now
            if slot is not None:  # its module's next slot; after the batch before it if that overran
                sh, offset, cycle = slot
                start = next_slot(now, offset, cycle)
                booked = shared_booked[sh]
                booked[:] = [(b0, b1) for b0, b1 in booked if b1 > now - cycle]
                start = max([start] + [b1 for b0, b1 in booked if b0 < start])
                booked.append((start, start + dur))
            b_worker[s].append(w)
            b_start[s].append(start)
            b_ms[s].append(dur)
            b_size[s].append(len(items))
            if s < n_mod:
                ib = item_batch[s]
                for j in items:
                    ib[j] = q
            else:
                pm, pi = pool_mod[s - n_mod], pool_item[s - n_mod]
                for x in items:
                    item_batch[pm[x]][pi[x]] = q
            seq += 1
            heapq.heappush(heap, (start + dur, _DONE, seq, s, w, items))

    def rearm(s: int, now: float) -> None:
        nonlocal seq
        at = policies[s].wake_at(now)
        if at is not None and at != timer_at[s]:
            timer_at[s] = at
            seq += 1
            heapq.heappush(heap, (max(at, now), _TIMER, seq, s, at, None))

    def received_run(s: int, count: int, t: float) -> None:
        received[s] += count
        if count and received[s] == expected[s]:
            launch(s, policies[s].end_of_stream(t), t)

    def release(m: int, i: int, t: float) -> None:
        a, b = first[m][i], first[m][i + 1]
        if a == b:
            module_done(m, i, t)
            return
        s = srv[m]
        pol = policies[s]
        ready[m][a:b] = [t] * (b - a)
        deadline = arrivals[i] + deadline_off[m]
        tp = to_pool[m]
        if tp is None:
            out = pol.arrive_run(a, b, t, deadline)
            if out:
                launch(s, out, t)
        else:
            for j in range(a, b):
                out = pol.arrive(tp[j], t, deadline)
                if out:
                    launch(s, out, t)
        received_run(s, b - a, t)
        if timers:
            rearm(s, t)

    def release_many(m: int, reqs: list[int], t: float) -> None:
        """Release several requests at once; consecutive ones as one run of items (no timers)."""
        if timers or to_pool[m] is not None or reqs[-1] - reqs[0] + 1 != len(reqs):
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
        received_run(m, b - a, t)

    def module_done(m: int, i: int, t: float, later: list | None = None) -> None:
        """Request i is done at m; its children's releases go to `later` if given."""
        nonlocal seq
        for c in children[m]:
            jl = join_left[c]
            jl[i] -= 1
            if jl[i] == 0:
                if later is not None:
                    later.append((c, i))
                elif not hop_of[c]:
                    release(c, i, t)
                else:
                    seq += 1
                    heapq.heappush(heap, (t + hop_of[c], _RELEASE, seq, c, [i], None))
        if is_exit[m]:
            exits_left[i] -= 1
            if exits_left[i] == 0:
                done[i] = t
                in_flight[req_app[i]] -= 1

    def refuse(i: int, t: float) -> None:
        fate[i] = REFUSED
        a_i = req_app[i]
        for m in range(cm.base[a_i], cm.base[a_i] + len(cm.apps[a_i].modules)):
            s, tp = srv[m], to_pool[m]
            a, b = first[m][i], first[m][i + 1]
            for j in range(a, b):
                out = policies[s].skip(j if tp is None else tp[j], t)
                if out:
                    launch(s, out, t)
            received_run(s, b - a, t)

    parents = [cm.parents(k) for k in range(n_mod)]
    looped = [s for s in cm.looped if hasattr(policies[s], "close_open")]

    def server_item(m: int, j: int) -> int:
        return j if to_pool[m] is None else to_pool[m][j]

    def waits_on(s: int, target: int, seen: set[int]) -> bool:
        """Server s's open batch waits, through unreleased items, on target's open batch."""
        x = policies[s].waits_for()
        if x is None or x >= expected[s]:
            return False
        m, j = (s, x) if s < n_mod else (pool_mod[s - n_mod][x], pool_item[s - n_mod][x])
        return blocked(m, item_req[m][j], target, seen)

    def blocked(m: int, i: int, target: int, seen: set[int]) -> bool:
        """Request i's release at m waits on target's open batch."""
        for p in parents[m]:
            for j in range(first[p][i], first[p][i + 1]):
                if item_batch[p][j] >= 0:
                    continue  # launched: it will finish
                if ready[p][j] != ready[p][j]:  # not released at p yet
                    if blocked(p, i, target, seen):
                        return True
                    break
                s, x = srv[p], server_item(p, j)
                pol = policies[s]
                if any(x in batch for queue in pol.queued for batch in queue):
                    continue  # closed, waiting for its worker
                if s == target:
                    return True
                if s not in seen:
                    seen.add(s)
                    if waits_on(s, target, seen):
                        return True
            if first[p][i] == first[p][i + 1] and blocked(p, i, target, seen):
                return True
        return False

    def unstall(t: float) -> None:
        """Close the open batch of a pool that would otherwise wait on itself forever."""
        for s in looped:
            while waits_on(s, s, {s}):
                launch(s, policies[s].close_open(t), t)

    nxt = 0
    while True:
        t_arr = releases[nxt] if nxt < n else math.inf
        if heap and (heap[0][0] < t_arr or (heap[0][0] == t_arr and heap[0][1] <= _RELEASE)):
            t, kind, _, m, x, items = heapq.heappop(heap)
            if t > stop_ms:
                break
            if kind == _DONE:  # m is a server here
                out = policies[m].worker_done(x, t)
                if out:
                    launch(m, out, t)
                later: list = []
                if m < n_mod:
                    lm, reqs = left[m], item_req[m]
                    for j in items:
                        i = reqs[j]
                        lm[i] -= 1
                        if lm[i] == 0:
                            module_done(m, i, t, later)
                else:
                    pm, pi = pool_mod[m - n_mod], pool_item[m - n_mod]
                    for x in items:
                        k, j = pm[x], pi[x]
                        i = item_req[k][j]
                        left[k][i] -= 1
                        if left[k][i] == 0:
                            module_done(k, i, t, later)
                if later:  # the batch's requests released to each child together
                    for c in sorted({c for c, _ in later}):
                        reqs = sorted(i for k, i in later if k == c)
                        if hop_of[c]:
                            seq += 1
                            heapq.heappush(heap, (t + hop_of[c], _RELEASE, seq, c, reqs, None))
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
            if looped:
                unstall(t)
        elif nxt < n:
            if t_arr > stop_ms:
                break
            i, nxt = nxt, nxt + 1
            if max_in_flight is not None and in_flight[req_app[i]] >= max_in_flight:
                refuse(i, t_arr)
                continue
            in_flight[req_app[i]] += 1
            for m in entries[req_app[i]]:
                release(m, i, t_arr)
            if looped:
                unstall(t_arr)
        else:
            break

    done_np = np.array(done, dtype=float)
    fate_np = np.array(fate, dtype=np.int8)
    fate_np[(fate_np == COMPLETED) & np.isnan(done_np)] = UNFINISHED
    out: list[Trace] = []
    for a, app in enumerate(cm.apps):
        mine = app_np == a
        traces = []
        for k in range(cm.base[a], cm.base[a] + len(app.modules)):
            s = srv[k]
            traces.append(ModuleTrace(mods[k].name, local_np[item_req_np[k]], np.array(ready[k], dtype=float),
                                      np.array(item_batch[k], dtype=np.int64), np.array(b_worker[s], dtype=np.int64),
                                      np.array(b_start[s], dtype=float), np.array(b_ms[s], dtype=float),
                                      np.array(b_size[s], dtype=np.int64)))
        out.append(Trace(np.asarray(arrivals_per_app[a], dtype=float), done_np[mine], fate_np[mine], tuple(traces)))
    return out
