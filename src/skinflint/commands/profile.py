"""`skinflint profile MODEL.onnx --hardware NAME --batch-sizes 1,2,4`: measure and write the profile CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from skinflint.cli import app
from skinflint.report.console import make_console
from skinflint.errors import SpecError
from skinflint.profiling.measure import MeasureOptions
from skinflint.profiling.profiler import ProfileOptions, ProfilePoint, Profiler


def parse_batch_sizes(value: str) -> tuple[int, ...]:
    """`1,2,4,8` as a tuple of positive integers (SpecError otherwise)."""
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise SpecError("command line", "--batch-sizes", f"not a list of whole numbers: {value!r}",
                        "write e.g. --batch-sizes 1,2,4,8") from None
    if any(b < 1 for b in sizes):
        raise SpecError("command line", "--batch-sizes", f"batch sizes must be positive (got {value!r})",
                        "write e.g. --batch-sizes 1,2,4,8")
    return sizes


class RichProgress:
    """The profiler's Progress hook as a rich bar: one step per batch size, live sample count and median."""

    def __init__(self, progress: Progress, batch_sizes: tuple[int, ...], cap_s: float) -> None:
        self.progress, self.cap_s = progress, cap_s
        self.task = progress.add_task("starting", total=len(batch_sizes))

    def start(self, batch_size: int) -> None:
        """Show that `batch_size` is warming up."""
        self.progress.update(self.task, description=f"batch {batch_size}: warming up")

    def sample(self, batch_size: int, n: int, median_ms: float, elapsed_s: float) -> None:
        """Show the sample count, the running median and the time against the cap."""
        self.progress.update(self.task, description=f"batch {batch_size}: n={n} median {median_ms:.3f} ms "
                             f"({elapsed_s:.1f}/{self.cap_s:g} s cap)")

    def done(self, point: ProfilePoint) -> None:
        """Advance the bar by one batch size."""
        self.progress.advance(self.task)


def results_table(points: list[ProfilePoint]) -> Table:
    """Measured rows with their flags highlighted."""
    t = Table(title=f"{points[0].model} on {points[0].hardware} ({points[0].provider}, threads {points[0].threads})",
              title_justify="left")
    for col in ("batch", "median ms", "p95 ms", "p99 ms", "n", "req/s", "flags"):
        t.add_column(col, justify="left" if col == "flags" else "right")
    for p in points:
        t.add_row(str(p.batch_size), f"{p.latency_ms:.3f}", f"{p.p95_ms:.3f}", f"{p.p99_ms:.3f}", str(p.n),
                  f"{1000.0 * p.batch_size / p.latency_ms:,.1f}", f"[yellow]{', '.join(p.flags)}[/]" if p.flags else "")
    return t


@app.command("profile")
def profile_command(
    model_file: Path = typer.Argument(..., help="ONNX model with a dynamic batch axis."),
    hardware: str = typer.Option(..., "--hardware", help="Hardware type name to record (as in your hardware catalog)."),
    batch_sizes: str = typer.Option("1,2,4,8,16,32", "--batch-sizes", help="Comma-separated batch sizes."),
    output: Path = typer.Option(Path("profiles.csv"), "--output", "-o", help="Profile CSV to write or merge into."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name in the profile (default: file stem)."),
    provider: str = typer.Option("auto", "--provider", help="auto, cpu, cuda or tensorrt (as the runtime opens "
                                 "them: TensorRT with its engine cache, GPU runs through IO binding)."),
    device: Optional[int] = typer.Option(None, "--device", help="GPU device id to measure on (cuda, tensorrt)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="Intra-op threads (default: all available cores)."),
    inter_op_threads: int = typer.Option(1, "--inter-op-threads", help="Inter-op threads."),
    time_cap_s: float = typer.Option(5.0, "--time-cap-s", help="Stop timing one batch size after this long."),
    min_runs: int = typer.Option(10, "--min-runs", help="Timed runs before the median may be called stable."),
    rel_tol: float = typer.Option(0.02, "--rel-tol", help="Median is stable when it moves less than this."),
    warmup_runs: int = typer.Option(3, "--warmup-runs", help="Untimed runs first (and at least 0.2 s)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random inputs."),
    note: str = typer.Option("", "--note", help="Appended to each row's source (e.g. the instance type)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite OUTPUT instead of merging into it."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or table."),
) -> None:
    """Measure batch latency with ONNX Runtime and write (or merge into) the profile CSV of FORMATS.md."""
    import numpy as np

    from skinflint.profiling.csvfile import write_profile

    try:
        measure = MeasureOptions(warmup_runs=warmup_runs, min_runs=min_runs, time_cap_s=time_cap_s, rel_tol=rel_tol,
                                 max_runs=max(2000, min_runs))
    except ValueError as e:
        raise SpecError("command line", "options", str(e), "see skinflint profile --help") from None
    options = ProfileOptions(batch_sizes=parse_batch_sizes(batch_sizes), provider=provider, threads=threads,
                             inter_op_threads=inter_op_threads, device_id=device, measure=measure, note=note)
    rng = np.random.default_rng(seed)
    console = Console(stderr=True)
    profiler = Profiler(model_file, hardware=hardware, model=model, options=options)  # bad input fails here
    if quiet:
        points = profiler.run(rng)
    else:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} sizes"),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            points = profiler.run(rng, RichProgress(bar, options.batch_sizes, time_cap_s))
        make_console().print(results_table(points))
    write_profile(points, output, merge=not replace)
    flagged = [f"{p.batch_size} ({', '.join(p.flags)})" for p in points if p.flags]
    if flagged:
        console.print(f"flagged batch sizes: {'; '.join(flagged)} — kept as measured; see docs/profiles.md",
                      highlight=False)
    if not quiet:
        print(f"wrote {len(points)} rows to {output}")
