"""A traffic's arrivals as times, and the event engine run on pre-drawn randomness with admission."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skinflint.admission import Admission
from skinflint.dispatch import EarlyClose, make_policy
from skinflint.errors import SpecError
from skinflint.plan import Plan
from skinflint.sim.admission import RuntimeRule
from skinflint.sim.composite import compose
from skinflint.sim.draws import Draws
from skinflint.sim.engine import run_events
from skinflint.sim.trace import Trace
from skinflint.topology import SimModel

from skinflint.errors import SpecError
from skinflint.sim.arrivals import ArrivalProcess, arrival_kinds, arrival_params, make_arrivals
from skinflint.spec.bounds import parse_param
from skinflint.traffic import Traffic, split_named

ARRIVALS_FORM = "KIND[:key=value,...] (e.g. poisson, mmpp:ratio=1.5,share=0.2, cameras:count=60,fps=10,jitter_ms=5)"


def arrival_process(traffic: Traffic, rate: float, base: str | Path | None = None,
                    where: str = "traffic") -> ArrivalProcess:
    """The traffic's arrival process at `rate` (given to processes that take one, unless the
    traffic sets it); a replay file is read relative to `base` (the app file's folder)."""
    option = "--traffic" if where == "command line" else "arrivals"
    kind, raw = split_named(traffic.arrivals, where, option, ARRIVALS_FORM)
    params = {key: parse_param(value, option, key, where) for key, value in raw.items()}
    if "rate" in params:
        raise SpecError(where, option, "the arrivals run at the app's rate; they take no rate=",
                        "set rate: in the app file or --rate")
    if kind not in arrival_kinds():
        raise SpecError(where, "arrivals", f"unknown arrival process {kind!r}",
                        f"choose one of: {', '.join(arrival_kinds())}")
    if "rate" in arrival_params(kind) and "rate" not in params and kind != "varying":
        params["rate"] = rate
    if kind == "replay" and "file" in params and base is not None:
        params["file"] = str(Path(base).parent / str(params["file"])) if Path(base).is_file() else params["file"]
    return make_arrivals(kind, **params)


def arrival_times(traffic: Traffic, rate: float, requests: int, rng: np.random.Generator,
                  base: str | Path | None = None, duration_s: float | None = None) -> np.ndarray:
    """The first `requests` arrivals of the traffic (every one of a replay's file), or, given
    `duration_s`, those within that many seconds."""
    process = arrival_process(traffic, rate, base)
    if process.name == "replay":
        stamps = np.asarray(getattr(process, "stamps_ms"), dtype=float)
        return np.asarray(process.times_ms((float(stamps[-1]) + 1.0) / 1000.0 if stamps.size else 1.0, rng))
    if duration_s is not None:
        return np.asarray(process.times_ms(duration_s, rng), dtype=float)
    span = 1.25 * requests / rate + 1.0
    while True:   # long enough for `requests` arrivals (a short draw is drawn again, twice as long)
        times = np.asarray(process.times_ms(span, rng), dtype=float)
        if times.size >= requests:
            return times[:requests]
        span *= 2


__all__ = ["arrival_process", "arrival_times"]


def run_event_engine(plan: Plan, sm: SimModel, draws: Draws, jitter: list[tuple[np.ndarray, np.ndarray]] | None,
                     admission: Admission, early_close: EarlyClose) -> Trace:
    """The event engine on pre-drawn randomness, every module with its plan's policy and early
    close, the runtime's admission rule applied request by request."""
    if any(o is not None for o in draws.offsets_ms):
        raise SpecError("traffic", "fanout", "spread fan-out runs on the fast path only (batch-aware plans "
                        "without pools or jittered shared workers)", "use fanout together or poisson")
    cm = compose([sm])
    if cm.pools and jitter is not None:
        raise SpecError("traffic", "jitter", "a plan with pools is simulated without batch-time jitter",
                        "use jitter none, or plan without --pools")
    n_mod, policies = len(cm.modules), []
    for s in range(cm.n_servers):   # each module's own policy (topology names it); a pool's is cyclic
        policies.append(make_policy(cm.modules[s].dispatch if s < n_mod else "cyclic",
                                    [w.worker for w in cm.server_workers(s)], early_close=early_close,
                                    group_rates=cm.modules[s].group_rates if s < n_mod else None))
    jit: list = [None] * cm.n_servers
    if jitter is not None:
        jit = [None if draws.normals[k] is None or cm.server[k] != k else (draws.normals[k], *jitter[k])
               for k in range(len(cm.modules))]
    counts = [np.diff(f) for f in draws.firsts]
    rule = RuntimeRule((admission,), (0,))
    (trace,) = run_events(cm, [draws.arrival_ms], policies, jit, counts, admission=rule, timers=True)
    return trace
