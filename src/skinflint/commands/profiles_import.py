"""`skinflint profiles import FILE... --format perf_analyzer|model_analyzer -o OUT.csv`: Triton's
measurements as our profile CSV, merged into OUT.csv as `skinflint profile` merges (docs/profiles.md)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from skinflint.commands.profiles import profiles_app
from skinflint.errors import SpecError
from skinflint.profiling.csvfile import write_rows
from skinflint.profiling.importers import IMPORTERS, ImportOptions, Row, import_files
from skinflint.spec.profiles import ProfileWarning, load_profiles


def parse_batch_sizes_for(value: Optional[str], files: int) -> list[Optional[int]]:
    """`--batch-size 8` for every file, or `1,8` one per file (in order)."""
    if value is None:
        return [None] * files
    try:
        sizes = [int(v) for v in value.split(",")]
    except ValueError:
        raise SpecError("command line", "--batch-size", f"not a whole number or list: {value!r}",
                        "write e.g. --batch-size 8, or 1,8 for two files") from None
    if any(b < 1 for b in sizes) or len(sizes) not in (1, files):
        raise SpecError("command line", "--batch-size", f"{value!r}: give one positive size, or one per file "
                        f"({files} files)", "write e.g. --batch-size 8, or 1,8 for two files")
    return sizes * files if len(sizes) == 1 else sizes


def imported_table(rows: list[Row]) -> Table:
    """What was imported: the batch time, its tail and where it came from."""
    t = Table(title="imported", title_justify="left")
    for col in ("model", "hardware", "batch", "latency ms", "p99 ms", "timing", "source"):
        t.add_column(col, justify="right" if col in ("batch", "latency ms", "p99 ms") else "left")
    for r in rows:
        t.add_row(r["model"], r["hardware"], r["batch_size"], r["latency_ms"], r.get("p99_ms", ""),
                  r.get("timing", ""), r["source"])
    return t


@profiles_app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help="perf_analyzer -f CSVs, or Model Analyzer's "
                                       "metrics-model-inference.csv."),
    fmt: str = typer.Option(..., "--format", help="perf_analyzer or model_analyzer."),
    output: Path = typer.Option(..., "--output", "-o", help="Profile CSV to write (merged into if it exists)."),
    model: Optional[str] = typer.Option(None, "--model", help="Our model name (perf_analyzer: required)."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Hardware type the files were measured on."),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", help="perf_analyzer's -b (one, or one per file); "
                                             "for model_analyzer a filter."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite OUT.csv instead of merging."),
) -> None:
    """Triton measurements as profile rows; batch time = server compute (docs/profiles.md)."""
    IMPORTERS.get(fmt)
    sizes = parse_batch_sizes_for(batch_size, len(files))
    rows = import_files(list(files), fmt, [ImportOptions(model, hardware, b) for b in sizes])
    write_rows(rows, output, merge=not replace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        load_profiles([output])          # the merged file must still be a valid profile
    Console(width=160).print(imported_table(rows))
    typer.echo(f"wrote {output}: {len(rows)} row(s) from {len(files)} file(s)")
