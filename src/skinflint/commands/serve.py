"""`skinflint serve APP.yaml` and `skinflint load URL`: run a plan for real, and load it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import typer

from skinflint.api import plan as make_plan
from skinflint.cli import app
from skinflint.commands.parsing import parse_arrivals, parse_named
from skinflint.errors import SpecError
from skinflint.plan import load_plan
from skinflint.spec.loader import load_spec
from skinflint.spec.types import Spec

if TYPE_CHECKING:
    from skinflint.control.loop import LoopSettings
    from skinflint.runtime import FleetRuntime
    from skinflint.runtime.backends import Backend
    from skinflint.runtime.live import LiveRuntime

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command("serve")
def serve_command(
    app_files: list[Path] = typer.Argument(..., help="Application YAML (FORMATS.md); several serve a fleet "
                                           "planned together (pools across apps, /v1/apps/APP/...)."),
    plan_file: Optional[Path] = typer.Option(None, "--plan", help="Plan JSON to serve (default: plan now)."),
    models: Optional[Path] = typer.Option(None, "--models", help="Folder of MODEL.onnx files "
                                          "(default: models/ next to the app file)."),
    backend: str = typer.Option("embedded", "--backend", help="embedded (threads) or ray (actors)."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: a local one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback unless told)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    token_file: Optional[Path] = typer.Option(None, "--token-file", help="Require 'Authorization: Bearer TOKEN', "
                                              "TOKEN the file's first line (or set SKINFLINT_TOKEN)."),
    token: Optional[str] = typer.Option(None, "--token", help="The token itself (shows in ps: prefer "
                                        "--token-file or SKINFLINT_TOKEN)."),
    max_body: int = typer.Option(16 * 1024 * 1024, "--max-body", help="Largest request body in bytes."),
    max_frames: int = typer.Option(64, "--max-frames", help="Most frames in one KServe v2 request."),
    max_connections: int = typer.Option(4096, "--max-connections", help="Open connections (beyond: the "
                                        "longest-idle one is closed)."),
    max_concurrency: int = typer.Option(2048, "--max-concurrency", help="Requests being handled at once "
                                        "(beyond: 503)."),
    request_timeout: float = typer.Option(10.0, "--request-timeout", help="Seconds for a request to arrive "
                                          "whole from its first byte (beyond: 408)."),
    idle_timeout: float = typer.Option(5.0, "--idle-timeout", help="Seconds a keep-alive connection may wait "
                                       "for its next request."),
    max_in_flight: Optional[int] = typer.Option(None, "--max-in-flight", help="Bound on requests in the runtime "
                                                "(default: twice rate x SLO, at least 64, as the simulator assumes)."),
    admit_slack: str = typer.Option("1", "--admit-slack", help="Admit while the estimated latency is within "
                                    "this fraction of the SLO: a number in (0, 1] (1: the rule the planner "
                                    "simulated), or auto (the margin measured from admitted requests' latencies, "
                                    "for overload; it over-refuses at the planned rate; docs/runtime.md)."),
    no_early_close: bool = typer.Option(False, "--no-early-close", help="Never close a partial batch early."),
    close_margin: float = typer.Option(5.0, "--close-margin-ms", help="Early close this much before the "
                                       "simulator's close time (timer wake-ups, hand-offs; docs/runtime.md)."),
    runner: str = typer.Option("onnx", "--runner", help="Embedded workers: onnx (the models) or sleep "
                               "(sleep the profiled time: no models needed)."),
    replan: Optional[str] = typer.Option(None, "--replan", help="Re-plan live on the measured rate with this "
                                         "policy: POLICY[:key=value,...], e.g. hysteresis:dwell_s=60 "
                                         "(embedded backend; docs/daynight.md)."),
    replan_tick: float = typer.Option(1.0, "--replan-tick", help="Seconds between re-planning decisions."),
    replan_half_life: float = typer.Option(60.0, "--replan-half-life", help="Rate estimator's EWMA half-life (s)."),
    replan_window: float = typer.Option(10.0, "--replan-window", help="Rate estimator's short window (s)."),
    record_batches: Optional[Path] = typer.Option(None, "--record-batches", help="Write every batch's latency "
                                                  "to this CSV (model,hardware,batch_size,latency_ms: "
                                                  "`skinflint calibrate` reads it)."),
    metrics_file: Optional[Path] = typer.Option(None, "--metrics-file", help="At exit, write the final "
                                                "/metrics text here."),
) -> None:
    """Serve APP.yaml's plan over HTTP: KServe v2 (/v2/models/APP/infer) and /v1/apps/APP/infer.

    Exit codes: 0 stopped by SIGTERM/SIGINT after a drain; 2 invalid input; 3 no plan meets the
    SLO; 4 the address is in use or not permitted."""
    from skinflint.dispatch import EarlyClose
    from skinflint.runtime import Runtime, make_backend
    from skinflint.runtime.batchlog import BatchLog
    from skinflint.runtime.edge.http import Limits
    from skinflint.runtime.live import policy_settings
    from skinflint.runtime.metrics import PrometheusMetrics
    from skinflint.runtime.server import listen, serve

    if not 0 < port < 65536:
        raise SpecError("command line", "--port", f"must be 1..65535 (got {port})", "pass a free TCP port")
    if min(max_body, max_in_flight or 1, max_frames, max_connections, max_concurrency) < 1 or \
            min(request_timeout, idle_timeout) <= 0 or close_margin < 0:
        raise SpecError("command line", "--max-*/--*-timeout", "must be positive",
                        "pass positive numbers")
    slack = slack_options(admit_slack)
    secret = read_token(token_file, token)
    if host not in LOOPBACK and not secret:
        typer.echo(f"warning: serving on {host} without a token: anyone who can reach it may use it", err=True)
    app_file, fleet = app_files[0], len(app_files) > 1
    options = backend_options(backend, address, runner, models or app_file.parent / "models",
                              replan is not None, plan_file is not None)
    if fleet and (replan is not None or plan_file is not None):
        raise SpecError("command line", "--replan/--plan", "a fleet is planned here, together",
                        "drop --plan and --replan to serve several apps")
    spec = load_spec(app_file)
    plan = None if replan is not None or fleet else (load_plan(plan_file) if plan_file else make_plan(spec))
    sock = listen(host, port)                # a port in use fails here (exit 4), before any worker starts
    limits = Limits(max_connections=max_connections, max_concurrency=max_concurrency, max_body=max_body,
                    request_timeout_s=request_timeout, idle_timeout_s=idle_timeout)
    log = BatchLog(record_batches) if record_batches else None
    runtime_options = {"early_close": None if no_early_close else EarlyClose(close_margin), "max_in_flight": max_in_flight,
                       "batch_log": log, **slack}
    edge_log()
    try:
        if fleet:
            runtime = fleet_runtime(app_files, make_backend(backend, **options), runtime_options)
        elif replan is not None:
            runtime = live_runtime(spec, replan, options, runtime_options,
                                   policy_settings(replan_tick, replan_half_life, replan_window), backend)
        else:
            runtime = Runtime(plan, spec, make_backend(backend, **options), metrics=PrometheusMetrics(),
                              **runtime_options)
        names = list(runtime.apps) if fleet else [spec.app.name]
        workers = len(runtime.router.hosts) if fleet else sum(len(w) for w in runtime.workers)
        typer.echo(f"serving {', '.join(names)} ({backend}, {workers} workers"
                   f"{', re-planning with ' + replan if replan else ''}) on "
                   f"http://{host}:{port}/v2/models/{names[0]}/infer", err=True)
        final = serve(runtime, sock=sock, token=secret, limits=limits, max_frames=max_frames)
        report_stop(final, runtime, metrics_file, log)
    finally:
        sock.close()
        if log is not None:
            log.close()


def slack_options(value: str) -> dict:
    """--admit-slack as the runtime's options: auto (measured, at most 1) or a fixed fraction."""
    if value == "auto":
        return {"admission_slack": 1.0, "measured_slack": True}
    try:
        slack = float(value)
    except ValueError:
        slack = float("nan")
    if not 0 < slack <= 1:
        raise SpecError("command line", "--admit-slack", f"must be auto or a number in (0, 1] (got {value!r})",
                        "pass --admit-slack auto or e.g. --admit-slack 0.8")
    return {"admission_slack": slack, "measured_slack": False}


