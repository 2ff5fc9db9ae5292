"""Non-stationary arrivals: a rate that varies in time (a CSV or a function; day/night), and the
replay of recorded timestamps."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from skinflint.errors import SpecError
from skinflint.spec.bounds import parse_text
from skinflint.spec.files import read_csv_rows, read_text

MODES = ("poisson", "uniform")


def read_rate_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(time_s, rate) points from a CSV with columns time_s,rate (ascending times, rates >= 0)."""
    path = Path(path)
    rows = read_csv_rows(path, "rate profile", ("time_s", "rate"))
    if not rows:
        raise SpecError(path, "rows", "no rate points", "add rows time_s,rate")
    times, rates = [], []
    for line, row in enumerate(rows, start=2):
        t = parse_text("curve_time_s", row["time_s"], path, f"line {line}.time_s")
        r = parse_text("curve_rate", row["rate"], path, f"line {line}.rate")
        if times and t <= times[-1]:
            raise SpecError(path, f"line {line}.time_s", f"times must increase ({t} after {times[-1]})",
                            "sort the rows by time_s")
        times.append(t)
        rates.append(r)
    return np.array(times), np.array(rates)


@dataclass(frozen=True)
class TimeVarying:
    """Arrivals at a rate that varies in time: `points` (time_s, rate) joined linearly and held
    flat after the last point, or a function `fn(t_s) -> rate`. The rate is integrated in steps of
    `step_s` (each step at the mean of its ends); `mode` poisson draws a non-homogeneous Poisson
    process, `uniform` places arrivals where the expected count crosses each integer. With
    `rate`, the profile is scaled so that its mean over the simulated time is `rate`."""

    points: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    fn: Callable[[float], float] | None = None
    mode: str = "poisson"
    step_s: float = 0.1
    rate: float | None = None
    name: str = "varying"

    def __post_init__(self) -> None:
        if (self.points is None) == (self.fn is None):
            raise ValueError("give either a rate profile (csv) or a rate function, not both or neither")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)} (got {self.mode!r})")
        if not (math.isfinite(self.step_s) and self.step_s > 0):
            raise ValueError(f"step_s must be positive (got {self.step_s})")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"rate must be positive (got {self.rate})")

    def rate_at(self, t_s: np.ndarray) -> np.ndarray:
        """The (unscaled) rate at times t_s."""
        if self.fn is not None:
            out = np.array([float(self.fn(float(t))) for t in t_s])
        else:
            out = np.interp(t_s, np.asarray(self.points[0]), np.asarray(self.points[1]))
        if not np.all(np.isfinite(out)) or np.any(out < 0):
            raise ValueError("the rate must be finite and >= 0 everywhere")
        return out

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Invert the cumulative rate at unit-rate Poisson (or integer) points."""
        steps = max(1, math.ceil(duration_s / self.step_s))
        grid = np.linspace(0.0, duration_s, steps + 1)
        r = self.rate_at(grid)
        cumulative = np.concatenate(([0.0], np.cumsum((r[1:] + r[:-1]) / 2 * np.diff(grid))))
        if self.rate is not None and cumulative[-1] > 0:
            cumulative *= self.rate * duration_s / cumulative[-1]
        total = cumulative[-1]
        if self.mode == "uniform":
            marks = np.arange(math.ceil(total - 1e-9), dtype=float)
        else:
            marks = np.cumsum(rng.exponential(1.0, size=int(total + 6 * math.sqrt(total) + 16)))
            while marks.size and marks[-1] < total:
                more = np.cumsum(rng.exponential(1.0, size=int(math.sqrt(total) + 16))) + marks[-1]
                marks = np.concatenate((marks, more))
            marks = marks[marks < total]
        # the first grid point whose cumulative count reaches each mark, interpolated inside its step
        times = np.interp(marks, cumulative, grid) * 1000.0
        return times[times < 1000.0 * duration_s]


def varying(csv: str | None = None, fn: Callable[[float], float] | None = None, mode: str = "poisson",
            step_s: float = 0.1, rate: float | None = None) -> TimeVarying:
    """A time-varying rate from a CSV file (time_s,rate) or a function of time in seconds."""
    points = None
    if csv is not None:
        t, r = read_rate_csv(csv)
        points = (tuple(t.tolist()), tuple(r.tolist()))
    return TimeVarying(points, fn, mode, float(step_s), None if rate is None else float(rate))


def diurnal(rate: float, amplitude: float = 0.5, period_s: float = 600.0, phase_s: float = 0.0,
            mode: str = "poisson") -> TimeVarying:
    """Day and night compressed into `period_s`: rate x (1 + amplitude sin(2 pi (t + phase) / period))."""
    rate, amplitude, period_s = float(rate), float(amplitude), float(period_s)
    if not 0 <= amplitude <= 1:
        raise ValueError(f"amplitude must be in [0, 1] (got {amplitude})")
    if not period_s > 0:
        raise ValueError(f"period_s must be positive (got {period_s})")

    def fn(t: float) -> float:
        return rate * (1 + amplitude * math.sin(2 * math.pi * (t + phase_s) / period_s))

    return TimeVarying(None, fn, mode, min(0.1, period_s / 100), name="diurnal")


@dataclass(frozen=True)
class Replay:
    """Recorded arrival timestamps (seconds, or `unit` ms), shifted so the first is at 0."""

    stamps_ms: tuple[float, ...] = field(repr=False)
    source: str = ""
    name: str = "replay"

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """The timestamps that fall within the duration; says how many fall after it."""
        times = np.asarray(self.stamps_ms, dtype=float)
        keep = times < 1000.0 * duration_s
        if not keep.all():
            warnings.warn(f"replay {self.source}: {int((~keep).sum())} of {times.size} timestamps fall after the "
                          f"{duration_s:g} s simulated and are not replayed", stacklevel=2)
        return times[keep]


def replay(file: str, unit: str = "s") -> Replay:
    """Read one timestamp per line (blank lines and lines starting with # are skipped)."""
    scale = {"s": 1000.0, "ms": 1.0}.get(unit)
    if scale is None:
        raise ValueError(f"unit must be s or ms (got {unit!r})")
    stamps = []
    for line, text in enumerate(read_text(Path(file), "timestamps").splitlines(), start=1):
        text = text.split(",")[0].strip()
        if not text or text.startswith("#"):
            continue
        try:
            value = float(text)
        except ValueError:
            raise SpecError(file, f"line {line}", f"not a timestamp: {text!r}", "write one number per line") from None
        if not math.isfinite(value):
            raise SpecError(file, f"line {line}", f"not a finite timestamp: {text!r}", "remove it")
        stamps.append(value * scale)
    if not stamps:
        raise SpecError(file, "", "no timestamps", "write one arrival time per line")
    times = np.sort(np.array(stamps))
    return Replay(tuple((times - times[0]).tolist()), str(file))


BUILTIN = {"varying": varying, "diurnal": diurnal, "replay": replay}
