"""`skinflint profiles list|show|plot|combine`: the bundled catalog and measured profiles."""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.errors import SpecError
from skinflint.report.profile_tables import hardware_table, model_tables, models_table, print_all
from skinflint.spec.catalog import (HARDWARE_CATALOGS, PREFIX, PROFILE_CATALOGS, hardware_source, is_catalog,
                                    profile_source_path)
from skinflint.spec.files import read_csv_rows
from skinflint.spec.profiles import COLUMNS, ProfileWarning, load_profiles
from skinflint.spec.types import Profiles

profiles_app = typer.Typer(help="The bundled public catalog and measured profiles.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")

PROFILES_HELP = "Profiles: catalog:NAME or a CSV/YAML file."
HARDWARE_HELP = "Hardware prices: catalog:NAME or a hardware YAML file."


def load_source(value: str) -> tuple[Path, Profiles]:
    """The profile file behind `value` and its curves (dips are shown in the tables, not warned)."""
    path = profile_source_path(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        return path, load_profiles([path])


def resolve_model(name: str, profiles: Profiles, label: str) -> str:
    """An exact model name, or the one model whose name contains `name` (case-insensitive)."""
    if name in profiles.models:
        return name
    hits = [m for m in profiles.models if name.lower() in m.lower()]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise SpecError("command line", "MODEL", f"{name!r} matches {len(hits)} models in {label}",
                        "name one of: " + ", ".join(hits[:6]) + (" ..." if len(hits) > 6 else ""))
    close = difflib.get_close_matches(name, profiles.models, n=3, cutoff=0.4)
    raise SpecError("command line", "MODEL", f"no model {name!r} in {label}",
                    f"did you mean {' or '.join(close)}?" if close else "see `skinflint profiles list`")


def run_ranges(paths: list[Path]) -> dict[tuple[str, str, int], tuple[float, float]]:
    """(fastest, slowest) run latency per row of combined profile CSVs (rows without them are skipped)."""
    out = {}
    for path in paths:
        if path.suffix.lower() != ".csv":
            continue
        for row in read_csv_rows(path, "profiles", COLUMNS):
            try:
                out[(row["model"], row["hardware"], int(row["batch_size"]))] = (float(row["run_min_ms"]),
                                                                                 float(row["run_max_ms"]))
            except (KeyError, ValueError):
                continue
    return out


def sources_of(path: Path) -> dict[tuple[str, str], list[str]]:
    """Distinct `source` texts per (model, hardware) of a CSV profile file (none for YAML)."""
    if path.suffix.lower() != ".csv":
        return {}
    out: dict[tuple[str, str], list[str]] = {}
    for row in read_csv_rows(path, "profiles", COLUMNS):
        if row.get("source"):
            texts = out.setdefault((row["model"], row["hardware"]), [])
            if row["source"] not in texts:
                texts.append(row["source"])
    return out


@profiles_app.command("list")
def list_command(
    profiles: str = typer.Option(PREFIX + "public", "--profiles", help=PROFILES_HELP),
    hardware: str = typer.Option(PREFIX + "public", "--hardware", help=HARDWARE_HELP),
    match: Optional[str] = typer.Option(None, "--match", help="Only models whose name contains this text."),
) -> None:
    """The models of a profile source with their hardware, and the priced hardware."""
    _, curves = load_source(profiles)
    priced = hardware_source(hardware)
    print_all([models_table(curves, priced, profiles, match), hardware_table(priced, hardware),
               f"catalogs: profiles {', '.join(PREFIX + n for n in PROFILE_CATALOGS)}; "
               f"hardware {', '.join(PREFIX + n for n in HARDWARE_CATALOGS)}"])


@profiles_app.command("show")
def show_command(
    model: str = typer.Argument(..., help="Model name, or a unique part of it."),
    profiles: str = typer.Option(PREFIX + "public", "--profiles", help=PROFILES_HELP),
    hardware: str = typer.Option(PREFIX + "public", "--hardware", help=HARDWARE_HELP),
) -> None:
    """One model's curves: latency, effective (padded) time, req/s and requests per dollar, with sources."""
    path, curves = load_source(profiles)
    name = resolve_model(model, curves, profiles)
    print_all(model_tables(name, curves, hardware_source(hardware), sources_of(path)))


@profiles_app.command("plot")
def plot_command(
    models: Optional[list[str]] = typer.Argument(None, help="Models to plot (default: every model of --app)."),
    app_file: Optional[Path] = typer.Option(None, "--app", help="Take profiles, prices and models from an app."),
    profiles: str = typer.Option(PREFIX + "public", "--profiles", help=PROFILES_HELP),
    hardware: str = typer.Option(PREFIX + "public", "--hardware", help=HARDWARE_HELP),
    output: Path = typer.Option(Path("profiles.png"), "--output", "-o", help="PNG file to write."),
) -> None:
    """Latency and throughput per dollar against batch size, per hardware (PNG)."""
    from skinflint.report.profile_plot import plot_profiles

    if app_file is not None:
        from skinflint.spec.loader import load_spec

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProfileWarning)
            spec = load_spec(app_file)
        curves, prices, label = spec.profiles, {n: h.price_per_hour for n, h in spec.hardware.items()}, str(app_file)
        names = models or list(dict.fromkeys(m.model for m in spec.app.modules))
        files = [Path(p) for p in spec.sources["profiles"].split(",") if not is_catalog(p)]
    else:
        if not models:
            raise SpecError("command line", "MODELS", "no model to plot", "name models, or pass --app APP.yaml")
        path, curves = load_source(profiles)
        files = [path]
        prices = {n: h.price_per_hour for n, h in hardware_source(hardware).items()}
        label = f"{profiles}, prices {hardware}"
        names = models
    chosen = [resolve_model(m, curves, label) for m in names]
    written = plot_profiles(curves, prices, chosen, output, title=label, spread=run_ranges(files))
    print(f"wrote {written}")


@profiles_app.command("combine")
def combine_command(
    runs: list[Path] = typer.Argument(..., help="Profile CSVs of repeated runs of `skinflint profile`."),
    output: Path = typer.Option(..., "--output", "-o", help="Combined profile CSV to write (replaced)."),
    spread_tol_pct: float = typer.Option(10.0, "--spread-tol-pct", help="Flag 'spread' above this run-to-run %."),
) -> None:
    """One profile from several runs: median of the runs' medians, with run_min/max_ms and spread_pct."""
    from skinflint.profiling.csvfile import combine_runs, write_rows

    rows = combine_runs(list(runs), spread_tol_pct)
    write_rows(rows, output, merge=False)
    worst = max(rows, key=lambda r: float(r["spread_pct"]))
    print(f"wrote {output}: {len(rows)} rows from {len(runs)} runs; largest spread {worst['spread_pct']}% "
          f"({worst['model']} @ {worst['batch_size']})")
