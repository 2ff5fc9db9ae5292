"""The Ray backend (`--backend ray [--address ADDR]`): each worker is a Ray actor.

- An actor asks for one CPU, one unit of a custom resource named after its hardware type
  (`{"T4": 1}`: deploy/kuberay.py gives each worker pod exactly this), and on a GPU type (the
  catalog's `execution`) `num_gpus` as the catalog says — a fraction where the type is a share
  of one device, so Ray packs that many actors on it — and the accelerator type where Ray knows
  the name (`accelerator_type="T4"`). The sleep runner asks for no GPU (it needs none).
- Pipelining: each actor takes up to two batches at once (`pipeline_depth`), the dispatcher
  handing it the next one shortly before the running one should end, so the Ray hop (object
  store put, task submission, result fetch: ~2 ms here) overlaps compute (runtime/dispatcher.py).
  The actor runs one task at a time (`ACTOR_THREADS = 1`); the model runs one batch at a time in
  the driver's order either way (`turns.Turns`). A threaded actor (four threads, so the next
  batch's task is received while one runs) kept a bare actor busier in bench/ray_hop.py, but in
  the runtime it served less: `bench/runtime_overhead.py --backends ray --ray-variants
  2x1,2x4,...` on a quiet machine, four alternating pairs, gave one thread 71.5-87.8 % of a bare
  loop and four threads 62.1-74.1 %, one thread ahead in every pair (docs/runtime.md, "Overhead").
- `max_restarts=-1, max_task_retries=-1`: a killed actor is restarted and its in-flight batches
  run again on the new one.
- Every wait is bounded and every failure one line: an address where nothing listens is refused
  at once (a TCP probe before `ray.init`, which would otherwise wait minutes); a connection that
  does not come up within `CONNECT_TIMEOUT_S` is an error; an actor no node can ever host (no
  node has its resources) is an error before it is created; one that does not start within
  `READY_TIMEOUT_S` (busy resources, a slow model load) is an error after it.
- Token auth (Ray 2.60, `RAY_AUTH_MODE`): connecting to an existing cluster without the mode set
  fails after ~20 s with a bare ConnectionError when the cluster runs token auth. Where a token
  is at hand (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token), the backend sets
  RAY_AUTH_MODE=token before connecting; where none is and the connection fails, the error says
  what to export.
- Facts of Ray 2.60 this relies on: `local_mode` is gone; `address="local"` always starts a fresh
  cluster (a stale cluster file otherwise breaks `ray.init(num_cpus=...)`).
- Models are read from `models_dir` by path: on a remote cluster every node needs the same files.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

from skinflint.errors import SpecError
from skinflint.extras import require
from skinflint.runtime.backends.embedded import ModelShapes, model_file
from skinflint.runtime.backends.turns import Turns
from skinflint.runtime.workers import View
from skinflint.spec.types import CPU, Execution, Hardware

READY_TIMEOUT_S = 120.0     # an actor that can be placed: model load and warm-up included
CONNECT_TIMEOUT_S = 30.0
PIPELINE_DEPTH = 2
ACTOR_THREADS = 1   # one task at a time: faster in the runtime than 4 threads (see above)
PIPELINE_LEAD_MS = 5.0      # the next batch is handed over this long before the running one should end
CLOSE_MARGIN_MS = 15.0      # early close at least this much ahead: a batch's Ray hop (put, task, result)
                            # took 2-6 ms here, more under load (runtime/core.py takes it as a floor)


def actor_options(hardware: str, execution: Execution = CPU, known_accelerators: Sequence[str] = (),
                  runner: str = "onnx") -> dict[str, Any]:
    """What one worker actor asks Ray for: one CPU and one unit of the custom resource named after
    its hardware type; on a GPU type (onnx runner) its GPUs and, where Ray knows the name, its
    accelerator type."""
    options: dict[str, Any] = {"num_cpus": 1, "resources": {hardware: 1}}
    if execution.on_gpu and runner == "onnx":
        options["num_gpus"] = execution.gpus
        if execution.accelerator and execution.accelerator in known_accelerators:
            options["accelerator_type"] = execution.accelerator
    return options


def ray_accelerators(ray: Any) -> tuple[str, ...]:
    """The accelerator type names this Ray knows (ray.util.accelerators)."""
    import importlib
    acc = importlib.import_module("ray.util.accelerators")
    return tuple(v for k, v in vars(acc).items() if k.isupper() and isinstance(v, str))


def _ray() -> Any:
    return require("ray", field="--backend", fix="pip install 'skinflint[ray]', or use --backend embedded")


def token_at_hand() -> bool:
    """A Ray auth token this process could present (environment, token path, ~/.ray/auth_token)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return Path(path).is_file() if path else (Path.home() / ".ray" / "auth_token").is_file()


