"""Runtime overhead (docs/runtime.md): dispatcher cost per request, and achieved worker
throughput against the profile's, on the embedded backend and on Ray.

    .venv/bin/python bench/runtime_overhead.py [--backends embedded,ray] [--requests 400]

1. Dispatcher cost: the tiny two-module app on the sleep runner (workers hold no core) at
   200 req/s; time spent inside the dispatchers (policy calls, bookkeeping, stacking) per
   request, summed over modules; apart, the time handing batches to workers (a queue put for a
   thread, ray.put + an actor call on Ray); and the whole process's CPU time per request.
2. Throughput: one module of MobileNetV2 (one worker, one intra-op thread) flooded with
   requests (admission off); items/s achieved against the profile's 1000 b / d(b), and against
   a bare ONNX Runtime loop on the same batch measured just before and just after (their mean:
   this machine is shared, so the bare loop is the fairer yardstick). On Ray, side by side
   (`--ray-variants DEPTHxTHREADS,...`): one batch in flight per actor on one thread (`1x1`, the
   first behaviour), two in flight on one thread (`2x1`, today's), two on a threaded actor (`2x4`, the next
   batch received while one runs, ray_backend.ACTOR_THREADS = 4 before 2026-12-02). A variant
   may repeat (`2x1,2x4,2x1,2x4`) to alternate them. Where the actor's time
   goes: bench/ray_hop.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skinflint  # noqa: E402
from skinflint.runtime import Runtime, make_backend  # noqa: E402
from skinflint.runtime.workers import OnnxRunner  # noqa: E402
from skinflint.spec.loader import load_spec  # noqa: E402
from tests.runtime.apps import planned, write_app  # noqa: E402

MODELS = ROOT / "examples/zoo-runtime/models"


def dispatcher_cost(backend: str, n: int, tmp: Path) -> dict[str, float]:
    plan, spec = planned(write_app(tmp / f"disp-{backend}", rate=200, slo_ms=200, det_ms=1.0, cls_ms=0.5,
                                   adapter="frame"), sharing=False)
    rt = Runtime(plan, spec, make_backend(backend, runner="sleep", item_shape=(3, 32, 32)), max_in_flight=100_000)
    rt.admission.slack = float("inf")          # measure the dispatchers, not admission control
    frame = np.zeros((3, 32, 32), np.float32)
    rt.submit(frame).result(timeout=60)
    for d in rt.dispatchers:
        d.cost_s, d.submit_s, d.calls = 0.0, 0.0, 0
    cpu0, start = time.process_time(), time.perf_counter()
    futs = []
    for k in range(n):
        delay = k / 200.0 - (time.perf_counter() - start)
        if delay > 0:
            time.sleep(delay)
        futs.append(rt.submit(frame))
    for f in futs:
        f.result(timeout=120)
    cpu = time.process_time() - cpu0
    cost = sum(d.cost_s for d in rt.dispatchers)
    submit = sum(d.submit_s for d in rt.dispatchers)
    rt.close()
    return {"dispatcher_us_per_request": 1e6 * cost / n, "submit_us_per_request": 1e6 * submit / n,
            "process_cpu_us_per_request": 1e6 * cpu / n}


def bare_ms(batch: np.ndarray, runs: int) -> float:
    """Milliseconds per batch of a bare ONNX Runtime loop (one session, one thread)."""
    bare = OnnxRunner(str(MODELS / "mobilenet_v2.onnx"))
    for _ in range(3):
        bare(batch)
    t0 = time.perf_counter()
    for _ in range(runs):
        bare(batch)
    return 1000 * (time.perf_counter() - t0) / runs


def throughput(backend: str, n: int, tmp: Path, depth: int = 0, threads: int = 0) -> dict[str, float]:
    d = tmp / f"tp-{backend}-{depth}x{threads}"
    d.mkdir(exist_ok=True)   # a variant may be asked for twice (alternating repeats)
    (d / "app.yaml").write_text(
        f"name: one\nprofiles: {ROOT / 'examples/zoo-runtime/profiles.csv'}\n"
        f"hardware: {ROOT / 'examples/zoo-runtime/hardware.yaml'}\nrate: 60\nslo_ms: 1000\n"
        "modules:\n  - {name: classify, model: mobilenet_v2}\n")
    spec = load_spec(d / "app.yaml")
    plan = skinflint.plan(spec, sharing=False)
    g = plan.modules[0].groups[0]
    assert g.workers == 1, plan.to_json()
    profile_ms = spec.profiles.get("mobilenet_v2", g.hardware).effective(g.batch_size)
    frame = np.random.default_rng(0).random((3, 224, 224), dtype=np.float32)
    batch = np.stack([frame] * g.batch_size)
    runs = max(5, n // g.batch_size // 4)
    before = bare_ms(batch, runs)
    if depth:
        from skinflint.runtime.backends import ray_backend
        ray_backend.RayWorker.pipeline_depth = depth
        ray_backend.ACTOR_THREADS = threads
    rt = Runtime(plan, spec, make_backend(backend, models_dir=MODELS), max_in_flight=100_000)
    rt.admission.slack = float("inf")          # flood it: admission control off
    for _ in range(3):
        rt.submit(frame).result(timeout=60)
    cpu0, t0 = time.process_time(), time.perf_counter()
    futs = [rt.submit(frame) for _ in range(n)]
    for f in futs:
        f.result(timeout=300)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rt.close()
    bare = (before + bare_ms(batch, runs)) / 2
    achieved = n / wall
    return {"batch_size": g.batch_size, "profile_items_per_s": 1000 * g.batch_size / profile_ms,
            "bare_loop_items_per_s": 1000 * g.batch_size / bare, "achieved_items_per_s": achieved,
            "vs_profile": achieved / (1000 * g.batch_size / profile_ms),
            "vs_bare_loop": achieved / (1000 * g.batch_size / bare),
            "driver_cpu_share": cpu / wall, "driver_cpu_us_per_item": 1e6 * cpu / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="embedded,ray")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--ray-variants", default="1x1,2x1,2x4",
                    help="DEPTHxTHREADS: batches in flight per actor x actor threads, side by side")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "ray":
                import ray
                ray.init(address="local", num_cpus=2, resources={"cpu": 2, "cpu1": 2}, include_dashboard=False,
                         log_to_driver=False, object_store_memory=200 * 1024**2)
            cost = dispatcher_cost(backend, args.requests, Path(tmp))
            print(f"{backend:9} dispatcher {cost['dispatcher_us_per_request']:.1f} us/request "
                  f"+ {cost['submit_us_per_request']:.0f} us handing batches to workers "
                  f"(process CPU {cost['process_cpu_us_per_request']:.0f} us/request)")
            variants = [tuple(int(x) for x in v.split("x")) for v in args.ray_variants.split(",")] \
                if backend == "ray" else [(0, 0)]
            for depth, threads in variants:
                tp = throughput(backend, args.requests, Path(tmp), depth, threads)
                label = f"{depth} in flight x {threads} thr" if depth else ""
                print(f"{backend:9} {label:18} throughput b={tp['batch_size']}: "
                      f"{tp['achieved_items_per_s']:.1f} items/s = {tp['vs_profile']:.1%} of the profile's "
                      f"{tp['profile_items_per_s']:.1f}, {tp['vs_bare_loop']:.1%} of a bare loop's "
                      f"{tp['bare_loop_items_per_s']:.1f}; serving process CPU {tp['driver_cpu_us_per_item']:.0f} us/item "
                      f"({tp['driver_cpu_share']:.0%} of a core)")
            if backend == "ray":
                ray.shutdown()


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
