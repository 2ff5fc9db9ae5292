"""Random small applications for property tests: specs built in memory, planned by the planner."""

from __future__ import annotations

import warnings
from pathlib import Path

from hypothesis import strategies as st

from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec

BATCHES = (1, 2, 4, 8, 16, 32)
FACTORS = (1.0, 1.0, 1.0, 0.5, 2.0, 2.5, 3.0)


@st.composite
def specs(draw, max_modules: int = 4, fanout: bool = True) -> Spec:
    """An app of 1..max_modules modules (chains, forks, joins, several entries), 1..3 hardware
    types, profiles d(b) = base + per * b with noise (sometimes non-monotone), a rate in
    [2, 2000] req/s and an SLO between 1x and 3x the smallest feasible one."""
    n_hw = draw(st.integers(1, 3))
    hardware = {f"h{k}": Hardware(f"h{k}", draw(st.sampled_from((0.3, 0.5, 1.0, 2.2, 3.1)))) for k in range(n_hw)}
    n = draw(st.integers(1, max_modules))
    modules = []
    for k in range(n):
        earlier = [m.name for m in modules]
        parents: tuple[str, ...] = ()
        if earlier and draw(st.integers(0, 5)) > 0:
            parents = tuple(sorted(draw(st.sets(st.sampled_from(earlier), min_size=1, max_size=len(earlier)))))
        factor = draw(st.sampled_from(FACTORS)) if fanout else 1.0
        modules.append(Module(f"m{k}", f"model{k}", parents, factor))
    rows = []
    for m in modules:
        for h in hardware:
            if draw(st.integers(0, 3)) == 0 and h != "h0":
                continue
            sizes = sorted(draw(st.sets(st.sampled_from(BATCHES[1:]), max_size=4)) | {1})
            base = draw(st.floats(0.5, 30.0))
            per = draw(st.floats(0.05, 8.0))
            for b in sizes:
                noise = draw(st.floats(0.8, 1.2))
                rows.append((Path("random.csv"), f"{m.model}/{h}/{b}", (m.model, h, b, round((base + per * b) * noise, 3))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles(rows)
    rate = draw(st.sampled_from((2.0, 7.5, 30.0, 100.0, 333.0, 1000.0, 2000.0)))
    hop = draw(st.sampled_from((0.0, 0.0, 1.5)))
    app = App("random", rate, 1.0, tuple(modules), hop)
    spec = Spec(app, hardware, profiles)
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    slo = round(least * draw(st.floats(1.0, 3.0)), 3) + 0.001
    return Spec(App("random", rate, slo, tuple(modules), hop), hardware, profiles)
