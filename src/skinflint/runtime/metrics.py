"""Runtime metrics. `NullMetrics` records nothing (the runtime's own counts still hold);
`PrometheusMetrics` (the `serve` extra) exports latency histograms per module and end to end,
batch sizes, queue depth, worker utilisation and admitted/refused/late/failed counts."""

from __future__ import annotations

from typing import Any

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
        self.requests = pc.Counter("skinflint_requests", "Requests by outcome", ["outcome"], registry=r)
        self.latency = pc.Histogram("skinflint_request_latency_seconds", "End-to-end latency",
                                    buckets=LATENCY_BUCKETS_S, registry=r)
        self.module_latency = pc.Histogram("skinflint_module_latency_seconds", "Items ready to done, per module",
                                           ["module"], buckets=LATENCY_BUCKETS_S, registry=r)
        self.batch_size = pc.Histogram("skinflint_batch_size", "Batch sizes started", ["module"],
                                       buckets=BATCH_BUCKETS, registry=r)
        self.busy = pc.Counter("skinflint_worker_busy_seconds", "Time workers of a module spent on batches "
                               "(rate / workers = utilisation)", ["module"], registry=r)
        self._pc = pc
        self._outcome = {k: self.requests.labels(k) for k in ("admitted", "refused", "on_time", "late", "failed")}

    def bind(self, runtime: Any) -> None:
        """Queue depth and worker counts read from the runtime when scraped."""
        depth = self._pc.Gauge("skinflint_queue_depth", "Items waiting or running", ["module"], registry=self.registry)
        workers = self._pc.Gauge("skinflint_workers", "Workers per module", ["module"], registry=self.registry)
        inflight = self._pc.Gauge("skinflint_in_flight", "Requests in the runtime", registry=self.registry)
        for k, d in enumerate(runtime.dispatchers):
            depth.labels(d.name).set_function(lambda d=d: d.pending)
            workers.labels(d.name).set(len(runtime.workers[k]))
        inflight.set_function(lambda: runtime.in_flight)

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
