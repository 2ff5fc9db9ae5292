"""`Runtime`: one app's face of a `Router` (runtime/core.py) — what the HTTP server, the live
re-planner and callers drive; and `FleetRuntime`: a fleet plan served as one router, one face
per app (its pools fed by the merged streams of their members, one set of workers each).

    runtime = Runtime(plan, spec, make_backend("embedded", models_dir=Path("models")))
    fleet = FleetRuntime(fleet_plan, specs, backend); fleet.apps["parking"].submit(frame)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from skinflint.dispatch import EarlyClose
from skinflint.errors import SpecError
from skinflint.plan import FleetPlan, Plan
from skinflint.runtime.backends import Backend
from skinflint.runtime.core import CLOSE_MARGIN_MS, Router
from skinflint.runtime.metrics import NullMetrics
from skinflint.runtime.requests import Refused, RequestFailed, Result
from skinflint.spec.types import Spec
from skinflint.topology import compile_model

__all__ = ["FleetRuntime", "Refused", "RequestFailed", "Result", "Runtime"]


class Runtime:
    """Serve `plan` for `spec` on `backend` (workers) with each module's plan policy; with
    `router` and `app` given instead (FleetRuntime), be app `app`'s face of that router."""

    def __init__(self, plan: Plan, spec: Spec, backend: Backend, *, early_close: EarlyClose | None = EarlyClose(CLOSE_MARGIN_MS),
                 max_in_flight: int | None = None, metrics: Any = None, clock: Callable[[], float] | None = None,
                 batch_log: Any = None, admission_slack: float = 1.0, measured_slack: bool = False,
                 router: Router | None = None, app: int = 0) -> None:
        """`batch_log`: a runtime.batchlog.BatchLog to record every completed batch's latency (calibration);
        `admission_slack`: admit while the estimate is within this fraction of the SLO (with
        `measured_slack`: at most this, the margin measured, runtime.admission.MeasuredSlack)."""
        if router is None:
            router = Router([plan], [spec], [compile_model(plan, spec)], backend, early_close=early_close,
                            max_in_flight=max_in_flight, metrics=[metrics or NullMetrics()], clock=clock,
                            batch_log=batch_log, admission_slack=admission_slack, measured_slack=measured_slack)
        self.router, self.index = router, app
        self._state = router.apps[app]
        self.plan, self.spec, self.sm = plan, spec, self._state.sm
        self.backend, self.batch_log, self.clock, self.timers = backend, batch_log, router.clock, router.timers
        self.admission = self._state.admission
        self._adapters = self._state.adapters
        self.shapes = self._state.shapes
        servers = [router.servers[router.server_of[(app, k)]] for k in range(len(self.sm.modules))]
        self.workers = [s.workers for s in servers]
        self.dispatchers = [s.dispatcher for s in servers]
        self.entry_shape = self.shapes[next(k for k, m in enumerate(self.sm.modules) if not m.parents)]
        self.metrics = self._state.metrics
        self.metrics.bind(self)

    @property
    def counts(self) -> dict[str, int]:
        """admitted, refused, completed, on_time, late, failed (this app's)."""
        return self._state.counts

    @property
    def in_flight(self) -> int:
        """Admitted requests of this app not yet ended."""
        return self._state.in_flight

    def pending(self) -> list[int]:
        """Items waiting or running per module (a pooled module: its pool's)."""
        return self.router.pending(self.index)

    def submit(self, frame: np.ndarray, arrival_ms: float | None = None) -> Any:
        """Admit `frame` (or raise Refused at once); the future holds a Result or a RequestFailed.
        `arrival_ms` (this runtime's clock; default now): when the request reached the server."""
        return self.router.submit(self.index, self.check_frame(frame), arrival_ms)

    def precheck(self, arrival_ms: float) -> Refused | None:
        """Refused before the body is read (the edge, under overload), or None (Router.precheck)."""
        return self.router.precheck(self.index, arrival_ms)

    def check_frame(self, frame: Any) -> np.ndarray:
        """The request tensor as float32 of exactly the entry model's input shape, finite;
        ValueError says why not. The shape and dtype are checked before anything is copied."""
        arr = np.asarray(frame)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"the tensor must be numeric (got dtype {arr.dtype})")
        if arr.shape != tuple(self.entry_shape):
            raise ValueError(f"the tensor must have the entry model's shape {list(self.entry_shape)} "
                             f"(got shape {list(arr.shape)})")
        arr = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(arr)):
            raise ValueError("the tensor has NaN or infinite values")
        return arr

    def kill_worker(self, module: str, index: int = 0) -> None:
        """Kill one worker of `module` mid-run (failure tests): it restarts and retries its batch."""
        self.workers[self.sm.index(module)][index].kill()

    def close(self) -> None:
        """Stop timers and workers (the whole router's); requests still in flight fail with a reason."""
        self.router.close()


class FleetRuntime:
    """A fleet plan served together: `apps[name]` is each app's Runtime face; pools are one
    dispatcher and one set of workers each (runtime/servers.py)."""

    def __init__(self, fleet: FleetPlan, specs: Sequence[Spec], backend: Backend, *,
                 early_close: EarlyClose | None = EarlyClose(CLOSE_MARGIN_MS), max_in_flight: int | None = None,
                 metrics: Callable[[], Any] | None = None, clock: Callable[[], float] | None = None,
                 batch_log: Any = None, admission_slack: float = 1.0, measured_slack: bool = False) -> None:
        """`metrics()`: a fresh metrics object per app (each app's /metrics)."""
        by_app = {s.app.name: s for s in specs}
        missing = [p.app for p in fleet.apps if p.app not in by_app]
        if missing:
            raise SpecError("command line", "APP.yaml", f"no app file for {', '.join(missing)} of the fleet plan",
                            "pass every app file the fleet was planned with")
        pools = {p.name: p for p in fleet.pools}
        ordered = [by_app[p.app] for p in fleet.apps]
        models = [compile_model(p, s, pools) for p, s in zip(fleet.apps, ordered)]
        self.fleet, self.backend = fleet, backend
        self.router = Router(list(fleet.apps), ordered, models, backend, early_close=early_close,
                             max_in_flight=max_in_flight, metrics=[(metrics or NullMetrics)() for _ in models],
                             clock=clock, batch_log=batch_log, admission_slack=admission_slack,
                             measured_slack=measured_slack)
        self.apps = {p.app: Runtime(p, s, backend, router=self.router, app=a)
                     for a, (p, s) in enumerate(zip(fleet.apps, ordered))}

    @property
    def in_flight(self) -> int:
        """Admitted requests not yet ended, over every app."""
        return sum(r.in_flight for r in self.apps.values())

    @property
    def counts(self) -> dict[str, int]:
        """Each outcome summed over the apps."""
        faces = list(self.apps.values())
        return {k: sum(f.counts[k] for f in faces) for k in faces[0].counts}

    @property
    def dispatchers(self) -> list[Any]:
        """Every server's dispatcher, each once (a drain closes their partial batches)."""
        return [s.dispatcher for s in self.router.servers]

    @property
    def metrics(self) -> Any:
        """Every app's metrics as one exposition (`render`, an `app` label on each series)."""
        from skinflint.runtime.metrics import render_labelled
        faces = self.apps
        return type("FleetMetrics", (), {"render": staticmethod(lambda: render_labelled(
            {n: f.metrics for n, f in faces.items()}))})()

    def close(self) -> None:
        """Stop timers and workers; requests still in flight fail with a reason."""
        self.router.close()
