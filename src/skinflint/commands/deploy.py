"""`skinflint deploy k8s|triton|grafana`: a plan out to KubeRay, Triton and Grafana (docs/deploy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.plan import load_plan
from skinflint.errors import SpecError

deploy_app = typer.Typer(help="A plan out to KubeRay, Triton and Grafana.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")

MAP_HELP = "Hardware map YAML (default: the bundled one for the public catalog)."


@deploy_app.command("k8s")
def k8s_command(
    plan_file: Path = typer.Argument(..., help="Plan JSON (skinflint plan --format json -o PLAN.json)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write the manifests into."),
    hardware_map: Optional[Path] = typer.Option(None, "--hardware-map", help=MAP_HELP),
    image: str = typer.Option("skinflint-ray:latest", "--image",
                              help="Image with Ray and skinflint[serve,ray,profile] (docs/deploy.md)."),
    name: Optional[str] = typer.Option(None, "--name", help="RayCluster name (default: skinflint-APP)."),
    namespace: Optional[str] = typer.Option(None, "--namespace", help="Namespace of every object."),
    app_file: str = typer.Option("app.yaml", "--app-file", help="The app YAML, relative to the models volume."),
    models_volume: str = typer.Option("pvc", "--models-volume", help="pvc, or hostpath:/path/on/every/node."),
    claim: str = typer.Option("skinflint-models", "--models-claim", help="PersistentVolumeClaim of the app folder."),
    claim_size: str = typer.Option("20Gi", "--models-size", help="Size the claim asks for."),
    storage_class: Optional[str] = typer.Option(None, "--storage-class", help="Storage class (ReadWriteMany)."),
    port: int = typer.Option(8000, "--port", help="HTTP port of skinflint serve."),
    peak_plan: Optional[Path] = typer.Option(None, "--peak-plan", help="Plan at the peak rate: enables the Ray "
                                             "autoscaler between this plan's workers and the peak's."),
) -> None:
    """KubeRay RayCluster + Service + plan ConfigMap + models claim for PLAN.json."""
    from skinflint.deploy.hardware_map import load_hardware_map
    from skinflint.deploy.kuberay import K8sOptions, manifests, write_manifests

    if not 0 < port < 65536:
        raise SpecError("command line", "--port", f"must be 1..65535 (got {port})", "pass a TCP port")
    plan = load_plan(plan_file)
    peak = load_plan(peak_plan) if peak_plan else None
    if peak is not None and peak.app != plan.app:
        raise SpecError(peak_plan, "app", f"peak plan is for app {peak.app!r}, the plan for {plan.app!r}",
                        "plan the same app at its peak rate")
    source, hmap = load_hardware_map(hardware_map)
    options = K8sOptions(image=image, name=name, namespace=namespace, app_file=app_file, models_volume=models_volume,
                         claim=claim, claim_size=claim_size, storage_class=storage_class, port=port)
    paths = write_manifests(manifests(plan, hmap, source, options, peak), output)
    groups = ", ".join(f"{n} x {hw}" for hw, n in plan.workers_by_hardware().items())
    typer.echo(f"wrote {', '.join(str(p) for p in paths)}: workers {groups} (${plan.cost_per_hour:.3f}/h); "
               f"kubectl apply -f {output}")


@deploy_app.command("triton")
def triton_command(
    plan_file: Path = typer.Argument(..., help="Plan JSON (best: skinflint plan APP --planner triton --format json)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for MODULE/config.pbtxt fragments."),
    hardware_map: Optional[Path] = typer.Option(None, "--hardware-map", help=MAP_HELP + " Decides KIND_GPU/KIND_CPU."),
) -> None:
    """Per-module config.pbtxt fragments (instance groups, batch sizes, queue delay) for Triton's batcher."""
    from skinflint.deploy.hardware_map import load_hardware_map
    from skinflint.deploy.triton import fragments, write_fragments

    plan = load_plan(plan_file)
    _, hmap = load_hardware_map(hardware_map)
    frags, notes = fragments(plan, hmap)
    write_fragments(frags, output)
    for f in frags:
        state = "within budget" if f.fits else "OVER BUDGET under Triton's batcher"
        typer.echo(f"{output / f.path}: W_rr {f.worst_latency_ms:.1f} ms, budget {f.budget_ms:.1f} ms ({state})")
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if not all(f.fits for f in frags):
        typer.echo("note: this plan relies on batch-aware dispatch; plan with --planner triton for Triton's batcher",
                   err=True)


@deploy_app.command("grafana")
def grafana_command(
    output: Path = typer.Option(Path("dashboard.json"), "--output", "-o", help="Dashboard JSON to write."),
    title: str = typer.Option("skinflint", "--title", help="Dashboard title."),
    uid: str = typer.Option("skinflint", "--uid", help="Dashboard uid (stable across imports)."),
) -> None:
    """A Grafana dashboard for the metrics of `skinflint serve` (import it into Grafana)."""
    from skinflint.deploy.grafana import dashboard_json

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(dashboard_json(title, uid), encoding="utf-8")
    typer.echo(f"wrote {output}: import it in Grafana (Dashboards > New > Import) and pick the Prometheus data "
               "source that scrapes skinflint serve's /metrics")
