"""The servers of a runtime: each unpooled module its own dispatcher and workers, each pool one
dispatcher and one set of workers for all its members (in one app or across a fleet), as the
simulator runs them (sim/composite.py). Shared workers (MODEL.md) are one worker per app's
shared index, each serving module driving a view of it.

    servers = build_servers(models, specs, backend, make_dispatcher)
    servers.of[(app, module)]     # the server index of a module
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from skinflint.errors import SpecError
from skinflint.runtime.backends import Backend
from skinflint.spec.types import Spec
from skinflint.topology import SimModel, SimWorker, exec_sizes


@dataclass
class Server:
    """One dispatcher's worth: a module's or a pool's. `members`: (app, module) it serves, in the
    simulator's member order; `pool`: the pool's name ("" for a module's own server)."""

    name: str
    members: list[tuple[int, int]]
    sim_workers: tuple[SimWorker, ...]
    policy: str
    workers: list[Any] = field(default_factory=list)
    dispatcher: Any = None
    pool: str = ""


@dataclass
class Servers:
    """Every server, the server of each (app, module), and the hosts to close (each once)."""

    servers: list[Server]
    of: dict[tuple[int, int], int]
    hosts: list[Any]


def with_optional(fn: Callable[..., Any], *args: Any, **optional: Any) -> Any:
    """`fn(*args, **optional)`, leaving out the optional keywords `fn` does not take (a backend
    written before `hardware` and `batch_sizes` joined the protocol still works)."""
    import inspect
    params = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return fn(*args, **optional)
    return fn(*args, **{k: v for k, v in optional.items() if k in params})


def _seen(workers: Sequence[SimWorker]) -> list[tuple]:
    """What a pool's members must agree on: each worker's policy view, hardware and pool."""
    return [(w.worker, w.hardware, w.pool) for w in workers]


def plan_servers(models: Sequence[SimModel]) -> tuple[list[Server], dict[tuple[int, int], int]]:
    """The servers of compiled apps, without workers: pools gathered by (scope, name) over the
    apps (a pool named by one app's own plan is that app's alone), checked to agree."""
    servers: list[Server] = []
    of: dict[tuple[int, int], int] = {}
    pools: dict[tuple[str, str], int] = {}
    for a, sm in enumerate(models):
        for k, m in enumerate(sm.modules):
            if m.pool is None:
                of[(a, k)] = len(servers)
                servers.append(Server(f"{sm.app}/{m.name}" if len(models) > 1 else m.name, [(a, k)], m.workers,
                                      m.dispatch))
                continue
            key = (m.pool_scope, m.pool)
            if key not in pools:
                pools[key] = len(servers)
                servers.append(Server(m.pool, [], m.workers, "cyclic", pool=m.pool))
            s = servers[pools[key]]
            if _seen(s.sim_workers) != _seen(m.workers):   # promises differ by each member's fan-out lag
                raise SpecError("plan", f"pool {m.pool!r}", "its members see different workers",
                                "serve the apps with the profiles and catalog the fleet was planned with")
            s.members.append((a, k))
            of[(a, k)] = pools[key]
    return servers, of


def start_workers(servers: list[Server], models: Sequence[SimModel], specs: Sequence[Spec],
                  backend: Backend) -> list[Any]:
    """Start every server's workers on `backend` (shared workers once, driven through views);
    returns the hosts to close, each once."""
    needs: dict[str, int] = {}
    for s in servers:
        for w in s.sim_workers:
            if w.shared < 0:
                needs[w.hardware] = needs.get(w.hardware, 0) + 1
    for sm in models:
        for hw in sm.shared_hardware:
            needs[hw] = needs.get(hw, 0) + 1
    with_optional(backend.start, needs, hardware={name: h for spec in specs for name, h in spec.hardware.items()})
    shared_models: dict[tuple[int, int], dict[str, tuple[float, ...]]] = {}
    for s in servers:
        for a, k in s.members:
            model = specs[a].app.modules[k].model
            for w in s.sim_workers:
                if w.shared >= 0:
                    known = shared_models.setdefault((a, w.shared), {}).get(model, ())
                    shared_models[(a, w.shared)][model] = max(known, w.worker.times_ms, key=len)
    hosts: list[Any] = []
    try:
        shared = {}
        for (a, idx), ms in shared_models.items():
            hw = models[a].shared_hardware[idx]
            sizes = {m: exec_sizes(specs[a], m, hw, len(t)) for m, t in ms.items()}
            shared[(a, idx)] = with_optional(backend.worker, ms, hw, f"{models[a].app}/shared{idx}", batch_sizes=sizes)
            hosts.append(shared[(a, idx)])
        for s in servers:
            a, k = s.members[0]
            model = specs[a].app.modules[k].model
            for j, w in enumerate(s.sim_workers):
                if w.shared >= 0:
                    s.workers.append(shared[(a, w.shared)].view(model))
                    continue
                sizes = {model: exec_sizes(specs[a], model, w.hardware, w.worker.batch_size)}
                worker = with_optional(backend.worker, {model: w.worker.times_ms}, w.hardware, f"{s.name}/{j}",
                                       batch_sizes=sizes)
                s.workers.append(worker)
                hosts.append(worker)
    except BaseException:
        release = getattr(backend, "release", None)
        for host in hosts:       # a worker that cannot start: release the ones that did
            (release or type(host).close)(host)
        raise
    return hosts


def build_servers(models: Sequence[SimModel], specs: Sequence[Spec], backend: Backend,
                  make_dispatcher: Callable[[int, Server], Any]) -> Servers:
    """Plan the servers, start their workers, give each its dispatcher (`make_dispatcher(s, server)`)."""
    servers, of = plan_servers(models)
    hosts = start_workers(servers, models, specs, backend)
    for s, server in enumerate(servers):
        server.dispatcher = make_dispatcher(s, server)
    return Servers(servers, of, hosts)
