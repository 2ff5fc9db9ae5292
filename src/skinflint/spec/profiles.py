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

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from skinflint.errors import SpecError
from skinflint.spec.bounds import DOCS, limit, parse_text
from skinflint.spec.files import Bounded, read_csv_rows, read_yaml_mapping, validate
from skinflint.spec.types import ProfileCurve, Profiles

COLUMNS = ("model", "hardware", "batch_size", "latency_ms")


class ProfileWarning(UserWarning):
    """A profile that is real but surprising (e.g. a larger batch runs faster)."""


class ProfileRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: Annotated[StrictStr, Field(min_length=1)]
    hardware: Annotated[StrictStr, Field(min_length=1)]
    batch_size: Bounded("batch_size")
    latency_ms: Bounded("latency_ms")


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: Annotated[list[ProfileRow], Field(min_length=1)]


Row = tuple[str, str, int, float]


def _parse_csv_row(path: Path, line: int, raw: dict[str, str]) -> Row:
    where = f"line {line}"
    for col in ("model", "hardware"):
        if not raw[col]:
            raise SpecError(path, f"{where}.{col}", "empty value", f"name the {col}")
    batch = parse_text("batch_size", raw["batch_size"], path, f"{where}.batch_size")
    latency = parse_text("latency_ms", raw["latency_ms"], path, f"{where}.latency_ms")
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
    origin: dict[tuple[str, str], Path] = {}
    for path, where, (model, hardware, batch, latency) in rows:
        key = (model, hardware, batch)
        if key in seen:
            raise SpecError(path, where, f"duplicate row for model {model!r}, hardware {hardware!r}, "
                            f"batch_size {batch} (first at {seen[key]})", "keep one row per batch size")
        seen[key] = f"{path}:{where}"
        grouped[(model, hardware)][batch] = latency
        origin.setdefault((model, hardware), path)
    curves = {}
    for (model, hardware), by_batch in grouped.items():
        if len(by_batch) > limit("batch_sizes"):
            raise SpecError(origin[(model, hardware)], "rows", f"profile {model} on {hardware} has "
                            f"{len(by_batch)} batch sizes, above the bound of {limit('batch_sizes')}",
                            f"keep the sizes a plan may use ({DOCS})")
        sizes = sorted(by_batch)
        measured = [by_batch[b] for b in sizes]
        eff, exe = effective_times(sizes, measured)
        curves[(model, hardware)] = ProfileCurve(model, hardware, tuple(sizes), tuple(measured), tuple(eff), tuple(exe))
    return Profiles(curves)


_WARNED: set[str] = set()


def warn_padded(profiles: Profiles, models: Iterable[str], hardware: Iterable[str]) -> None:
    """Warn, once per process, for each curve of `models` on `hardware` (what a command uses)
    that runs a batch size padded because a larger batch is faster."""
    models, hardware = set(models), set(hardware)
    for c in profiles.curves.values():
        padded = [f"{b}->{e}" for b, e in zip(c.batch_sizes, c.exec_batch_sizes) if e != b]
        if not padded or c.model not in models or c.hardware not in hardware:
            continue
        message = (f"profile {c.model} on {c.hardware}: a larger batch is faster; running padded "
                   f"({', '.join(padded)}) with the effective times of MODEL.md")
        if message not in _WARNED:
            _WARNED.add(message)
            warnings.warn(message, ProfileWarning, stacklevel=3)


def load_profiles(paths: Iterable[Path]) -> Profiles:
    """Load and merge one or more profile files (CSV or YAML)."""
    return build_profiles((Path(p), where, row) for p in paths for where, row in read_profile_rows(Path(p)))
