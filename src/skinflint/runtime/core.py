"""`Router`: one or several apps served for real — one dispatcher per server (a module, or a pool
fed by its members' merged streams), DAG routing, joins, hops, fan-out, failures.

A request of app a is admitted (or refused at once, skinflint.runtime.admission), numbered in its
app, and its tensor handed to the app's entry modules. A module's items for request i are its
indices C(i) .. C(i+1) - 1 with C(i) = ceil(i * rate_factor) (the simulator's numbering), made by
the module's adapter from the frame and its parents' outputs once every parent is done (a join).
An unpooled module's server sees those indices; a pool's server sees its own numbers, handed out
by `PoolFeed` in the simulator's promise-release order. A request is answered when every exit
module is done, or failed with a reason when a batch of it fails; its items downstream are then
skipped so no policy waits for them. Every admitted request ends exactly once:
`admitted == completed + failed + in_flight`, per app.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from skinflint.dispatch import EarlyClose, make_policy
from skinflint.fanout import as_fraction
from skinflint.plan import Plan
from skinflint.runtime.adapters import get_adapter
from skinflint.dispatch.base import RUNTIME_CLOSE_MARGIN_MS
from skinflint.runtime.admission import Admission, MeasuredSlack
from skinflint.runtime.backends import Backend
from skinflint.runtime.dispatcher import ModuleDispatcher
from skinflint.runtime.metrics import NullMetrics
from skinflint.runtime.pool import PoolItems
from skinflint.runtime.requests import Refused, Request, RequestFailed, Result
from skinflint.runtime.servers import Server, build_servers
from skinflint.runtime.timers import Timers
from skinflint.spec.types import Spec
from skinflint.topology import SimModel

CLOSE_MARGIN_MS = RUNTIME_CLOSE_MARGIN_MS   # the embedded runtime's early-close margin (the simulator's too)
"""The runtime's early-close margin: a partial batch leaves this much before the simulator's
close time, for what a real clock adds — a timer thread waking late, thread hand-offs, a sleep
or a session overrunning its profiled time by a millisecond or two (with 0, 7 % of requests at
5 % load finished 1-2 ms late on the low-load app, docs/runtime.md)."""

COUNTS = ("admitted", "refused", "completed", "on_time", "late", "failed")


@dataclass
class AppState:
    """One app of the router: its plan, spec, compiled model, admission, counts and numbering."""

    plan: Plan
    spec: Spec
    sm: SimModel
    admission: Admission
    adapters: list[Callable]
    fractions: list[tuple[int, int]]
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    metrics: Any = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    in_flight: int = 0
    seq: int = 0
    refusing: bool = False        # the rule's last answer was no (the edge then asks before decoding)
    slack: MeasuredSlack | None = None   # the margin measured from admitted requests' latencies

    def items(self, k: int, seq: int) -> tuple[int, int]:
        """Module k's indices for request `seq`: C(seq) .. C(seq + 1) - 1."""
        p, q = self.fractions[k]
        return -((-seq * p) // q), -((-(seq + 1) * p) // q)


class Router:
    """Serve `models[a]` (compiled from `plans[a]`, `specs[a]`) together on `backend`."""

    def __init__(self, plans: Sequence[Plan], specs: Sequence[Spec], models: Sequence[SimModel], backend: Backend, *,
                 early_close: EarlyClose | None = EarlyClose(CLOSE_MARGIN_MS), max_in_flight: int | None = None,
                 metrics: Sequence[Any] | None = None, clock: Callable[[], float] | None = None,
                 batch_log: Any = None, admission_slack: float = 1.0, measured_slack: bool = False) -> None:
        """`measured_slack`: admission's slack measured (runtime.admission.MeasuredSlack), at most
        `admission_slack`; else `admission_slack` as it is."""
        self.backend, self.batch_log = backend, batch_log
        start = time.perf_counter()
        self.clock = clock or (lambda: 1000.0 * (time.perf_counter() - start))
        self.timers = Timers(self.clock)
        self._lock = threading.Lock()
        self.apps = [AppState(p, s, sm, Admission.for_model(sm, p.offered_rate, max_in_flight, admission_slack), [get_adapter(m.adapter) for m in s.app.modules],
                              [as_fraction(m.rate_factor) for m in sm.modules],
                              metrics=(metrics[a] if metrics else None) or NullMetrics())
                     for a, (p, s, sm) in enumerate(zip(plans, specs, models))]
        for app in self.apps if measured_slack else ():
            app.slack = MeasuredSlack(app.sm.slo_ms, admission_slack)
        hop = float(getattr(backend, "close_margin_ms", 0.0))   # the backend's own hop (Ray's), at least
        if early_close is not None and early_close.margin_ms < hop:
            early_close = replace(early_close, margin_ms=hop)
        self._early_close = early_close
        try:
            built = build_servers(models, specs, backend, self._dispatcher)
        except BaseException:
            self.timers.close()
            raise
        self.servers, self.server_of, self.hosts = built.servers, built.of, built.hosts
        for app in self.apps:
            app.shapes = [tuple(backend.input_shape(m.model)) for m in app.spec.app.modules]
        self._owner: list[dict[int, tuple[Request, int, int]]] = [{} for _ in self.servers]
        self._feeds: dict[int, PoolItems] = {}
        self._member: dict[tuple[int, int], int] = {}          # (app, module) -> member position in its pool
        for s, server in enumerate(self.servers):
            if server.pool:
                self._feeds[s] = PoolItems([models[a].modules[k].promise_offset_ms for a, k in server.members])
                for pos, ak in enumerate(server.members):
                    self._member[ak] = pos
        self._live: list[dict[int, Request]] = [{} for _ in self.apps]           # per app: seq -> in flight
        self._looped = {s for s in self._feeds if self._feeds_itself(s)}
        self.closed = False

    def _dispatcher(self, s: int, server: Server) -> ModuleDispatcher:
        policy = make_policy(server.policy, [w.worker for w in server.sim_workers], early_close=self._early_close,
                             group_rates=None if server.pool else self._module(server.members[0]).group_rates)
        return ModuleDispatcher(server.name, policy, server.workers, self.clock, self.timers,
                                lambda *a, s=s: self._deliver(s, *a), profile=[w.worker for w in server.sim_workers])

    def _module(self, ak: tuple[int, int]) -> Any:
        return self.apps[ak[0]].sm.modules[ak[1]]

    def _ancestors(self, a: int, k: int) -> set[int]:
        mods = self.apps[a].sm.modules
        out, stack = set(), list(mods[k].parents)
        while stack:
            p = stack.pop()
            if p not in out:
                out.add(p)
                stack += mods[p].parents
        return out

    def _feeds_itself(self, s: int) -> bool:
        """A member of pool s has another member of its own app upstream (a model twice on one path)."""
        members = set(self.servers[s].members)
        return any((a, p) in members for a, k in members for p in self._ancestors(a, k))

    # -- public -----------------------------------------------------------------------------------
    def pending(self, a: int) -> list[int]:
        """Items waiting or running per module of app a (a pooled module: its pool's)."""
        return [self.servers[self.server_of[(a, k)]].dispatcher.pending for k in range(len(self.apps[a].sm.modules))]

    def backlog(self, a: int) -> list[int]:
        """Items waiting for a busy worker per module of app a (a pooled module: its pool's): what
        admission reads, as the simulator's engine does (sim.admission.RuntimeRule)."""
        return [self.servers[self.server_of[(a, k)]].dispatcher.backlog() for k in range(len(self.apps[a].sm.modules))]

    def submit(self, a: int, frame: np.ndarray, arrival_ms: float | None = None) -> Any:
        """Admit `frame` for app a (or raise Refused at once); the future holds a Result or a
        RequestFailed. `arrival_ms` (this router's clock; default now): when it reached the server."""
        app = self.apps[a]
        with self._lock:
            now = self.clock()
            arrival = now if arrival_ms is None else min(float(arrival_ms), now)
            decision = app.admission.decide(self.backlog(a), app.in_flight, waited_ms=now - arrival)
            app.refusing = not decision.admit
            if not decision.admit:
                app.counts["refused"] += 1
                app.metrics.refused()
                raise Refused(decision)
            mods = app.sm.modules
            req = Request.new(a, app.seq, arrival, frame, [len(m.parents) for m in mods], sum(m.is_exit for m in mods))
            req.estimate_ms = decision.estimate_ms
            app.seq += 1
            self._live[a][req.seq] = req
            app.in_flight += 1
            app.counts["admitted"] += 1
            app.metrics.admitted()
            pools = set()
            for k in range(len(mods)):
                s = self.server_of[(a, k)]
                if s in self._feeds:
                    self._feeds[s].feed.add(self._member[(a, k)], arrival, *app.items(k, req.seq))
                    pools.add(s)
            actions = [self._number(s, now) for s in sorted(pools)]
            actions += [self._release(req, k, now) for k, m in enumerate(mods) if not m.parents]
        for act in actions:
            act()
        return req.future

    def precheck(self, a: int, arrival_ms: float) -> Refused | None:
        """The admission rule asked for a request of app a before its body is read or decoded, so
        that under overload a refusal costs the edge no decoding: asked only while the rule's last
        answer was no (otherwise None at once, and submit decides). A refusal is counted here."""
        app = self.apps[a]
        if not app.refusing:
            return None
        with self._lock:
            now = self.clock()
            decision = app.admission.decide(self.backlog(a), app.in_flight, waited_ms=now - min(arrival_ms, now))
            app.refusing = not decision.admit
            if decision.admit:
                return None
            app.counts["refused"] += 1
        app.metrics.refused()
        return Refused(decision)

    def close(self) -> None:
        """Stop timers and workers; requests still in flight fail with a reason."""
        if self.closed:
            return
        self.closed = True
        self.timers.close()
        release = getattr(self.backend, "release", None)   # a handover backend closes shared workers last
        for host in self.hosts:
            (release or type(host).close)(host)
        self.backend.close()
        with self._lock:
            reqs = {id(r): r for owner in self._owner for r, _, _ in owner.values()}
            reqs |= {id(v[0]): v[0] for pool in self._feeds.values() for v in pool.records()}
        for r in reqs.values():
            self._fail(r, "the runtime stopped")

    # -- pools ------------------------------------------------------------------------------------
    def _number(self, s: int, now: float) -> Callable[[], None]:
        """Hand out pool s's final numbers (router lock held); returns the calls to make after."""
        pool = self._feeds[s]
        ready, skip = pool.number(now)
        arrive = []
        for x, (req, k, item, payload, deadline) in ready:
            self._owner[s][x] = (req, k, item)
            arrive.append((x, payload, deadline))
        at = pool.feed.next_at()
        if at is not None and (pool.wake is None or at < pool.wake):
            pool.wake = at
            self.timers.schedule(at, lambda t, s=s: self._pool_tick(s))
        return lambda: self._hand(s, arrive, skip)

    def _pool_tick(self, s: int) -> None:
        with self._lock:
            self._feeds[s].wake = None
            act = self._number(s, self.clock())
        act()

    def _hand(self, s: int, arrive: list, skip: list[int]) -> None:
        d = self.servers[s].dispatcher
        for x, payload, deadline in arrive:
            d.arrive(x, payload, deadline)
        if skip:
            d.skip_many(skip)
        if s in self._looped:
            d.close_open_if(lambda x, batch, s=s: self._waits_on_itself(s, x, batch))

    def _waits_on_itself(self, s: int, x: int, batch: list[int]) -> bool:
        """Pool s's open batch `batch` waits for pool item x, which belongs to a request whose
        items upstream of x's module are in that batch: it can never fill (the simulator's
        unstall, sim/engine.py). Checked under the dispatcher's lock, then the router's."""
        with self._lock:
            key = self._feeds[s].waiting_for_hand(x)
            if key is None:
                return False       # not numbered yet, or handed: it comes in time
            pos, j = key
            a, k = self.servers[s].members[pos]
            p, q = self.apps[a].fractions[k]
            req = self._live[a].get((j * q) // p)
            if req is None:
                return False
            upstream = self._ancestors(a, k)
            owner = self._owner[s]
            return any(owner.get(y, (None, -1, 0))[0] is req and owner[y][1] in upstream for y in batch)

    def _pool_items(self, s: int, req: Request, k: int, start: int, stop: int, items: list | None,
                    deadline: float) -> Callable[[], None]:
        """Module k's items start..stop of `req` reach pool s (router lock held): `items` their
        payloads, or None when they are skipped. Numbered ones go to the pool now, others wait."""
        pos, pool = self._member[(req.app, k)], self._feeds[s]
        arrive, skip = [], []
        for j in range(start, stop):
            record = None if items is None else (req, k, j - start, items[j - start], deadline)
            x = pool.hand(pos, j, record)
            if x is None:
                continue
            if items is None:
                skip.append(x)
            else:
                self._owner[s][x] = (req, k, j - start)
                arrive.append((x, items[j - start], deadline))
        return lambda: self._hand(s, arrive, skip)

    # -- routing ----------------------------------------------------------------------------------
    def _release(self, req: Request, k: int, now: float) -> Callable[[], None]:
        """Hand request `req`'s items to module k (router lock held); returns the call to make after."""
        app = self.apps[req.app]
        start, stop = app.items(k, req.seq)
        req.released[k] = True
        m = app.sm.modules[k]
        s = self.server_of[(req.app, k)]
        pooled = s in self._feeds
        deadline = req.arrival_ms + m.deadline_ms
        if req.failed:
            if pooled:
                return self._pool_items(s, req, k, start, stop, None, deadline)
            return lambda: self.servers[s].dispatcher.skip(start, stop)
        req.left[k] = stop - start
        req.ready_ms[k] = now
        req.hops[k] = 1 + max((req.hops[p] for p in m.parents), default=0)
        if stop == start:
            return lambda: self._module_done(req, k)
        names = [x.name for x in app.sm.modules]
        parents = {names[p]: req.outputs[p] for p in m.parents}
        req.outputs[k] = [None] * (stop - start)
        if not pooled:
            for j in range(start, stop):
                self._owner[s][j] = (req, k, j - start)

        def go() -> None:
            try:
                items = app.adapters[k](req.frame, parents, stop - start, app.shapes[k])
            except Exception as e:  # noqa: BLE001 - a bad frame fails its request, with the reason
                self._adapter_failed(req, k, s, start, stop, f"module {m.name}: adapter failed: {e}")
                return
            if pooled:
                with self._lock:
                    act = self._pool_items(s, req, k, start, stop, list(items), deadline)
                act()
            else:
                self.servers[s].dispatcher.arrive_run(start, items, deadline)
        return go

    def _adapter_failed(self, req: Request, k: int, s: int, start: int, stop: int, reason: str) -> None:
        with self._lock:
            if s in self._feeds:
                act = self._pool_items(s, req, k, start, stop, None, 0.0)
            else:
                for j in range(start, stop):
                    self._owner[s].pop(j, None)
                act = lambda: self.servers[s].dispatcher.skip(start, stop)  # noqa: E731
        act()
        self._fail(req, reason)

    def _deliver(self, s: int, items: list[int], outputs: Any, error: BaseException | None,
                 start_ms: float, end_ms: float, worker: int) -> None:
        server = self.servers[s]
        finished: list[tuple[Request, int]] = []
        touched: set[tuple[int, int]] = set()      # (app, module) of the batch's items
        with self._lock:
            for j, index in enumerate(items):
                req, k, pos = self._owner[s].pop(index)
                touched.add((req.app, k))
                if error is None and not req.failed:
                    req.outputs[k][pos] = {name: v[j] for name, v in outputs.items()}
                req.left[k] -= 1
                if req.left[k] == 0 and (req, k) not in finished:
                    finished.append((req, k))
            if error is None:
                for a, k in touched:
                    profiled = self.apps[a].sm.modules[k].workers[worker].worker.times_ms[len(items) - 1]
                    self.apps[a].admission.observe(k, end_ms - start_ms, profiled)
        for a, k in sorted(touched):
            self.apps[a].metrics.batch(self.apps[a].sm.modules[k].name, len(items), start_ms, end_ms)
        if self.batch_log is not None and error is None and touched:
            a, k = min(touched)
            self.batch_log.record(self.apps[a].spec.app.modules[k].model, server.sim_workers[worker].hardware,
                                  len(items), end_ms - start_ms)
        for req, k in finished:
            if error is not None:
                self._fail(req, f"module {self.apps[req.app].sm.modules[k].name}: {type(error).__name__}: {error}")
            self._module_done(req, k)

    def _module_done(self, req: Request, k: int) -> None:
        app = self.apps[req.app]
        m = app.sm.modules[k]
        actions = []
        with self._lock:
            now = self.clock()
            req.done_ms[k] = now
            for c in m.children:
                req.joins[c] -= 1
                if req.joins[c] == 0 and not req.released[c]:
                    actions.append(self._release(req, c, now))
            if m.is_exit:
                req.exits_left -= 1
            complete = req.exits_left == 0 and not req.failed
        app.metrics.module(m.name, now - req.ready_ms[k])
        for act in actions:
            act()
        if complete:
            self._complete(req)

    def _complete(self, req: Request) -> None:
        app = self.apps[req.app]
        with self._lock:
            now = self.clock()
            latency = now - req.arrival_ms
            on_time = latency <= app.sm.slo_ms
            app.in_flight -= 1
            self._live[req.app].pop(req.seq, None)
            app.counts["completed"] += 1
            app.counts["on_time" if on_time else "late"] += 1
            slack = app.slack.observe(req.estimate_ms, latency) if app.slack is not None else None
            if slack is not None:
                app.admission.slack = slack
        app.metrics.finished(latency, on_time)
        mods = app.sm.modules
        outputs = {m.name: req.outputs[k] for k, m in enumerate(mods) if m.is_exit}
        times = {m.name: (req.ready_ms[k] - req.arrival_ms, req.done_ms[k] - req.arrival_ms) for k, m in enumerate(mods)}
        if not req.future.cancelled():
            req.future.set_result(Result(req.seq, latency, on_time, outputs, times, max(req.hops)))

    def _fail(self, req: Request, reason: str) -> None:
        """End `req` with a reason (once); its modules not yet released skip its items."""
        app = self.apps[req.app]
        actions = []
        with self._lock:
            if req.failed:
                return
            req.failed = True
            app.in_flight -= 1
            self._live[req.app].pop(req.seq, None)
            app.counts["failed"] += 1
            now = self.clock()
            for k, m in enumerate(app.sm.modules):
                if not req.released[k] and m.parents:
                    actions.append(self._release(req, k, now))
        app.metrics.failed()
        for act in actions:
            act()
        if not req.future.done():  # (a caller may have cancelled its wait)
            req.future.set_exception(RequestFailed(reason))
