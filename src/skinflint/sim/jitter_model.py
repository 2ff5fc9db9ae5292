"""Batch-time jitter per worker from the traffic's `jitter` (MODEL.md, "Traffic and attainment").

A batch on worker w runs d_w(k) x exp(mu_w + sigma_w z), z the standard normal drawn for the
batch's first item (sim.draws), so every executor and every plan sees the same draws.

  lognormal:CV   every worker: sigma = sqrt(ln(1 + CV^2)), mu = -sigma^2 / 2 (mean factor 1)
  profile        per config, from the profile's tail columns at the size it runs padded to:
                 sigma = ln(p99 / d) / 2.326 (else ln(p95 / d) / 1.645), mu = 0 — the profile's
                 latency taken as the median; a config without tail columns runs exact
  none           no jitter
"""

from __future__ import annotations

import math

import numpy as np

from skinflint.spec.types import Spec
from skinflint.topology import SimModel
from skinflint.traffic import Traffic, jitter_cv

Z99, Z95 = 2.3263478740408408, 1.6448536269514722   # standard normal quantiles


def lognormal_sigma(cv: float) -> float:
    """sigma of a lognormal with this coefficient of variation."""
    return math.sqrt(math.log1p(cv * cv))


def tail_sigma(median_ms: float, p95_ms: float | None, p99_ms: float | None) -> float:
    """sigma of the lognormal through the median and the p99 (else the p95); 0 without either."""
    if p99_ms is not None and p99_ms > median_ms:
        return math.log(p99_ms / median_ms) / Z99
    if p95_ms is not None and p95_ms > median_ms:
        return math.log(p95_ms / median_ms) / Z95
    return 0.0


def _profile_sigma(spec: Spec, model: str, hardware: str, batch_size: int) -> float:
    curve = spec.profiles.get(model, hardware)
    i = curve.batch_sizes.index(curve.exec_batch_size(batch_size))
    tails = getattr(curve, "tail_ms", None)
    if not tails:
        return 0.0
    p95, p99 = tails[i]
    return tail_sigma(curve.latency_ms[i], p95, p99)


def worker_jitter(sm: SimModel, spec: Spec, traffic: Traffic) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Per module, per worker (mu, sigma); None when no worker jitters."""
    cv = jitter_cv(traffic.jitter)
    out = []
    for m in sm.modules:
        if cv is not None:
            sigma = np.full(len(m.workers), lognormal_sigma(cv))
            mu = -sigma ** 2 / 2
        else:
            model = spec.app.module(m.name).model   # a pool runs its members' model too
            sigma = np.array([_profile_sigma(spec, model, w.hardware, w.worker.batch_size) for w in m.workers])
            mu = np.zeros(len(m.workers))
        out.append((mu, sigma))
    if all(not s.any() for _, s in out):
        return None
    return out
