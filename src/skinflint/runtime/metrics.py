"""Runtime metrics. `NullMetrics` records nothing (the runtime's own counts still hold);
`PrometheusMetrics` (the `serve` extra) exports latency histograms per module and end to end,
batch sizes, queue depth, worker utilisation, admitted/refused/late/failed counts, and the plan
being served: its $/h, workers per hardware type, SLO and module budgets.

The metric names below are the contract with dashboards (deploy/grafana.py builds its queries
from them; a test scrapes a real registry and checks that every series it queries exists)."""

from __future__ import annotations

from typing import Any

REQUESTS = "skinflint_requests"                          # counter {outcome}: OUTCOMES
REQUEST_LATENCY = "skinflint_request_latency_seconds"    # histogram: end to end
MODULE_LATENCY = "skinflint_module_latency_seconds"      # histogram {module}: items ready to done
BATCH_SIZE = "skinflint_batch_size"                      # histogram {module}: batch sizes started
WORKER_BUSY = "skinflint_worker_busy_seconds"            # counter {module}: time on batches
QUEUE_DEPTH = "skinflint_queue_depth"                    # gauge {module}: items waiting or running
WORKERS = "skinflint_workers"                            # gauge {module}: workers serving it (shared ones count per module)
IN_FLIGHT = "skinflint_in_flight"                        # gauge: requests in the runtime
PLAN_COST = "skinflint_plan_cost_per_hour"               # gauge: USD per hour of the plan served
PLAN_WORKERS = "skinflint_plan_workers"                  # gauge {hardware}: workers rented, each counted once
SLO = "skinflint_slo_seconds"                            # gauge: the app's end-to-end objective
MODULE_BUDGET = "skinflint_module_budget_seconds"        # gauge {module}: the plan's latency budget
OUTCOMES = ("admitted", "refused", "on_time", "late", "failed")
KINDS = {REQUESTS: "counter", REQUEST_LATENCY: "histogram", MODULE_LATENCY: "histogram", BATCH_SIZE: "histogram",
         WORKER_BUSY: "counter", QUEUE_DEPTH: "gauge", WORKERS: "gauge", IN_FLIGHT: "gauge", PLAN_COST: "gauge",
         PLAN_WORKERS: "gauge", SLO: "gauge", MODULE_BUDGET: "gauge"}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"), "gauge": ("",)}


def exported_series() -> set[str]:
    """Every series name a scrape of PrometheusMetrics shows (a counter `x` is scraped as `x_total`, ...)."""
    return {name + suffix for name, kind in KINDS.items() for suffix in SUFFIXES[kind]}

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0,
                     2.0, 5.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)


class NullMetrics:
    """Records nothing."""

    def bind(self, runtime: Any) -> None:
        """Attach to a runtime (gauges read it)."""

    def admitted(self) -> None:
        """A request was admitted."""

    def refused(self) -> None:
        """A request was refused by admission control."""

    def finished(self, latency_ms: float, on_time: bool) -> None:
        """A request completed."""

    def failed(self) -> None:
        """An admitted request failed with a reason."""

    def batch(self, module: str, size: int, start_ms: float, end_ms: float) -> None:
        """A batch of `size` ran from start to end (dispatch to result)."""

    def module(self, module: str, latency_ms: float) -> None:
        """A request's items were done at `module` this long after they were ready."""


