"""Workers handed over from one plan's runtime to the next (live re-planning, runtime/live.py).

`HandoverBackend` wraps the backend every runtime of a live loop shares. A worker is known by
what it is: its hardware and, per model it runs, its profiled batch times (a shared worker: all
its models). Before the next plan's runtime is built, the live runtime's workers are `offer`ed;
building it takes an offered worker wherever it needs one that is the same, and starts only the
others. A worker in use by several runtimes (the old one draining, the new one serving) is
closed when the last of them releases it, so the workers common to both plans are neither
started twice nor paid for twice, and the old plan still drains on them.
"""

from __future__ import annotations

from typing import Any, Mapping

from skinflint.runtime.backends import Backend
from skinflint.runtime.servers import with_optional
from skinflint.spec.types import Hardware

Key = tuple


def worker_key(models: Mapping[str, tuple[float, ...]], hardware: str) -> Key:
    """What makes two workers the same: hardware and, per model, the batch times."""
    return (hardware, tuple(sorted((m, tuple(t)) for m, t in models.items())))


class HandoverBackend:
    """`inner` with workers shared across the runtimes built on it (see the module docstring)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.input_shape = inner.input_shape
        self._key: dict[int, Key] = {}
        self._users: dict[int, int] = {}
        self._offered: dict[Key, list[Any]] = {}
        self.started = 0     # workers started on the inner backend
        self.reused = 0      # workers taken over by a later runtime

    def start(self, needs: dict[str, int], hardware: Mapping[str, Hardware] | None = None) -> None:
        """Start the inner backend (once it is started, again only checks the needs)."""
        with_optional(self.inner.start, needs, hardware=hardware)

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str,
               batch_sizes: Mapping[str, tuple[int, ...]] | None = None) -> Any:
        """An offered worker that is the same, else a new one from the inner backend."""
        key = worker_key(models, hardware)
        spare = self._offered.get(key)
        if spare:
            worker = spare.pop()
            self._users[id(worker)] += 1
            self.reused += 1
            return worker
        worker = with_optional(self.inner.worker, models, hardware, label, batch_sizes=batch_sizes)
        self._key[id(worker)], self._users[id(worker)] = key, 1
        self.started += 1
        return worker

    def offer(self, hosts: list[Any]) -> None:
        """These workers (a live runtime's) may be taken by the next runtime built."""
        self._offered = {}
        for h in hosts:
            if id(h) in self._key:
                self._offered.setdefault(self._key[id(h)], []).append(h)

    def withdraw(self) -> None:
        """The next runtime is built: what it did not take stays with the old one alone."""
        self._offered = {}

    def release(self, host: Any) -> None:
        """A runtime is done with `host`: close it when no runtime uses it any more."""
        n = self._users.get(id(host), 1) - 1
        if n > 0:
            self._users[id(host)] = n
            return
        self._users.pop(id(host), None)
        self._key.pop(id(host), None)
        host.close()

    def close(self) -> None:
        """Nothing: the owner of the live loop closes `inner` (close_inner) once every runtime is closed."""

    def close_inner(self) -> None:
        """Release what the inner backend holds (a local Ray cluster)."""
        self.inner.close()
