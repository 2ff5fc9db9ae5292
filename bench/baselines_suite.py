"""Baselines side by side on public profiles: cost ratio to `optimal`, optimum reached, planning time.

Applications built from bench/data (NVIDIA DeepLearningExamples TF1 NGC 20.06 tables, AWS prices,
each row with its source): single models, chains of 2 and 3, a fork and a diamond, on T4 alone and
on T4 + V100-16GB + A100-40GB, at 10 to 5,000 req/s, with SLOs from 1.2x to 5x the smallest SLO
any plan can meet. Every plan is verified (plan_spec). Prints, per planner, the geometric-mean
cost ratio to `optimal`, the share of workloads where it reaches the optimum, how often it finds
no plan, planning time p50/p99, and the workloads where `optimal` is costlier than it (named);
writes a CSV and two plots.

Every plan is also simulated: under uniform arrivals at the planned rate (long enough for every
worker to go round its cycle 6 times) for p99, worst latency and SLO attainment, and whether it
is *confirmed* (no item after its module's promise, no request after the SLO:
`sim.promise_violations`); and in a short Poisson run (2,000 requests) for p99 and attainment.
`--fanout-lag` plans with the fan-out lag (PlanOptions.fanout_lag), without which a fan-out
module's items can miss their own module's promise by up to that lag while the SLO still holds.

    .venv/bin/python bench/baselines_suite.py [--out bench/results] [--quick] [--fanout-lag] [--no-sim]

At equal attainment (`--traffic poisson`, `--target 0.999` by default with it; any arrivals of
`skinflint plan --traffic`): every planner gets the same traffic and target and its own smallest
headroom that reaches it (planners/attain.py, as `skinflint compare`); per baseline (nexus,
harpagon, inferline, naive, triton) the cost ratio to skinflint's default planner — geometric
mean, worst, and the count of workloads where skinflint is costlier. Slow (every plan searched
on the simulator): `--sample N` runs a deterministic subset of N workloads, with a progress bar.

    .venv/bin/python bench/baselines_suite.py --traffic poisson [--target 0.999] [--sample 20]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skinflint.plan import Plan
from skinflint.planners import PlanOptions
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.errors import SkinflintError
from skinflint.report.compare import compare_rows
from skinflint.sim import promise_violations, simulate
from skinflint.sim.arrivals import make_arrivals
from skinflint.sim.fidelity import settling_requests
from skinflint.spec.hardware import load_hardware
from skinflint.spec.profiles import load_profiles
from skinflint.spec.types import App, Module, Spec
from skinflint.traffic import Traffic

DATA = Path(__file__).resolve().parent / "data"
PLANNERS = ("harpagon", "nexus", "naive", "even-split", "even-split-single")
RESNET, RESNEXT = "resnet50_v1.5|tf1-ngc20.06|AMP", "resnext101_32x4d|tf1-ngc20.06|AMP"
SE_RESNEXT, SSD = "se_resnext101_32x4d|tf1-ngc20.06|AMP", "ssd320_v1.2_resnet50_fpn|tf1-ngc20.06|FP16"
CROPS = 2.5  # objects per frame the detector hands to the classifiers (as in the traffic example)
APPS = {
    "single-resnet50": [("classify", RESNET, (), 1.0)],
    "single-ssd": [("detect", SSD, (), 1.0)],
    "chain2": [("detect", SSD, (), 1.0), ("classify", RESNET, ("detect",), CROPS)],
    "chain3": [("detect", SSD, (), 1.0), ("classify", RESNEXT, ("detect",), CROPS),
               ("refine", SE_RESNEXT, ("classify",), CROPS)],
    "fork": [("detect", SSD, (), 1.0), ("type", RESNET, ("detect",), CROPS), ("make", RESNEXT, ("detect",), CROPS)],
    "diamond": [("detect", SSD, (), 1.0), ("type", RESNET, ("detect",), CROPS),
                ("make", RESNEXT, ("detect",), CROPS), ("fuse", SE_RESNEXT, ("type", "make"), CROPS)],
}
HARDWARE_SETS = {"T4": ("T4",), "3 types": ("T4", "V100-16GB", "A100-40GB")}
RATES = (10.0, 50.0, 200.0, 1000.0, 5000.0)
SLO_FACTORS = (1.2, 1.5, 2.0, 3.0, 5.0)
HOP_MS = 1.0
EXACT = 1e-9
POISSON_REQUESTS = 2000


@dataclass(frozen=True)
class Simulated:
    """A plan in simulation: uniform arrivals (p99, worst, attainment, promises kept) and Poisson."""

    p99_ms: float
    worst_ms: float
    attainment: float
    confirmed: bool
    poisson_p99_ms: float
    poisson_attainment: float


def simulate_columns(plan: Plan, spec: Spec) -> Simulated:
    """Uniform arrivals at the planned rate, then a short Poisson run (seeded)."""
    gap = 1000.0 / plan.rate
    n = settling_requests(plan)
    uniform = simulate(plan, spec, np.arange(n) * gap, n * gap / 1000.0, np.random.default_rng(0))
    lat = uniform.latency_ms
    confirmed = uniform.completed == uniform.requests and not promise_violations(uniform)
    duration = POISSON_REQUESTS / plan.rate
    poisson = simulate(plan, spec, make_arrivals("poisson", rate=plan.rate), duration, np.random.default_rng(1))
    plat = poisson.latency_ms
    return Simulated(float(np.percentile(lat, 99)), float(lat.max()), uniform.slo_attainment, confirmed,
                     float(np.percentile(plat, 99)) if plat.size else math.nan, poisson.slo_attainment)


@dataclass(frozen=True)
class Result:
    """One planner on one workload."""

    app: str
    hardware: str
    rate: float
    slo_factor: float
    slo_ms: float
    planner: str
    cost: float | None       # $/h, None = no plan
    ratio: float | None      # cost / optimal cost
    gap: float | None        # cost / fluid lower bound
    planning_ms: float | None
    shared_workers: int
    sim: Simulated | None = None

    @property
    def name(self) -> str:
        return f"{self.app}/{self.hardware}/{self.rate:g}req/s/{self.slo_factor:g}x"


def workload_spec(app: str, hardware: tuple[str, ...], rate: float, factor: float, catalog, profiles,  # noqa: ANN001
                  fanout_lag: bool = False) -> Spec:
    """The app on a hardware subset at `rate`, its SLO `factor` x the smallest one a plan can meet
    (with the fan-out lag in W if `fanout_lag`)."""
    modules = tuple(Module(name, model, parents, factor_) for name, model, parents, factor_ in APPS[app])
    spec = Spec(App(app, rate, 1.0, modules, HOP_MS), {h: catalog[h] for h in hardware}, profiles)
    least = smallest_feasible_slo(spec, configs_by_module(spec, fanout_lag))
    return replace(spec, app=replace(spec.app, slo_ms=round(factor * least, 3)))


def run_suite(quick: bool = False, fanout_lag: bool = False, sim: bool = True) -> list[Result]:
    """Every planner on every workload (a few with --quick), each plan simulated unless sim=False."""
    catalog = load_hardware(DATA / "hardware.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the padded-batch notes of the loader
        profiles = load_profiles([DATA / "profiles.csv"])
    out = []
    for app, hw_name, rate, factor in workloads(quick):
        spec = workload_spec(app, HARDWARE_SETS[hw_name], rate, factor, catalog, profiles, fanout_lag)
        options = PlanOptions(fanout_lag=fanout_lag)
        for row in compare_rows(spec, PLANNERS, options, simulate=False):
            p = row.plan
            out.append(Result(app, hw_name, rate, factor, spec.app.slo_ms, row.planner,
                              p.cost_per_hour if p else None, row.ratio_to_optimal,
                              p.gap if p else None, p.planning_ms if p else None,
                              len(p.shared_workers) if p else 0,
                              simulate_columns(p, spec) if p and sim else None))
    return out


TRAFFIC_PLANNERS = ("nexus", "harpagon", "inferline", "naive", "triton")


def workloads(quick: bool = False) -> list[tuple[str, str, float, float]]:
    """(app, hardware set, rate, SLO factor) of the suite, in its order."""
    apps = list(APPS)[::2] if quick else list(APPS)
    rates = RATES[::2] if quick else RATES
    factors = SLO_FACTORS[::2] if quick else SLO_FACTORS
    return [(a, h, r, f) for a in apps for h in HARDWARE_SETS for r in rates for f in factors]


def sample(items: list, n: int | None, seed: int = 0) -> list:
    """A deterministic subset of n items, in their order (all of them for n None or >= len)."""
    if n is None or n >= len(items):
        return list(items)
    keep = np.sort(np.random.default_rng(seed).choice(len(items), size=n, replace=False))
    return [items[k] for k in keep]


@dataclass(frozen=True)
class AtTarget:
    """One planner on one workload at equal attainment: its cost, ratio to skinflint's, headroom."""

    workload: str
    planner: str
    cost: float | None
    ratio: float | None
    headroom: float | None
    attained: float | None
    planning_ms: float | None
    message: str = ""


