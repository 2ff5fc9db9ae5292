"""Profiles: measured batch latency per (model, hardware, batch size), from CSV or YAML.

Measured curves are often non-monotone at small batches; that is data, not an error. Each
batch size gets MODEL.md's effective time (the fastest profiled size at least as large, run
padded), and the loader warns where it differs from the measurement.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Iterable

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from skinflint.errors import SpecError
from skinflint.spec.files import read_csv_rows, read_yaml_mapping, validate
from skinflint.spec.types import ProfileCurve, Profiles

COLUMNS = ("model", "hardware", "batch_size", "latency_ms")


class ProfileWarning(UserWarning):
    """A profile that is real but surprising (e.g. a larger batch runs faster)."""


class ProfileRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: Annotated[StrictStr, Field(min_length=1)]
    hardware: Annotated[StrictStr, Field(min_length=1)]
    batch_size: Annotated[StrictInt, Field(gt=0)]
    latency_ms: Annotated[StrictFloat | StrictInt, Field(gt=0, allow_inf_nan=False)]


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: Annotated[list[ProfileRow], Field(min_length=1)]


Row = tuple[str, str, int, float]


def _parse_csv_row(path: Path, line: int, raw: dict[str, str]) -> Row:
    where = f"line {line}"
    for col in ("model", "hardware"):
        if not raw[col]:
            raise SpecError(path, f"{where}.{col}", "empty value", f"name the {col}")
    try:
        batch = int(raw["batch_size"])
    except ValueError:
        raise SpecError(path, f"{where}.batch_size", f"not a whole number (got {raw['batch_size']!r})",
                        "write a positive integer") from None
    if batch <= 0:
        raise SpecError(path, f"{where}.batch_size", f"must be positive (got {batch})", "write a positive integer")
    try:
        latency = float(raw["latency_ms"])
    except ValueError:
        raise SpecError(path, f"{where}.latency_ms", f"not a number (got {raw['latency_ms']!r})",
                        "write the batch latency in ms") from None
    if not math.isfinite(latency) or latency <= 0:
        raise SpecError(path, f"{where}.latency_ms", f"must be a positive finite number (got {raw['latency_ms']!r})",
                        "write the measured batch latency in ms")
    return raw["model"], raw["hardware"], batch, latency


def read_profile_rows(path: Path) -> list[tuple[str, Row]]:
    """(where, row) pairs from a CSV or YAML profile file; `where` names the line or entry."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        parsed = validate(ProfilesFile, read_yaml_mapping(path, "profiles"), path)
        return [(f"profiles[{i}]", (r.model, r.hardware, r.batch_size, float(r.latency_ms)))
                for i, r in enumerate(parsed.profiles)]
    raw_rows = read_csv_rows(path, "profiles", COLUMNS)
    if not raw_rows:
        raise SpecError(path, "rows", "no profile rows", "add one row per (model, hardware, batch_size)")
    return [(f"line {i}", _parse_csv_row(path, i, raw)) for i, raw in enumerate(raw_rows, start=2)]


def effective_times(batch_sizes: list[int], latency_ms: list[float]) -> tuple[list[float], list[int]]:
    """MODEL.md's effective time: d(b) = min{d_raw(b') : b' >= b}, with the b' that achieves it."""
    eff, exe = [0.0] * len(batch_sizes), [0] * len(batch_sizes)
    best, best_b = math.inf, 0
    for i in range(len(batch_sizes) - 1, -1, -1):
        if latency_ms[i] <= best:  # ties keep the smaller (unpadded) batch
            best, best_b = latency_ms[i], batch_sizes[i]
        eff[i], exe[i] = best, best_b
    return eff, exe


def build_profiles(rows: Iterable[tuple[Path, str, Row]]) -> Profiles:
    """Group rows into curves; reject duplicates; compute effective times and warn on dips."""
    grouped: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    seen: dict[tuple[str, str, int], str] = {}
    for path, where, (model, hardware, batch, latency) in rows:
        key = (model, hardware, batch)
        if key in seen:
            raise SpecError(path, where, f"duplicate row for model {model!r}, hardware {hardware!r}, "
                            f"batch_size {batch} (first at {seen[key]})", "keep one row per batch size")
        seen[key] = f"{path}:{where}"
        grouped[(model, hardware)][batch] = latency
    curves = {}
    for (model, hardware), by_batch in grouped.items():
        sizes = sorted(by_batch)
        measured = [by_batch[b] for b in sizes]
        eff, exe = effective_times(sizes, measured)
        padded = [f"{b}->{e}" for b, e in zip(sizes, exe) if e != b]
        if padded:
            warnings.warn(f"profile {model} on {hardware}: a larger batch is faster; running padded "
                          f"({', '.join(padded)}) with the effective times of MODEL.md", ProfileWarning, stacklevel=2)
        curves[(model, hardware)] = ProfileCurve(model, hardware, tuple(sizes), tuple(measured), tuple(eff), tuple(exe))
    return Profiles(curves)


def load_profiles(paths: Iterable[Path]) -> Profiles:
    """Load and merge one or more profile files (CSV or YAML)."""
    return build_profiles((Path(p), where, row) for p in paths for where, row in read_profile_rows(Path(p)))
