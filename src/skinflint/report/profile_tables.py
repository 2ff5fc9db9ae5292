"""Rich tables for `skinflint profiles list/show`: what a profile source holds and what it costs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skinflint.report.console import make_console
from skinflint.spec.catalog import PricedHardware
from skinflint.spec.types import ProfileCurve, Profiles


def batch_range(sizes: tuple[int, ...]) -> str:
    """`1-256 (9 sizes)`, or the single size."""
    return str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]} ({len(sizes)} sizes)"


def requests_per_dollar(curve: ProfileCurve, i: int, price_per_hour: float) -> float:
    """3600 * θ(h, b) / price: requests one busy worker serves per dollar (effective time)."""
    throughput = 1000.0 * curve.batch_sizes[i] / curve.effective_ms[i]
    return 3600.0 * throughput / price_per_hour


def models_table(profiles: Profiles, hardware: dict[str, PricedHardware], label: str, match: str | None) -> Table:
    """One row per model: its hardware (unpriced ones starred), batch sizes and row count."""
    t = Table(title=escape(f"{label}: {len(profiles.models)} models, {len(profiles.curves)} curves"), title_justify="left")
    for col in ("model", "hardware (* = no price)", "batch sizes", "rows"):
        t.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
    for model in profiles.models:
        if match and match.lower() not in model.lower():
            continue
        curves = profiles.for_model(model)
        hw = ", ".join(c.hardware + ("" if c.hardware in hardware else "*") for c in curves)
        sizes = tuple(sorted({b for c in curves for b in c.batch_sizes}))
        t.add_row(escape(model), escape(hw), batch_range(sizes), str(sum(len(c.batch_sizes) for c in curves)))
    return t


def hardware_table(hardware: dict[str, PricedHardware], label: str) -> Table:
    """The hardware catalog: name, instance, $/h and a short source."""
    t = Table(title=escape(f"hardware {label}: {len(hardware)} priced types"), title_justify="left")
    for col in ("hardware", "instance", "$/h", "source"):
        t.add_column(col, justify="right" if col == "$/h" else "left", overflow="fold")
    for h in hardware.values():
        t.add_row(escape(h.name), escape(h.instance), f"{h.price_per_hour:.4f}", escape(shorten(h.source)))
    return t


def shorten(source: str, width: int = 70) -> str:
    """A source trimmed to `width` characters (the full text stays in the CSV)."""
    return source if len(source) <= width else source[: width - 3] + "..."


def model_tables(model: str, profiles: Profiles, hardware: dict[str, PricedHardware],
                 sources: dict[tuple[str, str], list[str]]) -> list[Table | str]:
    """Per hardware: batch, measured and effective latency, req/s, and requests per dollar if priced."""
    out: list[Table | str] = []
    notes: dict[str, int] = {}
    for curve in profiles.for_model(model):
        price = hardware[curve.hardware].price_per_hour if curve.hardware in hardware else None
        refs = [notes.setdefault(s, len(notes) + 1) for s in sources.get((model, curve.hardware), [])]
        title = (f"{model} on {curve.hardware}: " + (f"${price:.4f}/h" if price else "no price in this catalog")
                 + (f"  [source {', '.join(map(str, refs))}]" if refs else ""))
        out.append(title)  # a line of its own: a table title would wrap to the table's width
        t = Table()
        for col in ("batch", "latency ms", "effective ms", "req/s", "requests per $"):
            t.add_column(col, justify="right")
        for i, b in enumerate(curve.batch_sizes):
            eff = curve.effective_ms[i]
            padded = f"{eff:.3f} (runs @{curve.exec_batch_sizes[i]})" if curve.exec_batch_sizes[i] != b else f"{eff:.3f}"
            per_dollar = f"{requests_per_dollar(curve, i, price):,.0f}" if price else "-"
            t.add_row(str(b), f"{curve.latency_ms[i]:.3f}", padded, f"{1000.0 * b / eff:,.1f}", per_dollar)
        out.append(t)
    out += [f"[{i}] {s}" for s, i in notes.items()]
    return out


def print_all(items: list[Table | str], console: Console | None = None) -> None:
    """Print tables and lines in order."""
    console = console or make_console()
    for item in items:
        if isinstance(item, str):  # sources hold "[table: ...]", which is not rich markup
            console.print(item, soft_wrap=True, highlight=False, markup=False)
        else:
            console.print(item)
