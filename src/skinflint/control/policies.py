"""Re-planning policies: pure, clock-free objects that turn a rate estimate into the rate to plan
for (or None: keep the current plan). One registry, `make_policy(name, **params)`.

  static      plan once for a fixed rate (static peak provisioning)
  epoch       Nexus-style: every `epoch_s`, plan for the last epoch's mean rate; no hysteresis
  hysteresis  skinflint's loop: scale up at once, down slowly (a band, a delay, a step limit),
              a minimum dwell between changes, and headroom for bursts

Every target is rounded up to a geometric `RateGrid` so that plans can be cached and re-used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from skinflint.control.estimator import RateEstimate
from skinflint.registry import Registry


@dataclass(frozen=True)
class RateGrid:
    """Rates rounded up to `floor · (1 + step)^k`: at most `step` extra capacity, few distinct plans."""

    floor: float = 1.0
    step: float = 0.025

    def __post_init__(self) -> None:
        if not (self.floor > 0 and self.step > 0):
            raise ValueError(f"floor and step must be positive (got {self.floor}, {self.step})")

    def up(self, rate: float) -> float:
        """The smallest grid rate >= `rate` (the floor for anything below it)."""
        if not rate > self.floor:
            return self.floor
        k = math.ceil(math.log(rate / self.floor) / math.log1p(self.step) - 1e-9)
        return round(self.floor * (1 + self.step) ** k, 6)


class ControlPolicy(Protocol):
    """Decides, at time `now_s`, the rate to plan for given the estimate and the current plan's rate."""

    name: str

    def decide(self, now_s: float, estimate: RateEstimate, current: float | None) -> float | None:
        """A new target rate (req/s), or None to keep `current` (None before the first plan)."""
        ...


class StaticPolicy:
    """Plan once for `rate` and never change (static peak provisioning when `rate` is the peak)."""

    name = "static"

    def __init__(self, rate: float, grid: RateGrid = RateGrid()) -> None:
        """`rate`: the rate to provision for, e.g. the day's peak."""
        if not rate > 0:
            raise ValueError(f"rate must be positive (got {rate})")
        self.rate = grid.up(float(rate))

    def decide(self, now_s: float, estimate: RateEstimate, current: float | None) -> float | None:
        """The fixed rate the first time, None ever after."""
        return None if current == self.rate else self.rate


class EpochPolicy:
    """Nexus-style epochs: at every `epoch_s` boundary plan for the mean rate of the epoch just
    ended (the estimator's window should be `epoch_s`). No headroom, no hysteresis."""

    name = "epoch"

    def __init__(self, epoch_s: float = 30.0, grid: RateGrid = RateGrid(), headroom: float = 0.0) -> None:
        """`epoch_s`: seconds between re-plans; `headroom`: plan for the mean x (1 + headroom)."""
        if not epoch_s > 0:
            raise ValueError(f"epoch_s must be positive (got {epoch_s})")
        self.epoch_s, self.grid, self.headroom = float(epoch_s), grid, float(headroom)
        self._next_s: float | None = None

    def decide(self, now_s: float, estimate: RateEstimate, current: float | None) -> float | None:
        """The last epoch's mean rate (rounded up to the grid) at each boundary, if it changed."""
        if self._next_s is None:
            self._next_s = now_s + self.epoch_s
            return self.grid.up(estimate.upper) if current is None else None
        if now_s + 1e-9 < self._next_s:
            return None
        self._next_s += self.epoch_s * max(1, math.floor((now_s - self._next_s) / self.epoch_s + 1e-9) + 1)
        target = self.grid.up(estimate.window_mean * (1 + self.headroom))
        return None if target == current else target


class HysteresisPolicy:
    """skinflint's loop. Wanted rate = max(EWMA x (1 + headroom), short-window max), on the grid.

    Up: as soon as the wanted rate exceeds the current plan's. Down: only when the wanted rate has
    stayed below current x (1 - band) for `down_after_s`, at least `dwell_s` after the last change,
    and by at most `down_step` of the current rate per change.
    """

    name = "hysteresis"

    def __init__(self, headroom: float = 0.15, dwell_s: float = 300.0, down_after_s: float = 300.0,
                 band: float = 0.1, down_step: float = 0.3, grid: RateGrid = RateGrid()) -> None:
        """Defaults: 15 % headroom, 5 min dwell, 5 min below a 10 % band before stepping down <= 30 %."""
        if not (headroom >= 0 and dwell_s >= 0 and down_after_s >= 0 and 0 <= band < 1 and 0 < down_step <= 1):
            raise ValueError("need headroom >= 0, dwell_s >= 0, down_after_s >= 0, 0 <= band < 1, 0 < down_step <= 1")
        self.headroom, self.dwell_s, self.down_after_s = float(headroom), float(dwell_s), float(down_after_s)
        self.band, self.down_step, self.grid = float(band), float(down_step), grid
        self._changed_s = -math.inf
        self._low_since: float | None = None

    def wanted(self, estimate: RateEstimate) -> float:
        """The rate the estimate asks for, before hysteresis."""
        return self.grid.up(max(estimate.ewma * (1 + self.headroom), estimate.window_max))

    def decide(self, now_s: float, estimate: RateEstimate, current: float | None) -> float | None:
        """Up at once; down after the delay and dwell, limited to one step."""
        want = self.wanted(estimate)
        if current is None or want > current:
            return self._change(now_s, want)
        if want >= current * (1 - self.band):
            self._low_since = None
            return None
        if self._low_since is None:
            self._low_since = now_s
        if now_s - self._low_since < self.down_after_s or now_s - self._changed_s < self.dwell_s:
            return None
        target = self.grid.up(max(want, current * (1 - self.down_step)))
        return self._change(now_s, target) if target < current else None

    def _change(self, now_s: float, target: float) -> float:
        self._changed_s, self._low_since = now_s, None
        return target


PolicyFactory = Callable[..., ControlPolicy]
_REGISTRY: Registry[PolicyFactory] = Registry("control policy", "--policy")


def register_policy(name: str, factory: PolicyFactory) -> PolicyFactory:
    """Add a control policy factory under `name`; a duplicate is an error."""
    return _REGISTRY.register(name, factory)


def policy_names() -> list[str]:
    """The registered control policies."""
    return _REGISTRY.names()


def make_policy(name: str, **params: Any) -> ControlPolicy:
    """A fresh policy `name` (policies hold state: one per run); bad parameters raise SpecError."""
    return _REGISTRY.build(name, **params)


register_policy("static", StaticPolicy)
register_policy("epoch", EpochPolicy)
register_policy("hysteresis", HysteresisPolicy)
