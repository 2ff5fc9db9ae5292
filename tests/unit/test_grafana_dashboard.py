"""The Grafana dashboard: every panel's PromQL names only series and labels that a real
PrometheusMetrics registry exports (scraped, not assumed), so the dashboard cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from skinflint.cli import main
from skinflint.deploy.grafana import dashboard
from skinflint.plan import Group, ModulePlan, Plan
from skinflint.runtime.metrics import OUTCOMES, exported_series

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from skinflint.runtime.metrics import PrometheusMetrics  # noqa: E402

FUNCTIONS = {"sum", "max", "min", "avg", "count", "rate", "histogram_quantile"}
IDENT = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?")


def scraped_series() -> dict[str, set[str]]:
    """Series name -> label names, from a bound registry that saw one event of every kind."""
    plan = Plan("app", "optimal", 10.0, 200.0, (ModulePlan("detect", "det", 10.0, 80.0, 60.0,
                                                           (Group("T4", 4, 2, 20.0, 0.5, 60.0),)),))
    runtime = SimpleNamespace(plan=plan, dispatchers=[SimpleNamespace(name="detect", pending=3)],
                              workers=[[object(), object()]], in_flight=1)
    metrics = PrometheusMetrics()
    metrics.bind(runtime)
    for outcome in ("admitted", "refused", "failed"):
        getattr(metrics, outcome)()
    metrics.finished(12.0, True)
    metrics.finished(500.0, False)
    metrics.batch("detect", 4, 0.0, 20.0)
    metrics.module("detect", 30.0)
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            out.setdefault(sample.name, set()).update(sample.labels)
    assert {s.labels.get("outcome") for f in text_string_to_metric_families(metrics.render().decode())
            for s in f.samples if s.name == "skinflint_requests_total"} == set(OUTCOMES)
    return out


def problems(expr: str, series: dict[str, set[str]]) -> list[str]:
    """Names in `expr` that are neither known functions nor exported series, and labels a series lacks."""
    out = []
    body = re.sub(r"\[[^\]]*\]", "", expr)                           # [$__rate_interval]
    grouping = [set(x.strip() for x in g.split(",")) for g in re.findall(r"\bby\s*\(([^)]*)\)", body)]
    body = re.sub(r"\bby\s*\([^)]*\)", "", body)
    used: set[str] = set()
    for name, matchers, call in IDENT.findall(body):
        if call and not matchers:
            if name not in FUNCTIONS:
                out.append(f"unknown function {name}")
            continue
        if name not in series:
            out.append(f"series {name} is not exported")
            continue
        used |= series[name]
        for label in re.findall(r"(\w+)\s*=~?", matchers):
            if label not in series[name]:
                out.append(f"{name} has no label {label}")
    for labels in grouping:
        out += [f"grouping by {label}, which no series here has" for label in labels - used]
    return out


def test_every_query_names_exported_series_and_labels() -> None:
    series = scraped_series()
    assert set(series) <= exported_series()                       # the constants cover the registry
    assert {s for s in exported_series() if not s.endswith("_created")} <= set(series)
    exprs = [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]
    assert len(exprs) >= 20
    for expr in exprs:
        assert problems(expr, series) == [], expr
    # the checker itself catches a typo, an unknown label and an unknown function
    assert problems("sum(rate(skinflint_request_total[5m]))", series) == \
        ["series skinflint_request_total is not exported"]
    assert problems('sum by (module) (skinflint_in_flight{module="a"})', series) == \
        ["skinflint_in_flight has no label module", "grouping by module, which no series here has"]
    assert problems("irate(skinflint_in_flight[1m])", series) == ["unknown function irate"]


def test_dashboard_covers_the_issue_and_is_well_formed(tmp_path: Path) -> None:
    out = tmp_path / "dashboard.json"
    assert main(["deploy", "grafana", "-o", str(out)]) == 0
    board = json.loads(out.read_text())
    assert board == json.loads(json.dumps(dashboard()))
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels)
    assert all(t["refId"] and t["datasource"]["uid"] == "${datasource}" for p in panels for t in p["targets"])
    text = json.dumps(panels)
    for series in ("skinflint_plan_cost_per_hour", "skinflint_plan_workers", "skinflint_queue_depth",
                   "skinflint_batch_size_bucket", "skinflint_module_latency_seconds_bucket",
                   "skinflint_worker_busy_seconds_total", 'outcome=\\"refused\\"', "skinflint_module_budget_seconds"):
        assert series in text, series
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "module"]
