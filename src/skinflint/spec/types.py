"""Frozen, validated inputs: what every planner, the simulator and the runtime read."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from skinflint.traffic import Traffic


PROVIDERS = ("cpu", "cuda", "tensorrt")
"""How a worker type executes a model (ONNX Runtime's execution providers, skinflint.profiling.session)."""


@dataclass(frozen=True)
class Execution:
    """How one worker of a type runs: ONNX Runtime `provider` (cpu, cuda, tensorrt), the GPUs one
    worker holds (`gpus`; a fraction where the type is a share of one device, 0 on a CPU) and the
    accelerator it is (`accelerator`, as Ray names it, e.g. T4; None: not known)."""

    provider: str = "cpu"
    gpus: float = 0.0
    accelerator: str | None = None

    @property
    def on_gpu(self) -> bool:
        """Runs on a GPU (cuda or tensorrt)."""
        return self.provider != "cpu"


CPU = Execution()


@dataclass(frozen=True)
class Hardware:
    """One worker type and the price of one worker of it (USD/h, whole instance), and how it
    executes (a CPU unless the catalog says otherwise)."""

    name: str
    price_per_hour: float
    execution: Execution = CPU


@dataclass(frozen=True)
class ProfileCurve:
    """Batch latencies of one model on one hardware type, ascending batch sizes.

    `latency_ms` is what was measured; `effective_ms[i]` is MODEL.md's effective time
    min{d_raw(b') : b' >= b_i}, executed padded to `exec_batch_sizes[i]`.
    """

    model: str
    hardware: str
    batch_sizes: tuple[int, ...]
    latency_ms: tuple[float, ...]
    effective_ms: tuple[float, ...]
    exec_batch_sizes: tuple[int, ...]
    tail_ms: tuple[tuple[float | None, float | None], ...] = ()   # (p95, p99) per size, where measured

    def effective(self, batch_size: int) -> float:
        """Effective batch time of a profiled batch size (KeyError if not profiled)."""
        return self.effective_ms[self.batch_sizes.index(batch_size)]

    def exec_batch_size(self, batch_size: int) -> int:
        """The profiled size a batch of `batch_size` runs padded to."""
        return self.exec_batch_sizes[self.batch_sizes.index(batch_size)]


@dataclass(frozen=True)
class Profiles:
    """All profile curves, keyed by (model, hardware)."""

    curves: Mapping[tuple[str, str], ProfileCurve]

    def __post_init__(self) -> None:
        object.__setattr__(self, "curves", MappingProxyType(dict(self.curves)))

    def for_model(self, model: str) -> list[ProfileCurve]:
        """Curves of one model, in hardware-name order."""
        return sorted((c for (m, _), c in self.curves.items() if m == model), key=lambda c: c.hardware)

    def get(self, model: str, hardware: str) -> ProfileCurve:
        return self.curves[(model, hardware)]

    @property
    def models(self) -> list[str]:
        return sorted({m for m, _ in self.curves})


@dataclass(frozen=True)
class Module:
    """One DNN stage of an application: its model, its parents and its rate factor."""

    name: str
    model: str
    parents: tuple[str, ...] = ()
    rate_factor: float = 1.0
    adapter: str = ""  # runtime adapter name ("" = the default: the request's frame)
    fanout: str = "together"  # together: a request's items arrive at once (MODEL.md's fan-out lag); spread


@dataclass(frozen=True)
class App:
    """A DAG of modules with its entry rate (req/s), end-to-end SLO and per-hop delay (ms).

    `modules` is in topological order (parents first).
    """

    name: str
    rate: float
    slo_ms: float
    modules: tuple[Module, ...]
    hop_ms: float = 0.0
    traffic: Traffic | None = None   # the app file's `traffic:` (None: not stated, the default applies)

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    def module_rate(self, name: str) -> float:
        """r_m = rate * rate_factor_m (MODEL.md)."""
        return self.rate * self.module(name).rate_factor

    @property
    def entries(self) -> list[str]:
        return [m.name for m in self.modules if not m.parents]

    @property
    def exits(self) -> list[str]:
        has_child = {p for m in self.modules for p in m.parents}
        return [m.name for m in self.modules if m.name not in has_child]

    def children(self, name: str) -> list[str]:
        return [m.name for m in self.modules if name in m.parents]

    def paths(self) -> list[list[str]]:
        """Every path from an entry to an exit (exponential in the worst case; for checks)."""
        out: list[list[str]] = []

        def walk(path: list[str]) -> None:
            kids = self.children(path[-1])
            if not kids:
                out.append(path)
            for k in kids:
                walk(path + [k])

        for e in self.entries:
            walk([e])
        return out


@dataclass(frozen=True)
class Spec:
    """Everything a planner needs: the app, the hardware catalog and the profiles."""

    app: App
    hardware: Mapping[str, Hardware]
    profiles: Profiles
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hardware", MappingProxyType(dict(self.hardware)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    def price(self, hardware: str) -> float:
        return self.hardware[hardware].price_per_hour
