"""The HTTP API (FastAPI, the `serve` extra; served by uvicorn on 127.0.0.1 unless told otherwise).

  POST /v1/apps/{app}/infer   body: raw .npy bytes (Content-Type application/x-npy, read with
                              numpy.load(allow_pickle=False)) or JSON {"tensor": nested lists};
                              ?outputs=summary|full. 200 with the result; 503 + Retry-After when
                              admission control refuses; 4xx with a reason for a bad request;
                              500 with the reason when an admitted request fails.
  GET  /healthz               liveness and counts          GET /v1/plan   the plan being served
  GET  /metrics               Prometheus text format
Every endpoint but /healthz needs `Authorization: Bearer TOKEN` when a token is set.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skinflint.runtime.router import Refused, RequestFailed, Result, Runtime

NPY = "application/x-npy"
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def decode_tensor(body: bytes, content_type: str) -> np.ndarray:
    """The request's tensor from npy bytes or JSON; ValueError with the reason otherwise (no pickle)."""
    if content_type.startswith(NPY) or content_type.startswith("application/octet-stream"):
        try:
            return np.load(io.BytesIO(body), allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any decoding failure is the client's
            raise ValueError(f"body is not a .npy array without pickled objects: {e}") from None
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError as e:
            raise ValueError(f"body is not JSON: {e}") from None
        if not isinstance(data, dict) or "tensor" not in data:
            raise ValueError('JSON body must be an object {"tensor": [...]}')
        try:
            return np.asarray(data["tensor"], dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise ValueError(f"'tensor' is not a rectangular array of numbers: {e}") from None
    raise ValueError(f"unsupported Content-Type {content_type!r}: send {NPY} or application/json")


def result_json(result: Result, outputs: str) -> dict[str, Any]:
    """A result as JSON: latency, hops, per-module times, and per exit module per item either the
    outputs' shapes and argmax (`summary`) or the full arrays (`full`)."""
    def item(o: dict[str, np.ndarray]) -> dict[str, Any]:
        if outputs == "full":
            return {k: v.tolist() for k, v in o.items()}
        return {k: {"shape": list(v.shape), "argmax": int(np.argmax(v)) if v.size else None} for k, v in o.items()}
    return {"request": result.request, "latency_ms": result.latency_ms, "on_time": result.on_time,
            "hops": result.hops, "modules": {k: {"ready_ms": a, "done_ms": b} for k, (a, b) in result.modules.items()},
            "outputs": {m: [item(o) for o in items] for m, items in result.outputs.items()}}


def served_apps(runtime: Any) -> dict[str, Any]:
    """App name -> the runtime face serving it: a FleetRuntime's apps, else the runtime itself."""
    apps = getattr(runtime, "apps", None)
    return dict(apps) if isinstance(apps, dict) else {runtime.spec.app.name: runtime}


def render_metrics(apps: dict[str, Any]) -> bytes:
    """The Prometheus text of one app; of a fleet, every app's series with an `app` label."""
    if len(apps) == 1:
        render = getattr(next(iter(apps.values())).metrics, "render", None)
        return render() if render else b""
    from skinflint.runtime.metrics import render_labelled
    return render_labelled({n: rt.metrics for n, rt in apps.items()})


def make_app(runtime: Runtime, *, token: str | None = None, max_body: int = DEFAULT_MAX_BODY,
             timeout_s: float | None = None) -> Any:
    """The FastAPI application serving `runtime`."""
    api = FastAPI(title="skinflint", docs_url=None, redoc_url=None, openapi_url=None)
    apps = served_apps(runtime)      # a fleet serves each of its apps under /v1/apps/APP/
    name = ", ".join(apps)
    waits = {n: timeout_s if timeout_s is not None else max(1.0, 10 * rt.sm.slo_ms / 1000.0) for n, rt in apps.items()}

    def error(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": reason}, status_code=status, headers=headers)

    @api.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if token and request.url.path != "/healthz":
            got = request.headers.get("authorization", "")
            if not secrets.compare_digest(got.encode(), f"Bearer {token}".encode()):
                return error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return error(413, f"body larger than the limit of {max_body} bytes")
        return await call_next(request)

    @api.get("/healthz")
    async def health() -> dict[str, Any]:
        if len(apps) > 1:
            return {"status": "ok", "apps": {n: {"in_flight": rt.in_flight, "counts": rt.counts}
                                             for n, rt in apps.items()}, "in_flight": runtime.in_flight}
        return {"status": "ok", "app": name, "in_flight": runtime.in_flight, "counts": runtime.counts}

    def app_plan(rt: Any) -> dict[str, Any]:
        return {"plan": rt.plan.to_dict(), "backend": rt.backend.name, "input_shape": list(rt.entry_shape),
                "slo_ms": rt.sm.slo_ms}

    @api.get("/v1/plan")
    async def plan() -> dict[str, Any]:
        if len(apps) > 1:
            return {"fleet": runtime.fleet.to_dict(), "apps": {n: app_plan(rt) for n, rt in apps.items()}}
        return app_plan(runtime)

    @api.get("/v1/apps/{app_name}/plan")
    async def one_plan(app_name: str) -> Any:
        if app_name not in apps:
            return error(404, f"no application {app_name!r} (this server runs {name})")
        return app_plan(apps[app_name])

    @api.get("/metrics")
    async def metrics() -> Response:
        return Response(render_metrics(apps), media_type="text/plain; version=0.0.4; charset=utf-8")

    @api.post("/v1/apps/{app_name}/infer")
    async def infer(app_name: str, request: Request, outputs: str = "summary") -> Any:
        if app_name not in apps:
            return error(404, f"no application {app_name!r} (this server runs {name})")
        rt, wait_s = apps[app_name], waits[app_name]
        if outputs not in ("summary", "full"):
            return error(422, "outputs must be 'summary' or 'full'")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return error(413, f"body larger than the limit of {max_body} bytes")
        try:
            tensor = decode_tensor(bytes(body), request.headers.get("content-type", ""))
            fut = rt.submit(tensor)
        except ValueError as e:
            return error(422 if "Content-Type" not in str(e) else 415, str(e))
        except Refused as r:
            return error(503, r.decision.reason, {"Retry-After": str(r.decision.retry_after_s)})
        try:
            result = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), wait_s)
        except RequestFailed as e:
            return error(500, f"request failed: {e}")
        except asyncio.TimeoutError:
            return error(504, f"no result within {wait_s:g} s (the request is still counted in flight)")
        return result_json(result, outputs)

    return api


def serve(runtime: Runtime, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Run the API with uvicorn until interrupted; the runtime is closed after."""
    import uvicorn
    try:
        uvicorn.run(make_app(runtime, **options), host=host, port=port, log_level="warning", access_log=False)
    finally:
        runtime.close()
