"""The general, event-driven executor: any dispatch policy, early close, admission, pools.

One heap of events ordered by (time, kind, sequence) (sim.events): batch completions before
releases of items after a hop before policy timers; the sequence number makes ties
deterministic. Entry arrivals come from the sorted release times (sim.layout), merged with the
heap: an arrival goes after a completion or release at the same time, before a timer.

A request's items at a module are released together when the request is done at every parent
(plus the hop); entry modules get them at arrival + hop. A request with no item at a module
passes it at once. A request is done when it is done at every exit module. How many items a
request has at each module is data (`counts`), so any fan-out can be simulated.

Several apps run together (sim.composite): each module's items are numbered within its app, and
a pool's server sees its members' items merged in promise-release order. What to admit is an
`AdmissionRule` (sim.admission); the servers' side (batches, shared slots, timers) is
sim.servers; a pool that feeds itself is kept from stalling by sim.stall.

Speed: a batch of consecutive items finishes its requests as one run (the inner ones whole, the
two at the ends counted down), and a run of consecutive requests reaches a module as one
`arrive_run` — the same calls to the policies, in the same order, as request by request.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush
from typing import Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, OpenBatch
from skinflint.sim.admission import AdmissionRule
from skinflint.sim.composite import Composite
from skinflint.sim.events import DONE, RELEASE, TIMER
from skinflint.sim.items import Items, Requests
from skinflint.sim.layout import Layout, lay_out
from skinflint.sim.servers import Servers, counter
from skinflint.sim.stall import StallGuard
from skinflint.sim.trace import COMPLETED, REFUSED, UNFINISHED, ModuleTrace, Trace


class EventEngine:
    """One simulation of the apps of `cm` laid out as `layout`; `run()` returns one Trace per app.
    `policies[s]` and `jitter[s]` (batch-time factors by the server's item index) per server."""

    def __init__(self, cm: Composite, layout: Layout, policies: Sequence[DispatchPolicy],
                 jitter: Sequence[np.ndarray | None], *, admission: AdmissionRule | None = None,
                 stop_ms: float = math.inf, timers: bool = False) -> None:
        self.cm, self.layout, self.admission, self.stop_ms, self.timers = cm, layout, admission, stop_ms, timers
        self.heap: list[tuple] = []
        self.seq = counter()
        looped = [s for s in cm.looped if isinstance(policies[s], OpenBatch)]
        self.servers = Servers(cm, layout, policies, jitter, self.heap, self.seq, live=bool(looped))
        self.items = Items(cm, layout, live=bool(looped))
        self._modules(cm)
        n = layout.n_requests
        self.requests_app = layout.app.tolist()
        self.arrivals = layout.arrival.tolist()
        self.releases = layout.release.tolist()
        exits = [sum(m.is_exit for m in a.modules) for a in cm.apps]
        self.single_exit = [e == 1 for e in exits]
        self.exits_left = [exits[a] for a in self.requests_app]
        self.done = [math.nan] * n
        self.fate = [COMPLETED] * n
        self.flying = [0] * len(cm.apps)
        self.guard = StallGuard(self.items, self.servers, self.server, looped) if looped else None
        # the releases of a batch's children after a hop go as one event (sim.events): nothing can
        # come between them unless a batch takes no time or the stall guard looks in between
        positive = all(min(t.worker.times_ms) > 0 for s in range(cm.n_servers) for t in cm.server_workers(s))
        self.one_release = (self.guard is None and positive
                            and all(j is None or isinstance(j, tuple) or len(j) == 0 or float(np.min(j)) > 0
                                    for j in jitter))
        self.one_entry = self._one_entry(cm, layout)
        if self.one_entry is not None:  # each request's deadline at the entry module, as `_release` sums it
            self.entry_deadline = (layout.arrival + self.deadline[self.one_entry]).tolist()
        self.arrived = 0   # arrivals the short way let in
        self.worker_done = [p.worker_done for p in self.servers.policies]
        self.launch, self.received, self.expected = self.servers.launch, self.servers.received, self.servers.expected
        # what `_release_run` reads per module: item bounds, the policy's arrive_run, the ready log's appends
        self.inbox = [(self.items.first[m], self.servers.policies[m].arrive_run,
                       None if self.items.ready is not None else tuple(x.append for x in self.items.ready_log[m]))
                      for m in range(self.n_mod)]
        self.finish = [self._finisher(s) for s in range(cm.n_servers)]
        self.dense_runs = [self.in_runs[m] and self.items.dense[m] for m in range(self.n_mod)]

    def _modules(self, cm: Composite) -> None:
        """Per module: links, deadlines, hops, servers, counts."""
        mods = cm.modules
        self.n_mod = len(mods)
        self.is_exit = [m.is_exit for m in mods]
        self.deadline = [m.deadline_ms for m in mods]
        self.hop = [cm.apps[a].hop_ms for a in cm.app_of]
        self.app_of = list(cm.app_of)
        self.entries = [[cm.base[a] + k for k, m in enumerate(app.modules) if not m.parents]
                        for a, app in enumerate(cm.apps)]
        self.server = list(cm.server)
        self.in_runs = [self.server[k] == k and not self.timers for k in range(self.n_mod)]  # see _release_many
        self.pending_items = [0] * self.n_mod

    def _finisher(self, s: int):
        """What `_on_done` calls when server s finishes a batch (by its kind, to skip the tests)."""
        if s >= self.n_mod:
            return self._pool_done
        if not self.items.unit[s]:
            return self._finish_module
        if self.is_exit[s] and self.single_exit[self.app_of[s]] and not self.items.links[s]:
            return self._finish_end
        return self._finish_unit

    def _one_entry(self, cm: Composite, layout: Layout) -> int | None:
        """The entry module when arrivals can take the short way: one app with one entry module,
        its own server, one item per request; no timers, admission rule or stall guard (none of
        them reads the in-flight and pending counts, which the short way settles at the end)."""
        if (len(cm.apps) > 1 or len(self.entries[0]) != 1 or self.timers or self.admission is not None
                or self.guard is not None):
            return None
        m = self.entries[0][0]
        return m if self.server[m] == m and self.items.unit[m] else None

    # -- what an admission rule sees (sim.admission.EngineView) ------------------------------------
    def in_flight(self, app: int) -> int:
        """Requests of `app` admitted and not yet done."""
        return self.flying[app]

    def pending(self, module: int) -> int:
        """Items released to `module` and not yet done."""
        return self.pending_items[module]

    def backlog(self, module: int) -> int:
        """Items waiting for a busy worker of `module`'s server."""
        return self.servers.policies[self.server[module]].backlog()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> list[Trace]:
        """Run every event up to `stop_ms`; one Trace per app."""
        heap, releases, n, stop, guard = self.heap, self.releases, len(self.releases), self.stop_ms, self.guard
        on_done, on_release, on_timer = self._on_done, self._on_release, self.servers.on_timer
        one = self.one_entry
        if one is not None:  # the short way (`_one_entry`): request i is item i of module `one`
            arrive_one, launch, deadlines = self.servers.policies[one].arrive_run, self.servers.launch, self.entry_deadline
        nxt, t_arr = 0, (releases[0] if n else math.inf)
        while True:
            if heap:  # an event goes first if earlier than the next arrival, or as early and not a timer
                top = heap[0]
                if top[0] < t_arr or (top[0] == t_arr and top[1] is not TIMER):
                    t, kind, _, target, x, items = heappop(heap)
                    if t > stop:
                        break
                    if kind is DONE:
                        on_done(t, target, x, items)
                    elif kind is RELEASE:
                        on_release(t, x)
                    else:
                        on_timer(target, x, t)
                    if guard is not None:
                        guard.unstall(t)
                    continue
            if nxt == n or t_arr > stop:
                break
            if one is None:
                self._arrive(nxt, t_arr)
                nxt += 1
                t_arr = releases[nxt] if nxt < n else math.inf
                continue
            limit = heap[0][0] if heap else math.inf  # the short way: arrivals on, while none launches
            while True:                               # and the heap's next event is later
                out = arrive_one(nxt, nxt + 1, t_arr, deadlines[nxt])
                if out:
                    launch(one, out, t_arr)
                nxt += 1
                if nxt == n:
                    self.servers.received_items(one, n, t_arr)
                    t_arr = math.inf
                    break
                t_arr = releases[nxt]
                if out or t_arr >= limit or t_arr > stop:
                    break
        if one is not None:  # the short way counts its arrivals in once, at the end
            self.flying[0] += nxt
            self.pending_items[one] += nxt
            self.arrived = nxt
        return self.traces()

    def _arrive(self, i: int, t: float) -> None:
        """Request i arrives at t: admitted (and released to its app's entry modules) or refused."""
        a = self.requests_app[i]
        if self.admission is not None and not self.admission.admit(i, a, t, self):
            self._refuse(i, t)
            return
        self.flying[a] += 1
        for m in self.entries[a]:
            self._release(m, i, t)
        if self.guard is not None:
            self.guard.unstall(t)

    def _on_done(self, t: float, s: int, w: int, items: Sequence[int]) -> None:
        """Server s's worker w finished `items` (a range if a run): the worker's next batch, then
        the requests done."""
        out = self.worker_done[s](w, t)
        if out:
            self.launch(s, out, t)
        self.finish[s](s, items, t)
        if self.timers:
            self.servers.rearm(s, t)

    def _on_release(self, t: float, pairs: list[tuple[int, Requests]]) -> None:
        """Requests reach modules after a hop, (module, requests) pairs in order."""
        for c, reqs in pairs:  # (`_release_many`'s most common case first, without the call)
            if self.dense_runs[c] and (type(reqs) is range or reqs[-1] - reqs[0] + 1 == len(reqs)):
                self._release_run(c, reqs[0], reqs[-1] + 1, t)
            else:
                self._release_many(c, reqs, t)

    def _finish_unit(self, m: int, items: Sequence[int], t: float) -> None:
        """Module m's items are done; each is its request's only one (a run: those requests)."""
        self.pending_items[m] -= len(items)
        self._done_at(m, items if type(items) is range else self.items.finished_items(m, items), t)

    def _finish_end(self, m: int, items: Sequence[int], t: float) -> None:
        """`_finish_unit` for an app's only exit, with no children: a run ends its requests at once."""
        if type(items) is not range:
            self._finish_unit(m, items, t)
            return
        k = len(items)
        self.pending_items[m] -= k
        self.done[items.start:items.stop] = [t] * k
        self.flying[self.app_of[m]] -= k

    def _finish_module(self, m: int, items: Sequence[int], t: float) -> None:
        """Module m's items are done: the requests that had their last item among them."""
        self.pending_items[m] -= len(items)
        if type(items) is range:
            reqs = self.items.finished_run(m, items.start, items.stop)
        else:
            reqs = self.items.finished_items(m, items)
        if reqs:
            self._done_at(m, reqs, t)

    # -- requests done at a module ------------------------------------------------------------------
    def _done_at(self, m: int, reqs: Requests, t: float) -> None:
        """Requests `reqs` are done at module m: joins counted down and exits ended for all of
        them first, then each child's ready requests released (children in order; after a hop,
        as one event where nothing could come between the children's events)."""
        links = self.items.links[m]
        later = self.items.ready_children(links, reqs) if links else ()
        if self.is_exit[m]:
            self._exit(m, reqs, t)
        if not later:
            return
        if self.hop[m] and self.one_release:  # (one child: the event `_forward` pushes)
            heappush(self.heap, (t + self.hop[m], RELEASE, next(self.seq), -1, later, None))
            return
        for c, ready in later:
            self._forward(c, ready, t)

    def _pool_done(self, s: int, items: Sequence[int], t: float) -> None:
        """A pool's batch is done: per member module, the requests it finishes; then every
        child's ready requests, merged over the members, released (children in order)."""
        servers = self.servers
        pool_module, pool_item = servers.pool_module[s - self.n_mod], servers.pool_item[s - self.n_mod]
        by_module: dict[int, list[int]] = {}
        for x in items:
            by_module.setdefault(pool_module[x], []).append(pool_item[x])
        later: dict[int, Requests] = {}
        for k in sorted(by_module):
            self.pending_items[k] -= len(by_module[k])
            reqs = self.items.finished_items(k, by_module[k])
            if not reqs:
                continue
            for c, ready in self.items.ready_children(self.items.links[k], reqs):
                later[c] = sorted([*later[c], *ready]) if c in later else ready
            if self.is_exit[k]:
                self._exit(k, reqs, t)
        for c in sorted(later):
            self._forward(c, later[c], t)

    def _exit(self, m: int, reqs: Requests, t: float) -> None:
        """Requests `reqs` are done at exit module m; those done at every exit end now."""
        a, done = self.app_of[m], self.done
        if self.single_exit[a]:
            if type(reqs) is range:
                done[reqs.start:reqs.stop] = [t] * len(reqs)
            else:
                for i in reqs:
                    done[i] = t
            self.flying[a] -= len(reqs)
            return
        exits_left = self.exits_left
        for i in reqs:
            exits_left[i] -= 1
            if exits_left[i] == 0:
                done[i] = t
                self.flying[a] -= 1

    def _forward(self, c: int, reqs: Requests, t: float) -> None:
        """Release requests `reqs` to module c now, or after the hop."""
        if self.hop[c]:
            heappush(self.heap, (t + self.hop[c], RELEASE, next(self.seq), -1, [(c, reqs)], None))
        else:
            self._release_many(c, reqs, t)

    def _pass(self, m: int, i: int, t: float) -> None:
        """Request i brings no item to m: it is done there at once (children released now or
        after the hop, one by one)."""
        for c in self.items.children[m]:
            join_left = self.items.join_left[c]
            join_left[i] -= 1
            if join_left[i] == 0:
                if self.hop[c]:
                    heappush(self.heap, (t + self.hop[c], RELEASE, next(self.seq), -1, [(c, [i])], None))
                else:
                    self._release(c, i, t)
        if self.is_exit[m]:
            self._exit(m, (i,), t)

    # -- items reach a module -----------------------------------------------------------------------
    def _release(self, m: int, i: int, t: float) -> None:
        """Request i's items reach module m at t."""
        a, b = self.items.first[m][i], self.items.first[m][i + 1]
        if a == b:
            self._pass(m, i, t)
            return
        servers, s = self.servers, self.server[m]
        pol = servers.policies[s]
        self.items.mark_ready(m, a, b, t)
        self.pending_items[m] += b - a
        deadline = self.arrivals[i] + self.deadline[m]
        to_pool = servers.to_pool[m]
        if to_pool is None:
            out = pol.arrive_run(a, b, t, deadline)
            if out:
                servers.launch(s, out, t)
        else:
            for j in range(a, b):
                out = pol.arrive(to_pool[j], t, deadline)
                if out:
                    servers.launch(s, out, t)
        servers.received_items(s, b - a, t)
        if self.timers:
            servers.rearm(s, t)

    def _release_many(self, m: int, reqs: Requests, t: float) -> None:
        """Requests `reqs` reach module m at t. Without timers, a run of consecutive requests
        arrives as one run of items (those without an item pass first)."""
        if not self.in_runs[m]:
            for i in reqs:
                self._release(m, i, t)
        elif type(reqs) is range or reqs[-1] - reqs[0] + 1 == len(reqs):
            if not self.items.dense[m]:
                first = self.items.first[m]
                for i in reqs:
                    if first[i] == first[i + 1]:
                        self._pass(m, i, t)
            self._release_run(m, reqs[0], reqs[-1] + 1, t)
        elif self.items.dense[m]:  # runs of consecutive requests, each as one run of items
            start = prev = reqs[0]
            for i in reqs:
                if i > prev + 1:
                    self._release_run(m, start, prev + 1, t)
                    start = i
                prev = i
            self._release_run(m, start, prev + 1, t)
        else:
            for i in reqs:
                self._release(m, i, t)

    def _release_run(self, m: int, r0: int, r1: int, t: float) -> None:
        """Requests r0 .. r1 - 1 reach module m (its own server, no timers) at t, as one run."""
        first, arrive_run, log = self.inbox[m]
        a, b = first[r0], first[r1]
        if a == b:
            return
        if log is None:
            self.items.mark_ready(m, a, b, t)
        else:  # Items.mark_ready's log, appended to here: this runs once per batch or more
            log[0](a)
            log[1](b)
            log[2](t)
        self.pending_items[m] += b - a
        out = arrive_run(a, b, t, self.arrivals[r0] + self.deadline[m])
        if out:
            self.launch(m, out, t)
        received = self.received
        received[m] += b - a
        if received[m] == self.expected[m]:
            self.servers.end_stream(m, t)

    def _refuse(self, i: int, t: float) -> None:
        """Request i is refused at admission: every item of it, at every module, is skipped."""
        self.fate[i] = REFUSED
        servers, a_i = self.servers, self.requests_app[i]
        for m in range(self.cm.base[a_i], self.cm.base[a_i] + len(self.cm.apps[a_i].modules)):
            s, to_pool = self.server[m], servers.to_pool[m]
            a, b = self.items.first[m][i], self.items.first[m][i + 1]
            for j in range(a, b):
                out = servers.policies[s].skip(j if to_pool is None else to_pool[j], t)
                if out:
                    servers.launch(s, out, t)
            servers.received_items(s, b - a, t)

    # -- the result ----------------------------------------------------------------------------------
    def traces(self) -> list[Trace]:
        """One Trace per app: requests' fates and completions, items' and batches' times."""
        cm, lay, servers = self.cm, self.layout, self.servers
        done = np.array(self.done, dtype=float)
        fate = np.array(self.fate, dtype=np.int8)
        fate[(fate == COMPLETED) & np.isnan(done)] = UNFINISHED
        item_batch = servers.item_batch_arrays()
        out = []
        for a, app in enumerate(cm.apps):
            modules = []
            for k in range(cm.base[a], cm.base[a] + len(app.modules)):
                modules.append(ModuleTrace(cm.modules[k].name, lay.local[lay.item_request[k]], self._ready_ms(k),
                                           item_batch[k], *servers.batch_arrays(self.server[k])))
            mine = lay.app == a
            out.append(Trace(lay.arrival[mine], done[mine], fate[mine], tuple(modules)))
        return out

    def _ready_ms(self, m: int) -> np.ndarray:
        """When each item of module m arrived (NaN: never)."""
        if m != self.one_entry:
            return self.items.ready_ms(m)
        ready = self.layout.release.copy()  # the short way: item i arrived at request i's release
        ready[self.arrived:] = math.nan
        return ready


def run_events(cm: Composite, arrivals_per_app: Sequence[np.ndarray], policies: Sequence[DispatchPolicy],
               jitter: Sequence[np.ndarray | None], counts: Sequence[np.ndarray], *,
               admission: AdmissionRule | None = None, stop_ms: float = math.inf,
               timers: bool = False) -> list[Trace]:
    """Simulate every request of every app (`arrivals_per_app[a]`: app a's sorted times, ms),
    module m bringing `counts[m][i]` items per request i of its app; `policies[s]` and
    `jitter[s]` per server. One Trace per app."""
    layout = lay_out(cm, arrivals_per_app, counts)
    return EventEngine(cm, layout, policies, jitter, admission=admission, stop_ms=stop_ms, timers=timers).run()
