"""Cheap proofs that a candidate shared worker cannot beat the best plan so far, checked before
its SLO split is solved (solve/sharing.py). Each only skips bins that could not win, so the
search keeps its answer; each keeps a margin far above floating-point noise.

  * reach: each member's budget is at least its slot's W (rule 3) and every other module's at
    least its frontier's first budget; if that already breaks the SLO, no split exists.
  * gain: a bin's split costs at least the round's dedicated split (its start cost) less, per
    member, the most its slot frontier undercuts its frontier at any one budget — any budgets
    the bin's split picks are open to the round's frontiers at no more than that cost more.
"""

from __future__ import annotations

import bisect
import math
from typing import Mapping, Sequence

from skinflint.model import longest_path_ms
from skinflint.planners.solve.frontier import FrontierPoint
from skinflint.spec.types import Spec

MARGIN = 1e-6  # relative; far above the split's own tolerances (1e-9 per step)


def may_win(bound: float, best: float) -> bool:
    """False only when `bound` clears the search's win test (`best` (1 - 1e-12) - 1e-12) by MARGIN."""
    return bound < best * (1 - 1e-12) - 1e-12 + MARGIN * max(1.0, abs(best))


def reaches(spec: Spec, least_budget_ms: Mapping[str, float]) -> bool:
    """False when the longest path at these least budgets (plus hops) exceeds the SLO by MARGIN."""
    app = spec.app
    return longest_path_ms(app.modules, dict(least_budget_ms), app.hop_ms) <= app.slo_ms + MARGIN * max(1.0, app.slo_ms)


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
