"""Timing one batch size: warm-up, then repetitions until the median is stable or a time cap.

`measure` takes the work as a callable and the clock as a parameter, so its stopping rule is
tested with a fake clock; nothing here knows about ONNX Runtime.

Stopping rule: after at least `min_runs` timed runs, every `check_every` runs the median of all
samples so far is compared with the median at the previous check; the median is *stable* once
it has moved by at most `rel_tol` (relative) `stable_checks` checks in a row. Measurement stops
when the median is stable, after `max_runs` runs, or when `time_cap_s` has passed (with at least
`min_cap_runs` samples); a measurement that stopped before its median was stable says so
(`converged = False`) and the profiler flags it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class MeasureOptions:
    """Warm-up, stopping rule and caps of one measurement (see the module docstring)."""

    warmup_runs: int = 3
    warmup_s: float = 0.2
    min_runs: int = 10
    max_runs: int = 2000
    time_cap_s: float = 5.0
    min_cap_runs: int = 3
    check_every: int = 5
    rel_tol: float = 0.02
    stable_checks: int = 2

    def __post_init__(self) -> None:
        for name in ("warmup_runs", "min_runs", "max_runs", "min_cap_runs", "check_every", "stable_checks"):
            if getattr(self, name) < (0 if name == "warmup_runs" else 1):
                raise ValueError(f"MeasureOptions.{name} must be a positive count (got {getattr(self, name)})")
        if self.min_runs > self.max_runs:
            raise ValueError("MeasureOptions.min_runs must not exceed max_runs")
        for name in ("warmup_s", "time_cap_s", "rel_tol"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"MeasureOptions.{name} must be >= 0 (got {getattr(self, name)})")


@dataclass(frozen=True)
class Measurement:
    """Summary of the timed runs of one batch size (all times in ms)."""

    samples_ms: tuple[float, ...]
    median_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    converged: bool
    warmup_runs: int
    elapsed_s: float

    @property
    def n(self) -> int:
        """Number of timed runs."""
        return len(self.samples_ms)

    @property
    def tail_ratio(self) -> float:
        """(p95 - median) / median: how far the slow tail sits above the typical run."""
        return (self.p95_ms - self.median_ms) / self.median_ms if self.median_ms > 0 else 0.0


def summarize(samples_ms: list[float], *, converged: bool, warmup_runs: int = 0, elapsed_s: float = 0.0) -> Measurement:
    """Median, p95, p99 (linear interpolation between order statistics), mean and min."""
    a = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return Measurement(tuple(float(s) for s in a), float(p50), float(p95), float(p99), float(a.mean()),
                       float(a.min()), converged, warmup_runs, elapsed_s)


def measure(run: Callable[[], object], options: MeasureOptions = MeasureOptions(), *,
            clock: Callable[[], float] = time.perf_counter,
            on_sample: Callable[[int, float, float], None] | None = None) -> Measurement:
    """Time `run()` per the stopping rule; `clock()` returns seconds; `on_sample(n, median_ms, elapsed_s)`."""
    start = clock()
    warm = 0
    while warm < options.warmup_runs or clock() - start < options.warmup_s:
        run()
        warm += 1
    samples: list[float] = []
    begin = clock()
    previous, stable, converged = None, 0, False
    while True:
        t0 = clock()
        run()
        samples.append((clock() - t0) * 1000.0)
        n, elapsed = len(samples), clock() - begin
        if on_sample is not None:
            on_sample(n, float(np.median(samples)), elapsed)
        if n >= options.min_runs and n % options.check_every == 0:
            median = float(np.median(samples))
            stable = stable + 1 if previous is not None and abs(median - previous) <= options.rel_tol * previous else 0
            previous = median
            if stable >= options.stable_checks:
                converged = True
                break
        if n >= options.max_runs or (elapsed >= options.time_cap_s and n >= options.min_cap_runs):
            break
    return summarize(samples, converged=converged, warmup_runs=warm, elapsed_s=clock() - start)
