"""Planning time of the exact planner on random DAGs (issue 2's speed target).

4 hardware types x 8 batch sizes per model; DAGs of 2, 4, 6 and 10 modules; rates 50-3000
req/s; SLOs from tight to loose. Prints p50 / p99 planning time per size.

    .venv/bin/python bench/planner_speed.py [--instances 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np

from skinflint.api import plan_spec
from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.testing.instances import random_spec

BATCHES = [1, 2, 4, 8, 16, 32, 64, 128]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--planner", default="optimal")
    ap.add_argument("--no-sharing", action="store_true", help="dedicated workers only (the exact core)")
    ap.add_argument("--shape", choices=("random", "chain"), default="random",
                    help="random DAGs (parents drawn with p=0.4; many not series-parallel) or chains")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"planner={args.planner}  sharing={not args.no_sharing}  shape={args.shape}  4 hardware x 8 batch sizes  {args.instances} instances per size")
    warm = random_spec(rng, 2, 2, BATCHES, rate=100.0, slo_ms=1e4)  # imports and caches, not timed
    plan_spec(warm, planner=args.planner)
    print(f"{'modules':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'solved':>7}")
    for n in (2, 4, 6, 10):
        times = []
        for _ in range(args.instances):
            rate = float(rng.choice([50, 200, 1000, 3000]))
            spec = random_spec(rng, n, 4, BATCHES, rate=rate, slo_ms=1e9, base_ms=(2, 30), p_edge=0.4)
            if args.shape == "chain":
                chain = tuple(replace(m, parents=(f"m{i - 1}",) if i else ()) for i, m in enumerate(spec.app.modules))
                spec = replace(spec, app=replace(spec.app, modules=chain))
            least = smallest_feasible_slo(spec, configs_by_module(spec))
            spec = replace(spec, app=replace(spec.app, slo_ms=least * float(rng.uniform(1.2, 5.0))))
            t0 = time.perf_counter()
            try:
                plan_spec(spec, planner=args.planner, options=PlanOptions(sharing=not args.no_sharing))
            except InfeasibleError:
                continue
            times.append((time.perf_counter() - t0) * 1000)
        t = np.array(times)
        print(f"{n:>8} {np.median(t):8.2f} {np.percentile(t, 99):8.2f} {t.max():8.2f} {t.size:7d}")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
