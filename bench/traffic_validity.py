"""Do plans hold under the traffic they were made for? (issue 11's "Must show", MODEL.md's check)

For every workload — the baselines suite's applications built from public NVIDIA profiles, and
random applications (skinflint.testing.instances) — and every traffic below at targets 0.999 and
0.99, the default planner makes its plan; the plan is then re-simulated on seeds it never used,
each run as long as one of the planner's two sets of seeds (the search's and the confirmation's), and counts as holding when it
attains at least alpha - (1 - alpha) / 2. Printed per traffic and target: plans, runs, the share
that holds, the worst run; the plan's cost against MODEL.md's two references (the exact optimum
at the smallest single headroom that reaches the target — never to be exceeded — and the uniform
optimum); planning time.

  poisson       Poisson arrivals at the app's rate (fan-out together, the profile's jitter)
  mmpp          bursts at 1.5 x the rate for 20 % of the time (mmpp:ratio=1.5,share=0.2)
  cameras       periodic cameras at 10 fps with 5 ms jitter (as many as the rate needs)
  poisson-crops Poisson arrivals, Poisson crop counts, 10 % lognormal batch-time jitter

    .venv/bin/python bench/traffic_validity.py [--random 100] [--suite] [--quick] [--fresh 2]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skinflint.api import plan_spec
from skinflint.errors import SkinflintError
from skinflint.planners import PlanOptions
from skinflint.planners.attain import sampling
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.sim.attainment import Oracle
from skinflint.spec.types import Spec
from skinflint.testing.instances import random_spec
from skinflint.traffic import Traffic

sys.path.insert(0, str(Path(__file__).resolve().parent))
TRAFFICS = {
    "poisson": Traffic("poisson"),
    "mmpp": Traffic("mmpp:ratio=1.5,share=0.2"),
    "cameras": Traffic("cameras:fps=10,jitter_ms=5"),
    "poisson-crops": Traffic("poisson", fanout="poisson", jitter="lognormal:0.1"),
}
TARGETS = (0.999, 0.99)
FRESH_SEED_BASE = 7_000_000   # far from the planner's seeds (planners.attain.plan_seeds)


@dataclass(frozen=True)
class Case:
    workload: str
    traffic: str
    target: float
    cost: float
    reference: float
    uniform: float | None
    planning_s: float
    planned: float
    fresh: tuple[float, ...]

    def holds(self) -> list[bool]:
        return [a >= self.target - (1 - self.target) / 2 for a in self.fresh]


def random_workloads(count: int, seed: int) -> list[tuple[str, Spec]]:
    """Random apps of 1-6 modules, 1-3 hardware types, 20-1,000 req/s, SLOs 1.3-3 x the least."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        spec = random_spec(rng, int(rng.integers(1, 7)), int(rng.integers(1, 4)), [1, 2, 4, 8, 16, 32],
                           rate=float(rng.choice([20, 50, 100, 300, 1000])), slo_ms=1.0,
                           hop_ms=float(rng.choice([0.0, 1.0])))
        least = smallest_feasible_slo(spec, configs_by_module(spec))
        out.append((f"random-{k}", replace(spec, app=replace(spec.app, slo_ms=round(least * float(rng.uniform(1.3, 3.0)), 3)))))
    return out


