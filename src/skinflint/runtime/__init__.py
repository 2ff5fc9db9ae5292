"""The serving runtime: a plan run for real.

    runtime = Runtime(plan, spec, make_backend("embedded", models_dir=Path("models")))
    result = runtime.submit(frame).result(timeout=5)     # or Refused at once

Modules: dispatcher (one per server: a module or a pool, the simulator's policies), core (the
router: DAG routing, joins, hops, pools), router (one app's face; fleets), servers, pool, adapters (fan-out), admission, workers (the worker interface, threads), backends
(embedded, ray), metrics, server (HTTP), loadgen (open-loop load).
"""

from skinflint.runtime.backends import backend_names, make_backend
from skinflint.runtime.router import FleetRuntime, Refused, RequestFailed, Result, Runtime

__all__ = ["FleetRuntime", "Refused", "RequestFailed", "Result", "Runtime", "backend_names", "make_backend"]
