"""Where a Ray worker's time goes (docs/runtime.md, "Overhead"): one MobileNetV2 actor fed batches
back to back by each way of calling it, against a bare ONNX Runtime loop in the driver.

    .venv/bin/python bench/ray_hop.py [--batches 1,4] [--calls 300] [--variants ...]

Per variant: items/s vs the bare loop (measured just before and after, their mean: the machine
is shared), the actor's busy fraction (time inside the model / wall time), the Ray hop per call
(wall minus the model, per call, at depth 1 the whole round trip) and the driver's CPU per call.
Variants (each a fresh local cluster: 2 CPUs, as the tests start):
- `depth1`: one call in flight (`ray.get` each);
- `depth2`, `depth3`: two/three in flight, results taken as they end (`ray.wait`);
- `depth2-future`: two in flight through `ObjectRef.future()` callbacks (what RayWorker does);
- `depth2-inline`: as depth2 with arguments up to 1 MB sent inside the task (no object store put;
  Ray's `max_direct_call_object_size`, default 100 KB);
- `depth2-put`: as depth2 with an explicit `ray.put` of each batch first;
- `depth2-compiled`: a Ray compiled graph (shared-memory channels, the actor loops on its input
  channel), two executions in flight;
- `depth2-threaded[-inline]`: a threaded actor (`max_concurrency=2`), its model behind a lock, so
  that one call's argument fetch and result reply overlap the other's model run.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from runtime_overhead import bare_ms  # noqa: E402 - the same bare loop as the runtime's bench
from skinflint.runtime.workers import OnnxRunner  # noqa: E402

MODEL = str(ROOT / "examples/zoo-runtime/models/mobilenet_v2.onnx")
VARIANTS = ("depth1", "depth2", "depth3", "depth2-future", "depth2-inline", "depth2-put", "depth2-compiled",
            "depth2-threaded", "depth2-threaded-inline")


class Timed:
    """The actor: the runner, and the time spent inside it."""

    def __init__(self, path: str) -> None:
        self.runner = OnnxRunner(path)
        self.times: list[float] = []
        self.lock = threading.Lock()

    def run(self, batch: np.ndarray) -> dict:
        with self.lock:
            t0 = time.perf_counter()
            out = self.runner(batch)
            self.times.append(time.perf_counter() - t0)
        return out

    def busy(self, last: int) -> float:
        """Seconds inside the model over the last `last` calls."""
        return sum(self.times[-last:])


def feed(ray, actor, batch: np.ndarray, calls: int, depth: int, put: bool) -> None:  # noqa: ANN001
    """`calls` batches, `depth` in flight, results taken as they end (ray.wait)."""
    pending: list = []
    for _ in range(calls):
        if len(pending) >= depth:
            done, pending = ray.wait(pending, num_returns=1)
            ray.get(done)
        pending.append(actor.run.remote(ray.put(batch) if put else batch))
    ray.get(pending)


def feed_futures(actor, batch: np.ndarray, calls: int, depth: int) -> None:  # noqa: ANN001
    """As RayWorker is driven: the next call is made from the previous future's callback."""
    slots = threading.Semaphore(depth)
    finished = threading.Event()
    left = [calls]
    lock = threading.Lock()

    def done(_f) -> None:  # noqa: ANN001
        slots.release()
        with lock:
            left[0] -= 1
            if left[0] == 0:
                finished.set()
    for _ in range(calls):
        slots.acquire()
        actor.run.remote(batch).future().add_done_callback(done)
    finished.wait(600)


def compile_graph(actor, batch: np.ndarray, depth: int):  # noqa: ANN001, ANN201
    """A compiled graph of the one actor method, `depth` executions in flight."""
    from ray.dag import InputNode
    with InputNode() as inp:
        dag = actor.run.bind(inp)
    return dag.experimental_compile(_max_inflight_executions=depth, _buffer_size_bytes=2 * batch.nbytes)


def feed_compiled(graph, batch: np.ndarray, calls: int, depth: int) -> None:  # noqa: ANN001
    """`calls` executions of the compiled graph, `depth` in flight, taken in order."""
    pending: list = []
    for _ in range(calls):
        if len(pending) >= depth:
            pending.pop(0).get(timeout=60)
        pending.append(graph.execute(batch))
    for ref in pending:
        ref.get(timeout=60)


def measure(variant: str, batch: np.ndarray, calls: int) -> dict[str, float]:
    import ray
    system = {"max_direct_call_object_size": 2 * 1024**2} if variant.endswith("inline") else {}
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024**2, _system_config=system)
    try:
        concurrency = 2 if "threaded" in variant else 1
        actor = ray.remote(num_cpus=1, max_concurrency=concurrency)(Timed).remote(MODEL)
        for _ in range(5):
            ray.get(actor.run.remote(batch))
        depth = int(variant[5])
        graph = compile_graph(actor, batch, depth) if variant.endswith("compiled") else None
        if graph is not None:
            for _ in range(5):
                graph.execute(batch).get(timeout=60)
        cpu0, t0 = time.process_time(), time.perf_counter()
        if variant.endswith("compiled"):
            feed_compiled(graph, batch, calls, depth)
        elif variant.endswith("future"):
            feed_futures(actor, batch, calls, depth)
        else:
            feed(ray, actor, batch, calls, depth, put=variant.endswith("put"))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if graph is not None:
            graph.teardown()
        busy = ray.get(actor.busy.remote(calls))
    finally:
        ray.shutdown()
    return {"items_per_s": calls * len(batch) / wall, "busy": busy / wall,
            "hop_us": 1e6 * (wall - busy) / calls, "model_ms": 1000 * busy / calls,
            "driver_cpu_us": 1e6 * cpu / calls}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    print(f"load average at start {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print("| batch | variant | items/s | bare loop items/s | vs bare loop | actor busy | model ms/call "
          "| hop us/call (wall - model) | driver CPU us/call |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for b in (int(x) for x in args.batches.split(",")):
        batch = np.random.default_rng(0).random((b, 3, 224, 224), dtype=np.float32)
        runs = max(20, args.calls // 3)
        for variant in args.variants.split(","):
            before = bare_ms(batch, runs)
            m = measure(variant, batch, args.calls)
            bare = 1000 * b / ((before + bare_ms(batch, runs)) / 2)
            print(f"| {b} | {variant} | {m['items_per_s']:.1f} | {bare:.1f} | {m['items_per_s'] / bare:.1%} "
                  f"| {m['busy']:.1%} | {m['model_ms']:.2f} | {m['hop_us']:.0f} | {m['driver_cpu_us']:.0f} |",
                  flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
