"""The profile CSV of FORMATS.md, written or merged, and several profiler runs combined into one.

A written file always starts with ``model,hardware,batch_size,latency_ms``; the profiler's extra
columns (p95_ms, p99_ms, n, provider, source ...) follow, and columns an existing file already
has are kept. Merging replaces the rows of the same (model, hardware, batch_size) and keeps
every other row. Combining runs takes, per row, the median of the runs' medians and records the
run-to-run spread: ``run_min_ms``, ``run_max_ms``, ``spread_pct = 100 (max - min) / median``,
leaving out runs that other processes disturbed where undisturbed ones exist (``run_medians_ms``
keeps every run's median).
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import tempfile
from pathlib import Path
from typing import Iterable

from skinflint.errors import SpecError
from skinflint.profiling.profiler import CONTENDED, ProfilePoint, non_monotone
from skinflint.spec.files import read_csv_rows
from skinflint.spec.profiles import COLUMNS

SPREAD_TOL_PCT = 10.0  # flag "spread" when runs disagree by more than this (percent of the median)
Key = tuple[str, str, int]


def _key(row: dict[str, str], path: Path | str, line: int) -> Key:
    try:
        return row["model"], row["hardware"], int(row["batch_size"])
    except ValueError:
        raise SpecError(path, f"line {line}.batch_size", f"not a whole number (got {row['batch_size']!r})",
                        "write a positive integer") from None


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a profile CSV (every column kept as text); SpecError if a FORMATS.md column is missing."""
    return read_csv_rows(Path(path), "profiles", COLUMNS)


def _header(rows: Iterable[dict[str, str]]) -> list[str]:
    extra: dict[str, None] = {}
    for row in rows:
        extra.update((c, None) for c in row if c not in COLUMNS)
    return list(COLUMNS) + [c for c in extra if c != "source"] + (["source"] if "source" in extra else [])


def write_rows(rows: list[dict[str, str]], path: str | Path, *, merge: bool = True) -> Path:
    """Write profile rows to `path`, merged into the rows already there unless `merge` is False.

    Rows are sorted by model, hardware and batch size; the file is replaced atomically.
    """
    path = Path(path)
    merged: dict[Key, dict[str, str]] = {}
    if merge and path.exists():
        merged = {_key(r, path, i): r for i, r in enumerate(read_rows(path), start=2)}
    for i, row in enumerate(rows):
        merged[_key(row, "new rows", i)] = row
    ordered = [merged[k] for k in sorted(merged)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_header(ordered), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(ordered)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())
    os.replace(tmp, path)
    return path


def write_profile(points: Iterable[ProfilePoint], path: str | Path, *, merge: bool = True) -> Path:
    """Write (or merge) measured points into the profile CSV at `path`."""
    return write_rows([p.to_row() for p in points], path, merge=merge)


def _share(row: dict[str, str]) -> float | None:
    try:
        return float(row["others_cpu_pct"]) / 100.0
    except (KeyError, ValueError):
        return None


def combine_runs(paths: list[str | Path], spread_tol_pct: float = SPREAD_TOL_PCT,
                 contended: float = CONTENDED) -> list[dict[str, str]]:
    """One row per (model, hardware, batch_size) from several runs' CSVs: median of medians plus the spread.

    Runs measured while other processes used more than `contended` of the machine are left out
    of the median when at least one run of that row was not (all runs are used otherwise); every
    run's median stays in `run_medians_ms`, and `runs_used` says how many made the median.
    Over the runs used: `run_min_ms`, `run_max_ms`, `spread_pct`, p95/p99 (medians), `n` (sum) and
    the flags (minus 'non-monotone', recomputed on the combined medians); 'spread' is added where
    those runs disagree by more than `spread_tol_pct` percent.
    """
    if len(paths) < 1:
        raise SpecError("command line", "RUNS", "no run files given", "name at least one profile CSV")
    by_key: dict[Key, list[dict[str, str]]] = {}
    for path in paths:
        for i, row in enumerate(read_rows(path), start=2):
            by_key.setdefault(_key(row, path, i), []).append(row)
    out: dict[Key, dict[str, str]] = {}
    for key, runs in sorted(by_key.items()):
        quiet = [r for r in runs if (_share(r) or 0.0) <= contended]
        used = quiet or runs
        medians = [float(r["latency_ms"]) for r in used]
        median = statistics.median(medians)
        spread = 100.0 * (max(medians) - min(medians)) / median
        flags = dict.fromkeys(f for r in used for f in r.get("flags", "").split(";") if f and f != "non-monotone")
        if spread > spread_tol_pct:
            flags["spread"] = None
        row = dict(used[0])
        row.update(latency_ms=f"{median:.4f}", run_min_ms=f"{min(medians):.4f}", run_max_ms=f"{max(medians):.4f}",
                   spread_pct=f"{spread:.1f}", runs=str(len(runs)), runs_used=str(len(used)),
                   run_medians_ms=";".join(r["latency_ms"] for r in runs),
                   run_others_cpu_pct=";".join(r.get("others_cpu_pct", "") for r in runs), flags=";".join(flags))
        for col, digits in (("p95_ms", 4), ("p99_ms", 4), ("mean_ms", 4), ("others_cpu_pct", 1)):
            if all(r.get(col) for r in used):
                row[col] = f"{statistics.median(float(r[col]) for r in used):.{digits}f}"
        if all(r.get("converged") for r in used):
            row["converged"] = str(all(r["converged"] == "true" for r in used)).lower()
        if all(r.get("n", "").isdigit() for r in used):
            row["n"] = str(sum(int(r["n"]) for r in used))
        if "source" in row:
            row["source"] = f"{row['source']}; median of {len(used)} of {len(runs)} runs"
        out[key] = row
    for model, hardware in dict.fromkeys((k[0], k[1]) for k in out):
        keys = sorted(k for k in out if k[:2] == (model, hardware))
        slow = non_monotone([k[2] for k in keys], [float(out[k]["latency_ms"]) for k in keys])
        for k in keys:
            if k[2] in slow:
                out[k]["flags"] = ";".join(f for f in (out[k]["flags"], "non-monotone") if f)
    return list(out.values())
