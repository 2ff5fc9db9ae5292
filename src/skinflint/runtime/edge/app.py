"""The routes of `skinflint serve`, over one runtime (a Runtime or a LiveRuntime).

    GET  /v2/health/live, /v2/health/ready, /healthz      no token; no counters
    GET  /v2, /v2/models/APP[/versions/1][/ready]         KServe v2 metadata (edge/oip.py)
    POST /v2/models/APP[/versions/1]/infer                KServe v2 inference (canonical)
    POST /v1/apps/APP/infer                               skinflint's own (edge/v1.py)
    GET  /v1/plan, /v1/stats, /metrics                    the plan, counts, Prometheus text

Every route but the health ones needs `Authorization: Bearer TOKEN` when a token is set. The
request's arrival (its first byte at the edge) goes into the runtime's submit, so admission
counts the time it spent in front of the runtime. Bodies over `offload_bytes` are decoded and
submitted on a small thread pool, never on the event loop. Each answer says where its time went
(`Server-Timing: runtime;dur=MS, edge;dur=MS`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Awaitable, Sequence

import numpy as np

from skinflint.runtime.edge import oip, v1, wire
from skinflint.runtime.edge.http import Request, Response, plain_error
from skinflint.runtime.router import Refused, RequestFailed

OFFLOAD_BYTES = 64 * 1024
PUBLIC = {"/healthz": "health", "/v2/health/live": "live", "/v2/health/ready": "ready"}
GETS = {"/v1/plan": "plan", "/v1/stats": "stats", "/metrics": "metrics", "/v2": "server"}
MODEL_ROUTES = {(): ("GET", "model"), ("ready",): ("GET", "model_ready"), ("infer",): ("POST", "v2_infer")}


def json_response(status: int, doc: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """`doc` as a JSON answer."""
    return Response(status, json.dumps(doc).encode(), headers=headers)


def probe_outputs(runtime: Any, timeout_s: float = 120.0) -> dict[str, dict[str, tuple[tuple[int, ...], np.dtype]]]:
    """Each exit module's outputs (name -> item shape, dtype), from one zero item run on its first worker."""
    spec = {}
    for k, m in enumerate(runtime.sm.modules):
        if m.is_exit:
            zeros = np.zeros((1, *runtime.shapes[k]), dtype=np.float32)
            outs = runtime.workers[k][0].submit(zeros).result(timeout=timeout_s)
            spec[m.name] = {name: (tuple(v.shape[1:]), np.asarray(v).dtype) for name, v in outs.items()}
    return spec


