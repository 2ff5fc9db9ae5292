"""A plan's per-module settings as Triton `config.pbtxt` fragments, for users who keep Triton's
dynamic batcher.

One fragment per group of a module: `max_batch_size` and `preferred_batch_size` = the group's
batch b, `instance_group [{count: 1, kind: KIND_GPU|KIND_CPU}]` (one Triton server per worker of
the plan, n servers behind a load balancer), and the queue-delay rule
`max_queue_delay_microseconds = 1000 (budget_ms - d)`: a batch leaves when it is full or when its
oldest request would otherwise miss the module's budget.

What that gives up: each server batches only the requests the load balancer sends it, r_share / n
of them, so a batch of b fills n times more slowly than under batch-aware dispatch. The fragment
states the worst latency this costs, MODEL.md's round-robin W_rr = 1000 (b - 1) / r_server + d,
against the module's budget. A plan made with `--planner triton` fits; a batch-aware plan
usually does not (the fragment says so). Shared workers and pools have no Triton equivalent
(Triton runs co-located models concurrently, not on a duty cycle): those modules are listed, not
exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skinflint import model
from skinflint.deploy.hardware_map import HardwareMap, k8s_name
from skinflint.plan import ROUND_ROBIN, Group, ModulePlan, Plan


@dataclass(frozen=True)
class Fragment:
    """One config.pbtxt fragment: where it goes, its text, and whether the budget holds under Triton."""

    path: Path
    text: str
    worst_latency_ms: float
    budget_ms: float

    @property
    def fits(self) -> bool:
        return model.leq(self.worst_latency_ms, self.budget_ms)


def server_rate(mp: ModulePlan, g: Group) -> float:
    """Requests per second one server of group g gets: its round-robin share split over its
    workers, or (batch-aware groups) the share the plan's cycle gives it, r b / sum(n b)."""
    if mp.dispatch == ROUND_ROBIN and g.share_rate is not None:
        return g.share_rate / g.workers
    return mp.rate * g.batch_size / sum(x.workers * x.batch_size for x in mp.groups)


def fragment_text(plan: Plan, mp: ModulePlan, g: Group, kind: str, rate: float, w: float) -> str:
    """The config.pbtxt fragment with its header comments (protobuf text format allows '#')."""
    delay_us = max(0, round(1000.0 * (mp.budget_ms - g.latency_ms)))   # Triton's resolution: 1 us
    verdict = "within budget" if model.leq(w, mp.budget_ms) else \
        ("OVER BUDGET: this plan was made for batch-aware dispatch (skinflint serve); "
         "for Triton's batcher plan with --planner triton")
    lines = [f"# skinflint plan {plan.app!r} (planner {plan.planner}), module {mp.name!r}: model {mp.model!r}",
             "# Merge into the model's config.pbtxt (name, backend, inputs and outputs are yours).",
             f"# {g.workers} Triton server(s), one {g.hardware} worker each, behind a round-robin load balancer:",
             f"# each server gets {rate:.3f} req/s and batches on its own.",
             f"# Worst latency: W_rr = 1000 (b - 1) / r_server + d = 1000 * {g.batch_size - 1} / {rate:.3f} + "
             f"{g.latency_ms:.3f} = {w:.3f} ms; budget {mp.budget_ms:.3f} ms: {verdict}.",
             f"# Queue delay = budget - d = {mp.budget_ms - g.latency_ms:.3f} ms: a batch leaves when full or then."]
    if g.exec_batch_size is not None and g.exec_batch_size != g.batch_size:
        lines.append(f"# The plan runs batch {g.batch_size} padded to {g.exec_batch_size}; Triton does not pad, "
                     f"so a batch of {g.batch_size} runs at its own measured time.")
    lines += [f"max_batch_size: {g.batch_size}", "dynamic_batching {",
              f"  preferred_batch_size: [ {g.batch_size} ]", f"  max_queue_delay_microseconds: {delay_us}", "}",
              "instance_group [", "  {", "    count: 1", f"    kind: {kind}", "  }", "]"]
    return "\n".join(lines) + "\n"


def fragments(plan: Plan, hmap: HardwareMap) -> tuple[list[Fragment], list[str]]:
    """Fragments of every module's groups, and a note per module (part) that Triton cannot express."""
    out, notes = [], []
    shared = {s.module for sw in plan.shared_workers for s in sw.slots}
    for mp in plan.modules:
        if mp.pool is not None or mp.name in shared:
            notes.append(f"module {mp.name}: served by {'pool ' + mp.pool if mp.pool else 'a shared worker'}, "
                         "which Triton's per-model batcher cannot reproduce; not exported")
        for g in mp.groups:
            size = hmap.hardware.get(g.hardware)
            kind = "KIND_GPU" if size is None or size.gpus > 0 else "KIND_CPU"
            rate = server_rate(mp, g)
            lag = model.fanout_lag_ms(mp.rate / plan.rate, plan.rate) if plan.fanout_lag else 0.0
            w = model.worst_latency_rr_ms(g.batch_size, g.latency_ms, rate, 1, lag)
            folder = Path(k8s_name(mp.name))
            if len(mp.groups) > 1:
                folder = folder / f"{k8s_name(g.hardware)}-b{g.batch_size}"
            out.append(Fragment(folder / "config.pbtxt", fragment_text(plan, mp, g, kind, rate, w), w, mp.budget_ms))
    return out, notes


def write_fragments(frags: list[Fragment], out_dir: Path) -> list[Path]:
    """Write each fragment under `out_dir`; the paths written."""
    paths = []
    for f in frags:
        path = out_dir / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text, encoding="utf-8")
        paths.append(path)
    return paths
