"""Latency statistics that the simulator and the runtime report alike."""

from __future__ import annotations

import numpy as np

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))


def percentiles(values: np.ndarray) -> dict[str, float]:
    """p50, p90, p99, p99.9 (each an observed value: the smallest one with at least that share of
    the values at or below it) and max; NaN when there are none."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {k: float("nan") for k, _ in PERCENTILES} | {"max": float("nan")}
    qs = np.percentile(values, [q for _, q in PERCENTILES], method="inverted_cdf")
    return {k: float(v) for (k, _), v in zip(PERCENTILES, qs)} | {"max": float(values.max())}


__all__ = ["PERCENTILES", "percentiles"]