class EdgeApp:
    """The HTTP application (skinflint.runtime.edge.http.App) serving `runtime`."""

    def __init__(self, runtime: Any, *, token: str | None = None, max_frames: int = 64,
                 timeout_s: float | None = None, offload_bytes: int = OFFLOAD_BYTES,
                 outputs: oip.OutputSpec | None = None) -> None:
        """`timeout_s`: the longest wait for a result (default 10 x SLO, at least 1 s) -> 504."""
        self.runtime, self.token, self.max_frames = runtime, token, max_frames
        self.name = runtime.spec.app.name
        self.entry_shape = tuple(runtime.entry_shape)
        self.wait_s = timeout_s if timeout_s is not None else max(1.0, 10 * runtime.sm.slo_ms / 1000.0)
        self.offload_bytes = offload_bytes
        self.outputs = outputs if outputs is not None else probe_outputs(runtime)
        self.known = oip.output_names(self.outputs)
        self.heads = oip.HeadCache(self.entry_shape, max_frames, self.known)
        self._precheck = getattr(runtime, "precheck", None)    # a LiveRuntime has none: submit decides
        self.ready = True
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="edge-decode")

    # -- App ------------------------------------------------------------------------------------
    def head(self, req: Request) -> Response | None:
        """Route, authenticate and check the media type before the body is read."""
        found = self._route(req.method, req.path)
        if isinstance(found, Response):
            return found
        kind, needs_auth, model = found
        if needs_auth and self.token and not wire.bearer_matches(req.headers.get("authorization"), self.token):
            return Response(401, b'{"error": "missing or wrong bearer token"}',
                            headers=(("www-authenticate", "Bearer"),))
        if model is not None and model != self.name:
            return plain_error(404, f"no application {model!r} (this server runs {self.name!r})")
        if kind in ("v1_infer", "v2_infer"):
            try:
                self._check_media(kind, req.headers)
            except wire.Unsupported as e:
                return plain_error(415, str(e))
        req.route = kind
        if kind in ("v1_infer", "v2_infer") and self._precheck is not None:
            refused = self._precheck(self._arrival_ms(req.arrival_s))
            if refused is not None:       # a large body is not read to be thrown away: answer, close
                length = req.headers.get("content-length", "")
                return self._refusal(refused, close=not length.isdigit() or int(length) > self.offload_bytes)
        media = wire.media_type(req.headers.get("content-type"))
        req.peek = (kind == "v1_infer" and media in (wire.NPY, wire.OCTETS)) or \
            (kind == "v2_infer" and "inference-header-content-length" in req.headers)
        return None

    def peek(self, req: Request, prefix: memoryview) -> Response | bool | None:
        """A tensor's header checked as soon as it is in, before its data (a wrong shape is refused
        before the body is read): a 422, True (fine), or None (more bytes needed)."""
        length = req.headers.get("content-length")
        declared = int(length) if length is not None else None
        try:
            if req.route == "v1_infer":
                return v1.check_npy_prefix(prefix, declared, self.entry_shape)
            return oip.check_head(prefix, req.headers["inference-header-content-length"], declared, self.heads)
        except ValueError as e:
            return plain_error(422, str(e))

    def handle(self, req: Request) -> Response | Awaitable[Response]:
        """The answer for a routed request."""
        kind = req.route
        if kind in ("v1_infer", "v2_infer"):
            if len(req.body) > self.offload_bytes:
                return self._offloaded(req)
            decoded = self._decode_or_refuse(req)
            return decoded if isinstance(decoded, Response) else self._submit(req, *decoded)
        return getattr(self, f"_get_{kind}")()

    def close(self) -> None:
        """Release the decoding threads."""
        self.pool.shutdown(wait=False)

    # -- routing --------------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[str, bool, str | None] | Response:
        """(route, needs a token, model named in the path) or a 404/405 answer."""
        want, kind, auth, model = "GET", PUBLIC.get(path), False, None
        if kind is None:
            kind, auth = GETS.get(path), True
        parts = path.strip("/").split("/")
        if kind is None and parts[:2] == ["v1", "apps"] and len(parts) == 4 and parts[3] == "infer":
            want, kind, model = "POST", "v1_infer", parts[2]
        elif kind is None and parts[:2] == ["v2", "models"] and len(parts) >= 3:
            model, rest = parts[2], tuple(parts[3:])
            if rest[:1] == ("versions",) and len(rest) >= 2:
                if rest[1] != "1":
                    return plain_error(404, f"model {model!r} has one version, '1' (got {rest[1]!r})")
                rest = rest[2:]
            want, kind = MODEL_ROUTES.get(rest, ("GET", None))
        if kind is None:
            return plain_error(404, f"no route {path!r}")
        if method != want:
            return Response(405, json.dumps({"error": f"{path} takes {want}"}).encode(), headers=(("allow", want),))
        return kind, auth, model

    @staticmethod
    def _check_media(kind: str, headers: dict[str, str]) -> None:
        wire.check_plain_body(headers)
        media = wire.media_type(headers.get("content-type"))
        if kind == "v1_infer" and media not in v1.MEDIA:
            raise wire.Unsupported(f"unsupported Content-Type {headers.get('content-type')!r}: send "
                                   f"{wire.NPY} or {wire.JSON}")
        binary = "inference-header-content-length" in headers
        if kind == "v2_infer" and media not in ("", wire.JSON) and not (binary and media == wire.OCTETS):
            raise wire.Unsupported(f"unsupported Content-Type {headers.get('content-type')!r}: send {wire.JSON}, "
                                   f"or {wire.OCTETS} with Inference-Header-Content-Length")

    # -- inference ------------------------------------------------------------------------------
    def _decode(self, req: Request) -> tuple[np.ndarray, Any]:
        if req.route == "v1_infer":
            mode = v1.outputs_mode(req.query)
            return v1.decode_frame(req.body, req.headers.get("content-type", ""), self.entry_shape), mode
        call = oip.parse_infer(req.body, req.headers.get("inference-header-content-length"), self.entry_shape,
                               self.max_frames, self.known, self.heads)
        return call.frames, call

    def _decode_or_refuse(self, req: Request) -> tuple[np.ndarray, Any] | Response:
        """The frames and the API's context, or the 415/422 that says why not."""
        try:
            return self._decode(req)
        except wire.Unsupported as e:
            return plain_error(415, str(e))
        except ValueError as e:
            return plain_error(422, str(e))

    def _start(self, frames: np.ndarray, arrival_s: float) -> tuple[list[Future], float] | Response:
        """Submit every frame, arrived at `arrival_s` (perf_counter): the futures and how long the
        request had waited (ms), or the refusal / the reason a frame is malformed."""
        rt = self.runtime
        now = rt.clock()
        arrival_ms = now - 1000.0 * (time.perf_counter() - arrival_s)
        futures = []
        try:
            for frame in frames:
                futures.append(rt.submit(frame, arrival_ms))
        except Refused as r:
            return self._refusal(r)
        except ValueError as e:
            return plain_error(422, str(e))
        return futures, now - arrival_ms

    def _arrival_ms(self, arrival_s: float) -> float:
        """A perf_counter() arrival on the runtime's clock."""
        return self.runtime.clock() - 1000.0 * (time.perf_counter() - arrival_s)

    @staticmethod
    def _refusal(r: Refused, close: bool = False) -> Response:
        return Response(503, json.dumps({"error": r.decision.reason}).encode(),
                        headers=(("retry-after", str(r.decision.retry_after_s)),), close=close)

    def _submit(self, req: Request, frames: np.ndarray, ctx: Any) -> Response | Awaitable[Response]:
        started = self._start(frames, req.arrival_s)
        if isinstance(started, Response):
            return started
        return self._answer(req, ctx, *started)

    async def _offloaded(self, req: Request) -> Response:
        """Decode and submit on the pool (large bodies), then wait as usual."""
        loop = asyncio.get_running_loop()

        def work() -> Any:
            decoded = self._decode_or_refuse(req)
            if isinstance(decoded, Response):
                return decoded
            frames, ctx = decoded
            started = self._start(frames, req.arrival_s)
            return started if isinstance(started, Response) else (ctx, *started)
        out = await loop.run_in_executor(self.pool, work)
        if isinstance(out, Response):
            return out
        return await self._answer(req, *out)

    def _answer(self, req: Request, ctx: Any, futures: Sequence[Future], waited_ms: float) -> asyncio.Future:
        """A future of the answer: set when every frame's result is in (one wake-up of the loop per
        request, from the thread that ends its last frame; no task), or 504 after `wait_s`."""
        loop = asyncio.get_running_loop()
        out = loop.create_future()
        left, lock = [len(futures)], threading.Lock()

        def expire() -> None:
            if not out.done():
                out.set_result(plain_error(504, f"no result within {self.wait_s:g} s (the request is still "
                                                "counted in flight)"))
        timer = loop.call_later(self.wait_s, expire)

        def answer() -> None:
            if not out.done():
                timer.cancel()
                try:
                    out.set_result(self._response(req, ctx, futures, waited_ms))
                except Exception as e:  # noqa: BLE001 - the connection answers 500 and logs it
                    out.set_exception(e)

        def done(_: Future) -> None:      # in the thread that ended the frame
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                try:
                    loop.call_soon_threadsafe(answer)
                except RuntimeError:      # the loop has closed: nobody waits any more
                    pass
        for f in futures:
            f.add_done_callback(done)
        return out

    def _response(self, req: Request, ctx: Any, futures: Sequence[Future], waited_ms: float) -> Response:
        try:
            results = [f.result() for f in futures]
        except RequestFailed as e:
            return plain_error(500, f"request failed: {e}")
        runtime_ms = max(r.latency_ms for r in results) - waited_ms
        edge_ms = 1000.0 * (time.perf_counter() - req.arrival_s) - runtime_ms
        timing = (("server-timing", f"runtime;dur={runtime_ms:.3f}, edge;dur={edge_ms:.3f}"),)
        if req.route == "v1_infer":
            return json_response(200, v1.result_json(results[0], ctx), timing)
        params = {"latency_ms": max(r.latency_ms for r in results), "on_time": all(r.on_time for r in results)}
        body, head = oip.encode_infer(self.name, ctx, oip.output_tensors(results, self.outputs), params)
        if head is None:
            return Response(200, body, headers=timing)
        return Response(200, body, wire.OCTETS, (*timing, ("inference-header-content-length", str(head))))

    # -- the GET routes -------------------------------------------------------------------------
    def _get_health(self) -> Response:
        return json_response(200, {"status": "ok" if self.ready else "draining", "app": self.name})

    def _get_live(self) -> Response:
        return Response(200)

    def _get_ready(self) -> Response:
        return Response(200) if self.ready else plain_error(503, "not ready: the server is shutting down")

    def _get_model_ready(self) -> Response:
        return self._get_ready()

    def _get_server(self) -> Response:
        from importlib.metadata import PackageNotFoundError, version
        try:
            ours = version("skinflint")
        except PackageNotFoundError:        # run from a source tree that was never installed
            ours = "unknown"
        return json_response(200, {"name": "skinflint", "version": ours, "extensions": ["binary_tensor_data"]})

    def _get_model(self) -> Response:
        return json_response(200, oip.model_metadata(self.name, self.entry_shape, self.outputs))

    def _get_plan(self) -> Response:
        rt = self.runtime
        return json_response(200, {"plan": rt.plan.to_dict(), "backend": rt.backend.name,
                                   "input_shape": list(self.entry_shape), "slo_ms": rt.sm.slo_ms})

    def _get_stats(self) -> Response:
        return json_response(200, {"app": self.name, "in_flight": self.runtime.in_flight,
                                   "counts": dict(self.runtime.counts)})

    def _get_metrics(self) -> Response:
        render = getattr(self.runtime.metrics, "render", None)
        return Response(200, render() if render else b"", "text/plain; version=0.0.4; charset=utf-8")
