"""Markdown table from `skinflint day ... --format json` output (for README and docs/daynight.md).

    .venv/bin/skinflint day examples/traffic/app.yaml --curve examples/daynight/city_day.csv \\
        --bursts count=6,factor=1.5,duration_s=300 --format json > day.json
    .venv/bin/python bench/day_table.py day.json
"""

from __future__ import annotations

import json
import sys

from skinflint.daynight import DayResult
from skinflint.report.day_table import day_markdown


def main(path: str) -> None:
    """Print the table and the run's settings."""
    data = json.load(open(path))
    results = [DayResult(r["policy"], r["cost_usd"], r["requests"], r["on_time"], r["dropped"], r["plan_changes"],
                         r["latency_ms"], [tuple(p) for p in r["cost_timeline"]], r["switch_overlap_usd"],
                         r["distinct_plans"], r["wall_s"], r["hourly_attainment"]) for r in data["results"]]
    print(day_markdown(results))
    print(f"\n{results[0].requests:,} requests; peak {data['peak_rate']:g} req/s with bursts; "
          f"{data['plans_made']} plans made in {data['planning_s']:.0f} s; simulation "
          f"{sum(r.wall_s for r in results):.0f} s")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main(sys.argv[1])
