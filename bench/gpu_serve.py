"""Serve a plan for real on this machine's GPUs (or CPUs, in the dry run) under Poisson load and
print attainment and throughput against the profile (bench/gpu_check.sh runs it).

    .venv/bin/python bench/gpu_serve.py APP.yaml --models DIR [--fraction 0.8] [--duration 30] [--seed 1]

The plan is the default planner's for the app's profiles (measured here by gpu_check.sh). Frames
are random tensors of the entry model's shape, submitted in process at Poisson times at
`fraction` of the planned rate. Printed: the plan; sent, refused, attainment of the sent, p50 /
p99 latency; per module, items/s served against the rate offered, and the median real /
profiled batch time (above 1: slower than the profile, so less throughput than planned); and
where each worker ran (provider, device).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skinflint  # noqa: E402
from skinflint.runtime import Runtime, make_backend  # noqa: E402
from skinflint.runtime.drive import submit_at  # noqa: E402
from skinflint.spec.loader import load_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("--models", required=True)
    ap.add_argument("--fraction", type=float, default=0.8)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    spec = load_spec(Path(args.app))
    plan = skinflint.plan(spec)
    for m in plan.modules:
        print(f"plan {m.name}: {[(g.hardware, g.batch_size, g.workers) for g in m.groups]} budget {m.budget_ms:.1f} ms")
    for s in plan.shared_workers:
        print(f"plan shared {s.hardware}: {[(x.module, x.batch_size) for x in s.slots]} cycle {s.cycle_ms:.1f} ms")
    backend = make_backend("embedded", models_dir=Path(args.models))
    rt = Runtime(plan, spec, backend)
    print("workers:", {label: place for label, place in backend.placements.items()})
    rng = np.random.default_rng(args.seed)
    rate = args.fraction * plan.offered_rate
    times = np.cumsum(rng.exponential(1000.0 / rate, int(rate * args.duration)))
    frame = rng.random(rt.entry_shape, dtype=np.float32)
    start = time.perf_counter()
    (refused,), (futs,) = submit_at([rt], [times], frame)
    lat = np.array([f.result(timeout=120).latency_ms for f in futs])
    wall = time.perf_counter() - start
    on_time = int((lat <= plan.slo_ms).sum())
    p50, p99 = (np.percentile(lat, [50, 99]) if lat.size else (float("nan"), float("nan")))
    print(f"load {args.fraction:.0%} of {plan.offered_rate:g} req/s for {args.duration:g} s: sent {len(times)}, "
          f"refused {refused}, attainment {on_time / max(len(times), 1):.1%} of sent "
          f"(SLO {plan.slo_ms:g} ms), p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    for k, m in enumerate(rt.sm.modules):
        ratios = list(rt.admission.ratios[k])
        served = len(futs) * m.rate_factor / wall
        print(f"module {m.name}: {served:.1f} items/s served of {rate * m.rate_factor:.1f} offered; real/profiled "
              f"batch time median {np.median(ratios) if ratios else float('nan'):.2f} over {len(ratios)} batches")
    rt.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record import record
    with record(__file__, sys.argv[1:]):
        main()