def suite_workloads(quick: bool) -> list[tuple[str, Spec]]:
    """The baselines suite's applications (bench/baselines_suite.py) at three rates and two SLOs."""
    import baselines_suite as suite
    from skinflint.spec.hardware import load_hardware
    from skinflint.spec.profiles import load_profiles

    catalog = load_hardware(suite.DATA / "hardware.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = load_profiles([suite.DATA / "profiles.csv"])
    apps = list(suite.APPS) if not quick else ["chain2", "fork"]
    out = []
    for app in apps:
        for hw_name, hw in suite.HARDWARE_SETS.items():
            for rate in ((50.0, 200.0, 1000.0) if not quick else (200.0,)):
                for factor in ((1.5, 3.0) if not quick else (2.0,)):
                    spec = suite.workload_spec(app, hw, rate, factor, catalog, profiles, True)
                    out.append((f"{app}/{hw_name}/{rate:g}/{factor:g}x", spec))
    return out


def run_case(name: str, spec: Spec, traffic_name: str, target: float, fresh: int) -> Case | None:
    traffic = replace(TRAFFICS[traffic_name], target=target)
    t0 = time.perf_counter()
    try:
        plan = plan_spec(spec, options=PlanOptions(traffic=traffic))
    except SkinflintError:
        return None
    planning_s = time.perf_counter() - t0
    check = plan.check
    count, per_seed = sampling(traffic, spec.app.rate, spec.sources.get("app"))
    per_run = count * per_seed   # each fresh run as long as one of the planner's two sets of seeds
    seeds = [FRESH_SEED_BASE + 10 * (zlib.crc32(f'{name}/{traffic_name}'.encode()) % 10**6) + k for k in range(fresh)]
    oracle = Oracle(spec, traffic, seeds, per_run)
    measured = oracle.measure(plan)
    return Case(name, traffic_name, target, plan.cost_per_hour, check.single_headroom_per_hour,
                check.uniform_optimum_per_hour, planning_s, check.attained, measured.per_seed)


def geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def report(cases: list[Case]) -> None:
    print("| traffic | target | plans | runs | hold | share | worst run | cost / single-headroom ref: geomean, max "
          "| saving vs ref | cost / uniform optimum | planning s p50, p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for name in TRAFFICS:
        for target in TARGETS:
            mine = [c for c in cases if c.traffic == name and c.target == target]
            if not mine:
                continue
            holds = [h for c in mine for h in c.holds()]
            ratio = [c.cost / c.reference for c in mine]
            uniform = [c.cost / c.uniform for c in mine if c.uniform]
            times = np.array([c.planning_s for c in mine])
            print(f"| {name} | {target} | {len(mine)} | {len(holds)} | {sum(holds)} | {sum(holds) / len(holds):.1%} "
                  f"| {min(a for c in mine for a in c.fresh):.5f} | {geomean(ratio):.4f}, {max(ratio):.4f} "
                  f"| {1 - geomean(ratio):.2%} | {geomean(uniform):.3f} "
                  f"| {np.median(times):.2f}, {np.percentile(times, 99):.2f} |")
    every = [h for c in cases for h in c.holds()]
    print(f"\nall: {len(cases)} plans, {len(every)} fresh runs, {sum(every) / max(1, len(every)):.2%} hold; "
          f"plans costlier than their single-headroom reference: {sum(c.cost > c.reference * (1 + 1e-9) for c in cases)}")
    failed = [c for c in cases if not all(c.holds())]
    for c in failed[:20]:
        print(f"  below the check: {c.workload} {c.traffic} {c.target}: planned {c.planned:.5f}, fresh {c.fresh}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=100, help="random applications")
    ap.add_argument("--suite", action="store_true", help="also the baselines suite's applications")
    ap.add_argument("--quick", action="store_true", help="a few workloads only")
    ap.add_argument("--fresh", type=int, default=2, help="fresh seeds per plan")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--traffic", action="append", choices=list(TRAFFICS), help="only these traffics")
    args = ap.parse_args()
    workloads = random_workloads(args.random if not args.quick else 6, args.seed)
    if args.suite:
        workloads += suite_workloads(args.quick)
    traffics = args.traffic or list(TRAFFICS)
    print(f"{len(workloads)} workloads x {len(traffics)} traffics x {len(TARGETS)} targets, {args.fresh} fresh runs "
          "per plan\n")
    cases = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, spec in workloads:
            for traffic in traffics:
                for target in TARGETS:
                    got = run_case(name, spec, traffic, target, args.fresh)
                    if got is not None:
                        cases.append(got)
    report(cases)


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
