"""Residual node merging under batch-aware dispatch (MODEL.md "Shared workers"), for `harpagon`.

A module whose plan ends in one residual worker of config (h, b) can hand that worker's share to
a shared worker of hardware h instead: the shared worker joins the module's cycle as one more
worker with a batch b' >= b of that module, and serves each of its modules' batches once per
shared cycle T_s = the sum of their batch times (rule 1). It fits iff, for every module on it,

    T_s <= T_m = 1000 * (sum of the other workers' n b + b') / r_m              (rule 2)
    max d <= u * T_m                                                           (the cycle rule)
    W   = 1000 (b' - 1) / r_m + T_s + d(h, b') <= L_m                           (rule 3)

where L_m may grow into the slack the SLO split left, as long as every path still fits the SLO.
Each module's b' starts at its residual batch and grows to the next profiled size while its
cycle is shorter than T_s (T_s grows with it), as Nexus's duty cycle resizes its batches.
Greedy (our reading, docs/baselines.md): residuals by descending batch time, each onto the
shared worker of its hardware that it leaves fullest, else a new one; a worker left holding a
single residual stays a plain group.
"""

from __future__ import annotations

from dataclasses import dataclass

from skinflint.model import Config, cycle_ms, leq, longest_path_ms, shared_worst_latency_ms
from skinflint.plan import SharedSlot, SharedWorker
from skinflint.spec.types import Spec

Groups = dict[str, list[tuple[Config, int]]]


@dataclass(frozen=True)
class Candidate:
    """A module's residual worker: the batches it may run on a shared worker (its own first, then
    larger ones on the same hardware) and what the module's other workers hold."""

    module: str
    rate: float
    options: tuple[Config, ...]
    rest_batch: int          # sum n b of the module's other workers
    rest_slowest_ms: float   # their largest batch time (0 if none)
    lag_ms: float = 0.0      # the module's fan-out lag where the plan includes it

    @property
    def config(self) -> Config:
        return self.options[0]

    def cycle_ms(self, config: Config) -> float:
        return cycle_ms(self.rest_batch + config.batch_size, self.rate)


def candidates(spec: Spec, choices: dict, groups: Groups,  # noqa: ANN001 - choices: module -> ModuleChoice
               configs: dict[str, list[Config]], lags: dict[str, float] | None = None) -> list[Candidate]:
    """Modules whose plan has exactly one residual worker."""
    out = []
    for m, ch in choices.items():
        if ch.n_residual != 1:
            continue
        own = ch.residual
        rest = [(c, n - 1 if c == own else n) for c, n in groups[m]]
        rest = [(c, n) for c, n in rest if n > 0]
        options = sorted((c for c in configs[m] if c.hardware == own.hardware and c.batch_size >= own.batch_size),
                         key=lambda c: c.batch_size)
        out.append(Candidate(m, spec.app.module_rate(m), tuple(options), sum(c.batch_size * n for c, n in rest),
                             max((c.latency_ms for c, _ in rest), default=0.0), (lags or {}).get(m, 0.0)))
    return out


def fit(bin_: list[Candidate], budgets: dict[str, float], spec: Spec,
        utilization: float) -> tuple[list[Config], dict[str, float]] | None:
    """The batches and budgets with this bin on one shared worker, or None if a rule or a path breaks."""
    pick = [0] * len(bin_)
    while True:
        chosen = [c.options[i] for c, i in zip(bin_, pick)]
        t_s = sum(c.latency_ms for c in chosen)
        short = [k for k, (c, cfg) in enumerate(zip(bin_, chosen)) if not leq(t_s, c.cycle_ms(cfg))]
        if not short:
            break
        for k in short:  # rule 2: one slot per module cycle; a larger batch lengthens the cycle
            pick[k] += 1
            if pick[k] == len(bin_[k].options):
                return None
    new = dict(budgets)
    for c, cfg in zip(bin_, chosen):
        if not leq(max(c.rest_slowest_ms, cfg.latency_ms), utilization * c.cycle_ms(cfg)):
            return None
        new[c.module] = max(new[c.module], shared_worst_latency_ms(cfg.batch_size, cfg.latency_ms, c.rate, t_s,
                                                                               c.lag_ms))
    app = spec.app
    if not leq(longest_path_ms(app.modules, new, app.hop_ms), app.slo_ms):
        return None
    return chosen, new


def merge_residuals(spec: Spec, choices: dict, budgets: dict[str, float], groups: Groups,  # noqa: ANN001
                    configs: dict[str, list[Config]], utilization: float, lags: dict[str, float] | None = None,
                    ) -> tuple[list[SharedWorker], dict[str, float], Groups]:
    """Shared workers, the budgets they need and the groups left once merged residuals leave them."""
    bins: list[tuple[list[Candidate], list[Config]]] = []
    for c in sorted(candidates(spec, choices, groups, configs, lags),
                    key=lambda c: (-c.config.latency_ms, c.module)):
        best = None
        for k, (members, _) in enumerate(bins):
            if members[0].config.hardware != c.config.hardware:
                continue
            found = fit(members + [c], budgets, spec, utilization)
            if found is None:
                continue
            load = sum(cfg.latency_ms for cfg in found[0])
            if best is None or load > best[0]:
                best = (load, k, found)
        if best is None:
            bins.append(([c], [c.config]))
            continue
        _, k, (chosen, budgets) = best
        bins[k] = (bins[k][0] + [c], chosen)
    shared, groups = [], {m: list(gs) for m, gs in groups.items()}
    for members, chosen in bins:
        if len(members) < 2:
            continue
        for c in members:  # the residual worker leaves its group
            groups[c.module] = [(cfg, n - 1 if cfg == c.config else n) for cfg, n in groups[c.module]]
        slots = tuple(SharedSlot(c.module, cfg.batch_size, cfg.latency_ms, cfg.exec_batch_size)
                      for c, cfg in zip(members, chosen))
        shared.append(SharedWorker(members[0].config.hardware, sum(cfg.latency_ms for cfg in chosen),
                                   members[0].config.price_per_hour, slots))
    return shared, budgets, groups
