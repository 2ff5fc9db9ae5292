"""How many items a request brings to a module: deterministic rounding of `rate_factor`.

A module with factor f = p/q (lowest terms) gets C(i+1) - C(i) items from request i, where
C(i) = ceil(i p / q). The counts are floor(f) or ceil(f), the first n requests bring exactly
ceil(n f) items (the long-run average is exactly f), and item j belongs to request floor(j / f):
no item is ever *ahead* of the uniform stream at rate r * f that MODEL.md assumes (j >= i f).

They can be behind it: the items of one request arrive together, while the uniform stream would
spread them over (count - 1) gaps. The last item of a request can therefore finish up to
`model.fanout_lag_ms` = 1000 (1 - 1/p) / r later than W without it (docs/simulator.md).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

MAX_DENOMINATOR = 10**6


def as_fraction(rate_factor: float) -> tuple[int, int]:
    """(p, q) with rate_factor ~= p / q in lowest terms (denominator at most 10**6)."""
    if not rate_factor > 0:
        raise ValueError(f"rate_factor must be positive (got {rate_factor})")
    frac = Fraction(rate_factor).limit_denominator(MAX_DENOMINATOR)
    return frac.numerator, frac.denominator


def first_items(n_requests: int, rate_factor: float) -> np.ndarray:
    """C(i) = ceil(i f) for i = 0..n: request i's items are C(i) .. C(i+1) - 1 (int64, exact)."""
    p, q = as_fraction(rate_factor)
    i = np.arange(n_requests + 1, dtype=np.int64)
    return -((-i * p) // q)


def item_counts(n_requests: int, rate_factor: float) -> np.ndarray:
    """Items each of the first n requests brings to a module of this factor."""
    p, q = as_fraction(rate_factor)
    if q == 1:  # an integer factor: p items each (C(i) = i p)
        return np.full(n_requests, p, dtype=np.int64)
    return np.diff(first_items(n_requests, rate_factor))

