"""Multiplicative jitter on batch times: each batch runs for d(h, k) x a factor drawn from a
distribution. Draws come from the simulation's Generator: per module, one per item, and a batch
takes the draw of its first item (so every executor and policy sees the same draws)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from skinflint.errors import SpecError

Jitter = Callable[[np.random.Generator, int], np.ndarray]
"""jitter(rng, n) -> n positive factors"""


@dataclass(frozen=True)
class LogNormal:
    """Factors exp(N(mu, sigma)) with mu = -sigma^2 / 2, so the mean factor is 1; unbounded tail."""

    sigma: float

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(-self.sigma ** 2 / 2, self.sigma, size=n)


@dataclass(frozen=True)
class UniformJitter:
    """Factors uniform in [low, high]."""

    low: float
    high: float

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)


def parse_jitter(text: str) -> Jitter:
    """`lognormal:SIGMA` or `uniform:LOW,HIGH` (the --jitter option)."""
    kind, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
    except ValueError:
        values = []
    if kind == "lognormal" and len(values) == 1 and math.isfinite(values[0]) and values[0] >= 0:
        return LogNormal(values[0])
    if kind == "uniform" and len(values) == 2 and 0 < values[0] <= values[1] and math.isfinite(values[1]):
        return UniformJitter(values[0], values[1])
    raise SpecError("command line", "--jitter", f"cannot read {text!r}",
                    "write lognormal:SIGMA (e.g. lognormal:0.05) or uniform:LOW,HIGH (e.g. uniform:0.95,1.1)")