def enable_token_auth() -> None:
    """RAY_AUTH_MODE=token for this process, and Ray's cached config refreshed to see it (Ray reads
    the mode once, when it is imported)."""
    os.environ["RAY_AUTH_MODE"] = "token"
    try:
        from ray._raylet import Config   # Ray 2.60's own way (authentication_token_setup._enable_token_auth)
        Config.initialize("")
    except (ImportError, AttributeError):  # pragma: no cover - another Ray: the variable alone
        pass


def probe(address: str, timeout_s: float = 3.0) -> None:
    """Refuse at once an address HOST:PORT where nothing accepts connections."""
    if address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise SpecError("command line", "--address", f"not HOST:PORT ({address!r})", "pass e.g. 127.0.0.1:6379")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            return
    except OSError as e:
        raise SpecError("command line", "--address", f"no Ray cluster at {address} ({e.strerror or e})",
                        "start one (ray start --head --port PORT) or pass the address of a running one") from None


def connect(ray: Any, address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str:
    """ray.init(address) within `timeout_s`, token auth detected; returns a note on the auth mode."""
    probe(address)
    mode = os.environ.get("RAY_AUTH_MODE")
    note = f"RAY_AUTH_MODE={mode}" if mode else "no token auth (none at hand)"
    if mode is None and token_at_hand():
        enable_token_auth()
        note = "token auth (a token was at hand: RAY_AUTH_MODE=token set)"
    outcome: dict[str, Any] = {}

    def init() -> None:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
            outcome["ok"] = True
        except Exception as e:  # noqa: BLE001 - reported below, in one line
            outcome["error"] = e
    thread = threading.Thread(target=init, name="ray-connect", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if "ok" in outcome:
        return note
    why = f"{type(outcome['error']).__name__}: {str(outcome['error']).splitlines()[0][:160]}" if "error" in outcome \
        else f"no answer within {timeout_s:g} s"
    fix = ("if the cluster runs token auth, export RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (from `ray get-auth-token` "
           "on the head node)" if os.environ.get("RAY_AUTH_MODE") != "token"
           else "check the token matches the cluster's (RAY_AUTH_TOKEN / ~/.ray/auth_token) and the address")
    raise SpecError("command line", "--address", f"cannot connect to the Ray cluster at {address} ({why})", fix)


def placeable(ray: Any, options: Mapping[str, Any]) -> bool:
    """Some alive node of the cluster has every resource the actor asks for (in total)."""
    need = {"CPU": options.get("num_cpus", 0), "GPU": options.get("num_gpus", 0), **options.get("resources", {})}
    if options.get("accelerator_type"):
        need[f"accelerator_type:{options['accelerator_type']}"] = 0.001
    need = {k: v for k, v in need.items() if v}
    return any(node.get("Alive") and all(node.get("Resources", {}).get(k, 0) >= v for k, v in need.items())
               for node in ray.nodes())


class ModelActor:
    """The actor's body: one runner per model (an ONNX Runtime session, warmed up on every batch
    size it executes; on a GPU the device Ray gave it, device 0 of its CUDA_VISIBLE_DEVICES), or a
    sleep; batches run one at a time in the driver's numbering (the actor has several threads)."""

    def __init__(self, kind: str, sources: dict[str, Any], provider: str = "cpu",
                 batch_sizes: dict[str, tuple[int, ...]] | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None) -> None:
        from skinflint.runtime.workers import OnnxRunner, SleepRunner
        self.runners: dict[str, Any] = {}
        for k, v in sources.items():
            if kind == "sleep":
                self.runners[k] = SleepRunner(v)
                continue
            runner = OnnxRunner(v, provider, device_id=0 if provider != "cpu" else None,
                                batch_sizes=(batch_sizes or {}).get(k, ()))
            runner.warm_up((shapes or {})[k])
            self.runners[k] = runner
        import ray
        self.turns = Turns(None if ray.get_runtime_context().was_current_actor_reconstructed else 0)

    def ready(self) -> bool:
        """Answers once the runners are built and warm."""
        return True

    def run(self, seq: int, key: str, batch: Any) -> Any:
        """Run batch number `seq` of model `key` in its turn (Ray hands the stored array, zero-copy)."""
        with self.turns.turn(seq):
            return self.runners[key](batch)


class RayWorker:
    """A BatchWorker over one actor: submit passes the batch as the task's argument (Ray stores an
    array over 100 KB in the object store itself, once, and sends smaller ones inline: an explicit
    `ray.put` first cost 3x the driver CPU per batch here); up to `pipeline_depth` batches may be
    at the actor at once."""

    pipeline_depth = PIPELINE_DEPTH
    pipeline_lead_ms = PIPELINE_LEAD_MS

    def __init__(self, ray: Any, actor: Any, name: str, models: list[str], options: dict[str, Any]) -> None:
        self.ray, self.actor, self.name, self.options = ray, actor, name, options
        self._only = models[0] if len(models) == 1 else None
        self._closed = False
        self._seq = 0
        self._lock = threading.Lock()

    def submit(self, batch: Any, key: str | None = None) -> Any:
        """A concurrent.futures.Future of the batch's outputs (retried by Ray across restarts);
        batches are numbered in the order they are submitted, the order the actor runs them."""
        with self._lock:
            ref = self.actor.run.remote(self._seq, key or self._only, batch)
            self._seq += 1
        return ref.future()

    def view(self, key: str) -> View:
        """The BatchWorker running model `key` on this actor."""
        return View(self, key)

    def kill(self) -> None:
        """Kill the actor now (Ray restarts it and retries the batch it was running)."""
        self.ray.kill(self.actor, no_restart=False)

    def close(self) -> None:
        """Kill the actor for good (once)."""
        if not self._closed:
            self._closed = True
            self.ray.kill(self.actor, no_restart=True)


class RayBackend:
    """Workers as Ray actors; starts a local cluster unless `address` names one."""

    name = "ray"
    close_margin_ms = CLOSE_MARGIN_MS

    def __init__(self, models_dir: Path | None = None, runner: str = "onnx", item_shape: Sequence[int] = (3, 8, 8),
                 address: str | None = None, num_cpus: int | None = None,
                 resources: dict[str, float] | None = None) -> None:
        self.ray = _ray()
        self.models_dir, self.runner = models_dir, runner
        self.address, self.num_cpus, self.resources = address, num_cpus, dict(resources or {})
        self._actor_cls = None
        self._started_here = False
        self.auth = ""
        self.execution: dict[str, Execution] = {}
        self.input_shape = ModelShapes(models_dir, runner, item_shape)   # read here, from the files

    def start(self, needs: dict[str, int], hardware: Mapping[str, Hardware] | None = None) -> None:
        """Connect (or start a local cluster with one CPU and one `hardware` unit per planned worker)."""
        self.execution.update({name: h.execution for name, h in (hardware or {}).items()})
        if self.ray.is_initialized():
            pass
        elif self.address:
            self.auth = connect(self.ray, self.address)
        else:
            total = sum(needs.values())
            resources = {hw: float(n) for hw, n in needs.items()} | self.resources
            self.ray.init(address="local", num_cpus=self.num_cpus or total, resources=resources,
                          include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024**2)
            self._started_here = True
        if self._actor_cls is None:
            self._actor_cls = self.ray.remote(ModelActor)

    def options(self, hardware: str) -> dict[str, Any]:
        """The actor options of a worker of `hardware` (see actor_options)."""
        return actor_options(hardware, self.execution.get(hardware, CPU), ray_accelerators(self.ray), self.runner)

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str,
               batch_sizes: Mapping[str, tuple[int, ...]] | None = None) -> RayWorker:
        """An actor running `models` on a `hardware` node, ready (or a one-line SpecError)."""
        if self._actor_cls is None:
            self.start({hardware: 1})
        options = self.options(hardware)
        wanted = f"{options['resources'] | {k: options[k] for k in ('num_cpus', 'num_gpus', 'accelerator_type') if k in options}}"
        if not placeable(self.ray, options):
            raise SpecError("ray cluster", "resources", f"no node can host worker {label}: it asks for {wanted}",
                            "give the cluster nodes with those resources (ray start --resources "
                            "'{\"HW\": N}' --num-gpus G), or plan for the hardware the cluster has")
        execution = self.execution.get(hardware, CPU)
        provider = execution.provider if self.runner == "onnx" else "cpu"
        sources: dict[str, Any] = {m: t if self.runner == "sleep" else str(model_file(self.models_dir, m))
                                   for m, t in models.items()}
        shapes = {m: tuple(self.input_shape(m)) for m in models} if self.runner == "onnx" else {}
        actor = self._actor_cls.options(**options, max_restarts=-1, max_task_retries=-1,
                                        max_concurrency=ACTOR_THREADS).remote(
            self.runner, sources, provider, dict(batch_sizes or {}), shapes)
        try:
            self.ray.get(actor.ready.remote(), timeout=READY_TIMEOUT_S)
        except self.ray.exceptions.GetTimeoutError:
            self.ray.kill(actor)
            raise SpecError("ray cluster", "resources", f"worker {label} did not start within "
                            f"{READY_TIMEOUT_S:.0f} s (it asks for {wanted})", "free those resources on the "
                            "cluster (other actors hold them), or give it more nodes") from None
        return RayWorker(self.ray, actor, label, list(models), options)

    def close(self) -> None:
        """Shut down the local cluster this backend started."""
        if self._started_here and self.ray.is_initialized():
            self.ray.shutdown()
