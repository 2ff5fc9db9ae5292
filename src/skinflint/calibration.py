"""Calibration: turn measured batch latencies into an updated profile, with the drift shown.

MEASURED.csv has the profile columns, one row per batch run (docs/daynight.md, "Calibration"):

    model,hardware,batch_size,latency_ms
    resnet50,T4,8,12.9

Each measured (model, hardware, batch_size) gets a robust statistic of its runs (the median by
default: profiles are typical batch times, and the median ignores the odd slow run; p90 when you
want the plan to hold for 9 batches in 10). A configuration measured fewer than `min_samples`
times keeps its old value. Unmeasured batch sizes of a measured (model, hardware) pair are scaled
by the pair's median drift (the model or driver changed, not one batch size), unless told not to.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skinflint.errors import SpecError
from skinflint.spec.profiles import read_profile_rows

STATISTICS = {"median": 50.0, "p90": 90.0, "p99": 99.0}
Config = tuple[str, str, int]


@dataclass(frozen=True)
class Calibrated:
    """One configuration of the new profile and where its value came from."""

    model: str
    hardware: str
    batch_size: int
    old_ms: float | None
    new_ms: float
    samples: int
    source: str           # measured | scaled | kept | new

    @property
    def drift(self) -> float | None:
        """new / old - 1 (None for a configuration the old profile did not have)."""
        return None if not self.old_ms else self.new_ms / self.old_ms - 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"model": self.model, "hardware": self.hardware, "batch_size": self.batch_size, "old_ms": self.old_ms,
                "new_ms": self.new_ms, "drift": self.drift, "samples": self.samples, "source": self.source}


def read_measurements(path: Path) -> dict[Config, np.ndarray]:
    """Batch latencies (ms) per configuration from MEASURED.csv (one row per batch run)."""
    runs: dict[Config, list[float]] = defaultdict(list)
    for _, (model, hardware, batch, latency, *_) in read_profile_rows(Path(path)):
        runs[(model, hardware, batch)].append(latency)
    return {k: np.asarray(v) for k, v in runs.items()}


def calibrate(old: dict[Config, float], measured: dict[Config, np.ndarray], statistic: str = "median",
              min_samples: int = 5, scale_unmeasured: bool = True) -> list[Calibrated]:
    """The new profile: measured configurations by `statistic`, the rest kept or scaled."""
    if statistic not in STATISTICS:
        raise SpecError("command line", "--statistic", f"unknown statistic {statistic!r}",
                        f"choose one of: {', '.join(STATISTICS)}")
    if min_samples < 1:
        raise SpecError("command line", "--min-samples", f"must be >= 1 (got {min_samples})", "e.g. --min-samples 5")
    q = STATISTICS[statistic]
    out: dict[Config, Calibrated] = {}
    ratios: dict[tuple[str, str], list[float]] = defaultdict(list)
    for key, runs in measured.items():
        value = float(np.percentile(runs, q, method="inverted_cdf"))
        prior = old.get(key)
        if runs.size < min_samples:
            if prior is not None:
                out[key] = Calibrated(*key, prior, prior, int(runs.size), "kept")
            continue
        out[key] = Calibrated(*key, prior, value, int(runs.size), "measured" if prior else "new")
        if prior:
            ratios[key[:2]].append(value / prior)
    for key, prior in old.items():
        if key in out:
            continue
        pair = ratios.get(key[:2])
        if scale_unmeasured and pair:
            out[key] = Calibrated(*key, prior, prior * float(np.median(pair)), 0, "scaled")
        else:
            out[key] = Calibrated(*key, prior, prior, 0, "kept")
    return [out[k] for k in sorted(out)]


def old_profile(path: Path) -> dict[Config, float]:
    """The profile file's latency per configuration (a duplicate configuration is an error)."""
    table: dict[Config, float] = {}
    for where, (model, hardware, batch, latency, *_) in read_profile_rows(Path(path)):
        if (model, hardware, batch) in table:
            raise SpecError(path, where, f"{model} on {hardware} at batch {batch} appears twice", "keep one row")
        table[(model, hardware, batch)] = latency
    return table


def profile_csv(rows: list[Calibrated]) -> str:
    """The new profile as CSV (FORMATS.md columns, then samples and source, which loaders ignore)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["model", "hardware", "batch_size", "latency_ms", "samples", "source"])
    for r in rows:
        w.writerow([r.model, r.hardware, r.batch_size, f"{r.new_ms:.6g}", r.samples, r.source])
    return buf.getvalue()


def drift_summary(rows: list[Calibrated]) -> dict[str, Any]:
    """Counts by source and the median and largest |drift| over measured configurations."""
    drifts = [r.drift for r in rows if r.source == "measured" and r.drift is not None]
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r.source] += 1
    return {"by_source": dict(counts), "median_drift": float(np.median(drifts)) if drifts else math.nan,
            "max_abs_drift": max((abs(d) for d in drifts), default=math.nan)}
