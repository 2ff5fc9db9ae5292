"""Stationary arrival processes: uniform, Poisson, and bursty (two-state MMPP, on/off)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np



def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number (got {value})")
    return value


@dataclass(frozen=True)
class Uniform:
    """One arrival every 1000 / rate ms, the first at `phase_ms`."""

    rate: float
    phase_ms: float = 0.0
    name: str = "uniform"

    def __post_init__(self) -> None:
        _positive("rate", self.rate)
        if not 0 <= self.phase_ms < 1000.0 / self.rate:
            raise ValueError(f"phase_ms must be in [0, 1000 / rate) (got {self.phase_ms})")

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """phase + k * 1000 / rate for every k that falls before the end."""
        gap = 1000.0 / self.rate
        count = max(0, math.ceil((1000.0 * duration_s - self.phase_ms) / gap))
        times = self.phase_ms + np.arange(count, dtype=float) * gap
        return times[times < 1000.0 * duration_s]


def poisson_times(rate: float, duration_ms: float, rng: np.random.Generator) -> np.ndarray:
    """A Poisson process at `rate` req/s on [0, duration_ms): exponential gaps, nothing capped."""
    out: list[np.ndarray] = []
    t = 0.0
    while True:
        expect = rate * (duration_ms - t) / 1000.0
        chunk = int(expect + 6.0 * math.sqrt(expect) + 16)
        times = t + np.cumsum(rng.exponential(1000.0 / rate, size=chunk))
        out.append(times[times < duration_ms])
        if times[-1] >= duration_ms:
            return np.concatenate(out)
        t = float(times[-1])


@dataclass(frozen=True)
class Poisson:
    """Exponential inter-arrival gaps with mean 1000 / rate ms."""

    rate: float
    name: str = "poisson"

    def __post_init__(self) -> None:
        _positive("rate", self.rate)

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Poisson arrivals over the whole duration."""
        return poisson_times(self.rate, 1000.0 * duration_s, rng)


@dataclass(frozen=True)
class Bursty:
    """Two-state Markov-modulated Poisson process with mean `rate`: bursts at `ratio` x rate for
    `share` of the time, each lasting `burst_s` on average (exponential), calm periods between
    at the rate that keeps the mean. share = 1 / ratio is on/off (silence between bursts)."""

    rate: float
    ratio: float = 3.0
    burst_s: float = 1.0
    share: float = 0.2
    name: str = "bursty"

    def __post_init__(self) -> None:
        _positive("rate", self.rate)
        _positive("burst_s", self.burst_s)
        if not (math.isfinite(self.ratio) and self.ratio >= 1):
            raise ValueError(f"ratio (burst rate / mean rate) must be >= 1 (got {self.ratio})")
        if not 0 < self.share < 1:
            raise ValueError(f"share (fraction of time in bursts) must be in (0, 1) (got {self.share})")
        if self.share * self.ratio > 1 + 1e-12:
            raise ValueError(f"share x ratio must be <= 1, else the calm rate is negative "
                             f"(got {self.share} x {self.ratio})")

    @property
    def cycle_s(self) -> float:
        """Mean length of one calm period and one burst: the time scale of the process's slow
        randomness (a run must span many of them to say what a plan attains)."""
        return self.burst_s / self.share

    @property
    def calm_rate(self) -> float:
        """Rate between bursts: (rate - share * ratio * rate) / (1 - share)."""
        return max(0.0, self.rate * (1 - self.share * self.ratio) / (1 - self.share))

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Draw the state periods, then Poisson arrivals inside each at its rate."""
        end = 1000.0 * duration_s
        mean_ms = np.array([1000.0 * self.burst_s * (1 - self.share) / self.share, 1000.0 * self.burst_s])
        rates = np.array([self.calm_rate, self.ratio * self.rate])
        state = int(rng.random() < self.share)
        starts, states = [], []
        t = 0.0
        while t < end:  # a few hundred periods at most for realistic settings
            length = rng.exponential(mean_ms[state])
            starts.append(t)
            states.append(state)
            t += length
            state = 1 - state
        starts_np = np.array(starts)
        ends = np.minimum(np.append(starts_np[1:], t), end)
        states_np = np.array(states)
        lengths = ends - starts_np
        counts = rng.poisson(rates[states_np] * lengths / 1000.0)
        offsets = rng.random(int(counts.sum()))
        times = np.repeat(starts_np, counts) + offsets * np.repeat(lengths, counts)
        times.sort()
        return times[times < end]


def on_off(rate: float, ratio: float = 4.0, burst_s: float = 1.0) -> Bursty:
    """Bursts at ratio x rate, silence between them (an MMPP with share = 1 / ratio)."""
    return Bursty(rate, ratio, burst_s, 1.0 / ratio, name="onoff")


BUILTIN = {"uniform": Uniform, "poisson": Poisson, "bursty": Bursty, "onoff": on_off}
