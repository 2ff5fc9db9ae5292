"""Rich tables for plans, shared by `plan`, `demo` and later commands."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from skinflint.plan import HOURS_PER_MONTH, Plan
from skinflint.report.console import make_console  # noqa: F401 - the shared console, also for importers of this module


def pool_table(pools) -> Table:  # noqa: ANN001 - tuple[Pool, ...]
    """Pools: members, combined rate, worst latency, groups, $/h."""
    t = Table(title="shared model pools", title_justify="left")
    for col in ("pool", "members", "rate req/s", "worst ms", "groups", "$/h"):
        t.add_column(col)
    for p in pools:
        t.add_row(p.name, ", ".join(p.members), f"{p.rate:,.1f}", f"{p.worst_latency_ms:.1f}",
                  groups_text(p.groups), f"{p.cost_per_hour:.3f}")
    return t


def print_fleet(fleet, console: Console | None = None) -> None:  # noqa: ANN001 - FleetPlan
    """Each app's plan, the pools, and the saving over planning the apps one by one."""
    console = console or make_console()
    for plan in fleet.apps:
        console.print(plan_table(plan))
    if fleet.pools:
        console.print(pool_table(fleet.pools))
    console.print(f"fleet ${fleet.cost_per_hour:,.3f}/h = ${fleet.cost_per_hour * HOURS_PER_MONTH:,.0f}/month"
                  f" | planned one by one ${fleet.separate_cost_per_hour:,.3f}/h"
                  f" | saving ${fleet.saving_per_hour:,.3f}/h ({fleet.saving_per_hour / fleet.separate_cost_per_hour:.1%})"
                  f" | planned in {fleet.planning_ms:.0f} ms")


def groups_text(groups) -> str:  # noqa: ANN001 - tuple[Group, ...]
    """Groups as `workers x hardware @ batch` (padded size in brackets)."""
    parts = []
    for g in groups:
        pad = f" (runs @{g.exec_batch_size})" if g.exec_batch_size and g.exec_batch_size != g.batch_size else ""
        parts.append(f"{g.workers} x {g.hardware} @ {g.batch_size}{pad}")
    return " + ".join(parts)


def plan_table(plan: Plan) -> Table:
    """Per module: rate, budget, worst latency, groups, $/h."""
    title = (f"{plan.app}: {plan.offered_rate:g} req/s"
             + (f" (+{plan.headroom:.0%} headroom = {plan.rate:g})" if plan.headroom else "")
             + f", SLO {plan.slo_ms:g} ms, planner {plan.planner}")
    t = Table(title=title, title_justify="left")
    for col, just in (("module", "left"), ("rate req/s", "right"), ("budget ms", "right"),
                      ("worst ms", "right"), ("dispatch", "left"), ("groups", "left"), ("$/h", "right")):
        t.add_column(col, justify=just)
    for m in plan.modules:
        t.add_row(m.name, f"{m.rate:,.1f}", f"{m.budget_ms:.1f}", f"{m.worst_latency_ms:.1f}", m.dispatch,
                  f"(pool {m.pool})" if m.pool else groups_text(m.groups), f"{m.cost_per_hour:.3f}")
    for s in plan.shared_workers:
        slots = ", ".join(f"{x.module} @ {x.batch_size}" for x in s.slots)
        t.add_row("(shared)", "", f"cycle {s.cycle_ms:.1f}", "", "", f"1 x {s.hardware}: {slots}",
                  f"{s.price_per_hour:.3f}")
    return t


def plan_summary(plan: Plan) -> str:
    """Totals line: $/h, $/month, lower bound and gap, planning time."""
    return (f"total ${plan.cost_per_hour:,.3f}/h = ${plan.cost_per_hour * HOURS_PER_MONTH:,.0f}/month"
            f" | lower bound ${plan.lower_bound_per_hour:,.3f}/h (cost/bound {plan.gap:.3f})"
            f" | planned in {plan.planning_ms:.1f} ms")


def print_plan(plan: Plan, console: Console | None = None) -> None:
    console = console or make_console()
    console.print(plan_table(plan))
    if plan.pools:
        console.print(pool_table(plan.pools))
    console.print(plan_summary(plan))
