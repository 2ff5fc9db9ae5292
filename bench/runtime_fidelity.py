"""Runtime vs simulator on the same plan and the same arrival times (docs/runtime.md).

    .venv/bin/skinflint zoo build examples/zoo-runtime/models --models ssdlite_mobilenet_v2,mobilenet_v2
    .venv/bin/python bench/runtime_fidelity.py [--arrivals poisson] [--duration 30] [--backend embedded]
                                                [--runner onnx|sleep]

Requests are submitted in process (no HTTP: on two cores the HTTP server would share the cores
with the two workers) at the arrival times; the runtime's latency is measured from submit to
result. The simulator runs the same plan, times and policy (cyclic, deadline-aware early close)
twice: on the profile's batch times (`sim`), and with each batch's time drawn from the
real/profiled ratios the runtime measured for that module in this run (`sim-meas`): on a shared
machine whose cores run slower than when profiled, the second isolates the runtime's own error
from the machine's. The simulator runs without admission control, so under overload it queues
what the runtime refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skinflint  # noqa: E402
from skinflint.runtime import Refused, Runtime, make_backend  # noqa: E402
from skinflint.sim import make_arrivals, simulate  # noqa: E402
from skinflint.stats import percentiles  # noqa: E402
from skinflint.spec.loader import load_spec  # noqa: E402


def drive(rt: Runtime, times_ms: np.ndarray, frame: np.ndarray,
          kill_at_ms: float | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """Submit one frame at each time (open loop; kill every module's first worker once at
    `kill_at_ms`); latencies of the completed ones."""
    futs, refused = [], 0
    start = time.perf_counter()
    for t in times_ms:
        if kill_at_ms is not None and t >= kill_at_ms:
            for m in rt.sm.modules:
                rt.kill_worker(m.name)
            kill_at_ms = None
        delay = t / 1000.0 - (time.perf_counter() - start)
        if delay > 0:
            time.sleep(delay)
        try:
            futs.append(rt.submit(frame))
        except Refused:
            refused += 1
    lat = np.array([f.result(timeout=120).latency_ms for f in futs])
    return lat, {"refused": refused, **rt.counts}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=str(ROOT / "examples/zoo-runtime/app.yaml"))
    ap.add_argument("--models", default=None)
    ap.add_argument("--arrivals", default="poisson")
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", default="embedded")
    ap.add_argument("--kill-at", type=float, default=None, help="kill each module's first worker at this second")
    ap.add_argument("--runner", default="onnx", help="onnx (the zoo models) or sleep (the profiled times, no CPU)")
    args = ap.parse_args()
    spec = load_spec(Path(args.app))
    if args.runner == "sleep":  # the sleep runner echoes its input: feed every module the frame
        app = replace(spec.app, modules=tuple(replace(m, adapter="frame") for m in spec.app.modules))
        spec = replace(spec, app=app)
    plan = skinflint.plan(spec, sharing=False)
    rate = args.rate or plan.offered_rate
    times = np.asarray(make_arrivals(args.arrivals, rate=rate).times_ms(args.duration, np.random.default_rng(args.seed)))
    sim = simulate(plan, spec, times, args.duration, np.random.default_rng(args.seed), early_close=True)
    models = Path(args.models) if args.models else Path(args.app).parent / "models"
    rt = Runtime(plan, spec, make_backend(args.backend, models_dir=models, runner=args.runner), max_in_flight=10_000)
    frame = np.random.default_rng(0).random(rt.entry_shape, dtype=np.float32)
    for _ in range(5):    # warm the sessions up (first runs allocate)
        rt.submit(frame).result(timeout=60)
    warm = dict(rt.counts)
    lat, counts = drive(rt, times, frame, None if args.kill_at is None else 1000 * args.kill_at)
    ratios = [np.asarray(r) for r in rt.admission.ratios]
    rt.close()
    # the simulator again, each module's batch times drawn from the real/profiled ratios measured
    # in the run (a stateful jitter: the simulator asks for one module's draws after another)
    draws = iter(ratios)
    measured = simulate(plan, spec, times, args.duration, np.random.default_rng(args.seed), early_close=True,
                        jitter=lambda rng, n: rng.choice(next(draws), size=n))
    p_sim, p_rt = percentiles(sim.latency_ms), percentiles(lat)
    slo = plan.slo_ms
    rows = {"sim": p_sim | {"slo_attainment": sim.slo_attainment},
            "sim-meas": percentiles(measured.latency_ms) | {"slo_attainment": measured.slo_attainment},
            "runtime": p_rt | {"slo_attainment": float(np.mean(lat <= slo)) if lat.size else float("nan")}}
    print(f"app {spec.app.name}, {args.arrivals} at {rate:g} req/s for {args.duration:g} s ({times.size} requests), "
          f"backend {args.backend}, runner {args.runner}, SLO {slo:g} ms")
    print(f"{'':8}" + "".join(f"{k:>10}" for k in ("p50", "p90", "p99", "max", "SLO ok")))
    for name, row in rows.items():
        print(f"{name:8}" + "".join(f"{row[k]:10.1f}" for k in ("p50", "p90", "p99", "max"))
              + f"{row['slo_attainment']:10.1%}")
    print("runtime/sim: " + ", ".join(f"{k} {p_rt[k] / p_sim[k]:.3f}" for k in ("p50", "p90", "p99")))
    p_meas = rows["sim-meas"]
    print("runtime/sim-meas: " + ", ".join(f"{k} {p_rt[k] / p_meas[k]:.3f}" for k in ("p50", "p90", "p99")))
    print("real/profiled batch time per module (median, p90): " + ", ".join(
        f"{m.name} {np.median(r):.2f}, {np.percentile(r, 90):.2f}" for m, r in zip(rt.sm.modules, ratios) if r.size))
    counts = {k: v - warm.get(k, 0) for k, v in counts.items()}    # the warm-up requests left out
    answered = counts["completed"] + counts["failed"] + counts["refused"]
    print(json.dumps({"counts": counts, "sent": int(times.size), "lost": int(times.size) - answered}))


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
