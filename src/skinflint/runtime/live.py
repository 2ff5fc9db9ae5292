"""Live re-planning: the control loop (skinflint.control.loop, shared with the simulated day of
skinflint.daynight) on a running runtime.

Every `settings.tick_s` the controller feeds the arrivals offered since the last tick (admitted
or refused) to the clock-free `RateEstimator`, asks the re-planning policy through
`control.loop.choose` (the very function the simulated day uses), and on a new plan switches
as control/transition.py says:

1. start: a new `Runtime` for the new plan is built (its workers started) and every worker runs
   one warm-up batch; the old runtime keeps serving meanwhile;
2. switch: new requests go to the new runtime (one pointer, under a lock);
3. drain: the old runtime's dispatchers are told the stream ended (partial batches close at once)
   until every request it admitted has ended; then its workers are released.

Every request is served, refused or failed (with a reason) by the plan that was live when it
arrived; none is dropped or answered twice. Workers the two plans share (transition's `keep`)
are handed over (runtime/handover.py, with make_runtime_factory): the new runtime takes them as
they are and starts only the others; the old one drains on them too, and releases them to the
new one instead of closing them.
Time comes from an injected clock (seconds, any origin; `time.perf_counter` by default); the
ticker and the drain wait in real time.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from skinflint.control import ControlPolicy, RateEstimator, transition
from skinflint.control.loop import LoopSettings, PlanCache, Switch, choose
from skinflint.plan import Plan
from skinflint.runtime.backends import Backend
from skinflint.runtime.handover import HandoverBackend
from skinflint.runtime.router import Runtime
from skinflint.spec.types import Spec

COUNTS = ("admitted", "refused", "completed", "on_time", "late", "failed")


def warm_up(runtime: Runtime) -> None:
    """Run one batch of one zero item on every worker of `runtime` and wait for it."""
    futures, seen = [], set()
    for k, ws in enumerate(runtime.workers):
        for w in ws:
            host = getattr(w, "host", None)
            if host is not None and id(host) in seen:
                continue
            seen.add(id(host) if host is not None else id(w))
            futures.append(w.submit(np.zeros((1, *runtime.shapes[k]), dtype=np.float32)))
    for f in futures:
        f.result(timeout=120)


class LiveRuntime:
    """Serve `spec` re-planned live by `policy`; `submit` and the attributes the HTTP server reads
    behave as `Runtime`'s. `make_runtime(plan)` builds (starts) a runtime for a plan."""

    def __init__(self, spec: Spec, policy: ControlPolicy, make_runtime: Callable[[Plan], Runtime], *,
                 plans: PlanCache | None = None, settings: LoopSettings = LoopSettings(),
                 initial_rate: float | None = None, drain_timeout_s: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        """`initial_rate`: the estimator's starting rate (default: the app's rate); `clock()`:
        seconds, any origin."""
        self.spec, self.policy, self.settings = spec, policy, settings
        self.plans = plans or PlanCache(spec)
        self._make = make_runtime
        self._clock = clock
        self._t0 = clock()
        rate0 = spec.app.rate if initial_rate is None else float(initial_rate)
        self.estimator = RateEstimator(settings.half_life_s, settings.window_s, 0.0, rate0)
        target = policy.decide(0.0, self.estimator.estimate(0.0), None)
        if target is None:
            raise ValueError(f"policy {policy.name!r} gave no initial target")
        self.target = target
        self._live = make_runtime(self.plans(target))
        warm_up(self._live)
        self.runtimes: list[Runtime] = [self._live]
        self.switches: list[Switch] = []
        self.infeasible = 0
        self.errors: list[str] = []          # ticks whose re-plan failed (the live plan kept serving)
        self.drain_timeout_s = drain_timeout_s if drain_timeout_s is not None else 10 * self._live.sm.slo_ms / 1000
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}     # id(runtime) -> submits in progress
        self._offered = 0
        self._drains: list[threading.Thread] = []
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._run, name="live-replan", daemon=True)
        self._ticker.start()

    # -- what the server and callers read ----------------------------------------------------------
    def now_s(self) -> float:
        """Seconds since the controller started."""
        return self._clock() - self._t0

    @property
    def live(self) -> Runtime:
        """The runtime new requests go to."""
        return self._live

    def __getattr__(self, name: str) -> Any:
        # plan, sm, backend, entry_shape, metrics, check_frame, ...: the live runtime's
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._live, name)

    @property
    def counts(self) -> dict[str, int]:
        """Outcomes summed over every runtime this controller ran."""
        return {k: sum(r.counts[k] for r in self.runtimes) for k in COUNTS}

    @property
    def in_flight(self) -> int:
        """Admitted requests not yet ended, over all runtimes (draining ones included)."""
        return sum(r.in_flight for r in self.runtimes)

    def submit(self, frame: np.ndarray, arrival_ms: float | None = None) -> Any:
        """Hand `frame` to the live runtime (its future, or Refused at once); `arrival_ms` as
        Runtime.submit's (the runtimes of one factory share a clock)."""
        with self._lock:
            self._offered += 1
            rt = self._live
            self._users[id(rt)] = self._users.get(id(rt), 0) + 1
        try:
            return rt.submit(frame, arrival_ms)
        finally:
            with self._lock:
                self._users[id(rt)] -= 1

    def close(self) -> None:
        """Stop re-planning, wait for the drains, and close the live runtime."""
        self._stop.set()
        self._ticker.join(timeout=30)
        for t in list(self._drains):
            t.join(timeout=self.drain_timeout_s + 5)
        self._live.close()
        getattr(self._make, "close", lambda: None)()     # the backend the runtimes shared

    # -- the loop ---------------------------------------------------------------------------------
    def _run(self) -> None:
        k = 0
        while not self._stop.is_set():
            k += 1
            wait = self._t0 + k * self.settings.tick_s - self._clock()
            if wait > 0 and self._stop.wait(wait):
                return
            try:
                self.step(k * self.settings.tick_s)
            except Exception as e:  # noqa: BLE001 - a failed switch keeps the live plan serving
                self.errors.append(f"{type(e).__name__}: {e}")
                warnings.warn(f"live re-plan at {k * self.settings.tick_s:g} s failed, keeping the live plan: {e}",
                              stacklevel=1)

    def step(self, now_s: float) -> Switch | None:
        """One tick at `now_s`: observe, decide, and switch if the policy asks (the ticker calls it)."""
        with self._lock:
            count, self._offered = self._offered, 0
        self.estimator.observe(now_s, count)
        live = self._live.plan
        choice = choose(self.policy, now_s, self.estimator.estimate(now_s), self.target, live, self.plans,
                        self.settings.only_cheaper_down)
        if choice is None:
            return None
        if choice.plan is None:
            self.infeasible += 1
            return None
        self.target = choice.target
        steps = transition(live, choice.plan)
        if steps.is_noop:   # the same workers: only the rate on paper changes
            switch = Switch(now_s, now_s, choice.target, choice.plan, steps)
            self.switches.append(switch)
            return switch
        new = self._make(choice.plan)
        try:
            warm_up(new)
        except Exception:
            new.close()
            raise
        with self._lock:
            old, self._live = self._live, new
            self.runtimes.append(new)
        switch = Switch(now_s, self.now_s(), choice.target, choice.plan, steps)
        self.switches.append(switch)
        t = threading.Thread(target=self._drain, args=(old,), name="live-drain", daemon=True)
        self._drains.append(t)
        t.start()
        return switch

    def _drain(self, old: Runtime) -> None:
        """Close partial batches of `old` until no submit is in progress and nothing is in flight;
        then release its workers (anything still in flight after the timeout fails with a reason)."""
        deadline = self._clock() + self.drain_timeout_s
        while self._clock() < deadline:
            with self._lock:
                busy = self._users.get(id(old), 0)
            if busy == 0 and old.in_flight == 0:
                break
            for d in old.dispatchers:
                d.drain()
            time.sleep(0.005)
        old.close()


