"""One seed's randomness for one application under one traffic, drawn before any plan is known.

Every plan simulated with the same `Draws` sees the same arrivals, the same item counts and the
same jitter draw per item (common random numbers): two plans' attainments then differ by their
plans, not by their luck, which is what a search comparing plans needs.

Order of draws from the Generator: arrival times, then one uniform per request (fan-out
`poisson`), then, per module in the app's topological order, one standard normal per item
(jitter). With `poisson` fan-out every module whose rate factor is not 1 gets the Poisson
quantile of its request's uniform at mean rate_factor, so modules with the same factor (two
classifiers on one detector's crops) see the same count and larger factors never fewer items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from skinflint.fanout import first_items
from skinflint.spec.types import App
from skinflint.traffic import Traffic


@dataclass(frozen=True)
class Draws:
    """Arrival times (ms, sorted); per module (app order) C(0..n), request i's items being
    C(i) .. C(i+1) - 1; each item's release offset after its request reaches the module (items
    spread evenly) or None (all at once); and a standard normal per item, or None (no jitter)."""

    arrival_ms: np.ndarray
    firsts: tuple[np.ndarray, ...]
    offsets_ms: tuple[np.ndarray | None, ...]
    normals: tuple[np.ndarray | None, ...]

    @property
    def requests(self) -> int:
        return int(self.arrival_ms.size)


def spread_offsets_ms(firsts: np.ndarray, rate_factor: float, module_rate: float, fixed: bool) -> np.ndarray:
    """Release offsets of a module's items spread evenly at its rate r_m: item j of request i at
    1000 (j - i f) / r_m after the request with fixed counts (exactly the even stream MODEL.md
    assumes, as C(i) = ceil(i f)), 1000 k / r_m for the request's k-th item with random counts."""
    counts = np.diff(firsts)
    item_req = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    j = np.arange(int(firsts[-1]), dtype=float)
    k = j - firsts[:-1][item_req] if not fixed else j - item_req * rate_factor
    return 1000.0 * k / module_rate


def item_firsts(app: App, traffic: Traffic, n_requests: int, rng: np.random.Generator) -> list[np.ndarray]:
    """C(0..n) per module: deterministic rounding of the factor, or Poisson counts (see above)."""
    uniforms = rng.random(n_requests) if traffic.fanout == "poisson" else None
    out = []
    for m in app.modules:
        if uniforms is None or m.rate_factor == 1.0:
            out.append(first_items(n_requests, m.rate_factor))
        else:
            counts = poisson.ppf(uniforms, m.rate_factor).astype(np.int64)
            out.append(np.concatenate(([0], np.cumsum(counts))))
    return out


def draw(app: App, traffic: Traffic, arrival_ms: np.ndarray, rate: float, rng: np.random.Generator,
         jitter: bool) -> Draws:
    """The draws for `arrival_ms` (already drawn from `rng`) at the offered `rate`: counts,
    offsets, and normals if `jitter`."""
    n = int(arrival_ms.size)
    firsts = item_firsts(app, traffic, n, rng)
    offsets = []
    for m, f in zip(app.modules, firsts):
        spread = traffic.fanout == "spread" or getattr(m, "fanout", "together") == "spread"
        offsets.append(spread_offsets_ms(f, m.rate_factor, rate * m.rate_factor, traffic.fanout != "poisson")
                       if spread and m.rate_factor != 1.0 else None)
    normals = [rng.standard_normal(int(f[-1])) if jitter else None for f in firsts]
    return Draws(np.asarray(arrival_ms, dtype=float), tuple(firsts), tuple(offsets), tuple(normals))
