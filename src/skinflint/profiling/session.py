"""ONNX Runtime, chosen explicitly: execution provider, thread settings, inputs of a batch size.

Providers are a small registry (name -> ONNX Runtime provider). ``auto`` picks CUDA where this
onnxruntime build offers it and CPU otherwise; TensorRT only when asked for by name (it builds
an engine per input shape, which a short profile cannot amortise). A session is checked to run
on the provider asked for: ONNX Runtime silently falls back to CPU otherwise, which would make
a "GPU" profile a CPU one.
"""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skinflint.errors import SpecError
from skinflint.extras import require

PROVIDERS: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}
AUTO_ORDER = ("cuda", "cpu")
_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
           "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def ort() -> Any:
    """The onnxruntime module, or a SpecError saying how to install it."""
    return require("onnxruntime", field="profile",
                   fix="pip install 'skinflint[profile]' (or onnxruntime-gpu for CUDA)")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def visible_gpus() -> list[int]:
    """The CUDA device ids this process may use, as ONNX Runtime numbers them: 0 .. n-1 over
    CUDA_VISIBLE_DEVICES where it is set, else over the GPUs `nvidia-smi -L` lists (none when it
    is absent)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return list(range(len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])))
    import shutil
    import subprocess
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return list(range(sum(line.startswith("GPU ") for line in out.splitlines())))


def resolve_provider(name: str) -> str:
    """The ONNX Runtime provider for a registry name (or ``auto``), checked to be available here."""
    available = ort().get_available_providers()
    if name == "auto":
        name = next(n for n in AUTO_ORDER if PROVIDERS[n] in available or n == "cpu")
    if name not in PROVIDERS:
        raise SpecError("command line", "--provider", f"unknown execution provider {name!r}",
                        f"choose from auto, {', '.join(PROVIDERS)}")
    if PROVIDERS[name] not in available:
        raise SpecError("command line", "--provider", f"{name} ({PROVIDERS[name]}) is not available in this "
                        f"onnxruntime (available: {', '.join(available)})",
                        "install onnxruntime-gpu with a matching CUDA, or use --provider cpu")
    return PROVIDERS[name]


@dataclass(frozen=True)
class Threads:
    """Thread settings of a session: intra-op threads (one operator) and inter-op threads (parallel operators)."""

    intra_op: int
    inter_op: int = 1

    def __post_init__(self) -> None:
        if self.intra_op < 1 or self.inter_op < 1:
            raise SpecError("command line", "--threads", f"thread counts must be positive (got {self.intra_op}/"
                            f"{self.inter_op})", "pass a positive number of threads")


TRT_CACHE = Path(os.environ.get("SKINFLINT_TRT_CACHE", Path.home() / ".cache" / "skinflint" / "trt"))


def session_providers(provider: str, device_id: int | None = None) -> list[Any]:
    """The `providers` argument of an InferenceSession on `provider` (an ONNX Runtime name):
    pinned to GPU `device_id` where given; TensorRT with its engine cache (engines are built per
    input shape, once) and FP16 where the GPU has it, falling back to CUDA for the operators
    TensorRT lacks; every GPU list ends with the CPU for the operators no GPU provider runs. The
    runtime and `skinflint profile` both open their sessions so: a profile measures what serves."""
    device = {} if device_id is None else {"device_id": int(device_id)}
    if provider == PROVIDERS["cpu"]:
        return [provider]
    if provider == PROVIDERS["tensorrt"]:
        trt = {**device, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(TRT_CACHE),
               "trt_fp16_enable": True}
        return [(provider, trt), (PROVIDERS["cuda"], device), PROVIDERS["cpu"]]
    return [(provider, device), PROVIDERS["cpu"]]


def open_session(path: Path, provider: str, threads: Threads, device_id: int | None = None) -> Any:
    """An InferenceSession of `path` on `provider` (on GPU `device_id` where given) with explicit
    threads, sequential execution, full optimisation (session_providers says which providers)."""
    rt = ort()
    if not Path(path).is_file():
        raise SpecError(path, "", "ONNX model file not found", "check the path (skinflint zoo build DIR makes some)")
    options = rt.SessionOptions()
    options.intra_op_num_threads = threads.intra_op
    options.inter_op_num_threads = threads.inter_op
    options.execution_mode = rt.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = rt.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: warnings would interleave with the progress bar
    providers = session_providers(provider, device_id)
    if provider == PROVIDERS["tensorrt"]:
        TRT_CACHE.mkdir(parents=True, exist_ok=True)
    try:
        session = rt.InferenceSession(str(path), options, providers=providers)
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SpecError(path, "", f"onnxruntime cannot load this model: {first[:200]}",
                        "pass a valid ONNX model file") from None
    if session.get_providers()[0] != provider:
        raise SpecError(path, "--provider", f"onnxruntime fell back to {session.get_providers()[0]} instead of "
                        f"{provider}", "check the GPU driver and CUDA/cuDNN libraries, or use --provider cpu")
    return session


def run_bound(session: Any, feeds: dict[str, np.ndarray], output_names: list[str]) -> list[np.ndarray]:
    """One run through IO binding, as a GPU worker runs its batches (runtime/workers.OnnxRunner):
    inputs bound from host memory, outputs bound to host memory (no intermediate copies, no
    per-run output allocation by ONNX Runtime); the outputs as host arrays."""
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, np.ascontiguousarray(value))
    for name in output_names:
        binding.bind_output(name, "cpu")
    session.run_with_iobinding(binding)
    return binding.copy_outputs_to_cpu()


def input_specs(session: Any, batch_size: int) -> list[tuple[str, tuple[int, ...], Any]]:
    """(name, shape, dtype) of every model input at `batch_size`; only the first axis may be symbolic."""
    specs = []
    for inp in session.get_inputs():
        shape = list(inp.shape)
        if not shape:
            raise SpecError("model", f"input {inp.name!r}", "is a scalar, not a batch", "export a batched input")
        if isinstance(shape[0], int) and shape[0] != batch_size:
            raise SpecError("model", f"input {inp.name!r}", f"has a fixed batch axis of {shape[0]}",
                            f"export the model with a dynamic batch axis, or use --batch-sizes {shape[0]}")
        rest = shape[1:]
        if not all(isinstance(d, int) and d > 0 for d in rest):
            raise SpecError("model", f"input {inp.name!r}", f"has symbolic dimensions beyond the batch axis {shape}",
                            "export the model with fixed sizes except the batch axis")
        dtype = _DTYPES.get(inp.type)
        if dtype is None:
            raise SpecError("model", f"input {inp.name!r}", f"unsupported input type {inp.type}",
                            f"use one of {', '.join(_DTYPES)}")
        specs.append((inp.name, (batch_size, *rest), dtype))
    return specs


def batch_inputs(session: Any, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random inputs of `batch_size` for every model input (normal floats, 0/1 integers)."""
    feeds = {}
    for name, shape, dtype in input_specs(session, batch_size):
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[name] = rng.integers(0, 2, size=shape).astype(dtype)
    return feeds


def host_description() -> str:
    """CPU model and core count of this machine, for the provenance of a measurement."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    return f"{name}, {available_cores()} cores available"


def provenance(model_file: Path, provider: str, threads: Threads, note: str = "") -> str:
    """The `source` text of a measured row: what ran, where, how, and when (UTC date)."""
    rt = ort()
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    text = (f"measured by skinflint profile ({Path(model_file).name}) on {host_description()}; onnxruntime "
            f"{rt.__version__} {provider}; threads intra={threads.intra_op} inter={threads.inter_op}; {today}")
    return f"{text}; {note}" if note else text
