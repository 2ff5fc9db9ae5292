"""`skinflint simulate APP.yaml`: run a plan (given, or made now) through the simulator;
`skinflint simulate A.yaml B.yaml ...`: plan the apps as a fleet (shared pools) and simulate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from skinflint.api import plan as make_plan
from skinflint.api import plan_fleet_files
from skinflint.cli import app
from skinflint.commands.conventions import check_simulation
from skinflint.commands.parsing import parse_arrivals
from skinflint.errors import SpecError
from skinflint.plan import load_plan
from skinflint.report.sim_tables import print_fleet, print_result, write_cdf
from skinflint.sim import parse_jitter, simulate, simulate_fleet
from skinflint.spec.bounds import MAX_REQUESTS
from skinflint.spec.loader import load_spec


@app.command("simulate")
def simulate_command(
    app_files: list[Path] = typer.Argument(..., help="Application YAML (FORMATS.md); several: plan them "
                                           "together as a fleet (shared pools) and simulate the fleet."),
    plan_file: Optional[Path] = typer.Option(None, "--plan", help="Plan JSON to simulate (default: plan now)."),
    arrivals: str = typer.Option("poisson", "--arrivals",
                                 help="KIND[:key=value,...]: uniform, poisson, bursty, onoff, varying, diurnal, replay."),
    duration: float = typer.Option(60.0, "--duration", help="Seconds of arrivals to simulate."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random generator."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Offered rate (default: the app's)."),
    headroom: float = typer.Option(0.0, "--headroom", help="When planning: plan for rate x (1 + headroom)."),
    planner: str = typer.Option("optimal", "--planner", help="When planning: the planner."),
    dispatch: Optional[str] = typer.Option(None, "--dispatch", help="Run every module with this policy "
                                           "(cyclic, adaptive, round-robin); default: the plan's."),
    early_close: bool = typer.Option(False, "--early-close/--no-early-close", help="Deadline-aware early close of partial batches."),
    jitter: Optional[str] = typer.Option(None, "--jitter", help="Batch time jitter: lognormal:SIGMA or uniform:LO,HI."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    cdf: Optional[Path] = typer.Option(None, "--cdf", help="Write a latency CDF plot (PNG) here."),
    max_requests: int = typer.Option(MAX_REQUESTS, "--max-requests", help="Refuse runs of more requests than this."),
) -> None:
    """Simulate a plan for APP.yaml (or a fleet plan for several): latency percentiles, SLO attainment,
    drops, batches, utilisation, cost."""
    if fmt not in ("table", "json"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table or json")
    if seed < 0:
        raise SpecError("command line", "--seed", f"must be >= 0 (got {seed})", "pass a non-negative integer")
    if len(app_files) > 1:
        _simulate_fleet(app_files, plan_file, arrivals, duration, seed, rate, headroom, planner, dispatch,
                        early_close, jitter, fmt, cdf, max_requests)
        return
    spec = load_spec(app_files[0])
    plan = load_plan(plan_file, spec) if plan_file else make_plan(spec, planner=planner, headroom=headroom)
    offered = plan.offered_rate if rate is None else rate
    if not offered > 0:
        raise SpecError("command line", "--rate", f"must be positive (got {offered})", "pass a positive rate")
    process = parse_arrivals(arrivals, offered)
    check_simulation([plan], [process], duration, max_requests)
    result = simulate(plan, spec, process, duration, np.random.default_rng(seed), dispatch=dispatch,
                      early_close=early_close, jitter=parse_jitter(jitter) if jitter else None)
    if cdf is not None:
        write_cdf(result, cdf)
    if fmt == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print_result(result)


def _simulate_fleet(app_files: list[Path], plan_file: Optional[Path], arrivals: str, duration: float, seed: int,
                    rate: Optional[float], headroom: float, planner: str, dispatch: Optional[str],
                    early_close: bool, jitter: Optional[str], fmt: str, cdf: Optional[Path],
                    max_requests: int = MAX_REQUESTS) -> None:
    """Plan the apps together (api.plan_fleet_files) and simulate the fleet, each app with its own
    arrival process at its offered rate."""
    for given, option in ((plan_file, "--plan"), (rate, "--rate"), (cdf, "--cdf")):
        if given is not None:
            raise SpecError("command line", option, "applies to one application, not to a fleet",
                            f"drop {option} or simulate the apps one by one")
    fleet = plan_fleet_files(app_files, planner=planner, headroom=headroom)
    specs = [load_spec(f) for f in app_files]
    processes = [parse_arrivals(arrivals, p.offered_rate) for p in fleet.apps]
    check_simulation(list(fleet.apps) + [fleet], processes, duration, max_requests)
    results = simulate_fleet(fleet, specs, processes, duration, np.random.default_rng(seed), dispatch=dispatch,
                             early_close=early_close, jitter=parse_jitter(jitter) if jitter else None)
    if fmt == "json":
        print(json.dumps({"fleet": [r.to_dict() for r in results], "pools": [p.to_dict() for p in fleet.pools],
                          "cost_per_hour": fleet.cost_per_hour}, indent=2))
    else:
        print_fleet(results, fleet)
