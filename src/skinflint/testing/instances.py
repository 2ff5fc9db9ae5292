"""Random but realistic planning instances built in memory: DAG shapes, hardware, latency curves.

Used by the property tests (against brute force) and by the benchmarks; everything is drawn
from an injected numpy Generator.
"""

from __future__ import annotations

import numpy as np

from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec


def random_dag(rng: np.random.Generator, n_modules: int, p_edge: float = 0.5) -> list[tuple[str, ...]]:
    """Parents of each module i, drawn from modules before it (any DAG shape up to relabelling)."""
    parents = []
    for i in range(n_modules):
        parents.append(tuple(f"m{j}" for j in range(i) if rng.random() < p_edge))
    return parents


def random_curve(rng: np.random.Generator, batch_sizes: list[int], base_ms: float, monotone: bool) -> list[float]:
    """A latency curve d(b) = a + c * b with noise; optionally with dips (non-monotone)."""
    a = base_ms * rng.uniform(0.3, 1.0)
    c = base_ms * rng.uniform(0.05, 0.6)
    out = [a + c * b for b in batch_sizes]
    if not monotone:
        out = [d * rng.uniform(0.7, 1.3) for d in out]
    return [round(d, 3) for d in out]


def random_spec(rng: np.random.Generator, n_modules: int, n_hardware: int, batch_sizes: list[int], *,
                rate: float, slo_ms: float, hop_ms: float = 0.0, base_ms: tuple[float, float] = (2.0, 40.0),
                monotone: bool = False, p_edge: float = 0.5) -> Spec:
    """A random application over random hardware with random prices and latency curves."""
    hardware = {f"h{k}": Hardware(f"h{k}", round(float(rng.uniform(0.2, 4.0)), 3)) for k in range(n_hardware)}
    parents = random_dag(rng, n_modules, p_edge)
    modules = tuple(Module(f"m{i}", f"model{i}", parents[i], float(rng.choice([1.0, 1.0, 0.5, 2.0, 3.0])))
                    for i in range(n_modules))
    rows = []
    for i in range(n_modules):
        base = rng.uniform(*base_ms)
        for h in hardware:
            speed = rng.uniform(0.3, 2.0)
            for b, d in zip(batch_sizes, random_curve(rng, batch_sizes, base * speed, monotone)):
                rows.append(("random", f"{i}", (f"model{i}", h, b, max(d, 0.01))))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles(rows)
    return Spec(App("random", rate, slo_ms, modules, hop_ms), hardware, profiles)