class PrometheusMetrics(NullMetrics):
    """The same events as Prometheus series in a registry of its own."""

    def __init__(self) -> None:
        import prometheus_client as pc
        self.registry = pc.CollectorRegistry()
        r = self.registry
        self.requests = pc.Counter(REQUESTS, "Requests by outcome", ["outcome"], registry=r)
        self.latency = pc.Histogram(REQUEST_LATENCY, "End-to-end latency", buckets=LATENCY_BUCKETS_S, registry=r)
        self.module_latency = pc.Histogram(MODULE_LATENCY, "Items ready to done, per module",
                                           ["module"], buckets=LATENCY_BUCKETS_S, registry=r)
        self.batch_size = pc.Histogram(BATCH_SIZE, "Batch sizes started", ["module"], buckets=BATCH_BUCKETS, registry=r)
        self.busy = pc.Counter(WORKER_BUSY, "Time workers of a module spent on batches "
                               "(rate / workers = utilisation)", ["module"], registry=r)
        self._pc = pc
        self._outcome = {k: self.requests.labels(k) for k in ("admitted", "refused", "on_time", "late", "failed")}

    def bind(self, runtime: Any) -> None:
        """Queue depth and worker counts read from the runtime when scraped; the plan's cost,
        workers per hardware type, SLO and budgets."""
        gauge, r, plan = self._pc.Gauge, self.registry, runtime.plan
        depth = gauge(QUEUE_DEPTH, "Items waiting or running", ["module"], registry=r)
        workers = gauge(WORKERS, "Workers per module", ["module"], registry=r)
        inflight = gauge(IN_FLIGHT, "Requests in the runtime", registry=r)
        sm = getattr(runtime, "sm", None)               # module k's name (a pooled module's dispatcher is its pool's)
        names = [m.name for m in sm.modules] if sm is not None else [d.name for d in runtime.dispatchers]
        for k, d in enumerate(runtime.dispatchers):
            name = names[k]
            depth.labels(name).set_function(lambda d=d: d.pending)
            workers.labels(name).set(len(runtime.workers[k]))
        inflight.set_function(lambda: runtime.in_flight)
        gauge(PLAN_COST, "USD per hour of the plan served", registry=r).set(plan.cost_per_hour)
        rented = gauge(PLAN_WORKERS, "Workers rented per hardware type", ["hardware"], registry=r)
        for hardware, n in plan.workers_by_hardware().items():
            rented.labels(hardware).set(n)
        gauge(SLO, "End-to-end latency objective", registry=r).set(plan.slo_ms / 1000.0)
        budget = gauge(MODULE_BUDGET, "Latency budget per module", ["module"], registry=r)
        for m in plan.modules:
            budget.labels(m.name).set(m.budget_ms / 1000.0)

    def admitted(self) -> None:
        """Count it."""
        self._outcome["admitted"].inc()

    def refused(self) -> None:
        """Count it."""
        self._outcome["refused"].inc()

    def finished(self, latency_ms: float, on_time: bool) -> None:
        """Latency and on-time/late count."""
        self.latency.observe(latency_ms / 1000.0)
        self._outcome["on_time" if on_time else "late"].inc()

    def failed(self) -> None:
        """Count it."""
        self._outcome["failed"].inc()

    def batch(self, module: str, size: int, start_ms: float, end_ms: float) -> None:
        """Batch size and busy time."""
        self.batch_size.labels(module).observe(size)
        self.busy.labels(module).inc(max(0.0, end_ms - start_ms) / 1000.0)

    def module(self, module: str, latency_ms: float) -> None:
        """Per-module latency."""
        self.module_latency.labels(module).observe(latency_ms / 1000.0)

    def render(self) -> bytes:
        """The text exposition format."""
        return self._pc.generate_latest(self.registry)


def render_labelled(metrics: dict[str, Any]) -> bytes:
    """Several apps' PrometheusMetrics as one exposition (a fleet's /metrics): each family once,
    its samples from every app with an `app` label added."""
    import prometheus_client as pc
    from prometheus_client.core import Metric

    families: dict[str, Any] = {}
    for app, m in metrics.items():
        registry = getattr(m, "registry", None)
        if registry is None:
            continue
        for fam in registry.collect():
            merged = families.get(fam.name)
            if merged is None:
                merged = families[fam.name] = Metric(fam.name, fam.documentation, fam.type, fam.unit)
            for sample in fam.samples:
                merged.samples.append(sample._replace(labels={"app": app, **sample.labels}))

    class _Fleet:
        def collect(self) -> Any:
            return iter(families.values())

    registry = pc.CollectorRegistry(auto_describe=False)
    registry.register(_Fleet())
    return pc.generate_latest(registry)
