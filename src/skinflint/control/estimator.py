"""A clock-free rate estimator: an EWMA of the arrival rate plus the mean and the maximum over a
short window, fed arrival counts with their timestamps (seconds, any origin)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RateEstimate:
    """What the estimator believes at time `now_s` (all rates in req/s)."""

    now_s: float
    ewma: float          # exponentially weighted mean rate (half-life `half_life_s`)
    window_mean: float   # arrivals in the last `window_s` / window_s
    window_max: float    # the highest rate of one observation interval within the last `window_s`

    @property
    def upper(self) -> float:
        """The larger of the smoothed rate and the short-window peak."""
        return max(self.ewma, self.window_max)


class RateEstimator:
    """Feed `observe(t_s, count)` with the arrivals counted in (previous t_s, t_s]; ask `estimate(t_s)`.

    The EWMA decays continuously in time, `w = 2^(-dt / half_life_s)`, so it does not depend on
    how often it is fed; the window keeps the (interval, count) pairs of the last `window_s`.
    A single timestamp per call works too: `observe(t, 1)` for each arrival.
    """

    def __init__(self, half_life_s: float = 60.0, window_s: float = 10.0, start_s: float = 0.0,
                 initial_rate: float = 0.0) -> None:
        """`start_s`: the time counting starts; `initial_rate`: the EWMA before any observation."""
        if not (half_life_s > 0 and window_s > 0 and math.isfinite(half_life_s + window_s)):
            raise ValueError(f"half_life_s and window_s must be positive (got {half_life_s}, {window_s})")
        self.half_life_s, self.window_s = float(half_life_s), float(window_s)
        self._last_s = float(start_s)
        self._ewma = float(initial_rate)
        self._window: deque[tuple[float, float, int]] = deque()   # (start_s, end_s, count)

    def observe(self, t_s: float, count: int = 1) -> None:
        """Arrivals `count` seen in the interval (last observation, t_s]; time must not go back."""
        if t_s < self._last_s:
            raise ValueError(f"time went back: {t_s} < {self._last_s}")
        if count < 0:
            raise ValueError(f"count must be >= 0 (got {count})")
        dt = t_s - self._last_s
        if dt > 0:
            # rate over the interval, blended with the weight the interval's length earns
            w = 2.0 ** (-dt / self.half_life_s)
            self._ewma = w * self._ewma + (1.0 - w) * count / dt
            self._window.append((self._last_s, t_s, int(count)))
            self._last_s = t_s
        elif count:
            # arrivals at the same instant: fold them into the latest interval
            if self._window:
                s, e, c = self._window.pop()
                self._window.append((s, e, c + int(count)))
                self._ewma += (1.0 - 2.0 ** (-(e - s) / self.half_life_s)) * count / (e - s)
        self._trim(t_s)

    def _trim(self, now_s: float) -> None:
        while self._window and self._window[0][1] <= now_s - self.window_s:
            self._window.popleft()

    def estimate(self, now_s: float) -> RateEstimate:
        """The EWMA, and the window's mean and maximum interval rate, as of `now_s`."""
        self._trim(now_s)
        inside = [(s, e, c) for s, e, c in self._window if e > now_s - self.window_s]
        count = sum(c for _, _, c in inside)
        span = min(self.window_s, max(now_s - inside[0][0], 1e-12)) if inside else self.window_s
        peak = max((c / (e - s) for s, e, c in inside), default=0.0)
        return RateEstimate(float(now_s), self._ewma, count / span, peak)
