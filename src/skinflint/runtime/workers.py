"""The worker interface the dispatchers drive: submit a batch, get a future.

A `Runner` executes one batch (an array whose first axis is the batch) and returns the model's
named outputs, batched alike. A `BatchWorker` owns a runner and runs one batch at a time; where
it runs (a thread here, a Ray actor elsewhere) is the backend's business.

`ThreadWorker` restarts itself when its runner dies (`WorkerDied`): it builds a fresh runner and
runs the in-flight batch again, at most `max_retries` times, so a crash loses no request.

A worker may hold several runners, one per model, keyed by model name: a shared worker (MODEL.md)
runs batches of several modules in turn. `worker.view(model)` is the BatchWorker one module's
dispatcher drives; a worker of one model is driven directly.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Protocol

import numpy as np

Outputs = dict[str, np.ndarray]


class WorkerDied(RuntimeError):
    """The worker's runner died (crash, kill): its batch should run again on a fresh runner."""


class Runner(Protocol):
    """Runs one batch of one model."""

    def __call__(self, batch: np.ndarray) -> Outputs:
        """The model's outputs for `batch` (first axis: the batch)."""
        ...


class BatchWorker(Protocol):
    """One worker of one hardware type: runs the batches it is given, one at a time."""

    name: str

    def submit(self, batch: np.ndarray) -> Future:
        """Start `batch` (after any batch already queued); the future holds its Outputs."""
        ...

    def kill(self) -> None:
        """Make the worker die in the middle of its next (or current) batch: for failure tests."""
        ...

    def close(self) -> None:
        """Stop the worker; batches not started fail with a reason."""
        ...


class View:
    """One model's side of a worker holding several: submit runs that model's runner."""

    def __init__(self, host: Any, key: str) -> None:
        self.host, self.key, self.name = host, key, f"{host.name}:{key}"

    def submit(self, batch: np.ndarray) -> Future:
        """Queue `batch` for this model on the shared worker."""
        return self.host.submit(batch, self.key)

    def kill(self) -> None:
        """Kill the shared worker (see its kill)."""
        self.host.kill()

    def close(self) -> None:
        """Close the shared worker."""
        self.host.close()


class ThreadWorker:
    """A worker as one thread with its own runners (e.g. its own ONNX Runtime sessions), one per model."""

    def __init__(self, name: str, make_runners: dict[str, Callable[[], Runner]], max_retries: int = 3) -> None:
        self.name = name
        self._make_runners = make_runners
        self._runners = {k: make() for k, make in make_runners.items()}
        self._only = next(iter(make_runners)) if len(make_runners) == 1 else None
        self.max_retries = max_retries
        self.restarts = 0
        self.busy_s = 0.0
        self._kill = threading.Event()
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"worker-{name}", daemon=True)
        self._thread.start()

    def submit(self, batch: np.ndarray, key: str | None = None) -> Future:
        """Queue `batch` for model `key` (None: the worker's only one); its future holds the
        outputs or the reason it failed."""
        fut: Future = Future()
        self._jobs.put((batch, fut, key or self._only))
        return fut

    def view(self, key: str) -> View:
        """The BatchWorker running model `key` on this worker."""
        return View(self, key)

    def kill(self) -> None:
        """The next batch dies mid-run once (the worker then restarts and retries it)."""
        self._kill.set()

    def close(self) -> None:
        """Stop after the batch in progress; queued batches fail with a reason."""
        self._jobs.put(None)
        self._thread.join(timeout=10)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and job[1].set_running_or_notify_cancel():
                job[1].set_exception(RuntimeError(f"worker {self.name} stopped"))

    def _run(self, batch: np.ndarray, key: str) -> Outputs:
        if self._kill.is_set():
            self._kill.clear()
            raise WorkerDied(f"worker {self.name} killed")
        return self._runners[key](batch)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch, fut, key = job
            if not fut.set_running_or_notify_cancel():
                continue
            start = time.perf_counter()
            for attempt in range(self.max_retries + 1):
                try:
                    out = self._run(batch, key)
                except WorkerDied as e:
                    self.restarts += 1
                    try:
                        self._runners = {k: make() for k, make in self._make_runners.items()}  # fresh sessions
                    except Exception as e2:  # noqa: BLE001 - report any failure to the batch's owner
                        fut.set_exception(e2)
                        break
                    if attempt == self.max_retries:
                        fut.set_exception(e)
                    continue
                except Exception as e:  # noqa: BLE001 - a bad batch fails its requests, not the worker
                    fut.set_exception(e)
                    break
                fut.set_result(out)
                break
            self.busy_s += time.perf_counter() - start


