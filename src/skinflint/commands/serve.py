"""`skinflint serve APP.yaml` and `skinflint load URL`: run a plan for real, and load it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import typer

from skinflint.api import plan as make_plan
from skinflint.cli import app
from skinflint.commands.simulate import load_plan, parse_arrivals, parse_named
from skinflint.errors import SpecError
from skinflint.spec.loader import load_spec
from skinflint.spec.types import Spec

if TYPE_CHECKING:
    from skinflint.daynight.loop import LoopSettings
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
    token: Optional[str] = typer.Option(None, "--token", envvar="SKINFLINT_TOKEN",
                                        help="Require 'Authorization: Bearer TOKEN'."),
    max_body: int = typer.Option(16 * 1024 * 1024, "--max-body", help="Largest request body in bytes."),
    max_in_flight: int = typer.Option(1000, "--max-in-flight", help="Bound on requests in the runtime."),
    no_early_close: bool = typer.Option(False, "--no-early-close", help="Never close a partial batch early."),
    close_margin: float = typer.Option(5.0, "--close-margin-ms", help="Early close this much before the "
                                       "simulator's close time (timer wake-ups, hand-offs; docs/runtime.md)."),
    runner: str = typer.Option("onnx", "--runner", help="Embedded workers: onnx (the models) or sleep "
                               "(sleep the profiled time: no models needed)."),
    replan: Optional[str] = typer.Option(None, "--replan", help="Re-plan live on the measured rate with this "
                                         "policy: POLICY[:key=value,...], e.g. hysteresis:dwell_s=60 "
                                         "(workers common to both plans are handed over; docs/daynight.md)."),
    replan_tick: float = typer.Option(1.0, "--replan-tick", help="Seconds between re-planning decisions."),
    replan_half_life: float = typer.Option(60.0, "--replan-half-life", help="Rate estimator's EWMA half-life (s)."),
    replan_window: float = typer.Option(10.0, "--replan-window", help="Rate estimator's short window (s)."),
    record_batches: Optional[Path] = typer.Option(None, "--record-batches", help="Write every batch's latency "
                                                  "to this CSV (model,hardware,batch_size,latency_ms: "
                                                  "`skinflint calibrate` reads it)."),
) -> None:
    """Serve APP.yaml's plan over HTTP: POST /v1/apps/APP/infer, GET /healthz, /v1/plan, /metrics."""
    from skinflint.dispatch import EarlyClose
    from skinflint.runtime import Runtime, make_backend
    from skinflint.runtime.batchlog import BatchLog
    from skinflint.runtime.live import policy_settings
    from skinflint.runtime.metrics import PrometheusMetrics
    from skinflint.runtime.server import serve

    if not 0 < port < 65536:
        raise SpecError("command line", "--port", f"must be 1..65535 (got {port})", "pass a free TCP port")
    if max_body < 1 or max_in_flight < 1:
        raise SpecError("command line", "--max-body/--max-in-flight", "must be positive", "pass positive numbers")
    if host not in LOOPBACK and not token:
        typer.echo(f"warning: serving on {host} without --token: anyone who can reach it may use it", err=True)
    app_file = app_files[0]
    spec = load_spec(app_file)
    options: dict = {"models_dir": models or app_file.parent / "models"}
    if backend == "ray":
        options["address"] = address
    elif address:
        raise SpecError("command line", "--address", "only the ray backend takes an address", "add --backend ray")
    if replan is not None and plan_file is not None:
        raise SpecError("command line", "--replan", "live re-planning plans for itself", "drop --plan, or drop --replan")
    if runner != "onnx":
        options["runner"] = runner
    log = BatchLog(record_batches) if record_batches else None
    if close_margin < 0:
        raise SpecError("command line", "--close-margin-ms", f"must be >= 0 (got {close_margin})", "pass e.g. 5")
    runtime_options = {"early_close": None if no_early_close else EarlyClose(close_margin),
                       "max_in_flight": max_in_flight, "batch_log": log}
    try:
        if len(app_files) > 1:
            if replan is not None or plan_file is not None:
                raise SpecError("command line", "--replan/--plan", "a fleet is planned here, together",
                                "drop --plan and --replan to serve several apps")
            runtime = fleet_runtime(app_files, make_backend(backend, **options), runtime_options)
        elif replan is not None:
            runtime = live_runtime(spec, replan, options, runtime_options,
                                   policy_settings(replan_tick, replan_half_life, replan_window), backend)
        else:
            plan = load_plan(plan_file) if plan_file else make_plan(spec)
            runtime = Runtime(plan, spec, make_backend(backend, **options), metrics=PrometheusMetrics(),
                              **runtime_options)
        names = list(getattr(runtime, "apps", None) or [spec.app.name])
        workers = len(runtime.router.hosts) if len(app_files) > 1 else sum(len(w) for w in runtime.workers)
        typer.echo(f"serving {', '.join(names)} ({backend}, {workers} workers"
                   f"{', re-planning with ' + replan if replan else ''}) on "
                   f"http://{host}:{port}/v1/apps/{names[0]}/infer", err=True)
        serve(runtime, host=host, port=port, token=token, max_body=max_body)
    finally:
        if log is not None:
            log.close()


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
    token: Optional[str] = typer.Option(None, "--token", envvar="SKINFLINT_TOKEN", help="Bearer token."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for one answer."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    app_name: Optional[str] = typer.Option(None, "--app", help="Which app of a fleet server to load."),
) -> None:
    """Open-loop load on a `skinflint serve` URL: latency percentiles, SLO attainment, refusals."""
    import httpx

    from skinflint.runtime.loadgen import http_sender, npy_bytes, run_load

    if not (rate > 0 and duration > 0):
        raise SpecError("command line", "--rate/--duration", "must be positive", "pass e.g. --rate 50 --duration 10")
    if fmt not in ("table", "json"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table or json")
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        where = f"/v1/apps/{app_name}/plan" if app_name else "/v1/plan"
        info = httpx.get(f"{url.rstrip('/')}{where}", headers=headers, timeout=timeout).json()
        if "fleet" in info:
            raise SpecError("command line", "--app", f"{url} serves a fleet", f"pass --app, one of: {', '.join(info['apps'])}")
        shape, app_name, slo = info["input_shape"], info["plan"]["app"], float(info["slo_ms"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        reason = f"the answer has no {e} (not a skinflint server?)" if isinstance(e, KeyError) else e
        raise SpecError("command line", "URL", f"cannot read {url.rstrip('/')}/v1/plan: {reason}",
                        "pass the base URL of `skinflint serve`, e.g. http://127.0.0.1:8000 (and --token)") from None
    rng = np.random.default_rng(seed)
    times = np.asarray(parse_arrivals(arrivals, rate).times_ms(duration, rng), dtype=float)
    body = npy_bytes(rng.random(shape, dtype=np.float32))

    async def main() -> dict:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
        async with httpx.AsyncClient(limits=limits) as client:
            report = await run_load(http_sender(client, url, app_name, body, token, timeout), times, slo, duration)
        return report.as_dict()

    out = asyncio.run(main())
    if fmt == "json":
        print(json.dumps(out, indent=2))
        return
    lat = out["latency_ms"]
    typer.echo(f"sent {out['sent']} ({out['offered_rate']:.1f}/s, {arrivals}); outcomes {out['outcomes']}; "
               f"lost {out['lost']}")
    typer.echo(f"latency ms: p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}")
    typer.echo(f"SLO {slo:g} ms: attainment {out['slo_attainment']:.1%} of sent, "
               f"{out['admitted_on_time']:.1%} of answered")
