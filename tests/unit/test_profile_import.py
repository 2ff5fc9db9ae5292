"""`skinflint profiles import`: Triton's perf_analyzer and Model Analyzer CSVs as profile rows.

Every expected number is derived by hand from the fixture files in tests/fixtures/triton/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skinflint.cli import main
from skinflint.profiling.csvfile import read_rows
from skinflint.spec.profiles import load_profiles

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "triton"
PA_HEADER = ("Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,"
             "Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency")


def run(*args: str) -> int:
    return main(["profiles", "import", *args])


def rows_by_key(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    return {(r["model"], int(r["batch_size"])): r for r in read_rows(path)}


def test_perf_analyzer_files_give_server_compute_at_concurrency_one(tmp_path: Path) -> None:
    out = tmp_path / "profiles.csv"
    assert run(str(FIX / "pa_resnet50_t4_b1.csv"), str(FIX / "pa_resnet50_t4_b8.csv"), "--format", "perf_analyzer",
               "--model", "resnet50", "--hardware", "T4", "--batch-size", "1,8", "-o", str(out)) == 0
    rows = rows_by_key(out)
    b1, b8 = rows[("resnet50", 1)], rows[("resnet50", 8)]
    # b1, concurrency 1 (line 2): 118 + 2650 + 58 = 2826 us -> 2.826 ms
    assert b1["latency_ms"] == "2.8260" and b1["hardware"] == "T4" and b1["timing"] == "server-compute"
    # tails: d + (p - p50): 2.826 + (3980 - 3762)/1000 = 3.044; 2.826 + (4210 - 3762)/1000 = 3.274
    assert (b1["p95_ms"], b1["p99_ms"]) == ("3.0440", "3.2740")
    assert (b1["client_p50_ms"], b1["client_p99_ms"], b1["server_queue_ms"]) == ("3.7620", "4.2100", "0.0200")
    # b8: concurrency 1 is the last line (4): 610 + 6480 + 95 = 7185 us; p99 7.185 + (9910 - 7980)/1000 = 9.115
    assert (b8["latency_ms"], b8["p95_ms"], b8["p99_ms"]) == ("7.1850", "7.5550", "9.1150")
    assert b8["source"].startswith("pa_resnet50_t4_b8.csv line 4 (perf_analyzer, concurrency 1")
    assert b1["flags"] == b8["flags"] == ""  # (3.044 - 2.826)/2.826 = 7.7 % < 25 %: not noisy
    curve = load_profiles([out]).get("resnet50", "T4")
    assert curve.batch_sizes == (1, 8) and curve.latency_ms == (2.826, 7.185)


def test_model_analyzer_round_trip_and_server_compute(tmp_path: Path) -> None:
    out = tmp_path / "profiles.csv"
    assert run(str(FIX / "ma_metrics-model-inference.csv"), str(FIX / "ma_with_compute.csv"),
               "--format", "model_analyzer", "--hardware", "T4", "-o", str(out)) == 0
    rows = rows_by_key(out)
    # resnet50 b1 at concurrency 1: config_0 1000/312.0 = 3.2051 ms beats config_1 1000/298.5 = 3.3501
    r1 = rows[("resnet50", 1)]
    assert (r1["latency_ms"], r1["timing"]) == ("3.2051", "round-trip")
    assert r1["triton_config"] == "resnet50_config_0 (1:GPU)"
    assert r1["p99_ms"] == "3.9000"  # d + (p99 - mean round trip) = p99 when d is the mean round trip
    # resnet50 b8: 8000/1012.4 = 7.9020 (the concurrency-2 row is ignored); densenet b1: 1000/150 = 6.6667
    assert rows[("resnet50", 8)]["latency_ms"] == "7.9020" and rows[("densenet", 1)]["latency_ms"] == "6.6667"
    # yolov5s b4 with compute columns: config_0 0.40 + 6.10 + 0.21 = 6.71 (config_1: 7.00);
    # p99 = 6.71 + (9.8 - 4000/470.5) = 6.71 + 1.2984 = 8.0084
    y = rows[("yolov5s", 4)]
    assert (y["latency_ms"], y["p99_ms"], y["timing"]) == ("6.7100", "8.0084", "server-compute")
    assert y["source"].startswith("ma_with_compute.csv line 3 (Model Analyzer, yolov5s_config_0")


def test_import_merges_like_profile(tmp_path: Path) -> None:
    out = tmp_path / "profiles.csv"
    out.write_text("model,hardware,batch_size,latency_ms,note\nresnet50,T4,1,99,old\nresnet50,A10G,1,1.5,kept\n")
    assert run(str(FIX / "pa_resnet50_t4_b1.csv"), "--format", "perf_analyzer", "--model", "resnet50",
               "--hardware", "T4", "--batch-size", "1", "-o", str(out)) == 0
    rows = {(r["model"], r["hardware"], r["batch_size"]): r for r in read_rows(out)}
    assert rows[("resnet50", "T4", "1")]["latency_ms"] == "2.8260"          # replaced
    assert rows[("resnet50", "A10G", "1")]["note"] == "kept"                # other rows and columns kept


def test_lowest_request_rate_row_and_noisy_flag(tmp_path: Path) -> None:
    f = tmp_path / "rr.csv"
    f.write_text(PA_HEADER.replace("Concurrency", "Request Rate") + "\n"
                 "200,200.0,10,100,900,50,4000,50,1,6000,7000,8000,9000\n"
                 "50,50.0,10,100,5,50,3900,50,1,4500,5000,5800,6500\n")
    out = tmp_path / "o.csv"
    assert run(str(f), "--format", "perf_analyzer", "--model", "m", "--hardware", "T4", "--batch-size", "1",
               "-o", str(out)) == 0
    row = read_rows(out)[0]
    # rate 50 (line 3): 50 + 3900 + 50 = 4000 us; p95 = 4.0 + (5800 - 4500)/1000 = 5.3: 32.5 % above -> noisy
    assert (row["latency_ms"], row["p95_ms"], row["flags"]) == ("4.0000", "5.3000", "noisy")
    assert "request rate 50" in row["source"]


BAD = [
    ("pa", "Concurrency,Inferences/Second\n1,100\n", ["--model", "m", "--hardware", "T4", "--batch-size", "1"],
     "missing column(s) Server Compute Input"),
    ("pa", PA_HEADER + "\n", ["--model", "m", "--hardware", "T4", "--batch-size", "1"], "no measurement rows"),
    ("pa", PA_HEADER + "\n1,abc,1,1,1,1,1,1,1,1,1,1,1\n", ["--model", "m", "--hardware", "T4", "--batch-size", "1"],
     "line 2.Inferences/Second: not a number"),
    ("pa", PA_HEADER + "\n1,100,1,1,1,0,0,0,1,1,1,1,1\n", ["--model", "m", "--hardware", "T4", "--batch-size", "1"],
     "server compute time is 0"),
    # 8 inferences/s... at -b 1 is fine, but 1000/s at d = 2 ms with one request in flight needs b >= 2
    ("pa", PA_HEADER + "\n1,1000,1,1,1,0,2000,0,1,3000,3000,3000,3000\n",
     ["--model", "m", "--hardware", "T4", "--batch-size", "1"], "above 1000 b / d = 500.0/s"),
    ("pa", PA_HEADER + "\n1,100,1,1,1,1,1,1,1,1,1,1,1\n", ["--hardware", "T4", "--batch-size", "1"],
     "--model/--hardware/--batch-size"),
    ("ma", "Model,Batch,Concurrency,Throughput (infer/sec)\nm,1,4,100\n", ["--hardware", "T4"],
     "the least load measured is concurrency 4"),
    ("ma", "Model,Batch,Throughput (infer/sec)\nm,1,100\n", ["--hardware", "T4"], "missing Model Analyzer column(s) "
     "concurrency"),
    ("ma", "Model,Batch,Concurrency,Throughput (infer/sec)\nm,1.5,1,100\n", ["--hardware", "T4"],
     "line 2.Batch: not a whole number"),
    ("ma", "Model,Batch,Concurrency,Throughput (infer/sec)\nm,1,1,100\n", [], "--hardware"),
    ("ma", "Model,Batch,Concurrency,Throughput (infer/sec)\na,1,1,100\nb,1,1,100\n", ["--hardware", "T4", "--model",
     "x"], "--model renames one model but the file has 2"),
]


@pytest.mark.parametrize("kind,text,args,message", BAD, ids=[b[3][:30] for b in BAD])
def test_bad_files_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, kind: str, text: str,
                                         args: list[str], message: str) -> None:
    f = tmp_path / "in.csv"
    f.write_text(text)
    fmt = "perf_analyzer" if kind == "pa" else "model_analyzer"
    assert run(str(f), "--format", fmt, *args, "-o", str(tmp_path / "o.csv")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_unknown_format_and_duplicate_rows(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    b1 = str(FIX / "pa_resnet50_t4_b1.csv")
    assert run(b1, "--format", "triton", "-o", str(tmp_path / "o.csv")) == 2
    assert "choose one of: model_analyzer, perf_analyzer" in capsys.readouterr().err
    assert run(b1, b1, "--format", "perf_analyzer", "--model", "m", "--hardware", "T4", "--batch-size", "1",
               "-o", str(tmp_path / "o.csv")) == 2
    assert "is also given by pa_resnet50_t4_b1.csv line 2" in capsys.readouterr().err
