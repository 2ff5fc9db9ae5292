"""Nexus's squishy bin packing: residual loads of different modules merged onto shared workers.

After the saturated workers, each module (a Nexus "session") is left with a residual rate `w`
that fills part of one worker. Nexus runs such a worker in a duty cycle: every `duty` ms it
executes one batch of each session it holds, the batch holding whatever that session's stream
brought during the last cycle. A residual alone has batch `b` (the largest with
1000 (b - 1) / w + d(b) <= L) and the longest duty its SLO allows, `min(L - d(b), 1000 b / w)`.

Merging residuals onto one worker (released scheduler, `BackendDelegate::PrepareLoadModel`):

    duty      = the smallest of the merged sessions' longest duties
    batch_s   = ceil(duty * w_s / 1000)               (padded up to a profiled size here)
    feasible  iff  sum_s d_s(batch_s) <= u * duty      (occupancy = sum d / duty)

Sessions are taken in descending residual rate (`AllocateUnassignedWorkloads`); each joins the
existing worker whose merged occupancy is highest (best fit), or opens a new worker if it fits
none (the paper's Algorithm 1). Each session's worst latency on a merged worker is
duty + d_s(batch_s) <= its own longest duty + d_s(b_s) <= L (docs/baselines.md).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from skinflint.model import RTOL, leq
from skinflint.spec.types import ProfileCurve


@dataclass(frozen=True)
class Residual:
    """One session's residual load: rate w (req/s), its own batch b and longest duty cycle (ms)."""

    module: str
    rate: float
    batch_size: int
    max_duty_ms: float
    curve: ProfileCurve


@dataclass(frozen=True)
class Node:
    """A worker holding residuals in one duty cycle, with each residual's batch and batch time."""

    residuals: tuple[Residual, ...]
    duty_ms: float
    batch_sizes: tuple[int, ...]
    latencies_ms: tuple[float, ...]

    @property
    def occupancy(self) -> float:
        """Busy share of the duty cycle: sum of batch times / duty."""
        return sum(self.latencies_ms) / self.duty_ms


def residual_batch(curve: ProfileCurve, rate: float, duty_ms: float) -> int:
    """Smallest profiled batch holding ceil(duty * w / 1000) requests: one cycle's arrivals (never
    above the residual's own batch, since its duty is at most 1000 b / w)."""
    need = duty_ms * rate / 1000.0
    need = max(1, math.ceil(need - RTOL * max(1.0, need)))
    i = bisect.bisect_left(curve.batch_sizes, need)
    return curve.batch_sizes[min(i, len(curve.batch_sizes) - 1)]


def make_node(residuals: tuple[Residual, ...], utilization: float = 1.0) -> Node | None:
    """The merged worker of these residuals, or None if their batches overflow its duty cycle."""
    duty = min(r.max_duty_ms for r in residuals)
    sizes, times = [], []
    for r in residuals:
        b = residual_batch(r.curve, r.rate, duty)
        sizes.append(b)
        times.append(r.curve.effective(b))
    if not leq(sum(times), utilization * duty):
        return None
    return Node(residuals, duty, tuple(sizes), tuple(times))


def squishy_bin_packing(residuals: list[Residual], utilization: float = 1.0) -> list[Node]:
    """Pack residuals onto as few duty-cycled workers as the greedy finds (descending rate, best fit)."""
    nodes: list[Node] = []
    for r in sorted(residuals, key=lambda r: (-r.rate, r.module)):
        best: tuple[int, Node] | None = None
        for i, node in enumerate(nodes):
            merged = make_node(node.residuals + (r,), utilization)
            if merged is not None and (best is None or merged.occupancy > best[1].occupancy + 1e-12):
                best = (i, merged)
        if best is not None:
            nodes[best[0]] = best[1]
            continue
        alone = make_node((r,), utilization)
        assert alone is not None, "a residual is only formed when it fits a worker alone"
        nodes.append(alone)
    return nodes
