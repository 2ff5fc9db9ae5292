"""A fleet behind one edge: each app its own `EdgeApp` (routes, checks, decoding, answers), the
request handed to the app its path names (`/v1/apps/APP/...`, `/v2/models/APP/...`); the routes
of the server as a whole answered for the fleet: health and readiness, `/v1/plan` (the fleet
plan and each app's), `/v1/stats` (per app) and `/metrics` (every app's series, an `app` label
on each: runtime.metrics.render_labelled)."""

from __future__ import annotations

from typing import Any, Awaitable

from skinflint.runtime.edge.app import EdgeApp, json_response
from skinflint.runtime.edge.http import Request, Response, plain_error
from skinflint.runtime.metrics import render_labelled


def named_app(path: str) -> str | None:
    """The app a path names, if any."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["v1", "apps"] and len(parts) >= 3:
        return parts[2]
    if parts[:2] == ["v2", "models"] and len(parts) >= 3:
        return parts[2]
    return None


class FleetApp:
    """The HTTP application serving a FleetRuntime: one EdgeApp per app."""

    def __init__(self, fleet: Any, **options: Any) -> None:
        self.runtime = fleet
        self.apps = {name: EdgeApp(face, **options) for name, face in fleet.apps.items()}
        self.first = next(iter(self.apps.values()))
        self.wait_s = max(a.wait_s for a in self.apps.values())

    @property
    def ready(self) -> bool:
        """Serving (False once a drain began)."""
        return self.first.ready

    @ready.setter
    def ready(self, value: bool) -> None:
        for a in self.apps.values():
            a.ready = value

    def head(self, req: Request) -> Response | None:
        """Hand the request to the app its path names (404 for an unknown one), else route it here."""
        name = named_app(req.path)
        if name is not None and name not in self.apps:
            return plain_error(404, f"no application {name!r} (this server runs {', '.join(self.apps)})")
        if name is None and req.path.rstrip("/") == "/v1/apps":
            return plain_error(404, f"no route {req.path!r}")
        req.fleet_app = self.apps[name] if name is not None else self.first   # type: ignore[attr-defined]
        return req.fleet_app.head(req)                                        # type: ignore[attr-defined]

    def peek(self, req: Request, prefix: memoryview) -> Response | bool | None:
        """The named app's early check of a tensor header."""
        return req.fleet_app.peek(req, prefix)   # type: ignore[attr-defined]

    def handle(self, req: Request) -> Response | Awaitable[Response]:
        """The named app's answer, or the fleet's for the server-wide GET routes."""
        if named_app(req.path) is None and req.route in ("plan", "stats", "metrics", "health"):
            return getattr(self, f"_get_{req.route}")()
        return req.fleet_app.handle(req)         # type: ignore[attr-defined]

    def close(self) -> None:
        """Release every app's decoding threads."""
        for a in self.apps.values():
            a.close()

    def _get_plan(self) -> Response:
        apps = {n: {"plan": a.runtime.plan.to_dict(), "input_shape": list(a.entry_shape), "slo_ms": a.runtime.sm.slo_ms}
                for n, a in self.apps.items()}
        return json_response(200, {"fleet": self.runtime.fleet.to_dict(), "backend": self.runtime.backend.name,
                                   "apps": apps})

    def _get_stats(self) -> Response:
        return json_response(200, {"in_flight": self.runtime.in_flight,
                                   "apps": {n: {"in_flight": a.runtime.in_flight, "counts": dict(a.runtime.counts)}
                                            for n, a in self.apps.items()}})

    def _get_health(self) -> Response:
        return json_response(200, {"status": "ok" if self.ready else "draining", "apps": list(self.apps)})

    def _get_metrics(self) -> Response:
        return Response(200, render_labelled({n: a.runtime.metrics for n, a in self.apps.items()}),
                        "text/plain; version=0.0.4; charset=utf-8")