def run_traffic_suite(traffic: Traffic, n: int | None, quick: bool = False) -> tuple[list[AtTarget], list[str]]:
    """Every planner at the traffic's target on the sampled workloads (a progress bar on stderr);
    also the workloads where skinflint itself reaches no plan."""
    from rich.progress import track

    catalog = load_hardware(DATA / "hardware.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = load_profiles([DATA / "profiles.csv"])
    out, skipped = [], []
    for app, hw_name, rate, factor in track(sample(workloads(quick), n), description="planning at the target",
                                           transient=True):
        spec = workload_spec(app, HARDWARE_SETS[hw_name], rate, factor, catalog, profiles)
        name = f"{app}/{hw_name}/{rate:g}req/s/{factor:g}x"
        try:
            rows = compare_rows(spec, TRAFFIC_PLANNERS, PlanOptions(traffic=traffic), simulate=False)
        except SkinflintError as e:
            skipped.append(f"{name}: {e}")
            continue
        for r in rows:
            p = r.plan
            out.append(AtTarget(name, r.planner, p.cost_per_hour if p else None, r.ratio_to_optimal,
                                p.headroom if p else None, p.check.attained if p and p.check else None,
                                p.planning_ms if p else None, r.message))
    return out, skipped


def traffic_summary(results: list[AtTarget], traffic: Traffic) -> list[str]:
    """Per baseline: plans found, geo-mean and worst cost ratio to skinflint, where skinflint is costlier."""
    n = len({r.workload for r in results})
    lines = [f"{n} workloads at equal attainment: {traffic.describe()} (each planner its own smallest headroom)",
             "| planner | plans | geomean × skinflint | worst × skinflint | highest × skinflint | skinflint costlier "
             "| no plan | headroom (median) | plan ms p50 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for planner in ("optimal",) + TRAFFIC_PLANNERS:
        rs = [r for r in results if r.planner == planner]
        ok = [r for r in rs if r.cost is not None and r.ratio is not None]
        if not rs:
            continue
        ratios = [r.ratio for r in ok]
        lines.append(f"| {planner} | {len(ok)} | {geomean(ratios):.3f} | {min(ratios, default=math.nan):.3f} | "
                     f"{max(ratios, default=math.nan):.3f} | "
                     f"{sum(x < 1 - EXACT for x in ratios)} | {len(rs) - len(ok)} | "
                     f"{np.median([r.headroom for r in ok]) if ok else math.nan:.2f} | "
                     f"{np.median([r.planning_ms for r in ok]) if ok else math.nan:.0f} |")
    lines.append('\n"worst": the baseline\'s lowest ratio (below 1: cheaper than skinflint there); "skinflint '
                 'costlier": workloads where the baseline\'s plan costs less')
    return lines


def write_traffic_csv(results: list[AtTarget], path: Path) -> None:
    fields = ["workload", "planner", "cost", "ratio", "headroom", "attained", "planning_ms", "message"]
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields)
        for r in results:
            values = [getattr(r, k) for k in fields]
            w.writerow(["" if v is None else round(v, 6) if isinstance(v, float) else v for v in values])


def traffic_main(args: argparse.Namespace, argv: list[str]) -> int:
    """The equal-attainment run: summary printed, CSV written via record.result_path."""
    from record import result_path

    traffic = Traffic.parse(args.traffic, target=args.target)
    if traffic.is_worst_case and traffic.target == 1:
        print("--traffic uniform is the default run (MODEL.md's worst case): drop --traffic")
        return 2
    results, skipped = run_traffic_suite(traffic, args.sample, args.quick)
    print("\n".join(traffic_summary(results, traffic)))
    if skipped:
        print(f"\nworkloads where skinflint's planner reaches no plan ({len(skipped)}):")
        for s in skipped:
            print(f"  {s}")
    path = result_path("baselines", argv, ".csv", args.out)
    write_traffic_csv(results, path)
    print(f"wrote {path}")
    return 0


def geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values)))) if values else math.nan


