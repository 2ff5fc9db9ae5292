"""Live re-plan on the embedded runtime under a stepped load (docs/daynight.md, "Live re-plan on the runtime").

    .venv/bin/python bench/live_replan.py [--steps 10:10,40:15,10:20] [--policy hysteresis:dwell_s=5,...]
                                          [--tick 0.5] [--half-life 2] [--window 2] [--runner sleep] [--seed 1]
                                          [--arrivals uniform|poisson] [--record-batches FILE]

Requests are submitted in process (no HTTP) at the step rates; the controller re-plans with the
policy from `skinflint.control` through `control.loop.choose` and switches live. Prints every
plan change (decided at, live at, target rate, $/h, workers started/drained), the outcomes
(answered on time / late, refused with reasons, failed, lost), SLO attainment, and the
latency percentiles.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skinflint.commands.serve import live_runtime  # noqa: E402
from skinflint.runtime.batchlog import BatchLog  # noqa: E402
from skinflint.runtime.live import drive, policy_settings, stepped_times_ms  # noqa: E402
from skinflint.sim import make_arrivals  # noqa: E402
from skinflint.spec.loader import load_spec  # noqa: E402


def arrival_times(steps: list[tuple[float, float]], kind: str, seed: int) -> np.ndarray:
    """Arrival times (ms) for the steps: evenly spaced, or Poisson within each step."""
    if kind == "uniform":
        return stepped_times_ms(steps)
    rng, out, start = np.random.default_rng(seed), [], 0.0
    for rate, seconds in steps:
        out.append(start + np.asarray(make_arrivals(kind, rate=rate).times_ms(seconds, rng)))
        start += 1000.0 * seconds
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=str(ROOT / "examples/live-replan/app.yaml"))
    ap.add_argument("--steps", default="10:10,40:15,10:20", help="RATE:SECONDS,... (req/s for seconds)")
    ap.add_argument("--policy", default="hysteresis:headroom=0.15,dwell_s=5,down_after_s=5,band=0.1,down_step=1")
    ap.add_argument("--tick", type=float, default=0.5)
    ap.add_argument("--half-life", type=float, default=2.0)
    ap.add_argument("--window", type=float, default=2.0)
    ap.add_argument("--runner", default="sleep")
    ap.add_argument("--models", default=None)
    ap.add_argument("--arrivals", default="uniform")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record-batches", default=None)
    args = ap.parse_args()
    steps = [(float(r), float(s)) for r, s in (x.split(":") for x in args.steps.split(","))]
    spec = load_spec(Path(args.app))
    options = {"runner": args.runner, "models_dir": Path(args.models) if args.models else Path(args.app).parent / "models"}
    log = BatchLog(Path(args.record_batches)) if args.record_batches else None
    live = live_runtime(spec, args.policy, options, {"batch_log": log},
                        policy_settings(args.tick, args.half_life, args.window))
    first = live.live.plan
    times = arrival_times(steps, args.arrivals, args.seed)
    t0 = time.perf_counter()
    try:
        out = drive(live, times, np.zeros(live.entry_shape, dtype=np.float32))
    finally:
        live.close()
        if log is not None:
            log.close()
    wall = time.perf_counter() - t0
    print(f"steps {args.steps} ({args.arrivals}), policy {args.policy}, tick {args.tick} s, "
          f"half-life {args.half_life} s, window {args.window} s, runner {args.runner}; {wall:.1f} s")
    print(f"initial plan: target {first.offered_rate:.1f} req/s, "
          f"${first.cost_per_hour:.3f}/h")
    print("decided_s  live_s  switch_ms  target  $/h    started  drained")
    for s in live.switches:
        if s.steps.is_noop:
            continue
        started = sum(n for _, n in s.steps.start)
        drained = sum(n for _, n in s.steps.drain)
        print(f"{s.decided_s:9.1f} {s.live_s:7.2f} {1000 * (s.live_s - s.decided_s):10.0f} {s.target:7.1f} "
              f"{s.plan.cost_per_hour:.3f} {started:8d} {drained:8d}")
    noop = sum(s.steps.is_noop for s in live.switches)
    answered = out["on_time"] + out["late"]
    lat = np.asarray(out["latency_ms"])
    print(f"plan changes {sum(not s.steps.is_noop for s in live.switches)} (+{noop} target moves on the same workers)"
          f"; infeasible targets {live.infeasible}")
    print(f"sent {out['sent']}: on time {out['on_time']}, late {out['late']}, refused {out['refused']}, "
          f"failed {out['failed']}, lost {out['lost']}")
    print(f"SLO attainment {out['on_time'] / out['sent']:.1%} of sent, {out['on_time'] / max(answered, 1):.1%} "
          f"of answered; latency ms p50 {np.percentile(lat, 50):.1f} p99 {np.percentile(lat, 99):.1f} "
          f"max {lat.max():.1f}")
    for reason, n in sorted(out["reasons"].items(), key=lambda x: -x[1])[:5]:
        print(f"  {n} x {reason}")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
