"""A Grafana dashboard (JSON model, schemaVersion 39) for the metrics `skinflint serve` exports.

Every query is built from the metric names of runtime/metrics.py, so a renamed metric changes the
dashboard with it; a test scrapes a real registry and checks that each query names only series
and labels it exports. Panels: SLO attainment (a refused request is a miss, MODEL.md), requests
by outcome, end-to-end p50/p99 against the SLO, p50/p99 per module against its budget, batch
sizes, queue depth, utilisation (busy seconds per second per worker), workers per module and per
hardware type, refusals, and the $/h of the plan being served. Import it in Grafana and pick the
Prometheus data source that scrapes the server (`$datasource`); `$module` filters the modules.
"""

from __future__ import annotations

import json
from typing import Any

from skinflint.runtime import metrics as m

RANGE = "[$__rate_interval]"
MODULES = 'module=~"$module"'
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
FINISHED = 'outcome=~"on_time|late|refused|failed"'   # every request that ended, refusals included
ON_TIME, REFUSED, FAILED = 'outcome="on_time"', 'outcome="refused"', 'outcome="failed"'


def rate(name: str, selector: str = "") -> str:
    """Per-second rate of a counter or histogram series over Grafana's rate interval."""
    return f"rate({name}{{{selector}}}{RANGE})" if selector else f"rate({name}{RANGE})"


def quantile(q: float, histogram: str, by: str = "", selector: str = "") -> str:
    """The q-quantile of a histogram, per `by` labels."""
    labels = ", ".join(["le"] + ([by] if by else []))
    return f"histogram_quantile({q}, sum by ({labels}) ({rate(histogram + '_bucket', selector)}))"


def attainment() -> str:
    """Share of ended requests answered within the SLO (refused and failed ones are misses)."""
    total = m.REQUESTS + "_total"
    return f'sum({rate(total, ON_TIME)}) / sum({rate(total, FINISHED)})'


def panel(title: str, kind: str, targets: list[tuple[str, str]], unit: str, grid: tuple[int, int, int, int],
          **options: Any) -> dict[str, Any]:
    """One panel: (query, legend) targets, a unit, a place (x, y, w, h) on the 24-column grid."""
    x, y, w, h = grid
    return {"type": kind, "title": title, "datasource": DATASOURCE, "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
                        for i, (expr, legend) in enumerate(targets)],
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": options}


def panels() -> list[dict[str, Any]]:
    """The dashboard's panels, top to bottom."""
    req, busy = m.REQUESTS + "_total", m.WORKER_BUSY + "_total"
    batch = m.BATCH_SIZE
    out = [
        panel("SLO attainment", "stat", [(attainment(), "attained")], "percentunit", (0, 0, 6, 4)),
        panel("Plan cost", "stat", [(f"max({m.PLAN_COST})", "$/h")], "currencyUSD", (6, 0, 6, 4)),
        panel("Workers rented", "stat", [(f"sum({m.PLAN_WORKERS})", "workers")], "short", (12, 0, 6, 4)),
        panel("Refused", "stat", [(f'sum({rate(req, REFUSED)}) / sum({rate(req, FINISHED)})',
                                   "refused")], "percentunit", (18, 0, 6, 4)),
        panel("SLO attainment over time", "timeseries", [(attainment(), "attained")], "percentunit", (0, 4, 12, 8)),
        panel("Requests by outcome", "timeseries", [(f"sum by (outcome) ({rate(req)})", "{{outcome}}")], "reqps",
              (12, 4, 12, 8)),
        panel("End-to-end latency", "timeseries",
              [(quantile(0.5, m.REQUEST_LATENCY), "p50"), (quantile(0.99, m.REQUEST_LATENCY), "p99"),
               (f"max({m.SLO})", "SLO")], "s", (0, 12, 12, 8)),
        panel("Module latency p50 / p99 and budget", "timeseries",
              [(quantile(0.5, m.MODULE_LATENCY, "module", MODULES), "{{module}} p50"),
               (quantile(0.99, m.MODULE_LATENCY, "module", MODULES), "{{module}} p99"),
               (f"max by (module) ({m.MODULE_BUDGET}{{{MODULES}}})", "{{module}} budget")], "s", (12, 12, 12, 8)),
        panel("Batch size (mean, p99)", "timeseries",
              [(f"sum by (module) ({rate(batch + '_sum', MODULES)}) / "
                f"sum by (module) ({rate(batch + '_count', MODULES)})", "{{module}} mean"),
               (quantile(0.99, batch, "module", MODULES), "{{module}} p99")], "short",
              (0, 20, 12, 8)),
        panel("Queue depth", "timeseries", [(f"sum by (module) ({m.QUEUE_DEPTH}{{{MODULES}}})", "{{module}}")],
              "short", (12, 20, 12, 8)),
        panel("Worker utilisation", "timeseries",
              [(f"sum by (module) ({rate(busy, MODULES)}) / sum by (module) ({m.WORKERS}{{{MODULES}}})", "{{module}}")],
              "percentunit", (0, 28, 12, 8)),
        panel("Workers", "timeseries",
              [(f"sum by (module) ({m.WORKERS}{{{MODULES}}})", "{{module}}"),
               (f"sum by (hardware) ({m.PLAN_WORKERS})", "rented {{hardware}}")], "short", (12, 28, 12, 8)),
        panel("Refusals and failures", "timeseries",
              [(f'sum({rate(req, REFUSED)})', "refused"),
               (f'sum({rate(req, FAILED)})', "failed"), (f"sum({m.IN_FLIGHT})", "in flight")],
              "reqps", (0, 36, 12, 8)),
        panel("Plan cost over time", "timeseries", [(f"max({m.PLAN_COST})", "$/h")], "currencyUSD", (12, 36, 12, 8)),
    ]
    for i, p in enumerate(out, start=1):
        p["id"] = i
    return out


def dashboard(title: str = "skinflint", uid: str = "skinflint") -> dict[str, Any]:
    """The dashboard JSON model (import it via Dashboards > New > Import)."""
    module_query = f"label_values({m.QUEUE_DEPTH}, module)"
    return {
        "title": title, "uid": uid, "schemaVersion": 39, "version": 1, "editable": True, "tags": ["skinflint"],
        "time": {"from": "now-1h", "to": "now"}, "refresh": "10s",
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"},
            {"name": "module", "label": "Module", "type": "query", "datasource": DATASOURCE,
             "query": {"query": module_query, "refId": "modules"}, "definition": module_query,
             "multi": True, "includeAll": True, "refresh": 2,
             "current": {"text": "All", "value": "$__all"}},
        ]},
        "panels": panels(),
    }


def dashboard_json(title: str = "skinflint", uid: str = "skinflint") -> str:
    """The dashboard as indented JSON text."""
    return json.dumps(dashboard(title, uid), indent=2) + "\n"
