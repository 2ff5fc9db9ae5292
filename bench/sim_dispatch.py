"""Adaptive against cyclic batch-aware dispatch, under uniform, Poisson and bursty arrivals.

    .venv/bin/python bench/sim_dispatch.py [--apps 100] [--seed 0] [--headroom 0.1]

On the demo app and on random small applications (1-4 modules, fan-out, 1-3 hardware types,
random profiles and SLOs, like the property test's), each planned by the default planner. Uniform
arrivals run at the planned rate (MODEL.md's setting: does the policy keep every promise?);
Poisson and bursty ones at the offered rate of a plan with `--headroom`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

import skinflint
from skinflint.planners import PlanOptions
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.sim import make_arrivals, percentiles, promise_violations, simulate
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec

APP = Path(__file__).resolve().parent.parent / "examples" / "traffic" / "app.yaml"
POLICIES = ("cyclic", "adaptive")


def random_spec(rng: np.random.Generator) -> Spec:
    """A random small application (the property test's distribution, drawn with numpy)."""
    hardware = {f"h{k}": Hardware(f"h{k}", float(rng.choice([0.3, 0.5, 1.0, 2.2, 3.1]))) for k in range(rng.integers(1, 4))}
    modules: list[Module] = []
    for k in range(rng.integers(1, 5)):
        parents: tuple[str, ...] = ()
        if modules and rng.random() < 0.85:
            parents = tuple(sorted({modules[i].name for i in rng.integers(0, len(modules), rng.integers(1, 3))}))
        modules.append(Module(f"m{k}", f"model{k}", parents, float(rng.choice([1, 1, 1, 0.5, 2, 2.5, 3]))))
    rows = []
    for m in modules:
        for h in hardware:
            if h != "h0" and rng.random() < 0.25:
                continue
            base, per = rng.uniform(0.5, 30), rng.uniform(0.05, 8)
            for b in sorted({1} | set(rng.choice([2, 4, 8, 16, 32], rng.integers(0, 5)).tolist())):
                rows.append((Path("random.csv"), "x", (m.model, h, b, round((base + per * b) * rng.uniform(0.8, 1.2), 3))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles(rows)
    rate = float(rng.choice([7.5, 30, 100, 333, 1000, 2000]))
    spec = Spec(App("random", rate, 1.0, tuple(modules), float(rng.choice([0.0, 1.5]))), hardware, profiles)
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    return replace(spec, app=replace(spec.app, slo_ms=round(least * rng.uniform(1.0, 3.0), 3) + 0.001))


def run(specs: list[Spec], headroom: float, seed: int) -> dict[tuple[str, str], dict[str, float]]:
    stats: dict[tuple[str, str], dict[str, list[float]]] = {}
    for spec in specs:
        planned = skinflint.plan_spec(spec)
        with_headroom = skinflint.plan_spec(spec, options=PlanOptions(headroom=headroom))
        duration = max(20.0, 3000.0 / spec.app.rate)
        for kind in ("uniform", "poisson", "bursty"):
            plan = planned if kind == "uniform" else with_headroom
            rate = plan.rate if kind == "uniform" else spec.app.rate
            process = (make_arrivals(kind, rate=rate) if kind != "bursty"
                       else make_arrivals("bursty", rate=rate, ratio=1.5, burst_s=0.5, share=0.2))
            times = process.times_ms(duration, np.random.default_rng(seed))
            for policy in POLICIES:
                r = simulate(plan, spec, times, duration, np.random.default_rng(seed), dispatch=policy, engine="event")
                p = percentiles(r.latency_ms)
                s = stats.setdefault((kind, policy), {"broken": [], "attained": [], "p99": [], "max": []})
                if kind == "uniform":  # the promise is made for uniform arrivals at the planned rate
                    s["broken"].append(float(bool(promise_violations(r))))
                s["attained"].append(r.slo_attainment)
                s["p99"].append(p["p99"] / r.model.slo_ms)
                s["max"].append(p["max"] / r.model.slo_ms)
    return {k: {m: (float(np.median(v)) if m in ("p99", "max") else float(np.mean(v)) if v else float("nan"))
                for m, v in s.items()} for k, s in stats.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--headroom", type=float, default=0.1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = skinflint.load_spec(APP)
    suites = {"demo app": [demo], f"{args.apps} random apps": [random_spec(rng) for _ in range(args.apps)]}
    print(f"uniform at the planned rate; poisson and bursty (x1.5 for 20 % of the time, 0.5 s bursts) at the "
          f"offered rate, plan with {100 * args.headroom:g} % headroom\n")
    print("| apps | arrivals | policy | plans with a broken promise | mean SLO attainment | median p99 / SLO | "
          "median max / SLO |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, specs in suites.items():
        for (kind, policy), s in run(specs, args.headroom, args.seed).items():
            broken = f"{100 * s['broken']:.1f} %" if s["broken"] == s["broken"] else "-"
            print(f"| {name} | {kind} | {policy} | {broken} | {100 * s['attained']:.2f} % | "
                  f"{s['p99']:.3f} | {s['max']:.3f} |")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
