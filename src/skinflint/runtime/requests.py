"""A request's record in the runtime, what it ends as, and why it may not start.

An admitted request ends exactly once: a `Result` (on time or late) or a `RequestFailed` with
the reason; a refused one raises `Refused` at once (503 with Retry-After)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skinflint.runtime.admission import Decision


class Refused(Exception):
    """Admission control refused the request (answer 503 with Retry-After)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class RequestFailed(Exception):
    """An admitted request could not be completed (a batch of it failed); the reason says why."""


@dataclass
class Result:
    """A completed request: exit modules' outputs per item, its latency and its path's times."""

    request: int
    latency_ms: float
    on_time: bool
    outputs: dict[str, list[dict[str, np.ndarray]]]
    modules: dict[str, tuple[float, float]]   # module -> (items ready, last batch done), ms after arrival
    hops: int


@dataclass(eq=False)
class Request:
    """One admitted request of app `app`, number `seq` in its app, in flight: per module of its
    app the items not yet done, the parents not yet done, whether its items were handed over,
    the outputs per item and the times its items were ready and done."""

    app: int
    seq: int
    arrival_ms: float
    frame: np.ndarray
    future: Future
    left: list[int]
    joins: list[int]
    released: list[bool]
    outputs: list[list[Any]]
    ready_ms: list[float]
    done_ms: list[float]
    exits_left: int
    failed: bool = False
    hops: list[int] = field(default_factory=list)
    estimate_ms: float = float("nan")     # admission's estimate when it was admitted

    @classmethod
    def new(cls, app: int, seq: int, arrival_ms: float, frame: np.ndarray, parents: list[int],
            exits: int) -> "Request":
        """A fresh request over modules with `parents[k]` parents each and `exits` exit modules."""
        n = len(parents)
        return cls(app, seq, arrival_ms, frame, Future(), [0] * n, list(parents), [False] * n, [None] * n,
                   [float("nan")] * n, [float("nan")] * n, exits, hops=[0] * n)
