"""A day's rate curve (CSV time_s,rate, joined linearly) with random bursts on top."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skinflint.errors import SpecError
from skinflint.spec.bounds import parse_text
from skinflint.sim.arrivals.varying import TimeVarying, read_rate_csv


@dataclass(frozen=True)
class Bursts:
    """`count` bursts of `duration_s` each, at random starts, multiplying the rate by `factor`."""

    count: int = 0
    factor: float = 2.0
    duration_s: float = 120.0

    def windows(self, length_s: float, rng: np.random.Generator) -> np.ndarray:
        """(count, 2) array of [start, end) seconds, drawn uniformly within the day."""
        starts = np.sort(rng.uniform(0.0, max(length_s - self.duration_s, 0.0), size=self.count))
        return np.stack((starts, starts + self.duration_s), axis=1) if self.count else np.zeros((0, 2))


def parse_bursts(text: str | None) -> Bursts:
    """`count=6,factor=2,duration_s=120` (any subset) as Bursts; bad text raises SpecError."""
    if not text:
        return Bursts()
    values: dict[str, float] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in ("count", "factor", "duration_s"):
            raise SpecError("command line", "--bursts", f"unknown key {key!r}", "use count=N,factor=F,duration_s=S")
        values[key] = parse_text("parameter", value, "command line", f"--bursts {key}")
    b = Bursts(int(values.get("count", 4)), values.get("factor", 2.0), values.get("duration_s", 120.0))
    if not (0 <= b.count <= 10_000 and b.count == values.get("count", 4) and 1 <= b.factor <= 100
            and 0 < b.duration_s <= 86400):
        raise SpecError("command line", "--bursts", "need a whole count in [0, 10000], factor in [1, 100], "
                        "duration_s in (0, 86400]", "e.g. count=6,factor=2,duration_s=120")
    return b


@dataclass(frozen=True)
class DayCurve:
    """Rate points (time_s, req/s) over [0, length_s], joined linearly; `source` names the file."""

    times_s: tuple[float, ...]
    rates: tuple[float, ...]
    source: str = ""

    @classmethod
    def from_csv(cls, path: str | Path, peak: float | None = None) -> "DayCurve":
        """Read time_s,rate rows; `peak` rescales the rates so that their maximum is `peak`."""
        t, r = read_rate_csv(path)
        if t[0] != 0 or t.size < 2:
            raise SpecError(path, "time_s", "the curve must start at time 0 and have two points or more",
                            "add a row 0,RATE")
        if not r.max() > 0:
            raise SpecError(path, "rate", "every rate is 0", "give the day's rates in req/s")
        if peak is not None:
            if not (math.isfinite(peak) and peak > 0):
                raise SpecError("command line", "--peak", f"must be a positive rate (got {peak})", "e.g. --peak 300")
            r = r * (peak / r.max())
        return cls(tuple(t.tolist()), tuple(r.tolist()), str(path))

    @property
    def length_s(self) -> float:
        """The curve's span in seconds."""
        return self.times_s[-1]

    @property
    def peak(self) -> float:
        """The highest rate on the curve (bursts not included)."""
        return max(self.rates)

    def with_bursts(self, windows: np.ndarray, factor: float) -> "DayCurve":
        """The curve multiplied by `factor` inside each [start, end) window (steps at the edges)."""
        if windows.size == 0:
            return self
        t = np.asarray(self.times_s)
        eps = 1e-6
        edges = np.concatenate([windows[:, 0] - eps, windows[:, 0], windows[:, 1] - eps, windows[:, 1]])
        grid = np.unique(np.clip(np.concatenate([t, edges]), 0.0, t[-1]))
        rate = np.interp(grid, t, np.asarray(self.rates))
        inside = np.zeros(grid.size, dtype=bool)
        for start, end in windows:
            inside |= (grid >= start) & (grid < end)
        rate = np.where(inside, rate * factor, rate)
        return DayCurve(tuple(grid.tolist()), tuple(rate.tolist()), self.source + " + bursts")

    def arrival_times_ms(self, rng: np.random.Generator, step_s: float = 0.5) -> np.ndarray:
        """Poisson arrivals along the curve (a non-homogeneous process; no tail is cut)."""
        return TimeVarying(points=(self.times_s, self.rates), step_s=step_s).times_ms(self.length_s, rng)
