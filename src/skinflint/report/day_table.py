"""The day-long comparison as a rich table and as Markdown (README, docs)."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table

from skinflint.daynight import DayResult

COLUMNS = ("policy", "$ / day", "saved vs static peak", "SLO attainment", "worst hour", "p99 ms", "plan changes",
           "switch overlap $")
DAY_S = 86400.0


def span(length_s: float) -> str:
    """A curve's length as the tables say it: `24 h`, `1.5 h`, `2 min`."""
    return f"{length_s / 3600:.3g} h" if length_s >= 3600 else f"{length_s / 60:.3g} min"


def columns(length_s: float = DAY_S) -> tuple[str, ...]:
    """COLUMNS, the cost column named for the curve's length ("$ / day" only for a day)."""
    cost = "$ / day" if abs(length_s - DAY_S) < 1.0 else f"$ for {span(length_s)}"
    return (COLUMNS[0], cost) + COLUMNS[2:]


def day_rows(results: Sequence[DayResult]) -> list[list[str]]:
    """One row of text per policy; savings are against the first result named 'static peak...'."""
    static = next((r for r in results if r.name.startswith("static")), None)
    rows = []
    for r in results:
        saving = f"{100 * (1 - r.cost_usd / static.cost_usd):.1f} %" if static and r is not static else "—"
        rows.append([r.name, f"{r.cost_usd:.2f}", saving,
                     f"{100 * r.slo_attainment:.2f} %", f"{100 * r.worst_hour:.1f} %",
                     f"{r.latency['p99']:.0f}", str(r.plan_changes), f"{r.switch_overlap_usd:.2f}"])
    return rows


def day_table(results: Sequence[DayResult], title: str, length_s: float = DAY_S) -> Table:
    """A rich table of the day's results (over a curve of `length_s`)."""
    table = Table(title=title, title_justify="left")
    for c in columns(length_s):
        table.add_column(c, justify="left" if c == "policy" else "right")
    for row in day_rows(results):
        table.add_row(*row)
    return table


def day_markdown(results: Sequence[DayResult], length_s: float = DAY_S) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(columns(length_s)) + " |", "|---" + "|---:" * (len(COLUMNS) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in day_rows(results)]
    return "\n".join(lines)
