"""A traffic's arrivals as times, and the event engine run on pre-drawn randomness with admission."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skinflint.errors import SpecError
from skinflint.sim.arrivals import ArrivalProcess, arrival_kinds, arrival_params, make_arrivals
from skinflint.traffic import Traffic, parse_named

ARRIVALS_FORM = "KIND[:key=value,...] (e.g. poisson, mmpp:ratio=1.5,share=0.2, cameras:count=60,fps=10,jitter_ms=5)"


def arrival_process(traffic: Traffic, rate: float, base: str | Path | None = None,
                    where: str = "traffic") -> ArrivalProcess:
    """The traffic's arrival process at `rate` (given to processes that take one, unless the
    traffic sets it); a replay file is read relative to `base` (the app file's folder)."""
    kind, params = parse_named(traffic.arrivals, where, "arrivals", ARRIVALS_FORM)
    if kind not in arrival_kinds():
        raise SpecError(where, "arrivals", f"unknown arrival process {kind!r}",
                        f"choose one of: {', '.join(arrival_kinds())}")
    if "rate" in arrival_params(kind) and "rate" not in params and kind != "varying":
        params["rate"] = rate
    if kind == "replay" and "file" in params and base is not None:
        params["file"] = str(Path(base).parent / str(params["file"])) if Path(base).is_file() else params["file"]
    return make_arrivals(kind, **params)


def arrival_times(traffic: Traffic, rate: float, requests: int, rng: np.random.Generator,
                  base: str | Path | None = None) -> np.ndarray:
    """About `requests` arrivals (the process's times over requests / rate seconds; a replay
    gives its file's)."""
    process = arrival_process(traffic, rate, base)
    duration_s = requests / rate
    if process.name == "replay":
        stamps = np.asarray(getattr(process, "stamps_ms"), dtype=float)
        duration_s = (float(stamps[-1]) + 1.0) / 1000.0 if stamps.size else duration_s
    times = np.asarray(process.times_ms(duration_s, rng), dtype=float)
    return times


__all__ = ["arrival_process", "arrival_times"]
