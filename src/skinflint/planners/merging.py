"""Residual node merging under batch-aware dispatch (MODEL.md "Shared workers"), for `harpagon`.

A module whose plan ends in one residual worker of config (h, b) can hand that worker's batch
to a shared worker of hardware h instead: the shared worker joins the module's cycle with the
same batch b, so the module's cycle and its cover are unchanged, and it serves each of its
modules' batches once per shared cycle T_s = sum of their batch times (rule 1). It fits iff,
for every module on it,

    T_s <= T_m = 1000 * sum(n b) / r_m                                    (rule 2)
    W   = 1000 (b - 1) / r_m + T_s + d(h, b) <= L_m                       (rule 3)

where L_m may grow into the slack the SLO split left, as long as every path still fits the SLO.
Greedy (our reading, docs/baselines.md): residuals by descending batch time, each onto the
shared worker of its hardware that it leaves fullest, else a new one; workers left holding a
single residual stay plain groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from skinflint.model import Config, cycle_ms, leq, longest_path_ms, shared_worst_latency_ms
from skinflint.plan import SharedSlot, SharedWorker
from skinflint.spec.types import Spec


@dataclass(frozen=True)
class Candidate:
    """A module's residual worker: its config, the module's rate and cycle with that worker."""

    module: str
    config: Config
    rate: float
    module_cycle_ms: float

    def worst_latency_ms(self, shared_cycle_ms: float) -> float:
        return shared_worst_latency_ms(self.config.batch_size, self.config.latency_ms, self.rate, shared_cycle_ms)


def candidates(spec: Spec, choices: dict, groups: dict[str, list[tuple[Config, int]]]) -> list[Candidate]:  # noqa: ANN001
    """Modules whose plan has exactly one residual worker."""
    out = []
    for m, ch in choices.items():
        if ch.n_residual != 1:
            continue
        rate = spec.app.module_rate(m)
        total = sum(c.batch_size * n for c, n in groups[m])
        out.append(Candidate(m, ch.residual, rate, cycle_ms(total, rate)))
    return out


def _fits(bin_: list[Candidate], budgets: dict[str, float], spec: Spec) -> dict[str, float] | None:
    """Budgets with this bin on one shared worker, or None if a rule or a path breaks."""
    t_s = sum(c.config.latency_ms for c in bin_)
    new = dict(budgets)
    for c in bin_:
        if not leq(t_s, c.module_cycle_ms):
            return None
        new[c.module] = max(new[c.module], c.worst_latency_ms(t_s))
    app = spec.app
    if not leq(longest_path_ms(app.modules, new, app.hop_ms), app.slo_ms):
        return None
    return new


def merge_residuals(spec: Spec, choices: dict, budgets: dict[str, float],  # noqa: ANN001 - choices: ModuleChoice
                    groups: dict[str, list[tuple[Config, int]]],
                    ) -> tuple[list[SharedWorker], dict[str, float], dict[str, list[tuple[Config, int]]]]:
    """Shared workers, the budgets they need and the groups left once merged residuals are removed."""
    bins: list[list[Candidate]] = []
    for c in sorted(candidates(spec, choices, groups), key=lambda c: (-c.config.latency_ms, c.module)):
        best: tuple[float, int, dict[str, float]] | None = None
        for k, b in enumerate(bins):
            if b[0].config.hardware != c.config.hardware:
                continue
            fit = _fits(b + [c], budgets, spec)
            load = sum(x.config.latency_ms for x in b) + c.config.latency_ms
            if fit is not None and (best is None or load > best[0]):
                best = (load, k, fit)
        if best is None:
            bins.append([c])
            continue
        _, k, budgets = best
        bins[k].append(c)
    shared, groups = [], {m: list(gs) for m, gs in groups.items()}
    for b in bins:
        if len(b) < 2:
            continue
        for c in b:  # the residual worker leaves its group
            groups[c.module] = [(cfg, n - 1 if cfg == c.config else n) for cfg, n in groups[c.module]]
        slots = tuple(SharedSlot(c.module, c.config.batch_size, c.config.latency_ms, c.config.exec_batch_size)
                      for c in b)
        shared.append(SharedWorker(b[0].config.hardware, sum(c.config.latency_ms for c in b),
                                   b[0].config.price_per_hour, slots))
    return shared, budgets, groups
