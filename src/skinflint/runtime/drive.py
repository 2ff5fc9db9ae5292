"""In-process open-loop submission (tests and benchmarks): frames handed to runtimes at given
times from one thread, never waiting for answers; refusals counted, futures kept."""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from skinflint.runtime.requests import Refused


def submit_at(runtimes: Sequence[Any], times_ms: Sequence[Sequence[float]], frame: np.ndarray) -> tuple[list[int], list[list]]:
    """Submit `frame` to runtime a at each of `times_ms[a]` (ms from now), all in time order:
    (refused per runtime, futures per runtime)."""
    order = sorted((float(t), a) for a, ts in enumerate(times_ms) for t in ts)
    refused, futures = [0] * len(runtimes), [[] for _ in runtimes]
    start = time.perf_counter()
    for t, a in order:
        delay = t / 1000.0 - (time.perf_counter() - start)
        if delay > 0:
            time.sleep(delay)
        try:
            futures[a].append(runtimes[a].submit(frame))
        except Refused:
            refused[a] += 1
    return refused, futures