class SleepRunner:
    """A stand-in model for dispatcher tests and benchmarks: takes `times_ms[k-1]` for a batch of
    k and returns the batch as `output` (wall-clock sleep, so it holds no core)."""

    def __init__(self, times_ms: tuple[float, ...]) -> None:
        self.times_ms = times_ms

    def __call__(self, batch: np.ndarray) -> Outputs:
        """Sleep the batch's profiled time; echo the inputs."""
        k = min(len(batch), len(self.times_ms))
        time.sleep(self.times_ms[k - 1] / 1000.0)
        return {"output": np.asarray(batch)}


class OnnxRunner:
    """One ONNX Runtime session of one model. On the CPU: one intra-op and one inter-op thread
    (two sessions on two cores run ~1.9x one; more threads per session oversubscribe the cores).
    On a GPU (`provider` cuda or tensorrt, pinned to `device_id`; session.session_providers, as
    `skinflint profile` opens them): batches go through IO binding (the input bound from host
    memory straight into the session, outputs bound to host memory: no intermediate copies or
    per-run output allocations), and a partial batch runs padded to the smallest of
    `batch_sizes` that holds it, so that TensorRT only ever meets the shapes it was warmed for.
    `warm_up()` runs every one of `batch_sizes` once (engines built, kernels chosen)."""

    def __init__(self, path: str, provider: str = "cpu", intra_op: int = 1, device_id: int | None = None,
                 batch_sizes: tuple[int, ...] = ()) -> None:
        from skinflint.profiling.session import Threads, open_session, resolve_provider
        self.provider = resolve_provider(provider)
        self.device_id = device_id
        self.session = open_session(path, self.provider, Threads(intra_op, 1), device_id)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.on_gpu = provider in ("cuda", "tensorrt")
        self.batch_sizes = tuple(sorted(batch_sizes))

    def warm_up(self, item_shape: tuple[int, ...]) -> None:
        """Run each batch size once on zeros of `item_shape` per item."""
        for b in self.batch_sizes:
            self(np.zeros((b, *item_shape), dtype=np.float32))

    def __call__(self, batch: np.ndarray) -> Outputs:
        """Run the batch (padded on a GPU); outputs by name, one row per item of `batch`."""
        from skinflint.profiling.session import run_bound
        if not self.on_gpu:
            values = self.session.run(self.output_names, {self.input_name: batch})
            return dict(zip(self.output_names, values))
        n = len(batch)
        size = next((b for b in self.batch_sizes if b >= n), n)
        if size > n:
            batch = np.concatenate([batch, np.zeros((size - n, *batch.shape[1:]), dtype=batch.dtype)])
        values = run_bound(self.session, {self.input_name: batch}, self.output_names)
        return {name: v[:n] for name, v in zip(self.output_names, values)}


def onnx_input_shape(path: str) -> tuple[int, ...]:
    """The shape of one item of the model's first input (the batch axis dropped)."""
    from skinflint.profiling.session import input_specs, open_session, resolve_provider, Threads
    session = open_session(path, resolve_provider("cpu"), Threads(1, 1))
    return tuple(input_specs(session, 1)[0][1][1:])
