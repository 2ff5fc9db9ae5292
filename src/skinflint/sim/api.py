"""`simulate(plan, spec, arrivals, duration_s, rng, ...)` and, for a fleet of applications planned
together, `simulate_fleet(fleet, specs, arrivals, duration_s, rng, ...)`."""

from __future__ import annotations

import math
import time
from typing import Mapping, Sequence

import numpy as np

from skinflint.dispatch import DEFAULT_FOR_KIND, EarlyClose, get_policy_factory, make_policy
from skinflint.errors import SpecError
from skinflint.plan import FleetPlan, Plan
from skinflint.sim.arrivals import ArrivalProcess, make_arrivals
from skinflint.sim.composite import compose
from skinflint.sim.engine import run_events
from skinflint.fanout import item_counts
from skinflint.sim.admission import MaxInFlight
from skinflint.sim.jitter import Jitter
from skinflint.sim.result import SimResult
from skinflint.topology import SimModel, compile_model
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
    whenever it applies (cyclic dispatch, no early close, no admission control, no pools).
    A plan's pools (plan.pools) run as one dispatcher and one set of workers each, fed by their
    members' merged streams. Randomness comes from `rng` only: arrivals first, then jitter per
    module in order, then per pool.
    """
    if engine not in ENGINES:
        raise SpecError("command line", "engine", f"unknown engine {engine!r}", f"choose one of: {', '.join(ENGINES)}")
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise SpecError("command line", "--duration", f"must be a positive number of seconds (got {duration_s})",
                        "pass e.g. --duration 60")
    sm = compile_model(plan, spec)
    return _run([plan], [sm], [arrivals], duration_s, rng, dispatch=dispatch, early_close=early_close,
                jitter=jitter, max_in_flight=max_in_flight, drain_s=drain_s, engine=engine)[0]


def simulate_fleet(fleet: FleetPlan, specs: Sequence[Spec], arrivals: Sequence[ArrivalProcess | str | np.ndarray]
                   | str, duration_s: float, rng: np.random.Generator, *, dispatch: str | None = None,
                   early_close: bool | EarlyClose = False, jitter: Jitter | None = None,
                   max_in_flight: int | None = None, drain_s: float | None = None) -> list[SimResult]:
    """Simulate a fleet plan: every app with its own arrivals (one process, name or time array
    per app, in `fleet.apps` order; a name runs each app at its offered rate), every pool fed by
    the merged streams of its members. One SimResult per app (its cost excludes the fleet's
    pools). Event engine only; `max_in_flight` holds per app; `dispatch` names one policy for
    every module and pool."""
    if isinstance(arrivals, str):
        arrivals = [arrivals] * len(fleet.apps)
    by_app = {s.app.name: s for s in specs}
    missing = [p.app for p in fleet.apps if p.app not in by_app]
    if missing or len(arrivals) != len(fleet.apps):
        raise SpecError("command line", "apps", f"need one spec and one arrival process per app of the fleet "
                        f"({', '.join(p.app for p in fleet.apps)})", "pass them in the fleet's order")
    pools = {p.name: p for p in fleet.pools}
    models = [compile_model(p, by_app[p.app], pools) for p in fleet.apps]
    return _run(list(fleet.apps), models, list(arrivals), duration_s, rng, dispatch=dispatch,
                early_close=early_close, jitter=jitter, max_in_flight=max_in_flight, drain_s=drain_s,
                engine="event")


def _run(plans: list[Plan], models: list[SimModel], arrivals: list, duration_s: float, rng: np.random.Generator, *,
         dispatch: str | Mapping[str, str] | None, early_close: bool | EarlyClose, jitter: Jitter | None,
         max_in_flight: int | None, drain_s: float | None, engine: str) -> list[SimResult]:
    """Run compiled apps together (pools shared); the vectorised path for one app without pools."""
    if engine not in ENGINES:
        raise SpecError("command line", "engine", f"unknown engine {engine!r}", f"choose one of: {', '.join(ENGINES)}")
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise SpecError("command line", "--duration", f"must be a positive number of seconds (got {duration_s})",
                        "pass e.g. --duration 60")
    cm = compose(models)
    times = [_arrival_times(a, p, duration_s, rng) for a, p in zip(arrivals, plans)]
    names = [_policy_names(sm, dispatch) for sm in models]
    pool_policy = dispatch if isinstance(dispatch, str) else "cyclic"
    get_policy_factory(pool_policy)
    close = EarlyClose() if early_close is True else (early_close or None)
    counts = [item_counts(times[cm.app_of[k]].size, m.rate_factor) for k, m in enumerate(cm.modules)]
    jit: list[np.ndarray | None] = [None] * cm.n_servers
    if jitter is not None:  # one draw per item of each server (a pooled module's own server has none)
        items = [int(c.sum()) for c in counts]
        items += [sum(items[k] for k in p.members) for p in cm.pools]
        jit = [None if s < len(cm.modules) and cm.server[s] != s else np.asarray(jitter(rng, items[s]))
               for s in range(cm.n_servers)]
    stop_ms = math.inf if drain_s is None else 1000.0 * (duration_s + drain_s)
    fast = (len(models) == 1 and not cm.pools and close is None and max_in_flight is None
            and all(p == "cyclic" for p in names[0].values()) and supports(models[0], jitter is not None))
    if engine == "vector" and not fast:
        raise SpecError("command line", "engine", "the vectorised path runs cyclic dispatch only, without early close, "
                        "admission control, pools or jittered shared workers", "use engine='event' or 'auto'")
    chosen = "vector" if fast and engine != "event" else "event"
    start = time.perf_counter()
    if chosen == "vector":
        traces = [run_vector(models[0], times[0], jit, counts, stop_ms)]
    else:
        flat = {k: names[cm.app_of[k]][m.name] for k, m in enumerate(cm.modules)}
        policies = [make_policy(flat[s] if s < len(cm.modules) else pool_policy,
                                [w.worker for w in cm.server_workers(s)], early_close=close,
                                group_rates=cm.modules[s].group_rates if s < len(cm.modules) else None)
                    for s in range(cm.n_servers)]
        collecting = any(w.worker.collect_offset_ms is not None for s in range(cm.n_servers)
                         for w in cm.server_workers(s))
        admission = None if max_in_flight is None else MaxInFlight(max_in_flight)
        traces = run_events(cm, times, policies, jit, counts, admission=admission, stop_ms=stop_ms,
                            timers=close is not None or collecting or any(getattr(p, "needs_timers", False)
                                                                          for p in policies))
    wall = time.perf_counter() - start
    return [SimResult(p, sm, tr, float(duration_s), chosen, _with_pools(n, sm, pool_policy), close is not None, wall)
            for p, sm, tr, n in zip(plans, models, traces, names)]


def _with_pools(names: dict[str, str], sm: SimModel, pool_policy: str) -> dict[str, str]:
    """Per module, the policy that ran it (a pooled module: its pool's)."""
    return {m.name: pool_policy if m.pool else names[m.name] for m in sm.modules}


def _arrival_times(arrivals: ArrivalProcess | str | np.ndarray, plan: Plan, duration_s: float,
                   rng: np.random.Generator) -> np.ndarray:
    if isinstance(arrivals, str):
        arrivals = make_arrivals(arrivals, rate=plan.offered_rate)
    if hasattr(arrivals, "times_ms"):
        times = np.asarray(arrivals.times_ms(duration_s, rng), dtype=float)
    else:
        times = np.asarray(arrivals, dtype=float)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
        raise SpecError("command line", "arrivals", "arrival times must be a sorted 1-D array of finite ms",
                        "sort them, or pass an arrival process")
    return times


def _policy_names(sm: SimModel, dispatch: str | Mapping[str, str] | None) -> dict[str, str]:
    names = {}
    if isinstance(dispatch, Mapping):
        unknown = sorted(set(dispatch) - {m.name for m in sm.modules})
        if unknown:
            raise SpecError("command line", "dispatch", f"no module named {', '.join(map(repr, unknown))}",
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
