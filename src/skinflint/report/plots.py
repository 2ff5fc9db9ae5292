"""The report's figures as base64 PNG data URIs (matplotlib, headless Agg backend)."""

from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np


def _figure(width: float = 6.4, height: float = 3.4):  # noqa: ANN202 - matplotlib types
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.grid(alpha=0.3)
    return plt, fig, ax


def _uri(plt, fig) -> str:  # noqa: ANN001
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def bars(labels: Sequence[str], values: Sequence[float], title: str, ylabel: str) -> str:
    """A bar chart with the value over each bar."""
    plt, fig, ax = _figure()
    pos = np.arange(len(labels))
    ax.bar(pos, values, color="#3b7dd8")
    ax.set_xticks(pos, labels, rotation=20, ha="right")
    for x, v in zip(pos, values):
        ax.annotate(f"{v:.2f}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return _uri(plt, fig)


def lines(series: dict[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str, ylabel: str,
          step: bool = False, vline: float | None = None, vlabel: str = "") -> str:
    """One line (or step line) per named series of (x, y)."""
    plt, fig, ax = _figure()
    for name, (x, y) in series.items():
        if step:
            ax.step(x, y, where="post", label=name)
        else:
            ax.plot(x, y, marker="o", markersize=3, label=name)
    if vline is not None:
        ax.axvline(vline, color="#c0392b", linestyle="--", label=vlabel)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _uri(plt, fig)


def cdfs(samples: dict[str, np.ndarray], slo_ms: float, title: str) -> str:
    """Empirical CDFs of latency samples (ms), with the SLO marked."""
    series = {}
    for name, values in samples.items():
        v = np.sort(np.asarray(values, dtype=float))
        if v.size:
            series[name] = (v, np.arange(1, v.size + 1) / v.size)
    plt, fig, ax = _figure()
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.axvline(slo_ms, color="#c0392b", linestyle="--", label=f"SLO {slo_ms:g} ms")
    ax.set_title(title)
    ax.set_xlabel("end-to-end latency (ms)")
    ax.set_ylabel("share of requests")
    ax.legend(fontsize=8)
    return _uri(plt, fig)
