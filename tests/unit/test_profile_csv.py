"""Profile CSVs: flags, write/merge, and combining repeated runs with their spread."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skinflint.errors import SpecError
from skinflint.profiling.csvfile import combine_runs, read_rows, write_profile, write_rows
from skinflint.profiling.measure import summarize
from skinflint.profiling.profiler import ProfilePoint, non_monotone, point_flags, with_monotonicity_flags
from skinflint.spec.profiles import load_profiles

BASE = ProfilePoint("m", "cpu", 1, 1.0, 1.1, 1.2, 1.05, 20, True, (), "CPU", "2/1", "test")


def point(batch_size: int, latency_ms: float, **kw) -> ProfilePoint:
    return replace(BASE, batch_size=batch_size, latency_ms=latency_ms, **kw)


@given(st.lists(st.tuples(st.integers(1, 64), st.floats(0.1, 100.0)), min_size=1, max_size=8,
                unique_by=lambda t: t[0]))
def test_non_monotone_matches_brute_force(curve):
    curve.sort()
    sizes, lat = [b for b, _ in curve], [d for _, d in curve]
    brute = {b for i, b in enumerate(sizes) if any(lat[j] < lat[i] for j in range(i + 1, len(sizes)))}
    assert non_monotone(sizes, lat) == brute


def test_flags_name_noise_instability_contention_and_dips():
    quiet = summarize([10.0] * 19 + [10.5], converged=True)
    noisy = summarize([10.0] * 10 + [20.0] * 2, converged=False)  # p95 = 20 ms, twice the median
    assert point_flags(quiet) == [] and point_flags(noisy) == ["noisy", "unstable"]
    assert point_flags(quiet, others_share=0.3) == ["contended"] and point_flags(quiet, others_share=0.05) == []
    flagged = with_monotonicity_flags([point(1, 2.0), point(2, 3.0), point(4, 2.5), point(8, 4.0)])
    assert [p.flags for p in flagged] == [(), ("non-monotone",), (), ()]  # 3.0 ms at b=2 > 2.5 ms at b=4


def test_write_then_merge_replaces_same_rows_and_keeps_the_rest(tmp_path):
    path = tmp_path / "p.csv"
    write_profile([point(1, 1.0), point(2, 1.5)], path)
    write_profile([point(2, 1.8), replace(point(1, 7.0), model="other")], path)
    rows = read_rows(path)
    assert [(r["model"], r["batch_size"], r["latency_ms"]) for r in rows] == [
        ("m", "1", "1.0000"), ("m", "2", "1.8000"), ("other", "1", "7.0000")]
    header = next(csv.reader(path.open()))
    assert header[:4] == ["model", "hardware", "batch_size", "latency_ms"] and header[-1] == "source"
    assert len(load_profiles([path]).curves) == 2  # the planner's loader reads what the profiler writes


def test_merge_keeps_columns_of_an_existing_file_and_replace_drops_it(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("model,hardware,batch_size,latency_ms,comment\nx,T4,1,2.0,hand-measured\n")
    write_profile([point(1, 1.0)], path)
    rows = read_rows(path)
    assert rows[1]["comment"] == "hand-measured" and rows[0]["comment"] == ""
    write_profile([point(1, 1.0)], path, merge=False)
    assert [r["model"] for r in read_rows(path)] == ["m"]


def test_merging_into_a_file_without_the_format_columns_is_a_spec_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("name,latency\nx,1\n")
    with pytest.raises(SpecError, match="missing column"):
        write_profile([point(1, 1.0)], path)


def test_combine_takes_median_of_runs_and_records_spread(tmp_path):
    runs = []
    for i, (d1, d2, d4) in enumerate([(1.0, 2.0, 3.0), (1.2, 2.1, 1.9), (1.1, 2.2, 1.8)]):
        path = tmp_path / f"run{i}.csv"
        flags = {2: ("noisy",)} if i == 0 else {}
        write_profile([point(b, d, flags=flags.get(b, ()), n=10) for b, d in ((1, d1), (2, d2), (4, d4))], path)
        runs.append(path)
    rows = {int(r["batch_size"]): r for r in combine_runs(runs)}
    assert float(rows[1]["latency_ms"]) == pytest.approx(1.1)
    assert (rows[1]["run_min_ms"], rows[1]["run_max_ms"], rows[1]["runs"], rows[1]["n"]) == ("1.0000", "1.2000", "3", "30")
    assert float(rows[1]["spread_pct"]) == pytest.approx(100 * 0.2 / 1.1, abs=0.05)
    assert rows[1]["flags"] == "spread"  # 18 % > 10 %
    assert rows[2]["flags"] == "noisy;non-monotone"  # one run's flag kept; 2.1 ms at b=2 > 1.9 ms at b=4
    assert float(rows[4]["spread_pct"]) == pytest.approx(100 * 1.2 / 1.9, abs=0.05)
    assert rows[4]["source"].endswith("median of 3 of 3 runs") and rows[4]["runs_used"] == "3"


def test_write_rows_sorts_batch_sizes_numerically(tmp_path):
    path = write_rows([{"model": "m", "hardware": "h", "batch_size": b, "latency_ms": "1"} for b in ("16", "2")],
                      tmp_path / "p.csv")
    assert [r["batch_size"] for r in read_rows(path)] == ["2", "16"]


def test_combine_leaves_out_contended_runs_but_shows_them(tmp_path):
    paths = []
    for i, (latency, others) in enumerate([(10.0, 0.01), (30.0, 0.45), (11.0, 0.02)]):
        paths.append(write_profile([point(1, latency, others_cpu_pct=others, flags=("contended",) if others > 0.1
                                          else ())], tmp_path / f"r{i}.csv"))
    (row,) = combine_runs(paths)
    assert float(row["latency_ms"]) == pytest.approx(10.5)  # median of the two quiet runs: (10 + 11) / 2
    assert (row["runs"], row["runs_used"], row["flags"]) == ("3", "2", "")
    assert row["run_medians_ms"] == "10.0000;30.0000;11.0000" and row["run_others_cpu_pct"] == "1.0;45.0;2.0"
    assert float(row["spread_pct"]) == pytest.approx(100 * 1.0 / 10.5, abs=0.05)
    all_busy = combine_runs(paths[1:2])
    assert all_busy[0]["flags"] == "contended" and all_busy[0]["runs_used"] == "1"  # no quiet run: used, flagged
