"""perf_analyzer's `-f` CSV: one row per load level (`Concurrency` or `Request Rate`), every time
in microseconds; one file per model, hardware and client batch size (`perf_analyzer -b B`).

The batch time is the server's compute, `Server Compute Input + Infer + Output`, at the row of
least load (concurrency 1, or the lowest request rate): there one request is in flight, nothing
queues and no other execution shares the GPU, which is what MODEL.md's d(h, b) is — one worker
running one batch. The client's round trip (`p50 latency` ...) adds network, serialisation and
queueing that a batch-aware dispatcher in front of the worker does not pay per batch. The tail
columns p95_ms / p99_ms are the batch time plus the client's spread above its median at that
row (an upper estimate: all of the spread is charged to the batch).
"""

from __future__ import annotations

from pathlib import Path

from skinflint.errors import SpecError
from skinflint.profiling.importers.rows import ImportOptions, Row, check_one_in_flight, fmt_ms, number, tail_columns
from skinflint.profiling.profiler import NOISY_TAIL
from skinflint.spec.files import read_csv_rows

LOAD_COLUMNS = ("Concurrency", "Request Rate")
THROUGHPUT = "Inferences/Second"
COMPUTE = ("Server Compute Input", "Server Compute Infer", "Server Compute Output")
CENTRE, TAILS = "p50 latency", {"p95": "p95 latency", "p99": "p99 latency"}
US_PER_MS = 1000.0


def _require(options: ImportOptions) -> tuple[str, str, int]:
    if not options.model or not options.hardware or options.batch_size is None:
        raise SpecError("command line", "--model/--hardware/--batch-size", "a perf_analyzer CSV names neither the "
                        "model, the hardware nor the batch size", "pass --model NAME --hardware TYPE --batch-size B "
                        "(the -b perf_analyzer ran with)")
    return options.model, options.hardware, options.batch_size


def least_loaded(path: Path, rows: list[dict[str, str]], column: str) -> tuple[int, dict[str, str]]:
    """(line, row) of the smallest load value; the first such row on ties."""
    loads = [(number(path, i, column, r[column], positive=True), i, r) for i, r in enumerate(rows, start=2)]
    _, line, row = min(loads, key=lambda t: (t[0], t[1]))
    return line, row


def read_perf_analyzer(path: Path, options: ImportOptions) -> list[Row]:
    """One profile row from one perf_analyzer `-f` CSV (see the module docstring for the rule)."""
    model, hardware, batch = _require(options)
    rows = read_csv_rows(path, "perf_analyzer", (THROUGHPUT, *COMPUTE))
    if not rows:
        raise SpecError(path, "rows", "no measurement rows under the header",
                        "export a finished run (perf_analyzer -f)")
    column = next((c for c in LOAD_COLUMNS if c in rows[0]), None)
    if column is None:
        raise SpecError(path, "header", f"neither {' nor '.join(LOAD_COLUMNS)} is a column",
                        "export with perf_analyzer -f FILE: its first column is the load")
    line, row = least_loaded(path, rows, column)
    load = float(row[column])
    compute_us = sum(number(path, line, c, row[c]) for c in COMPUTE)
    if compute_us <= 0:
        raise SpecError(path, f"line {line}.{COMPUTE[1]}", "server compute time is 0",
                        "measure against a Triton server (other service kinds report no server times)")
    d = compute_us / US_PER_MS
    throughput = number(path, line, THROUGHPUT, row[THROUGHPUT], positive=True)
    if column == "Concurrency" and load == 1:
        check_one_in_flight(path, f"line {line}.{THROUGHPUT}", throughput, batch, d)
    out: Row = {"model": model, "hardware": hardware, "batch_size": str(batch), "latency_ms": fmt_ms(d)}
    if CENTRE in row and all(c in row for c in TAILS.values()):
        centre = number(path, line, CENTRE, row[CENTRE])
        out |= tail_columns(d, {k: (number(path, line, c, row[c]) - centre) / US_PER_MS for k, c in TAILS.items()})
        out["client_p50_ms"] = fmt_ms(centre / US_PER_MS)
        out["client_p99_ms"] = fmt_ms(number(path, line, TAILS["p99"], row[TAILS["p99"]]) / US_PER_MS)
        out["flags"] = "noisy" if float(out["p95_ms"]) - d > NOISY_TAIL * d else ""
    if "Server Queue" in row:
        out["server_queue_ms"] = fmt_ms(number(path, line, "Server Queue", row["Server Queue"]) / US_PER_MS)
    out |= {"throughput_per_s": f"{throughput:g}", "timing": "server-compute",
            "source": f"{path.name} line {line} (perf_analyzer, {column.lower()} {load:g}; "
                      "batch time = server compute input + infer + output)"}
    return [out]
