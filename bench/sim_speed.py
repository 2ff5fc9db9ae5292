"""Simulated requests per second of wall time, on one core, for a 1-module and a 4-module plan,
on the vectorised fast path (cyclic dispatch) and on the general event-driven engine.

    .venv/bin/python bench/sim_speed.py [--repeat 3] [--path event]
    .venv/bin/python bench/sim_speed.py --against /path/to/other/checkout [--path event]

Plans: the traffic example's detector alone (1 module), and detector -> {vehicle_type, make_model}
(x2.5 fan-out) -> a join module (4 modules), planned by the default planner at 300 req/s.
Arrivals: Poisson at the planned rate, drawn before timing. Prints the median of the repeats.
`--against DIR` measures DIR's `src/` (e.g. a `git worktree` of main) and this checkout's side
by side, alternating one fresh process of each per repeat (each the median of three runs), and
prints the medians and their ratio.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
APP = HERE / "examples" / "traffic" / "app.yaml"
COUNTS = {("1-module", "vector"): 10_000_000, ("4-module DAG", "vector"): 2_000_000,
          ("1-module", "event"): 300_000, ("4-module DAG", "event"): 60_000}


def specs() -> dict:
    """The two benchmark applications by name."""
    import skinflint
    from skinflint.spec.types import Module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = skinflint.load_spec(APP)
    detect, vehicle, make = spec.app.modules
    join = Module("report", vehicle.model, ("vehicle_type", "make_model"), 1.0)
    return {"1-module": replace(spec, app=replace(spec.app, modules=(detect,))),
            "4-module DAG": replace(spec, app=replace(spec.app, modules=(detect, vehicle, make, join)))}


def measure(name: str, n: int, engine: str, repeat: int) -> list[float]:
    """req/s of each of `repeat` runs of `n` Poisson requests on plan `name`, path `engine`."""
    import skinflint
    from skinflint.sim import make_arrivals, simulate

    spec = specs()[name]
    plan = skinflint.plan_spec(spec)
    times = make_arrivals("poisson", rate=plan.rate).times_ms(n / plan.rate, np.random.default_rng(0))
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = simulate(plan, spec, times, n / plan.rate, np.random.default_rng(1), engine=engine)
        rates.append(times.size / (time.perf_counter() - start))
        assert result.completed == result.requests == times.size
    return rates


def rows(path: str, scale: float) -> list[tuple[str, str, int]]:
    """(plan, path, requests) of the table."""
    return [(name, engine, int(COUNTS[(name, engine)] * scale)) for name in ("1-module", "4-module DAG")
            for engine in ("vector", "event") if path in ("both", engine)]


def one_run(tree: Path, name: str, engine: str, n: int) -> float:
    """The median of three runs (the first pays for fresh memory) in a fresh process importing `tree`/src."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    out = subprocess.run([sys.executable, __file__, "--worker", name, engine, str(n)], env=env, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def side_by_side(other: Path, table: list[tuple[str, str, int]], repeat: int) -> None:
    """Median req/s of `other` (before) and of this checkout (after), alternating runs, and their
    ratio, as a Markdown table."""
    print(f"req/s on one core, median of {repeat} alternating processes; before = {other.name}, after = {HERE.name}\n")
    print("| plan | path | requests | before | after | after/before |\n|---|---|---:|---:|---:|---:|")
    for name, engine, n in table:
        runs: dict[Path, list[float]] = {other: [], HERE: []}
        for _ in range(repeat):
            for tree in (other, HERE):
                runs[tree].append(one_run(tree, name, engine, n))
        before, after = statistics.median(runs[other]), statistics.median(runs[HERE])
        print(f"| {name} | {engine} | {n:,} | {before:,.0f} | {after:,.0f} | {after / before:.2f}x |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    ap.add_argument("--path", choices=("both", "vector", "event"), default="both")
    ap.add_argument("--against", type=Path, help="another checkout to measure side by side")
    ap.add_argument("--worker", nargs=3, metavar=("PLAN", "PATH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if args.worker:
        name, engine, n = args.worker
        print(statistics.median(measure(name, int(n), engine, 3)))
        return
    table = rows(args.path, args.scale)
    if args.against:
        side_by_side(args.against.resolve(), table, args.repeat)
        return
    print(f"{'plan':<14} {'path':<7} {'requests':>11} {'req/s (median)':>15}   (one core, simulate() wall time)")
    for name, engine, n in table:
        print(f"{name:<14} {engine:<7} {n:>11,} {statistics.median(measure(name, n, engine, args.repeat)):>15,.0f}")


def record_argv(argv: list[str]) -> list[str]:
    """The command line that names the results file: `--against` without the other checkout's path."""
    return [a for k, a in enumerate(argv) if k == 0 or argv[k - 1] != "--against"]


if __name__ == "__main__":
    if "--worker" in sys.argv:   # one run for side_by_side: its figure on stdout only
        main()
    else:
        from record import record

        with record(__file__, record_argv(sys.argv[1:])):
            main()
