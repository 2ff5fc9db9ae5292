"""Profiles from the tools Triton users already run: perf_analyzer's `-f` CSV and Model Analyzer's
`results/metrics-model-inference.csv`, turned into rows of our profile CSV (FORMATS.md).

Each format is a function `(path, ImportOptions) -> list[row]` in one registry; a row is a dict of
CSV text with `model, hardware, batch_size, latency_ms` first and `source` naming the file and the
row it came from. `latency_ms` is the batch time d(h, b) of MODEL.md: the server's compute time
where the file has it, never the client's round trip when it can be avoided (docs/profiles.md says
which quantity each format yields and why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from skinflint.errors import SpecError
from skinflint.profiling.profiler import non_monotone
from skinflint.registry import Registry

Row = dict[str, str]


@dataclass(frozen=True)
class ImportOptions:
    """What the file itself does not say: our model name, the hardware type it ran on, and the
    client batch size (perf_analyzer's `-b`; for Model Analyzer a filter)."""

    model: str | None = None
    hardware: str | None = None
    batch_size: int | None = None


Importer = Callable[[Path, ImportOptions], list[Row]]


def _load() -> None:
    from skinflint.profiling.importers import model_analyzer, perf_analyzer  # noqa: F401  (registration)


IMPORTERS: Registry[Importer] = Registry("profile format", "--format", _load)


def import_files(paths: list[Path], fmt: str, options: list[ImportOptions]) -> list[Row]:
    """Rows from every file (options[i] for paths[i]); one (model, hardware, batch) may come from
    one file row only; 'non-monotone' flags where a larger imported batch runs faster."""
    read = IMPORTERS.get(fmt)
    rows: list[Row] = []
    seen: dict[tuple[str, str, int], str] = {}
    for path, opts in zip(paths, options):
        for row in read(Path(path), opts):
            key = (row["model"], row["hardware"], int(row["batch_size"]))
            if key in seen:
                raise SpecError(path, "rows", f"model {key[0]!r} on {key[1]!r} at batch {key[2]} is also given by "
                                f"{seen[key]}", "import one measurement per batch size (or pass the files "
                                "their own --batch-size)")
            seen[key] = row["source"]
            rows.append(row)
    return with_dip_flags(rows)


def with_dip_flags(rows: list[Row]) -> list[Row]:
    """Add 'non-monotone' to rows slower than a larger batch of the same (model, hardware)."""
    for model, hardware in dict.fromkeys((r["model"], r["hardware"]) for r in rows):
        curve = sorted((r for r in rows if (r["model"], r["hardware"]) == (model, hardware)),
                       key=lambda r: int(r["batch_size"]))
        slow = non_monotone([int(r["batch_size"]) for r in curve], [float(r["latency_ms"]) for r in curve])
        for r in curve:
            if int(r["batch_size"]) in slow:
                r["flags"] = ";".join(f for f in (r.get("flags", ""), "non-monotone") if f)
    return rows


def number(path: Path, line: int, column: str, text: str, *, positive: bool = False) -> float:
    """`text` as a finite number (>= 0, or > 0 if `positive`), else a SpecError naming the cell."""
    try:
        value = float(text)
    except ValueError:
        raise SpecError(path, f"line {line}.{column}", f"not a number (got {text!r})",
                        "the file must be the tool's unedited CSV output") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise SpecError(path, f"line {line}.{column}", f"must be a {'positive' if positive else 'non-negative'} "
                        f"finite number (got {text!r})",
                        "re-run the measurement; this value cannot be a time or a rate")
    return value


def tail_columns(latency_ms: float, spread_ms: dict[str, float]) -> Row:
    """p95_ms / p99_ms as the batch time plus the client's tail spread above its centre (never below
    the batch time): the spread is attributed wholly to the batch, an upper estimate."""
    return {f"{k}_ms": f"{latency_ms + max(0.0, v):.4f}" for k, v in spread_ms.items()}


RATE_TOL = 0.05  # with one request in flight a worker cannot beat 1000 b / d by more than this


def check_one_in_flight(path: Path, where: str, throughput: float, batch: int, d_ms: float) -> None:
    """With one request in flight, inferences/s <= 1000 b / d: a faster row means the batch size is wrong."""
    if throughput > (1 + RATE_TOL) * 1000.0 * batch / d_ms:
        raise SpecError(path, where, f"{throughput:g} inferences/s with one request in flight is above "
                        f"1000 b / d = {1000.0 * batch / d_ms:.1f}/s at batch size {batch}",
                        "give the batch size the client sent (perf_analyzer -b)")


def fmt_ms(value: float) -> str:
    """A time in ms as the profile CSV writes it (0.1 microsecond)."""
    return f"{value:.4f}"


__all__ = ["IMPORTERS", "ImportOptions", "Row", "import_files"]