def make_runtime_factory(spec: Spec, backend: Callable[[], Backend], **runtime_options: Any) -> Callable[[Plan], Runtime]:
    """A `make_runtime(plan)` building a `Runtime` with the options on one backend from `backend()`,
    shared by every runtime it makes: the workers of the last runtime it made are offered to the
    next, which takes those it needs as they are (runtime/handover.py). `make.handover` counts
    what was started and reused; `make.close()` releases the backend (LiveRuntime.close calls it).
    Every runtime it makes reads one clock (unless `clock` is given), so an arrival time taken
    from one is valid for the next."""
    start = time.perf_counter()
    runtime_options.setdefault("clock", lambda: 1000.0 * (time.perf_counter() - start))
    handover = HandoverBackend(backend())
    last: list[Runtime] = []

    def make(plan: Plan) -> Runtime:
        handover.offer(last[-1].router.hosts if last else [])
        try:
            rt = Runtime(plan, spec, handover, **runtime_options)
        finally:
            handover.withdraw()
        last[:] = [rt]
        return rt
    make.handover = handover           # type: ignore[attr-defined]
    make.close = handover.close_inner  # type: ignore[attr-defined]
    return make


def policy_settings(tick_s: float = 1.0, half_life_s: float = 60.0, window_s: float = 10.0) -> LoopSettings:
    """LoopSettings for a live loop (`startup_s` does not apply: real start-up takes what it takes)."""
    return replace(LoopSettings(), tick_s=tick_s, startup_s=0.0, half_life_s=half_life_s, window_s=window_s)


def stepped_times_ms(steps: list[tuple[float, float]]) -> np.ndarray:
    """Evenly spaced arrival times (ms) for consecutive (rate req/s, seconds) steps."""
    out, start = [], 0.0
    for rate, seconds in steps:
        n = int(round(rate * seconds))
        out.append(start + 1000.0 * np.arange(n) / rate)
        start += 1000.0 * seconds
    return np.concatenate(out) if out else np.zeros(0)


def drive(runtime: Any, times_ms: np.ndarray, frame: np.ndarray, timeout_s: float = 30.0) -> dict[str, Any]:
    """Submit `frame` at each time (open loop, in process) and wait for every answer: counts of
    sent, refused (with their reasons), on time, late, failed (with reasons) and lost (no answer)."""
    from skinflint.runtime.router import Refused, RequestFailed
    futures, refused, reasons = [], 0, {}
    start = time.perf_counter()
    for t in times_ms:
        delay = t / 1000.0 - (time.perf_counter() - start)
        if delay > 0:
            time.sleep(delay)
        try:
            futures.append(runtime.submit(frame))
        except Refused as e:
            refused += 1
            reasons[str(e)] = reasons.get(str(e), 0) + 1
    out = {"sent": len(times_ms), "refused": refused, "on_time": 0, "late": 0, "failed": 0, "lost": 0,
           "reasons": reasons, "latency_ms": []}
    end = time.perf_counter() + timeout_s
    for f in futures:
        try:
            r = f.result(timeout=max(0.0, end - time.perf_counter()))
        except RequestFailed as e:
            out["failed"] += 1
            reasons[str(e)] = reasons.get(str(e), 0) + 1
            continue
        except Exception:  # noqa: BLE001 - no answer in time: lost
            out["lost"] += 1
            continue
        out["on_time" if r.on_time else "late"] += 1
        out["latency_ms"].append(r.latency_ms)
    return out
