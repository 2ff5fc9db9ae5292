"""`simulate(plan, spec, arrivals, duration_s, rng, ...)`: the simulator's one entry point."""

from __future__ import annotations

import math
import time
from typing import Mapping

import numpy as np

from skinflint.dispatch import DEFAULT_FOR_KIND, EarlyClose, get_policy_factory, make_policy
from skinflint.errors import SpecError
from skinflint.plan import Plan
from skinflint.sim.arrivals import ArrivalProcess, make_arrivals
from skinflint.sim.engine import run_events
from skinflint.sim.fanout import first_items
from skinflint.sim.jitter import Jitter
from skinflint.sim.result import SimResult
from skinflint.sim.topology import SimModel, compile_model
from skinflint.sim.vector import run_vector, supports
from skinflint.spec.types import Spec

ENGINES = ("auto", "event", "vector")


def simulate(plan: Plan, spec: Spec, arrivals: ArrivalProcess | str | np.ndarray, duration_s: float,
             rng: np.random.Generator, *, dispatch: str | Mapping[str, str] | None = None,
             early_close: bool | EarlyClose = False, jitter: Jitter | None = None,
             max_in_flight: int | None = None, drain_s: float | None = None, engine: str = "auto") -> SimResult:
    """Simulate `plan` for `spec` under `arrivals` for `duration_s` seconds.

    arrivals: a process (sim.arrivals), a registered name (run at the plan's offered rate), or
    sorted arrival times in ms. dispatch: None runs each module with its plan's policy
    (batch-aware -> cyclic); a name runs every module with it; a mapping names it per module.
    early_close: deadline-aware early close (True or an EarlyClose with a margin). jitter: batch
    time factors, e.g. sim.jitter.LogNormal(0.05). max_in_flight: refuse arrivals beyond it.
    drain_s: stop this long after the last arrival (requests still in flight are dropped, with
    that reason); None runs until every request is done. engine: auto picks the vectorised path
    whenever it applies (cyclic dispatch, no early close, no admission control).
    Randomness comes from `rng` only: arrivals first, then jitter per module in order.
    """
    if engine not in ENGINES:
        raise SpecError("options", "engine", f"unknown engine {engine!r}", f"choose one of: {', '.join(ENGINES)}")
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise SpecError("options", "--duration", f"must be a positive number of seconds (got {duration_s})",
                        "pass e.g. --duration 60")
    sm = compile_model(plan, spec)
    times = _arrival_times(arrivals, plan, duration_s, rng)
    policy_names = _policy_names(sm, dispatch)
    close = EarlyClose() if early_close is True else (early_close or None)
    jit = [None if jitter is None else np.asarray(jitter(rng, int(first_items(times.size, m.rate_factor)[-1])))
           for m in sm.modules]
    stop_ms = math.inf if drain_s is None else 1000.0 * (duration_s + drain_s)
    fast = (close is None and max_in_flight is None and all(p == "cyclic" for p in policy_names.values())
            and supports(sm, jitter is not None))
    if engine == "vector" and not fast:
        raise SpecError("options", "engine", "the vectorised path runs cyclic dispatch only, without early close, "
                        "admission control or jittered shared workers", "use engine='event' or 'auto'")
    chosen = "vector" if fast and engine != "event" else "event"
    start = time.perf_counter()
    if chosen == "vector":
        trace = run_vector(sm, times, jit, stop_ms)
    else:
        policies = [make_policy(policy_names[m.name], [w.worker for w in m.workers], early_close=close,
                                group_rates=m.group_rates) for m in sm.modules]
        collecting = any(w.worker.collect_offset_ms is not None for m in sm.modules for w in m.workers)
        trace = run_events(sm, times, policies, jit, max_in_flight=max_in_flight, stop_ms=stop_ms,
                           timers=close is not None or collecting)
    wall = time.perf_counter() - start
    return SimResult(plan, sm, trace, float(duration_s), chosen, policy_names, close is not None, wall)


def _arrival_times(arrivals: ArrivalProcess | str | np.ndarray, plan: Plan, duration_s: float,
                   rng: np.random.Generator) -> np.ndarray:
    if isinstance(arrivals, str):
        arrivals = make_arrivals(arrivals, rate=plan.offered_rate)
    if hasattr(arrivals, "times_ms"):
        times = np.asarray(arrivals.times_ms(duration_s, rng), dtype=float)
    else:
        times = np.asarray(arrivals, dtype=float)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
        raise SpecError("options", "arrivals", "arrival times must be a sorted 1-D array of finite ms",
                        "sort them, or pass an arrival process")
    return times


def _policy_names(sm: SimModel, dispatch: str | Mapping[str, str] | None) -> dict[str, str]:
    names = {}
    if isinstance(dispatch, Mapping):
        unknown = sorted(set(dispatch) - {m.name for m in sm.modules})
        if unknown:
            raise SpecError("options", "dispatch", f"no module named {', '.join(map(repr, unknown))}",
                            f"name modules of the app: {', '.join(m.name for m in sm.modules)}")
    for m in sm.modules:
        if dispatch is None:
            name = m.dispatch
        elif isinstance(dispatch, str):
            name = dispatch
        else:
            name = dispatch.get(m.name, m.dispatch)
        get_policy_factory(name)  # unknown names fail here, listing the known ones
        names[m.name] = DEFAULT_FOR_KIND.get(name, name)
    return names
