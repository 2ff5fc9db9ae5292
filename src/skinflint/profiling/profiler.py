"""Profile one ONNX model: batch latency per batch size on one hardware type, flags included.

Each batch size is warmed up and timed by `measure` (median, p95, p99 over repetitions until
the median is stable or a time cap). Results are never smoothed: a batch size whose latency is
above a larger batch's is flagged ``non-monotone`` (MODEL.md runs it padded), one whose slow
tail is far above its median is flagged ``noisy``, and one whose median did not settle before
the cap is flagged ``unstable``. Where /proc/stat tells, the share of the machine that other
processes used during each measurement is recorded (``others_cpu_pct``) and, above 10 %,
flagged ``contended``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from skinflint.errors import SpecError
from skinflint.profiling.contention import others_share, snapshot
from skinflint.profiling.measure import Measurement, MeasureOptions, measure
from skinflint.profiling.session import (Threads, available_cores, batch_inputs, input_specs, open_session,
                                         provenance, resolve_provider, run_bound)
from skinflint.spec.profiles import effective_times

NOISY_TAIL = 0.25  # flag "noisy" when (p95 - median) / median exceeds this
CONTENDED = 0.10  # flag "contended" when other processes used more than this share of the machine


@dataclass(frozen=True)
class ProfileOptions:
    """What to measure and how: batch sizes, provider, threads, stopping rule, flag threshold, seed."""

    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    provider: str = "auto"
    threads: int | None = None  # intra-op threads; None = every core this process may use
    inter_op_threads: int = 1
    device_id: int | None = None   # the GPU to measure on (cuda, tensorrt), as the runtime pins its workers
    measure: MeasureOptions = field(default_factory=MeasureOptions)
    noisy_tail: float = NOISY_TAIL
    contended: float = CONTENDED
    note: str = ""

    def __post_init__(self) -> None:
        sizes = list(self.batch_sizes)
        if not sizes or any(not isinstance(b, int) or isinstance(b, bool) or b < 1 for b in sizes):
            raise SpecError("command line", "--batch-sizes", f"batch sizes must be positive integers (got {sizes})",
                            "write e.g. --batch-sizes 1,2,4,8")
        if len(set(sizes)) != len(sizes):
            raise SpecError("command line", "--batch-sizes", f"a batch size is listed twice ({sizes})",
                            "list each batch size once")
        object.__setattr__(self, "batch_sizes", tuple(sorted(sizes)))


@dataclass(frozen=True)
class ProfilePoint:
    """One measured row of the profile CSV (FORMATS.md columns first, then the extras)."""

    model: str
    hardware: str
    batch_size: int
    latency_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    n: int
    converged: bool
    flags: tuple[str, ...]
    provider: str
    threads: str
    source: str
    others_cpu_pct: float | None = None  # share of the machine other processes used meanwhile

    def to_row(self) -> dict[str, str]:
        """The CSV row: times rounded to 0.1 microsecond, flags joined by ';'."""
        return {"model": self.model, "hardware": self.hardware, "batch_size": str(self.batch_size),
                "latency_ms": f"{self.latency_ms:.4f}", "p95_ms": f"{self.p95_ms:.4f}", "p99_ms": f"{self.p99_ms:.4f}",
                "mean_ms": f"{self.mean_ms:.4f}", "n": str(self.n), "converged": str(self.converged).lower(),
                "flags": ";".join(self.flags), "others_cpu_pct": fmt_pct(self.others_cpu_pct),
                "provider": self.provider, "threads": self.threads, "source": self.source}


class Progress(Protocol):
    """What the profiler reports while it runs (the CLI draws a rich progress bar from it)."""

    def start(self, batch_size: int) -> None:
        """Warm-up of `batch_size` begins."""

    def sample(self, batch_size: int, n: int, median_ms: float, elapsed_s: float) -> None:
        """Timed run `n` of `batch_size` is done; the median so far and the seconds spent timing."""

    def done(self, point: ProfilePoint) -> None:
        """`batch_size` is measured."""


def fmt_pct(share: float | None) -> str:
    """A share as a percentage with one decimal ('' when unknown)."""
    return "" if share is None else f"{100.0 * share:.1f}"


def non_monotone(batch_sizes: Sequence[int], latency_ms: Sequence[float]) -> set[int]:
    """Batch sizes measured slower than some larger batch size (those MODEL.md runs padded)."""
    _, exec_sizes = effective_times(list(batch_sizes), list(latency_ms))
    return {b for b, e in zip(batch_sizes, exec_sizes) if e != b}


def point_flags(m: Measurement, noisy_tail: float = NOISY_TAIL, others_share: float | None = None,
                contended: float = CONTENDED) -> list[str]:
    """'noisy': p95 more than `noisy_tail` above the median; 'unstable': not converged;
    'contended': other processes used more than `contended` of the machine meanwhile."""
    flags = []
    if m.tail_ratio > noisy_tail:
        flags.append("noisy")
    if not m.converged:
        flags.append("unstable")
    if others_share is not None and others_share > contended:
        flags.append("contended")
    return flags


def with_monotonicity_flags(points: list[ProfilePoint]) -> list[ProfilePoint]:
    """Add 'non-monotone' to each point slower than a larger batch of the same (model, hardware)."""
    out = []
    for key in dict.fromkeys((p.model, p.hardware) for p in points):
        curve = sorted((p for p in points if (p.model, p.hardware) == key), key=lambda p: p.batch_size)
        slow = non_monotone([p.batch_size for p in curve], [p.latency_ms for p in curve])
        for p in curve:
            flags = tuple(f for f in p.flags if f != "non-monotone")
            out.append(replace(p, flags=flags + (("non-monotone",) if p.batch_size in slow else ())))
    return out


class Profiler:
    """An opened model, ready to measure: all checks (file, provider, threads, input shapes) done up front."""

    def __init__(self, model_file: str | Path, *, hardware: str, model: str | None = None,
                 options: ProfileOptions = ProfileOptions()) -> None:
        self.model_file, self.options = Path(model_file), options
        if not hardware or not hardware.strip():
            raise SpecError("command line", "--hardware", "empty hardware name", "name the hardware type, e.g. T4")
        self.hardware, self.model = hardware, model or self.model_file.stem
        self.provider = resolve_provider(options.provider)
        self.threads = Threads(options.threads if options.threads is not None else available_cores(),
                               options.inter_op_threads)
        self.session = open_session(self.model_file, self.provider, self.threads, options.device_id)
        for b in options.batch_sizes:
            input_specs(self.session, b)
        self.source = provenance(self.model_file, self.provider, self.threads, options.note)

    def _runner(self, feeds: dict, outputs: list[str]) -> Any:
        return _bound_or_plain(self.session, self.provider, feeds, outputs)

    def run(self, rng: np.random.Generator | None = None, progress: Progress | None = None) -> list[ProfilePoint]:
        """Measure every batch size in ascending order; inputs are random from `rng` (default seed 0)."""
        rng = rng if rng is not None else np.random.default_rng(0)
        outputs = [o.name for o in self.session.get_outputs()]
        points = []
        for b in self.options.batch_sizes:
            feeds = batch_inputs(self.session, b, rng)
            if progress is not None:
                progress.start(b)
            hook = (lambda n, med, el, b=b: progress.sample(b, n, med, el)) if progress is not None else None
            before = snapshot()
            m = measure(self._runner(feeds, outputs), self.options.measure, on_sample=hook)
            others = others_share(before, snapshot())
            flags = point_flags(m, self.options.noisy_tail, others, self.options.contended)
            point = ProfilePoint(self.model, self.hardware, b, m.median_ms, m.p95_ms, m.p99_ms, m.mean_ms, m.n,
                                 m.converged, tuple(flags), self.provider.removesuffix("ExecutionProvider"),
                                 f"{self.threads.intra_op}/{self.threads.inter_op}", self.source, others)
            points.append(point)
            if progress is not None:
                progress.done(point)
        return with_monotonicity_flags(points)


def _bound_or_plain(session: Any, provider: str, feeds: dict, outputs: list[str]) -> Any:
    """What one timed run is: on a GPU provider, IO binding as the runtime's workers run (the host
    copies included); on the CPU, a plain run."""
    if provider == "CPUExecutionProvider":
        return lambda: session.run(outputs, feeds)
    return lambda: run_bound(session, feeds, outputs)


def profile_model(model_file: str | Path, *, hardware: str, model: str | None = None,
                  options: ProfileOptions = ProfileOptions(), rng: np.random.Generator | None = None,
                  progress: Progress | None = None) -> list[ProfilePoint]:
    """Measure `model_file` at each batch size on this machine, recorded as hardware type `hardware`.

    `model` names the model in the profile (default: the file's stem). Inputs are random, from
    `rng` (default: a Generator seeded 0). Raises SpecError for a bad file, input or provider.
    """
    return Profiler(model_file, hardware=hardware, model=model, options=options).run(rng, progress)
