"""`skinflint profiles plot`: latency and requests per dollar against batch size, per hardware.

One row of two panels per model. Left: measured batch latency (markers) and MODEL.md's
effective time (line; where it lies below a marker the batch runs padded to a larger size).
Right: requests per dollar, 3600 * θ(h, b) / price(h), from the effective time, for hardware
with a price. A configuration wins where its curve on the right is highest and its latency on
the left still fits the module's budget.
"""

from __future__ import annotations

from pathlib import Path

from skinflint.errors import SpecError
from skinflint.report.profile_tables import requests_per_dollar
from skinflint.spec.types import Profiles


def plot_profiles(profiles: Profiles, prices: dict[str, float], models: list[str], path: str | Path,
                  title: str = "") -> Path:
    """Draw the panels for `models` into a PNG at `path`; returns the path."""
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
            lat.plot(curve.batch_sizes, curve.latency_ms, "o", color=line.get_color(), markersize=4)
            price = prices.get(curve.hardware)
            if price:
                per_dollar.plot(curve.batch_sizes, [requests_per_dollar(curve, i, price) / 1e6
                                                    for i in range(len(curve.batch_sizes))],
                                "-o", color=line.get_color(), markersize=4, label=f"{curve.hardware} (${price:g}/h)")
        for ax, ylabel in ((lat, "batch latency (ms)"), (per_dollar, "million requests per $")):
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlabel("batch size")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=8)
        lat.set_yscale("log")
        lat.set_title(f"{model}: latency (dots measured, line effective)", fontsize=10)
        per_dollar.set_title(f"{model}: throughput per dollar", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