def backend_options(backend: str, address: Optional[str], runner: str, models: Path, replan: bool,
                    plan_given: bool) -> dict:
    """The backend's options, the combinations checked (SpecError names the option)."""
    from skinflint.runtime.backends import backend_names
    if backend not in backend_names():
        raise SpecError("command line", "--backend", f"unknown backend {backend!r}",
                        f"choose one of: {', '.join(backend_names())}")
    options: dict = {"models_dir": models}
    if backend == "ray":
        options["address"] = address
    elif address:
        raise SpecError("command line", "--address", "only the ray backend takes an address", "add --backend ray")
    if replan and plan_given:
        raise SpecError("command line", "--replan", "live re-planning plans for itself", "drop --plan, or drop --replan")
    if runner != "onnx":
        if backend != "embedded":
            raise SpecError("command line", "--runner", "only the embedded backend takes a runner", "drop --runner")
        options["runner"] = runner
    return options


def report_stop(final: dict, runtime: object, metrics_file: Optional[Path], log: object) -> None:
    """After a drain: the final metrics to `metrics_file`, one line of counts on stderr."""
    if metrics_file is not None:
        render = getattr(getattr(runtime, "metrics", None), "render", None)
        metrics_file.write_bytes(render() if render else b"")
    typer.echo("stopped after a drain of {drained_s:.2f} s: {admitted} admitted, {refused} refused, "
               "{completed} completed ({on_time} on time), {failed} failed, {in_flight} left in flight"
               .format(**final) + (f"; {log.rows} batches logged" if log is not None else ""), err=True)