def summary(results: list[Result]) -> tuple[list[str], list[str]]:
    """Markdown table lines per planner, and the named workloads where a baseline beats `optimal`."""
    n_workloads = len({r.name for r in results})
    lines = [f"{n_workloads} workloads",
             "| planner | geomean × optimal | reaches optimum | below optimal | no plan | plan ms p50 | plan ms p99 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    beaten = []
    for planner in ("optimal",) + PLANNERS:
        rs = [r for r in results if r.planner == planner]
        ok = [r for r in rs if r.cost is not None]
        ratios = [r.ratio for r in ok]
        times = [r.planning_ms for r in ok]
        reach = sum(1 for x in ratios if x <= 1 + EXACT)
        below = [r for r in ok if r.ratio < 1 - EXACT]
        beaten += [f"{r.planner} on {r.name}: {r.cost:.3f} vs {r.cost / r.ratio:.3f} $/h (× {r.ratio:.3f}, "
                   f"{r.shared_workers} shared worker(s))" for r in below]
        lines.append(f"| {planner} | {geomean(ratios):.3f} | {reach / len(rs):.0%} | {len(below)} | "
                     f"{len(rs) - len(ok)} | {np.percentile(times, 50):.2f} | {np.percentile(times, 99):.2f} |")
    lines += ["", "| planner | " + " | ".join(f"× optimal on {h} (no plan)" for h in HARDWARE_SETS) + " |",
              "|---|" + "---:|" * len(HARDWARE_SETS)]
    for planner in PLANNERS:
        cells = []
        for h in HARDWARE_SETS:
            rs = [r for r in results if r.planner == planner and r.hardware == h]
            ratios = [r.ratio for r in rs if r.ratio is not None]
            cells.append(f"{geomean(ratios):.3f} ({len(rs) - len(ratios)})")
        lines.append(f"| {planner} | " + " | ".join(cells) + " |")
    return lines, beaten


def sim_summary(results: list[Result]) -> list[str]:
    """Markdown table per planner of the simulated columns, and the count of plans confirmed."""
    lines = ["| planner | plans | confirmed | uniform: in SLO | p99 / SLO (median) | worst / SLO (max) "
             "| Poisson: attainment (mean) | Poisson p99 / SLO (median) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = confirmed = 0
    for planner in ("optimal",) + PLANNERS:
        rs = [r for r in results if r.planner == planner and r.sim is not None]
        if not rs:
            continue
        ok = sum(r.sim.confirmed for r in rs)
        total, confirmed = total + len(rs), confirmed + ok
        within = sum(r.sim.worst_ms <= r.slo_ms * (1 + EXACT) for r in rs)
        lines.append(f"| {planner} | {len(rs)} | {ok} | {within} | "
                     f"{np.median([r.sim.p99_ms / r.slo_ms for r in rs]):.3f} | "
                     f"{max(r.sim.worst_ms / r.slo_ms for r in rs):.3f} | "
                     f"{np.mean([r.sim.poisson_attainment for r in rs]):.2%} | "
                     f"{np.nanmedian([r.sim.poisson_p99_ms / r.slo_ms for r in rs]):.3f} |")
    lines.append(f"\nplans confirmed in simulation (uniform arrivals: every promise kept): {confirmed} of {total}")
    return lines


SIM_FIELDS = ("p99_ms", "worst_ms", "attainment", "confirmed", "poisson_p99_ms", "poisson_attainment")


def write_csv(results: list[Result], path: Path) -> None:
    fields = ["app", "hardware", "rate", "slo_factor", "slo_ms", "planner", "cost", "ratio", "gap",
              "planning_ms", "shared_workers"]
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields + [f"sim_{k}" for k in SIM_FIELDS])
        for r in results:
            values = [getattr(r, k) for k in fields] + [getattr(r.sim, k) if r.sim else None for k in SIM_FIELDS]
            w.writerow(["" if v is None else round(v, 6) if isinstance(v, float) else v for v in values])


def plot(results: list[Result], out: Path, suffix: str = "") -> list[Path]:
    """Geometric-mean cost ratio to `optimal` against SLO tightness and against rate, per planner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for key, label, fname, logx in (("slo_factor", "SLO / smallest feasible SLO", "baselines_vs_slo.png", False),
                                    ("rate", "rate (req/s)", "baselines_vs_rate.png", True)):
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for planner in PLANNERS:
            xs = sorted({getattr(r, key) for r in results})
            ys = [geomean([r.ratio for r in results if r.planner == planner and getattr(r, key) == x
                           and r.ratio is not None]) for x in xs]
            ax.plot(xs, ys, marker="o", label=planner)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel(label)
        ax.set_ylabel("cost / optimal (geometric mean, plans found)")
        if logx:
            ax.set_xscale("log")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out / fname.replace(".png", f"{suffix}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--quick", action="store_true", help="a small subset (smoke run)")
    parser.add_argument("--fanout-lag", action="store_true", help="plan with the fan-out lag in W")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulated columns")
    parser.add_argument("--traffic", help="compare at equal attainment under these arrivals (e.g. poisson)")
    parser.add_argument("--target", type=float, default=None, help="with --traffic: the target (default 0.999)")
    parser.add_argument("--sample", type=int, default=None, help="with --traffic: a deterministic subset of N workloads")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.traffic is not None:
        return traffic_main(args, argv if argv is not None else sys.argv[1:])
    results = run_suite(args.quick, args.fanout_lag, not args.no_sim)
    lines, beaten = summary(results)
    print("\n".join(lines))
    if not args.no_sim:
        print("\n" + "\n".join(sim_summary(results)))
    print(f"\nworkloads where optimal is costlier than a baseline: {len(beaten)}")
    for b in beaten:
        print(f"  {b}")
    from record import result_path, variant

    csv_path = result_path("baselines", argv if argv is not None else sys.argv[1:], ".csv", args.out)
    write_csv(results, csv_path)  # baselines.csv; baselines--fanout-lag.csv, ... for other runs
    for p in plot(results, args.out, variant(argv if argv is not None else sys.argv[1:])):
        print(f"wrote {p}")
    print(f"wrote {csv_path}")
    return 0


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        code = main()
    sys.exit(code)
