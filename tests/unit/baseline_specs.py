"""Hand-made specs for the baseline examples: profiles as {(model, hardware): {batch: ms}}."""

from __future__ import annotations

from pathlib import Path

from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec

Curves = dict[tuple[str, str], dict[int, float]]


def make_spec(curves: Curves, prices: dict[str, float], modules: list[tuple[str, str, tuple[str, ...], float]],
              rate: float, slo_ms: float, hop_ms: float = 0.0) -> Spec:
    """A spec from literal curves; modules are (name, model, parents, rate_factor) in topological order."""
    rows = [(Path("test"), f"{model}/{hw}/{b}", (model, hw, b, d))
            for (model, hw), curve in curves.items() for b, d in curve.items()]
    return Spec(App("example", rate, slo_ms, tuple(Module(*m) for m in modules), hop_ms),
                {h: Hardware(h, p) for h, p in prices.items()}, build_profiles(rows))
