"""The same application (skinflint.runtime.edge.app.EdgeApp over one runtime, sleep runner) behind
uvicorn instead of the edge's own HTTP server: `bench/edge_throughput.py` loads both with the same
client to compare them (docs/runtime.md, "Why the edge has its own HTTP server").

    .venv/bin/python bench/edge_uvicorn.py APP.yaml --port 8000 [--server uvicorn|fastapi]

`uvicorn`: a bare ASGI callable (uvicorn's httptools parser and uvloop: the least any server on
uvicorn can cost); `fastapi`: the same behind FastAPI routes. Both hand each request to EdgeApp's
head/handle exactly as the edge does (the tensor header check as the body's first bytes arrive is
left out: uvicorn hands the body whole). The request's arrival is stamped when uvicorn calls the
application, after it parsed the headers, which favours uvicorn by that parse.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

try:                    # the serve extra; resolved here since FastAPI reads the route's annotations by name
    import fastapi
except ImportError:     # pragma: no cover
    fastapi = None

from skinflint.runtime.edge.app import EdgeApp
from skinflint.runtime.edge.http import Request, Response


async def answer(edge: EdgeApp, method: str, path: str, query: str, headers: dict[str, str],
                 body: Callable[[], Awaitable[bytes]]) -> Response:
    """EdgeApp's answer to one request: head() first, the body read only when it asks for it."""
    req = Request(method, path, query, headers, "?", time.perf_counter())
    out = edge.head(req)
    if out is not None:
        return out
    req.body = await body()
    out = edge.handle(req)
    return out if isinstance(out, Response) else await out


def asgi(edge: EdgeApp) -> Callable:
    """A bare ASGI application around `edge`."""
    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return

        async def body() -> bytes:
            chunks = []
            while True:
                msg = await receive()
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    return b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        out = await answer(edge, scope["method"], scope["path"], scope["query_string"].decode("latin-1"),
                           headers, body)
        await send({"type": "http.response.start", "status": out.status,
                    "headers": [(b"content-type", out.content_type.encode()),
                                *((k.encode(), v.encode()) for k, v in out.headers)]})
        await send({"type": "http.response.body", "body": out.body})
    return app


def fastapi_app(edge: EdgeApp) -> Any:
    """The same behind FastAPI routes (the loader's GET /v1/plan and the KServe v2 infer route)."""
    api = fastapi.FastAPI()

    async def route(request: fastapi.Request) -> fastapi.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        out = await answer(edge, request.method, request.url.path, request.url.query, headers, request.body)
        return fastapi.Response(out.body, status_code=out.status, headers=dict(out.headers),
                                media_type=out.content_type)
    api.add_api_route("/v1/plan", route, methods=["GET"])
    api.add_api_route("/v2/models/{model}/infer", route, methods=["POST"])
    api.add_api_route("/v1/apps/{app}/infer", route, methods=["POST"])
    return api


def main() -> None:
    import uvicorn

    from skinflint.api import plan as make_plan
    from skinflint.runtime import Runtime, make_backend
    from skinflint.runtime.metrics import PrometheusMetrics
    from skinflint.spec.loader import load_spec

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("app", type=Path)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--server", choices=("uvicorn", "fastapi"), default="uvicorn")
    args = ap.parse_args()
    spec = load_spec(args.app)
    runtime = Runtime(make_plan(spec), spec, make_backend("embedded", runner="sleep"), metrics=PrometheusMetrics(),
                      measured_slack=True)
    edge = EdgeApp(runtime)
    app = asgi(edge) if args.server == "uvicorn" else fastapi_app(edge)
    try:
        uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", log_level="warning",
                    access_log=False, lifespan="on" if args.server == "uvicorn" else "auto")
    finally:
        edge.close()
        runtime.close()


if __name__ == "__main__":
    main()
