"""Simulated requests per second of wall time, on one core, for a 1-module and a 4-module plan,
on the vectorised fast path (cyclic dispatch) and on the general event-driven engine.

    .venv/bin/python bench/sim_speed.py [--repeat 3]

Plans: the traffic example's detector alone (1 module), and detector -> {vehicle_type, make_model}
(x2.5 fan-out) -> a join module (4 modules), planned by the default planner at 300 req/s.
Arrivals: Poisson at the planned rate, drawn before timing. Prints the median of the repeats.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import skinflint  # noqa: E402
from skinflint.sim import make_arrivals, simulate  # noqa: E402
from skinflint.spec.types import Module  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "examples" / "traffic" / "app.yaml"


def specs() -> dict[str, skinflint.spec.types.Spec]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = skinflint.load_spec(APP)
    detect, vehicle, make = spec.app.modules
    join = Module("report", vehicle.model, ("vehicle_type", "make_model"), 1.0)
    return {"1-module": replace(spec, app=replace(spec.app, modules=(detect,))),
            "4-module DAG": replace(spec, app=replace(spec.app, modules=(detect, vehicle, make, join)))}


def measure(plan, spec, n: int, engine: str, repeat: int) -> float:
    times = make_arrivals("poisson", rate=plan.rate).times_ms(n / plan.rate, np.random.default_rng(0))
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = simulate(plan, spec, times, n / plan.rate, np.random.default_rng(1), engine=engine)
        walls.append(time.perf_counter() - start)
        assert result.completed == result.requests == times.size
    return times.size / statistics.median(walls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    counts = {("1-module", "vector"): 10_000_000, ("4-module DAG", "vector"): 2_000_000,
              ("1-module", "event"): 300_000, ("4-module DAG", "event"): 60_000}
    print(f"{'plan':<14} {'path':<7} {'requests':>11} {'req/s (median)':>15}   (one core, simulate() wall time)")
    for name, spec in specs().items():
        plan = skinflint.plan_spec(spec)
        for engine in ("vector", "event"):
            n = int(counts[(name, engine)] * args.scale)
            rate = measure(plan, spec, n, engine, args.repeat)
            print(f"{name:<14} {engine:<7} {n:>11,} {rate:>15,.0f}")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
