"""Backends: where the workers run. One registry; `embedded` (threads, the default) and `ray`.

A backend makes the workers of a plan and knows each model's input shape:

    backend = make_backend("embedded", models_dir=Path("models"))
    worker = backend.worker({model: times_ms}, hardware, label)   # -> runtime.workers.BatchWorker
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from skinflint.registry import Registry
from skinflint.runtime.workers import BatchWorker
from skinflint.spec.types import Hardware


class Backend(Protocol):
    """Makes workers (one per planned worker) and reports model input shapes. The keywords
    `hardware` (start) and `batch_sizes` (worker) are optional: the runtime leaves out those a
    backend does not take (servers.with_optional)."""

    name: str

    def start(self, needs: dict[str, int], hardware: Mapping[str, Hardware] | None = None) -> None:
        """Get ready to host `needs[hardware]` workers of each hardware type (`hardware`: the
        catalog, whose `execution` says how each type runs: CPU, or GPUs and how many)."""
        ...

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str,
               batch_sizes: Mapping[str, tuple[int, ...]] | None = None) -> BatchWorker:
        """A started worker on `hardware` running the given models (each with its profiled batch
        times, and the batch sizes it executes, warmed up first); with several models (a shared
        worker), `worker.view(model)` drives one."""
        ...

    def input_shape(self, model: str) -> tuple[int, ...]:
        """One item's input shape for `model` (no batch axis)."""
        ...

    def close(self) -> None:
        """Release what the backend holds (workers are closed by the runtime)."""
        ...


def _builtin() -> dict[str, Callable[..., Backend]]:
    from skinflint.runtime.backends.embedded import EmbeddedBackend
    from skinflint.runtime.backends.ray_backend import RayBackend

    return {"embedded": EmbeddedBackend, "ray": RayBackend}


_REGISTRY: Registry[Callable[..., Backend]] = Registry("backend", "--backend", _builtin)


def register_backend(name: str, factory: Callable[..., Backend]) -> Callable[..., Backend]:
    """Add a backend factory under `name`; a duplicate name is an error."""
    return _REGISTRY.register(name, factory)


def make_backend(name: str, **options: Any) -> Backend:
    """The backend `name` built with `options`; an unknown name lists the known ones."""
    return _REGISTRY.get(name)(**options)


def backend_names() -> list[str]:
    """The registered backend names."""
    return _REGISTRY.names()
