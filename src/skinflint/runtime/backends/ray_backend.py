"""The Ray backend (`--backend ray [--address ADDR]`): each worker is a Ray actor.

- An actor asks for one CPU and one unit of a custom resource named after its hardware type
  (`{"epyc-2core": 1}`), so the cluster places it on a node of that type. A local cluster
  (no address) is started with exactly the resources the plan needs.
- The dispatchers stay in the serving process (no CPU reserved for them); each batch is put in
  the object store once and the actor's task takes the reference.
- `max_restarts=-1, max_task_retries=-1`: a killed actor is restarted and its in-flight batch
  runs again on the new one.
- Facts of Ray 2.60 this relies on: `local_mode` is gone; `address="local"` always starts a fresh
  cluster (a stale cluster file otherwise breaks `ray.init(num_cpus=...)`); actors wait forever
  when resources run out, so every wait here has a timeout.
- Models are read from `models_dir` by path: on a remote cluster every node needs the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from skinflint.errors import SpecError
from skinflint.extras import require
from skinflint.runtime.backends.embedded import ModelShapes, model_file
from skinflint.runtime.workers import View

READY_TIMEOUT_S = 120.0


def actor_options(hardware: str) -> dict[str, Any]:
    """What one worker actor asks Ray for: one CPU and one unit of the custom resource named after
    its hardware type (deploy/kuberay.py gives each worker pod exactly this)."""
    return {"num_cpus": 1, "resources": {hardware: 1}}


def _ray() -> Any:
    return require("ray", field="--backend", fix="pip install 'skinflint[ray]', or use --backend embedded")


class ModelActor:
    """The actor's body: one runner per model (an ONNX Runtime session with one thread, or a sleep)."""

    def __init__(self, kind: str, sources: dict[str, Any]) -> None:
        from skinflint.runtime.workers import OnnxRunner, SleepRunner
        self.runners = {k: SleepRunner(v) if kind == "sleep" else OnnxRunner(v) for k, v in sources.items()}

    def ready(self) -> bool:
        """Answers once the runner is built."""
        return True

    def run(self, key: str, batch: Any) -> Any:
        """Run one batch of model `key` (Ray hands the stored array, zero-copy)."""
        return self.runners[key](batch)


class RayWorker:
    """A BatchWorker over one actor: submit puts the batch in the object store once."""

    def __init__(self, ray: Any, actor: Any, name: str, models: list[str]) -> None:
        self.ray, self.actor, self.name = ray, actor, name
        self._only = models[0] if len(models) == 1 else None
        self._closed = False

    def submit(self, batch: Any, key: str | None = None) -> Any:
        """A concurrent.futures.Future of the batch's outputs (retried by Ray across restarts)."""
        ref = self.ray.put(batch)
        return self.actor.run.remote(key or self._only, ref).future()

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

    def __init__(self, models_dir: Path | None = None, runner: str = "onnx", item_shape: Sequence[int] = (3, 8, 8),
                 address: str | None = None, num_cpus: int | None = None,
                 resources: dict[str, float] | None = None) -> None:
        self.ray = _ray()
        self.models_dir, self.runner = models_dir, runner
        self.address, self.num_cpus, self.resources = address, num_cpus, dict(resources or {})
        self._actor_cls = None
        self._started_here = False
        self.input_shape = ModelShapes(models_dir, runner, item_shape)   # read here, from the files

    def start(self, needs: dict[str, int]) -> None:
        """Connect (or start a local cluster with one CPU and one `hardware` unit per planned worker)."""
        if self.ray.is_initialized():
            pass
        elif self.address:
            self.ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        else:
            total = sum(needs.values())
            resources = {hw: float(n) for hw, n in needs.items()} | self.resources
            self.ray.init(address="local", num_cpus=self.num_cpus or total, resources=resources,
                          include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024**2)
            self._started_here = True
        self._actor_cls = self.ray.remote(ModelActor)

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str) -> RayWorker:
        """An actor running `models` on a `hardware` node, ready (or a SpecError after the timeout)."""
        if self._actor_cls is None:
            self.start({hardware: 1})
        sources: dict[str, Any] = {m: t if self.runner == "sleep" else str(model_file(self.models_dir, m))
                                   for m, t in models.items()}
        actor = self._actor_cls.options(**actor_options(hardware), max_restarts=-1,
                                        max_task_retries=-1).remote(self.runner, sources)
        try:
            self.ray.get(actor.ready.remote(), timeout=READY_TIMEOUT_S)
        except self.ray.exceptions.GetTimeoutError:
            self.ray.kill(actor)
            raise SpecError("ray cluster", f"resources {{{hardware!r}: 1, 'CPU': 1}}", f"no actor for {label} "
                            f"started within {READY_TIMEOUT_S:.0f} s", "give the cluster nodes with that "
                            "custom resource (ray start --resources '{\"HW\": N}') and free CPUs") from None
        return RayWorker(self.ray, actor, label, list(models))

    def close(self) -> None:
        """Shut down the local cluster this backend started."""
        if self._started_here and self.ray.is_initialized():
            self.ray.shutdown()
