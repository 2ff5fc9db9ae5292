"""The embedded backend (the default, nothing to start): each worker is a thread with its own
runner — an ONNX Runtime session with one intra-op thread (`runner="onnx"`, models read from
`models_dir/MODEL.onnx`), or a sleep of the profiled batch time (`runner="sleep"`, for
dispatcher tests and overhead benchmarks, with items of `item_shape`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

from skinflint.errors import SpecError
from skinflint.runtime.workers import OnnxRunner, SleepRunner, ThreadWorker, onnx_input_shape

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


class EmbeddedBackend:
    """Workers as threads in this process."""

    name = "embedded"

    def __init__(self, models_dir: Path | None = None, runner: str = "onnx",
                 item_shape: Sequence[int] = (3, 8, 8), provider: str = "cpu") -> None:
        if runner not in RUNNERS:
            raise SpecError("command line", "runner", f"unknown runner {runner!r}", f"choose one of: {', '.join(RUNNERS)}")
        self.models_dir, self.runner, self.item_shape, self.provider = models_dir, runner, tuple(item_shape), provider
        self.input_shape = ModelShapes(models_dir, runner, item_shape)

    def start(self, needs: dict[str, int]) -> None:
        """Warn when ONNX workers (one core each) outnumber this process's cores: they would
        oversubscribe them and run slower than profiled."""
        from skinflint.profiling.session import available_cores
        total, cores = sum(needs.values()), available_cores()
        if self.runner == "onnx" and total > cores:
            warnings.warn(f"{total} workers on {cores} cores: they oversubscribe the cores and will run "
                          "slower than profiled (use --backend ray across machines)", stacklevel=2)

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str) -> ThreadWorker:
        """A thread worker with a fresh runner per model (rebuilt when it dies); `models` maps
        each model it runs to its profiled batch times."""
        if self.runner == "sleep":
            return ThreadWorker(label, {m: (lambda t=t: SleepRunner(t)) for m, t in models.items()})
        paths = {m: str(model_file(self.models_dir, m)) for m in models}
        return ThreadWorker(label, {m: (lambda p=p: OnnxRunner(p, self.provider)) for m, p in paths.items()})

    def close(self) -> None:
        """Nothing to release."""
