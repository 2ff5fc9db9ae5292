"""What headroom buys: SLO attainment and cost of the demo app's plan against headroom, with and
without deadline-aware early close, under Poisson and bursty arrivals at the app's rate.

    .venv/bin/python bench/sim_headroom.py [--duration 120] [--seeds 3] [--slo-ms MS] [--bursty R,B,S ...]

Prints a Markdown table (docs/simulator.md records it). Bursty "xR, B s, S %" = two-state MMPP:
bursts at R x the mean rate for S % of the time, B s long on average, the mean rate kept.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

import skinflint
from skinflint.planners import PlanOptions
from skinflint.sim import make_arrivals, percentiles, simulate

APP = Path(__file__).resolve().parent.parent / "examples" / "traffic" / "app.yaml"
HEADROOMS = (0.0, 0.05, 0.10, 0.20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--slo-ms", type=float, default=None, help="override the app's SLO")
    ap.add_argument("--bursty", action="append", default=None, metavar="RATIO,BURST_S,SHARE",
                    help="bursty settings (repeatable; default 1.5,0.5,0.2 and 2,1,0.2)")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = skinflint.load_spec(APP, slo_ms=args.slo_ms)
    rate = spec.app.rate
    processes = {"poisson": make_arrivals("poisson", rate=rate)}
    for text in args.bursty or ["1.5,0.5,0.2", "2,1,0.2"]:
        ratio, burst_s, share = (float(v) for v in text.split(","))
        processes[f"bursty x{ratio:g}, {burst_s:g} s, {100 * share:g} %"] = make_arrivals(
            "bursty", rate=rate, ratio=ratio, burst_s=burst_s, share=share)
    print(f"{spec.app.name}: {rate:g} req/s offered, SLO {spec.app.slo_ms:g} ms, {args.duration:g} s x "
          f"{args.seeds} seeds per cell; attainment = share of requests within the SLO (p99 in ms)\n")
    print("| arrivals | headroom | $/h | attained, no early close | attained, early close |")
    print("|---|---:|---:|---:|---:|")
    for label, process in processes.items():
        for h in HEADROOMS:
            plan = skinflint.plan_spec(spec, options=PlanOptions(headroom=h))
            cells = []
            for early in (False, True):
                on_time = total = 0
                lat = []
                for seed in range(args.seeds):
                    r = simulate(plan, spec, process, args.duration, np.random.default_rng(seed), early_close=early)
                    on_time += r.on_time
                    total += r.requests
                    lat.append(r.latency_ms)
                p99 = percentiles(np.concatenate(lat))["p99"]
                cells.append(f"{100 * on_time / total:.2f} % (p99 {p99:,.0f})")
            print(f"| {label} | {100 * h:g} % | {plan.cost_per_hour:.3f} | {cells[0]} | {cells[1]} |")
    night(spec, args)


def night(spec, args) -> None:
    """Day and night: a plan for the peak, traffic swinging from 0.9 x to 0.1 x the planned rate."""
    plan = skinflint.plan_spec(spec)
    print(f"\nday/night: plan for the peak ({spec.app.rate:g} req/s, ${plan.cost_per_hour:.3f}/h); diurnal arrivals, "
          f"period 120 s, {args.duration * 2:g} s x {args.seeds} seeds\n")
    print("| mean rate (peak-trough) | attained, no early close | attained, early close |")
    print("|---|---:|---:|")
    for mean in (0.5 * spec.app.rate, 0.2 * spec.app.rate):
        process = make_arrivals("diurnal", rate=mean, amplitude=0.8, period_s=120)
        cells = []
        for early in (False, True):
            runs = [simulate(plan, spec, process, 2 * args.duration, np.random.default_rng(s), early_close=early)
                    for s in range(args.seeds)]
            lat = percentiles(np.concatenate([r.latency_ms for r in runs]))
            cells.append(f"{100 * sum(r.on_time for r in runs) / sum(r.requests for r in runs):.2f} % "
                         f"(p99 {lat['p99']:,.0f}, max {lat['max']:,.0f})")
        print(f"| {mean:g} ({1.8 * mean:g}-{0.2 * mean:g}) | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
