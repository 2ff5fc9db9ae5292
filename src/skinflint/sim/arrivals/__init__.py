"""Arrival processes, found by name in one registry.

    process = make_arrivals("bursty", rate=300, ratio=4, burst_s=1)
    times_ms = process.times_ms(duration_s=60, rng=np.random.default_rng(1))

Every process returns sorted arrival times in ms within [0, duration); randomness comes only
from the Generator passed in, and no distribution's tail is cut.

  uniform   one request every 1000 / rate ms (MODEL.md's assumption)
  poisson   exponential gaps at `rate`
  bursty    two-state MMPP: bursts at `ratio` x rate lasting `burst_s` on average, `share` of the time
  onoff     bursty with silence between bursts (share = 1 / ratio)
  varying   a time-varying rate from a CSV (`csv`: time_s,rate) or a function; Poisson or uniform
  diurnal   day/night: rate x (1 + amplitude sin(2 pi t / period_s))
  replay    timestamps from a file (`file`, one per line, seconds)
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Protocol

import numpy as np

from skinflint.registry import Registry


class ArrivalProcess(Protocol):
    """A source of request arrival times."""

    name: str

    def times_ms(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Sorted arrival times in ms, all in [0, 1000 * duration_s)."""
        ...


ArrivalFactory = Callable[..., ArrivalProcess]


def _builtin() -> dict[str, ArrivalFactory]:
    from skinflint.sim.arrivals import basic, streams, varying

    return basic.BUILTIN | streams.BUILTIN | varying.BUILTIN


_REGISTRY: Registry[ArrivalFactory] = Registry("arrival process", "--arrivals", _builtin)


def register_arrivals(name: str, factory: ArrivalFactory) -> ArrivalFactory:
    """Add an arrival process factory under `name`; a duplicate name is an error."""
    return _REGISTRY.register(name, factory)


def arrival_kinds() -> list[str]:
    """The registered arrival process names."""
    return _REGISTRY.names()


def arrival_params(name: str) -> list[str]:
    """The keyword parameters the process `name` takes."""
    return [p for p in inspect.signature(_REGISTRY.get(name)).parameters if p != "name"]


def make_arrivals(name: str, **params: Any) -> ArrivalProcess:
    """Build the arrival process `name`; unknown names and parameters raise SpecError."""
    return _REGISTRY.build(name, ("name",), **params)


__all__ = ["ArrivalProcess", "arrival_kinds", "arrival_params", "make_arrivals", "register_arrivals"]
