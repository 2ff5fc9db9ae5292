"""Our plan beside the Triton-batcher plan (`--planner triton`) for the bundled traffic app, at the
demo's rates and SLOs: cost, and each plan simulated under uniform arrivals at its rate (30 s).

    .venv/bin/python bench/triton_batcher.py

Prints a Markdown table (docs/baselines.md records it). Equal attainment under random traffic
(each planner at its own smallest headroom that reaches a target) is issue #11's harness; the
`triton` planner is a registered planner, so that harness compares it like any other.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import skinflint
from skinflint.planners import PlanOptions
from skinflint.report.compare import compare_rows

APP = Path(__file__).resolve().parent.parent / "examples" / "traffic" / "app.yaml"
POINTS = ((100, 250), (300, 300), (300, 500), (1000, 300), (3000, 200), (3000, 400))


def groups(plan: skinflint.Plan) -> str:
    """Each module's groups, e.g. 'detect 8xT4@4'."""
    return "; ".join(f"{m.name} " + "+".join(f"{g.workers}x{g.hardware}@{g.batch_size}" for g in m.groups)
                     for m in plan.modules)


def main() -> None:
    print("| rate req/s | SLO ms | skinflint $/h | Triton batcher $/h | × skinflint "
          "| in SLO (uniform) skinflint / Triton | Triton's plan |")
    print("|---:|---:|---:|---:|---:|---|---|")
    for rate, slo in POINTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = skinflint.load_spec(APP, rate=rate, slo_ms=slo)
            ours, triton = compare_rows(spec, ["triton"], PlanOptions())
        print(f"| {rate} | {slo} | {ours.plan.cost_per_hour:.3f} | {triton.plan.cost_per_hour:.3f} | "
              f"{triton.ratio_to_optimal:.3f} | {ours.sim.slo_attainment:.2%} / {triton.sim.slo_attainment:.2%} | "
              f"{groups(triton.plan)} |")


if __name__ == "__main__":
    main()
