"""Profiles from the tools Triton users already run: perf_analyzer's `-f` CSV and Model Analyzer's
`results/metrics-model-inference.csv`, turned into rows of our profile CSV (FORMATS.md).

Each format is a function `(path, ImportOptions) -> list[row]` in one registry; a row is a dict of
CSV text with `model, hardware, batch_size, latency_ms` first and `source` naming the file and the
row it came from. `latency_ms` is the batch time d(h, b) of MODEL.md: the server's compute time
where the file has it, never the client's round trip when it can be avoided (docs/profiles.md says
which quantity each format yields and why).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from skinflint.errors import SpecError
from skinflint.profiling.importers.rows import ImportOptions, Row
from skinflint.profiling.profiler import non_monotone
from skinflint.registry import Registry

Importer = Callable[[Path, ImportOptions], list[Row]]


def _builtin() -> dict[str, Importer]:
    from skinflint.profiling.importers.model_analyzer import read_model_analyzer
    from skinflint.profiling.importers.perf_analyzer import read_perf_analyzer

    return {"model_analyzer": read_model_analyzer, "perf_analyzer": read_perf_analyzer}


IMPORTERS: Registry[Importer] = Registry("profile format", "--format", _builtin)


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


__all__ = ["IMPORTERS", "ImportOptions", "Row", "import_files"]
