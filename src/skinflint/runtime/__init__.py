"""The serving runtime: a plan run for real.

    runtime = Runtime(plan, spec, make_backend("embedded", models_dir=Path("models")))
    result = runtime.submit(frame).result(timeout=5)     # or Refused at once

Modules: dispatcher (one per module, the simulator's policies), router (DAG routing, joins,
hops), adapters (fan-out), admission, workers (the worker interface, threads), backends
(embedded, ray), metrics, server (HTTP), loadgen (open-loop load).
"""

from skinflint.runtime.backends import backend_names, make_backend
from skinflint.runtime.router import Refused, RequestFailed, Result, Runtime

__all__ = ["Refused", "RequestFailed", "Result", "Runtime", "backend_names", "make_backend"]