def read_token(token_file: Optional[Path], token: Optional[str]) -> Optional[str]:
    """The bearer token: --token-file's first line, else SKINFLINT_TOKEN, else --token (with a
    warning: a command-line argument shows in ps)."""
    if token_file is not None and token is not None:
        raise SpecError("command line", "--token/--token-file", "both given", "pass one (prefer --token-file)")
    if token_file is not None:
        try:
            lines = token_file.read_text().splitlines()
        except OSError as e:
            raise SpecError(token_file, "--token-file", f"cannot read it: {e.strerror}", "pass a readable file") from None
        if not lines or not lines[0].strip():
            raise SpecError(token_file, "--token-file", "the first line is empty", "write the token on line 1")
        return lines[0].strip()
    if token is not None:
        typer.echo("warning: --token shows in ps and the shell history: prefer --token-file FILE or "
                   "SKINFLINT_TOKEN", err=True)
        return token
    return os.environ.get("SKINFLINT_TOKEN") or None


def edge_log() -> None:
    """The edge's log lines (disconnects, timeouts, limits) on stderr, one line each."""
    import logging
    logger = logging.getLogger("skinflint.edge")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("skinflint: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def fleet_runtime(app_files: list[Path], backend: Backend, runtime_options: dict) -> FleetRuntime:
    """The apps planned together as a fleet (api.plan_fleet_files) and served by one router."""
    from skinflint.api import plan_fleet_files
    from skinflint.runtime import FleetRuntime
    from skinflint.runtime.metrics import PrometheusMetrics

    fleet = plan_fleet_files(app_files)
    return FleetRuntime(fleet, [load_spec(a) for a in app_files], backend, metrics=PrometheusMetrics,
                        **runtime_options)


def live_runtime(spec: Spec, replan: str, backend_options: dict, runtime_options: dict,
                 settings: LoopSettings, backend: str = "embedded") -> LiveRuntime:
    """A LiveRuntime re-planning `spec` with the policy `replan` (POLICY[:key=value,...])."""
    from skinflint.control import make_policy, policy_names
    from skinflint.runtime import make_backend
    from skinflint.runtime.live import LiveRuntime, make_runtime_factory

    name, params = parse_named(replan, "--replan", "POLICY:key=value,... (e.g. hysteresis:dwell_s=60)")
    if name not in policy_names():
        raise SpecError("command line", "--replan", f"unknown policy {name!r}",
                        f"choose one of: {', '.join(policy_names())}")
    policy = make_policy(name, **params)
    make = make_runtime_factory(spec, lambda: make_backend(backend, **backend_options), **runtime_options)
    return LiveRuntime(spec, policy, make, settings=settings)


@app.command("load")
def load_command(
    url: str = typer.Argument(..., help="Server base URL, e.g. http://127.0.0.1:8000"),
    rate: float = typer.Option(..., "--rate", help="Offered rate (req/s)."),
    duration: float = typer.Option(10.0, "--duration", help="Seconds of arrivals."),
    arrivals: str = typer.Option("poisson", "--arrivals", help="KIND[:key=value,...] (the simulator's processes)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the arrivals and the tensors."),
    protocol: str = typer.Option("v2", "--protocol", help="v2 (KServe v2, binary tensors) or v1 (.npy)."),
    frames: int = typer.Option(1, "--frames", help="Frames per v2 request (each one request of the runtime; "
                               "--rate counts frames)."),
    token_file: Optional[Path] = typer.Option(None, "--token-file", help="Bearer token file (or SKINFLINT_TOKEN)."),
    token: Optional[str] = typer.Option(None, "--token", help="Bearer token (shows in ps: prefer --token-file)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for one answer."),
    max_connections: int = typer.Option(2048, "--max-connections", help="Client connections at most."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    app_name: Optional[str] = typer.Option(None, "--app", help="Which app of a fleet server to load."),
) -> None:
    """Open-loop load on a `skinflint serve` URL: latency percentiles (from each scheduled send),
    SLO attainment, refusals, and the time the HTTP edge added (latency - the runtime's time)."""
    from urllib.parse import urlsplit

    import httpx

    from skinflint.runtime.loadgen import HttpClient, http_sender, infer_request, run_load

    if not (rate > 0 and duration > 0 and frames >= 1):
        raise SpecError("command line", "--rate/--duration/--frames", "must be positive",
                        "pass e.g. --rate 50 --duration 10")
    if protocol == "v1" and frames != 1:
        raise SpecError("command line", "--frames", "v1 carries one frame a request", "add --protocol v2")
    if fmt not in ("table", "json") or protocol not in ("v1", "v2"):
        raise SpecError("command line", "--format/--protocol", f"unknown {fmt!r}/{protocol!r}",
                        "use --format table|json, --protocol v1|v2")
    secret = read_token(token_file, token)
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    try:
        path = f"/v1/apps/{app_name}/plan" if app_name else "/v1/plan"
        info = httpx.get(f"{url.rstrip('/')}{path}", headers=headers, timeout=timeout).json()
        if "fleet" in info:
            raise KeyError(f"app: the server runs a fleet, pass --app (one of {', '.join(info['apps'])})")
        shape, app_name, slo = info["input_shape"], info["plan"]["app"], float(info["slo_ms"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        reason = f"the answer has no {e} (not a skinflint server?)" if isinstance(e, KeyError) else e
        raise SpecError("command line", "URL", f"cannot read {url.rstrip('/')}/v1/plan: {reason}",
                        "pass the base URL of `skinflint serve`, e.g. http://127.0.0.1:8000 "
                        "(and --token-file)") from None
    where = urlsplit(url)
    rng = np.random.default_rng(seed)
    times = np.asarray(parse_arrivals(arrivals, rate / frames).times_ms(duration, rng), dtype=float)
    frame = rng.random(shape, dtype=np.float32)

    async def main() -> dict:
        client = HttpClient(where.hostname or "127.0.0.1", where.port or 80, max_connections)
        raw = infer_request(client, protocol, app_name, frame, secret, frames)
        report = await run_load(http_sender(client, raw, timeout), times, slo, duration)
        client.close()
        return report.as_dict()

    from skinflint.runtime.server import new_loop
    loop = new_loop()               # uvloop where installed: the generator's own CPU per request halves
    try:
        out = loop.run_until_complete(main())
    finally:
        loop.close()
    if fmt == "json":
        print(json.dumps(out, indent=2))
        return
    lat, edge, ref = out["latency_ms"], out["edge_ms"], out["refused_ms"]
    typer.echo(f"sent {out['sent']} ({out['offered_rate']:.1f}/s, {arrivals}); outcomes {out['outcomes']}; "
               f"lost {out['lost']}")
    typer.echo(f"latency ms: p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}"
               f"; added by the edge p50 {edge['p50']:.2f}  p99 {edge['p99']:.2f}; time to a 503 p99 {ref['p99']:.1f}")
    typer.echo(f"SLO {slo:g} ms: attainment {out['slo_attainment']:.1%} of sent, "
               f"{out['admitted_on_time']:.1%} of answered")
