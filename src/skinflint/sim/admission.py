"""Admission in the simulator: a decision object asked once per arriving request.

The engine asks `rule.admit(request, app, now, view)` when request `request` (of app `app`)
reaches its entry modules at `now` (ms); a refused request never enters (every item of it is
skipped, reason REFUSED). `view` shows the engine's state as the runtime's admission would see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EngineView(Protocol):
    """What an admission rule may read of a running simulation."""

    def in_flight(self, app: int) -> int:
        """Requests of `app` admitted and not yet done."""
        ...

    def pending(self, module: int) -> int:
        """Items released to `module` (index into `Composite.modules`) and not yet done."""
        ...


class AdmissionRule(Protocol):
    """Admit or refuse each arriving request."""

    def admit(self, request: int, app: int, now: float, view: EngineView) -> bool:
        """True: let request `request` of app `app` in at `now`."""
        ...


@dataclass(frozen=True)
class MaxInFlight:
    """Refuse a request while `limit` requests of its app are in flight (the bounded queue)."""

    limit: int

    def admit(self, request: int, app: int, now: float, view: EngineView) -> bool:
        """Fewer than `limit` of the app's requests are in flight."""
        return view.in_flight(app) < self.limit
