"""Rich tables and the latency-CDF plot for simulation results (`simulate`, later `compare`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from skinflint.errors import SpecError
from skinflint.plan import FleetPlan
from skinflint.report.console import make_console
from skinflint.sim.result import SimResult, percentiles


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"


def summary_table(result: SimResult) -> Table:
    """Requests and their fates, end-to-end percentiles, cost."""
    lat = percentiles(result.latency_ms)
    title = (f"{result.plan.app}: {result.requests:,} requests in {result.duration_s:g} s, SLO {result.model.slo_ms:g} ms,"
             f" engine {result.engine}{', early close' if result.early_close else ''}")
    t = Table(title=title, title_justify="left")
    for col in ("on time", "late", "dropped", "SLO attained", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "$/h"):
        t.add_column(col, justify="right")
    t.add_row(f"{result.on_time:,}", f"{result.late:,}", f"{sum(result.dropped.values()):,}",
              f"{100 * result.slo_attainment:.3f} %", *(_ms(lat[k]) for k in ("p50", "p90", "p99", "p99.9", "max")),
              f"{result.model.cost_per_hour:.3f}")
    return t


def module_table(result: SimResult) -> Table:
    """Per module: dispatch, items, time at the module (arrival to batch end), batches, utilisation."""
    t = Table(title="per module (time from arrival at the module to the end of its batch)", title_justify="left")
    for col, just in (("module", "left"), ("dispatch", "left"), ("items", "right"), ("p50 ms", "right"),
                      ("p99 ms", "right"), ("max ms", "right"), ("planned W ms", "right"), ("mean batch", "right"),
                      ("utilisation", "right")):
        t.add_column(col, justify=just)
    util: dict[str, list[float]] = {}
    for w in result.worker_stats():
        util.setdefault(w["module"], []).append(w["utilisation"])
    for m in result.module_stats():
        u = util.get(m["name"] if m["pool"] is None else f"(pool {m['pool']})", [])
        dispatch = m["dispatch"] if m["pool"] is None else f"{m['dispatch']} ({m['pool']})"
        t.add_row(m["name"], dispatch, f"{m['ran']:,}", _ms(m["latency_ms"]["p50"]), _ms(m["latency_ms"]["p99"]),
                  _ms(m["latency_ms"]["max"]), _ms(m["planned_worst_ms"]), f"{m['mean_batch']:.2f}",
                  f"{100 * float(np.mean(u)):.1f} %" if u else "-")
    return t


LOW_ATTAINMENT = 0.99  # below this share within the SLO, `simulate` says how to plan for it


def attainment_hint(result: SimResult) -> str | None:
    """A one-line hint when few requests met the SLO: plan with spare capacity for random traffic."""
    if result.requests == 0 or result.slo_attainment >= LOW_ATTAINMENT:
        return None
    return (f"hint: {100 * result.slo_attainment:.1f} % of requests met the SLO. A plan for the offered rate "
            "has no spare capacity for random arrivals: plan with headroom (e.g. --headroom 0.15) or for a target "
            "attainment (--target), or simulate --arrivals uniform for MODEL.md's worst case")


def print_result(result: SimResult, console: Console | None = None) -> None:
    """Both tables, the drop reasons and the cost line."""
    console = console or make_console()
    console.print(summary_table(result))
    console.print(module_table(result))
    for reason, count in result.dropped.items():
        console.print(f"dropped {count:,}: {reason}")
    console.print(f"cost ${result.cost_usd:,.4f} for {result.span_ms / 1000:,.1f} s simulated "
                  f"(${result.model.cost_per_hour:,.3f}/h) | simulated in {result.wall_s:.2f} s")
    hint = attainment_hint(result)
    if hint:
        console.print(hint, style="yellow")


def fleet_table(results: Sequence[SimResult], fleet: FleetPlan) -> Table:
    """One row per app of a fleet run: requests, SLO, attainment, p99 and worst latency."""
    t = Table(title=f"fleet: {len(results)} apps, {len(fleet.pools)} shared pools, "
                    f"${fleet.cost_per_hour:,.3f}/h (apps planned alone: ${fleet.separate_cost_per_hour:,.3f}/h)",
              title_justify="left")
    for col in ("app", "requests", "SLO ms", "SLO attained", "p50 ms", "p99 ms", "max ms", "max / SLO"):
        t.add_column(col, justify="left" if col == "app" else "right")
    for r in results:
        lat = percentiles(r.latency_ms)
        t.add_row(r.plan.app, f"{r.requests:,}", f"{r.model.slo_ms:g}", f"{100 * r.slo_attainment:.3f} %",
                  _ms(lat["p50"]), _ms(lat["p99"]), _ms(lat["max"]),
                  "-" if lat["max"] != lat["max"] else f"{lat['max'] / r.model.slo_ms:.3f}")
    return t


def print_fleet(results: Sequence[SimResult], fleet: FleetPlan, console: Console | None = None) -> None:
    """Each app's tables, then the fleet summary (pool workers appear with every app that uses them)."""
    console = console or make_console()
    for r in results:
        print_result(r, console)
    console.print(fleet_table(results, fleet))


def write_cdf(result: SimResult, path: Path) -> None:
    """Write the end-to-end latency CDF (and each module's) as a PNG, with the SLO marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpecError("command line", "--cdf", "matplotlib is not installed",
                        "pip install 'skinflint[plots]'") from None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    series = [("end to end", result.latency_ms)]
    for m, mt in zip(result.model.modules, result.trace.modules):
        series.append((m.name, (mt.done_ms - mt.ready_ms)[mt.ran]))
    for label, values in series:
        if values.size:
            v = np.sort(values)
            ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=label,
                    linewidth=2.0 if label == "end to end" else 1.0)
    ax.axvline(result.model.slo_ms, color="black", linestyle="--", linewidth=1, label=f"SLO {result.model.slo_ms:g} ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("share of requests / items")
    ax.set_title(f"{result.plan.app}: {result.requests:,} requests, {100 * result.slo_attainment:.2f} % within SLO")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as e:
        raise SpecError("command line", "--cdf", f"cannot write {path}: {e.strerror}", "choose a writable path") from None
    finally:
        plt.close(fig)
