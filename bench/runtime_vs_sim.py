"""Serve a plan (one app, or a fleet with pools) for real with the sleep runner and simulate it
on the same arrival times: per app and per load, attainment side by side, 504s and what is left
in flight after the traffic stops (docs/runtime.md, "Every request ends" and "Pools and fleets").

    .venv/bin/python bench/runtime_vs_sim.py APP.yaml [APP2.yaml ...] [--fractions 0.05,0.2,0.5,1,2]
        [--duration 8] [--arrivals poisson] [--backend embedded|ray] [--seed 1] [--no-sharing]

Several app files are planned as a fleet (`skinflint plan A.yaml B.yaml`). Requests are submitted
in process at their arrival times (no HTTP), one frame per request; a request whose answer does
not come within the HTTP server's 504 bound (10 x SLO, at least 1 s) counts as a 504. The
simulator runs the same plan, times and policies with deadline-aware early close and no
admission control; both attainments are of the requests sent (a refusal is a miss).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skinflint  # noqa: E402
from skinflint.api import plan_fleet_files  # noqa: E402
from skinflint.runtime import FleetRuntime, Runtime, make_backend  # noqa: E402
from skinflint.runtime.drive import submit_at  # noqa: E402
from skinflint.sim import make_arrivals, simulate, simulate_fleet  # noqa: E402
from skinflint.spec.loader import load_spec  # noqa: E402


def frame_adapters(spec):  # noqa: ANN001, ANN201 - the sleep runner echoes its input: feed every module the frame
    return replace(spec, app=replace(spec.app, modules=tuple(replace(m, adapter="frame") for m in spec.app.modules)))


def answers(rt, futs: list) -> tuple[int, int]:  # noqa: ANN001
    """(on time, 504s) of one app's futures, each waited for at most the server's bound."""
    bound = max(1.0, 10 * rt.sm.slo_ms / 1000.0)
    end = time.perf_counter() + bound
    on_time = timeouts = 0
    for f in futs:
        try:
            on_time += f.result(timeout=max(0.0, end - time.perf_counter())).on_time
        except Exception:  # noqa: BLE001 - no answer within the bound: the server would say 504
            timeouts += 1
    return on_time, timeouts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("apps", nargs="+")
    ap.add_argument("--fractions", default="0.05,0.2,0.5,1,1.5,2")
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--arrivals", default="poisson")
    ap.add_argument("--backend", default="embedded")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-sharing", action="store_true")
    ap.add_argument("--no-admission", action="store_true", help="admit everything (the serving mechanics alone, "
                    "as the simulator runs without admission)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    specs = [frame_adapters(load_spec(Path(a))) for a in args.apps]
    fleet = plan_fleet_files(args.apps) if len(specs) > 1 else None
    plans = list(fleet.apps) if fleet else [skinflint.plan(specs[0], sharing=not args.no_sharing)]
    for p in plans:
        print(f"{p.app}: {p.workers_by_hardware()} + shared {[s.hardware for s in p.shared_workers]}, "
              f"pools {[q.name for q in p.pools]}, ${p.cost_per_hour:.3f}/h")
    if fleet:
        print(f"fleet pools: {[(q.name, q.members, [(g.hardware, g.batch_size, g.workers) for g in q.groups]) for q in fleet.pools]}")
    print(f"backend {args.backend}, sleep runner, {args.arrivals} arrivals, {args.duration:g} s per load"
          f"{', admission off' if args.no_admission else ''}")
    print("| load | app | sent | refused | runtime attainment | simulator attainment | 504s | in flight after stop |")
    print("|---|---|---|---|---|---|---|---|")
    for fraction in [float(x) for x in args.fractions.split(",")]:
        rng = np.random.default_rng(args.seed)
        times = [np.asarray(make_arrivals(args.arrivals, rate=fraction * p.offered_rate).times_ms(args.duration, rng))
                 for p in plans]
        if fleet:
            sims = simulate_fleet(fleet, specs, times, args.duration, np.random.default_rng(0), early_close=True)
        else:
            sims = [simulate(plans[0], specs[0], times[0], args.duration, np.random.default_rng(0), early_close=True)]
        backend = make_backend(args.backend, runner="sleep", item_shape=(3, 8, 8))
        rt = FleetRuntime(fleet, specs, backend) if fleet else Runtime(plans[0], specs[0], backend)
        faces = [rt.apps[p.app] for p in plans] if fleet else [rt]
        if args.no_admission:
            for f in faces:
                f.admission.slack = float("inf")
        refused, futures = submit_at(faces, times, np.zeros((3, 8, 8), np.float32))
        results = [answers(f, futs) for f, futs in zip(faces, futures)]
        time.sleep(0.2)
        for f, sim, ts, ref, (on_time, timeouts) in zip(faces, sims, times, refused, results):
            sent = len(ts)
            print(f"| {fraction:.0%} | {f.plan.app} | {sent} | {ref} | {on_time / max(sent, 1):.1%} | "
                  f"{sim.slo_attainment:.1%} | {timeouts} | {f.in_flight} |")
        rt.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record import record
    with record(__file__, sys.argv[1:]):
        main()
