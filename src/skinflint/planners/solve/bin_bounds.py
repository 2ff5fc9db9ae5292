"""Cheap proofs that a candidate shared worker cannot beat the best plan so far, checked before
its SLO split is solved (solve/sharing.py). Each only skips bins that could not win, so the
search keeps its answer; each keeps a margin far above floating-point noise.

  * reach: each member's budget is at least its slot's W (rule 3) and every other module's at
    least its frontier's first budget; if that already breaks the SLO, no split exists. Else
    each module's budget is at most its room, the SLO less the longest path through it of the
    others' least budgets, and costs at least its frontier's cost there.
  * gain: a bin's split costs at least the round's dedicated split (its start cost) less, per
    member, the most its slot frontier undercuts its frontier at any one budget — any budgets
    the bin's split picks are open to the round's frontiers at no more than that cost more.
"""

from __future__ import annotations

import bisect
import math
from typing import Mapping, Sequence

from skinflint.model import path_through_ms
from skinflint.planners.solve.frontier import FrontierPoint
from skinflint.spec.types import Spec

MARGIN = 1e-6  # relative; far above the split's own tolerances (1e-9 per step)


def may_win(bound: float, best: float) -> bool:
    """False only when `bound` clears the search's win test (`best` (1 - 1e-12) - 1e-12) by MARGIN."""
    return bound < best * (1 - 1e-12) - 1e-12 + MARGIN * max(1.0, abs(best))


def rooms(spec: Spec, least_budget_ms: Mapping[str, float]) -> dict[str, float] | None:
    """Each module's largest budget (plus MARGIN) with every other at its least budget; None
    when the longest path at the least budgets (plus hops) exceeds the SLO by MARGIN."""
    app = spec.app
    through = path_through_ms(app.modules, dict(least_budget_ms), app.hop_ms)
    slo = app.slo_ms + MARGIN * max(1.0, app.slo_ms)
    if max(through.values()) > slo:
        return None
    return {m: slo - (through[m] - least) for m, least in least_budget_ms.items()}


def cost_within(frontier: Sequence[FrontierPoint], room_ms: float) -> float:
    """The least cost on `frontier` at a budget of at most `room_ms` (inf if none)."""
    i = bisect.bisect_right([p.budget_ms for p in frontier], room_ms) - 1
    return frontier[i].cost_per_hour if i >= 0 else math.inf


def frontier_gain(dedicated: Sequence[FrontierPoint], with_slot: Sequence[FrontierPoint]) -> float:
    """max over budgets L of dedicated(L) - with_slot(L), each the last point at or below L (inf
    below a frontier's first point): the largest drop falls on one of `with_slot`'s points."""
    budgets = [p.budget_ms for p in dedicated]
    gain = -math.inf
    for p in with_slot:
        i = bisect.bisect_right(budgets, p.budget_ms) - 1
        if i < 0:
            return math.inf
        gain = max(gain, dedicated[i].cost_per_hour - p.cost_per_hour)
    return gain
