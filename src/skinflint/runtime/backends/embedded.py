"""The embedded backend (the default, nothing to start): each worker is a thread with its own
runner — an ONNX Runtime session (`runner="onnx"`, models read from `models_dir/MODEL.onnx`), or
a sleep of the profiled batch time (`runner="sleep"`, for dispatcher tests and overhead
benchmarks, with items of `item_shape`).

Where a worker runs follows the hardware catalog's `execution` (spec/hardware.py): a CPU type's
session has one intra-op thread; a GPU type's (cuda, tensorrt) is pinned to a device of this
machine, one worker per device (a type holding a fraction of a GPU packs that many on one), the
devices being `devices` or the GPUs this process sees (profiling.session.visible_gpus). A plan
needing more GPUs than there are is a one-line error. `placements` shows each worker's choice."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Mapping, Sequence

from skinflint.errors import SpecError
from skinflint.runtime.workers import OnnxRunner, SleepRunner, ThreadWorker, onnx_input_shape
from skinflint.spec.types import CPU, Execution, Hardware

RUNNERS = ("onnx", "sleep")


def model_file(models_dir: Path | None, model: str) -> Path:
    """`models_dir/MODEL.onnx`, checked to exist."""
    if models_dir is None:
        raise SpecError("command line", "--models", "no models directory given",
                        "pass --models DIR holding MODEL.onnx files (skinflint zoo build DIR makes them)")
    path = Path(models_dir) / f"{model}.onnx"
    if not path.is_file():
        raise SpecError(path, "", f"no ONNX file for model {model!r}",
                        "build it (skinflint zoo build DIR) or pass the right --models DIR")
    return path


class ModelShapes:
    """Input item shapes: `item_shape` for the sleep runner, else read once from each ONNX file."""

    def __init__(self, models_dir: Path | None, runner: str, item_shape: Sequence[int]) -> None:
        self.models_dir, self.runner, self.item_shape = models_dir, runner, tuple(item_shape)
        self._shapes: dict[str, tuple[int, ...]] = {}

    def __call__(self, model: str) -> tuple[int, ...]:
        """One item's input shape for `model`."""
        if self.runner == "sleep":
            return self.item_shape
        if model not in self._shapes:
            self._shapes[model] = onnx_input_shape(str(model_file(self.models_dir, model)))
        return self._shapes[model]


class DevicePool:
    """GPU devices handed to workers: each device holds workers whose `gpus` add up to at most 1;
    a worker of gpus >= 1 takes that many whole devices and runs on the first."""

    def __init__(self, devices: Sequence[int]) -> None:
        self.devices = list(devices)
        self.used = [0.0] * len(self.devices)

    def fits(self, demand: Sequence[float]) -> bool:
        """Would workers of these `gpus` all find room (without taking any)?"""
        trial = DevicePool(self.devices)
        try:
            for g in sorted(demand, reverse=True):
                trial.take(g)
        except LookupError:
            return False
        return True

    def take(self, gpus: float) -> int:
        """A device id for one worker of `gpus` (LookupError when none is left)."""
        whole = max(1, int(-(-gpus // 1))) if gpus >= 1 else 0
        if whole:
            free = [k for k, u in enumerate(self.used) if u == 0.0][:whole]
            if len(free) < whole:
                raise LookupError(gpus)
            for k in free:
                self.used[k] = 1.0
            return self.devices[free[0]]
        for k, u in enumerate(self.used):
            if u + gpus <= 1.0 + 1e-9:
                self.used[k] = u + gpus
                return self.devices[k]
        raise LookupError(gpus)


class EmbeddedBackend:
    """Workers as threads in this process (on its CPUs and GPUs)."""

    name = "embedded"

    def __init__(self, models_dir: Path | None = None, runner: str = "onnx",
                 item_shape: Sequence[int] = (3, 8, 8), provider: str = "cpu",
                 devices: Sequence[int] | None = None) -> None:
        """`provider`: the CPU types' provider; `devices`: the GPU ids to use (default: visible ones)."""
        if runner not in RUNNERS:
            raise SpecError("options", "runner", f"unknown runner {runner!r}", f"choose one of: {', '.join(RUNNERS)}")
        self.models_dir, self.runner, self.item_shape, self.provider = models_dir, runner, tuple(item_shape), provider
        self.input_shape = ModelShapes(models_dir, runner, item_shape)
        self._devices = devices
        self.execution: dict[str, Execution] = {}
        self.gpus: DevicePool | None = None
        self.placements: dict[str, tuple[str, int | None]] = {}   # worker label -> (provider, device id)

    def start(self, needs: dict[str, int], hardware: Mapping[str, Hardware] | None = None) -> None:
        """Check the plan fits this machine: ONNX workers of CPU types (one core each) beyond its
        cores oversubscribe them (a warning); GPU workers beyond its GPUs are an error."""
        from skinflint.profiling.session import available_cores, visible_gpus
        self.execution = {name: h.execution for name, h in (hardware or {}).items()}
        if self.runner != "onnx":
            return
        cpu = sum(n for hw, n in needs.items() if not self.execution.get(hw, CPU).on_gpu)
        cores = available_cores()
        if cpu > cores:
            warnings.warn(f"{cpu} workers on {cores} cores: they oversubscribe the cores and will run "
                          "slower than profiled (use --backend ray across machines)", stacklevel=2)
        demand = [self.execution[hw].gpus for hw, n in needs.items() if self.execution.get(hw, CPU).on_gpu
                  for _ in range(n)]
        if demand:
            self.gpus = DevicePool(visible_gpus() if self._devices is None else self._devices)
            if not self.gpus.fits(demand):
                raise SpecError("plan", "workers", f"the plan needs {sum(demand):g} GPUs on this machine "
                                f"({len(demand)} GPU workers) and it has {len(self.gpus.devices)}",
                                "serve it with --backend ray on a cluster with enough GPUs, or plan for fewer")

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str,
               batch_sizes: Mapping[str, tuple[int, ...]] | None = None) -> ThreadWorker:
        """A thread worker with a fresh runner per model (rebuilt when it dies); `models` maps
        each model it runs to its profiled batch times, `batch_sizes` to the sizes it executes
        (each warmed up before the worker serves)."""
        if self.runner == "sleep":
            return ThreadWorker(label, {m: (lambda t=t: SleepRunner(t)) for m, t in models.items()})
        execution = self.execution.get(hardware, CPU)
        provider, device = self.provider, None
        if execution.on_gpu:
            if self.gpus is None:   # (a worker asked for without `start`)
                from skinflint.profiling.session import visible_gpus
                self.gpus = DevicePool(visible_gpus() if self._devices is None else self._devices)
            try:
                provider, device = execution.provider, self.gpus.take(execution.gpus)
            except LookupError:
                raise SpecError("plan", "workers", f"no GPU left on this machine for worker {label} ({hardware})",
                                "serve with --backend ray on a cluster with enough GPUs") from None
        self.placements[label] = (provider, device)
        paths = {m: str(model_file(self.models_dir, m)) for m in models}
        sizes = dict(batch_sizes or {})

        def make(m: str, path: str) -> OnnxRunner:
            runner = OnnxRunner(path, provider, device_id=device, batch_sizes=sizes.get(m, ()))
            runner.warm_up(self.input_shape(m))
            return runner
        return ThreadWorker(label, {m: (lambda m=m, p=p: make(m, p)) for m, p in paths.items()})

    def close(self) -> None:
        """Nothing to release."""
