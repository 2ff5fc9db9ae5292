"""Arrival processes of MODEL.md's traffic model beyond the stationary basics: `mmpp` (bursts as
a fraction of time at a multiple of the rate) and `cameras` (N periodic streams superposed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from skinflint.sim.arrivals.basic import Bursty


def mmpp(rate: float, ratio: float = 1.5, share: float = 0.2, burst_s: float = 1.0) -> Bursty:
    """Bursts at `ratio` x rate for `share` of the time (each `burst_s` long on average,
    exponential), calm periods at the rate that keeps the mean: `mmpp:ratio=1.5,share=0.2`."""
    return Bursty(float(rate), float(ratio), float(burst_s), float(share), name="mmpp")


@dataclass(frozen=True)
class Cameras:
    """`count` cameras at `fps` frames/s each, every camera at its own random phase, each frame
    displaced by Gaussian noise of `jitter_ms` (untruncated; frames pushed outside the simulated
    window are not in it). The superposition of many tends to Poisson, of few stays periodic."""

    count: int
    fps: float
    jitter_ms: float = 0.0
    name: str = "cameras"

    def __post_init__(self) -> None:
        if not (self.count >= 1 and math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"need count >= 1 and fps > 0 (got count={self.count}, fps={self.fps})")
        if not (math.isfinite(self.jitter_ms) and self.jitter_ms >= 0):
            raise ValueError(f"jitter_ms must be >= 0 (got {self.jitter_ms})")

    @property
    def rate(self) -> float:
        """count x fps requests/s."""
        return self.count * self.fps

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Every camera's frames phase + k * 1000 / fps (+ noise) that fall in [0, duration)."""
        period = 1000.0 / self.fps
        end = 1000.0 * duration_s
        phases = rng.uniform(0.0, period, size=self.count)
        frames = math.ceil(end / period) + 1
        times = (phases[:, None] + period * np.arange(frames)[None, :]).ravel()
        if self.jitter_ms > 0:
            times = times + rng.normal(0.0, self.jitter_ms, size=times.size)
        times = times[(times >= 0) & (times < end)]
        times.sort()
        return times


def cameras(rate: float | None = None, count: float | None = None, fps: float | None = None,
            jitter_ms: float = 0.0) -> Cameras:
    """`cameras:count=60,fps=10,jitter_ms=5`; give two of rate, count and fps (the app's rate is
    passed in), and count x fps must equal the rate when all three are known."""
    if count is None and fps is None:
        fps = 10.0
    if count is None:
        if rate is None or fps is None:
            raise ValueError("give count and fps")
        count = round(rate / fps)
    elif fps is None:
        if rate is None:
            raise ValueError("give count and fps")
        fps = rate / count
    if count != int(count) or count < 1:
        raise ValueError(f"count must be a whole number >= 1 (got {count})")
    if rate is not None and not math.isclose(int(count) * fps, rate, rel_tol=0.01):
        raise ValueError(f"count x fps = {int(count) * fps:g} req/s differs from the rate {rate:g} req/s: "
                         f"set the app's rate to it or drop count")
    return Cameras(int(count), float(fps), float(jitter_ms))


BUILTIN = {"mmpp": mmpp, "cameras": cameras}
