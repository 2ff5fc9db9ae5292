"""Small random planning instances for the baseline property tests (numpy Generator injected)."""

from __future__ import annotations

import warnings

import numpy as np

from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec

SHAPES = ("single", "chain2", "chain3", "fork", "diamond")


def parents_of(shape: str) -> list[tuple[str, ...]]:
    """Parents of m0, m1, ... for a named DAG shape."""
    return {"single": [()], "chain2": [(), ("m0",)], "chain3": [(), ("m0",), ("m1",)],
            "fork": [(), ("m0",), ("m0",)], "diamond": [(), ("m0",), ("m0",), ("m1", "m2")]}[shape]


def random_instance(rng: np.random.Generator, shape: str, n_hardware: int, *, rate: float, slo_factor: float,
                    hop_ms: float = 0.0, monotone: bool = True) -> Spec:
    """A random app of the given shape; its SLO is slo_factor x (sum of 2 d(1) on the longest path),
    so that factors above 1 leave every planner some room."""
    hardware = {f"h{k}": Hardware(f"h{k}", round(float(rng.uniform(0.2, 4.0)), 3)) for k in range(n_hardware)}
    parents = parents_of(shape)
    modules = tuple(Module(f"m{i}", f"model{i}", ps, float(rng.choice([1.0, 1.0, 0.5, 2.0])))
                    for i, ps in enumerate(parents))
    sizes = [1, 2, 4, 8, 16]
    rows, fastest = [], {}
    for i in range(len(parents)):
        base = rng.uniform(2.0, 30.0)
        for h in hardware:
            a = base * rng.uniform(0.3, 1.5)
            c = a * rng.uniform(0.05, 0.8)
            for b in sizes:
                d = round(max(0.05, (a + c * b) * (1.0 if monotone else rng.uniform(0.75, 1.25))), 3)
                rows.append(("random", f"{i}", (f"model{i}", h, b, d)))
                fastest[f"m{i}"] = min(fastest.get(f"m{i}", np.inf), d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles(rows)
    depth: dict[str, float] = {}
    for m in modules:
        depth[m.name] = max((depth[p] for p in m.parents), default=0.0) + 2 * fastest[m.name] + hop_ms
    slo = round(slo_factor * max(depth.values()), 3)
    return Spec(App("random", rate, slo, modules, hop_ms), hardware, profiles)
