"""`skinflint profiles plot`: latency and requests per dollar against batch size, per hardware.

One row of two panels per model. Left: measured batch latency (markers) and MODEL.md's
effective time (line; where it lies below a marker the batch runs padded to a larger size).
Right: requests per dollar, 3600 * θ(h, b) / price(h), from the effective time, for hardware
with a price. For a combined profile (`profiles combine`) error bars span the fastest to the
slowest run used. A configuration wins where its curve on the right is highest and its latency on
the left still fits the module's budget.
"""

from __future__ import annotations

from pathlib import Path

from skinflint.errors import SpecError
from skinflint.report.profile_tables import requests_per_dollar
from skinflint.spec.types import Profiles


Spread = dict[tuple[str, str, int], tuple[float, float]]


def plot_profiles(profiles: Profiles, prices: dict[str, float], models: list[str], path: str | Path,
                  title: str = "", spread: Spread | None = None) -> Path:
    """Draw the panels for `models` into a PNG at `path`; returns the path.

    `spread` maps (model, hardware, batch size) to the (fastest, slowest) run's latency of a
    combined profile; they are drawn as error bars on both panels.
    """
    spread = spread or {}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        raise SpecError("command line", "plot", "matplotlib is not installed", "pip install 'skinflint[plots]'") from None
    path = Path(path)
    fig, axes = plt.subplots(len(models), 2, figsize=(12, 3.6 * len(models)), squeeze=False)
    for row, model in zip(axes, models):
        lat, per_dollar = row
        for curve in profiles.for_model(model):
            line = lat.plot(curve.batch_sizes, curve.effective_ms, "-", label=curve.hardware)[0]
            color = line.get_color()
            ranges = [spread.get((model, curve.hardware, b), (d, d)) for b, d in zip(curve.batch_sizes, curve.latency_ms)]
            lat.errorbar(curve.batch_sizes, curve.latency_ms, fmt="o", color=color, markersize=4, capsize=3,
                         yerr=[[d - lo for d, (lo, _) in zip(curve.latency_ms, ranges)],
                               [hi - d for d, (_, hi) in zip(curve.latency_ms, ranges)]])
            price = prices.get(curve.hardware)
            if price:
                rpd = [requests_per_dollar(curve, i, price) / 1e6 for i in range(len(curve.batch_sizes))]
                per_req = [3.6e6 * b / price / 1e6 for b in curve.batch_sizes]  # requests per $ = per_req / latency
                per_dollar.errorbar(curve.batch_sizes, rpd, fmt="-o", color=color, markersize=4, capsize=3,
                                    label=f"{curve.hardware} (${price:g}/h)",
                                    yerr=[[max(0.0, r - k / hi) for r, k, (_, hi) in zip(rpd, per_req, ranges)],
                                          [max(0.0, k / lo - r) for r, k, (lo, _) in zip(rpd, per_req, ranges)]])
        for ax, ylabel in ((lat, "batch latency (ms)"), (per_dollar, "million requests per $")):
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlabel("batch size")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=8)
        lat.set_yscale("log")
        lat.set_title(f"{model}: latency (dots measured, bars run range, line effective)", fontsize=10)
        per_dollar.set_title(f"{model}: throughput per dollar", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
