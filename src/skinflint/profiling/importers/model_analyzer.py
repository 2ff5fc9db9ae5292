"""Model Analyzer's `results/metrics-model-inference.csv`: one row per model config, client batch
size and load (concurrency or request rate); times in ms. Columns are read by their metric tag
(`model_name`, `perf_throughput`, ...) or by the header Model Analyzer writes (`Model`,
`Throughput (infer/sec)`, ...).

Per (model, batch size) the row of least load is used; among the model configs measured there,
the fastest. Its batch time is
  - the server's compute (input + infer + output) where the file has those columns
    (`perf_server_compute_*` added to `inference_output_fields`), else
  - at concurrency 1, the mean round trip 1000 b / throughput (one request in flight, so by
    Little's law throughput = b / round trip): an upper bound on d(h, b), since it includes the
    network, serialisation and any dynamic-batching queue delay. Any other load without compute
    columns is an error: there requests queue and the server may merge them into batches whose
    size the file does not record.
At concurrency 1 the tails are the batch time plus the round trip's p95/p99 above its mean.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from skinflint.errors import SpecError
from skinflint.profiling.importers.rows import ImportOptions, Row, check_one_in_flight, fmt_ms, number, tail_columns
from skinflint.spec.files import read_csv_rows

ALIASES = {  # our name -> (metric tag, header Model Analyzer writes), matched case-insensitively
    "model": ("model_name", "model"), "batch": ("batch_size", "batch"),
    "concurrency": ("concurrency",), "request_rate": ("request_rate", "request rate"),
    "config": ("model_config_path", "model config path"), "instances": ("instance_group", "instance group"),
    "throughput": ("perf_throughput", "throughput (infer/sec)"),
    "p95": ("perf_latency_p95", "p95 latency (ms)"), "p99": ("perf_latency_p99", "p99 latency (ms)"),
    "input": ("perf_server_compute_input", "server compute input time (ms)"),
    "infer": ("perf_server_compute_infer", "server compute infer time (ms)"),
    "output": ("perf_server_compute_output", "server compute output time (ms)"),
}
REQUIRED = ("model", "batch", "throughput")
COMPUTE = ("input", "infer", "output")
FIX_LOAD = ("include concurrency 1 in Model Analyzer's search, or add perf_server_compute_input, "
            "perf_server_compute_infer and perf_server_compute_output to inference_output_fields")


@dataclass(frozen=True)
class Measured:
    """One CSV row read: where, what model and batch, the load, and the batch time it yields."""

    line: int
    model: str
    batch: int
    load_kind: str
    load: float
    throughput: float
    config: str
    d_ms: float | None          # None: not derivable from this row alone
    timing: str
    tails_ms: dict[str, float]  # client tail above its centre, for p95_ms / p99_ms


def resolve_columns(path: Path, header: list[str]) -> dict[str, str]:
    """Our name -> the file's column name, for the columns the file has; SpecError if a required one is missing."""
    lower = {h.lower(): h for h in header}
    cols = {ours: lower[a] for ours, names in ALIASES.items() for a in names if a in lower}
    missing = [ALIASES[c][0] for c in REQUIRED if c not in cols]
    if "concurrency" not in cols and "request_rate" not in cols:
        missing.append("concurrency")
    if missing:
        raise SpecError(path, "header", f"missing Model Analyzer column(s) {', '.join(missing)} "
                        f"(found: {', '.join(header)})", "import results/metrics-model-inference.csv unedited")
    return cols


def measure_row(path: Path, line: int, raw: dict[str, str], cols: dict[str, str]) -> Measured:
    """One row's batch time by the module docstring's rule (d_ms None where it cannot be derived)."""
    def num(name: str, positive: bool = False) -> float:
        return number(path, line, cols[name], raw[cols[name]], positive=positive)

    batch = num("batch", positive=True)
    if batch != int(batch):
        raise SpecError(path, f"line {line}.{cols['batch']}", f"not a whole number (got {raw[cols['batch']]!r})",
                        "import the CSV Model Analyzer wrote, unedited")
    kind = "concurrency" if "concurrency" in cols else "request_rate"
    load, throughput, b = num(kind, positive=True), num("throughput", positive=True), int(batch)
    one_in_flight = kind == "concurrency" and load == 1
    d, timing, tails = None, "", {}
    if all(c in cols for c in COMPUTE):
        d, timing = sum(num(c) for c in COMPUTE), "server-compute"
        if d <= 0:
            raise SpecError(path, f"line {line}.{cols['infer']}", "server compute time is 0",
                            "re-run Model Analyzer against a Triton server")
        if one_in_flight:
            check_one_in_flight(path, f"line {line}.{cols['throughput']}", throughput, b, d)
    elif one_in_flight:
        d, timing = 1000.0 * b / throughput, "round-trip"
    if one_in_flight and d is not None:
        mean_rtt = 1000.0 * b / throughput
        tails = {k: num(k) - mean_rtt for k in ("p95", "p99") if k in cols}
    config = raw.get(cols.get("config", ""), "") + (f" ({raw[cols['instances']]})" if "instances" in cols else "")
    return Measured(line, raw[cols["model"]], b, kind, load, throughput, config.strip(), d, timing, tails)


def read_model_analyzer(path: Path, options: ImportOptions) -> list[Row]:
    """One profile row per (model, batch size) of a metrics-model-inference.csv."""
    if not options.hardware:
        raise SpecError("command line", "--hardware", "a Model Analyzer CSV does not name the hardware type",
                        "pass --hardware TYPE (a name of your hardware catalog)")
    raw_rows = read_csv_rows(path, "Model Analyzer", ())
    if not raw_rows:
        raise SpecError(path, "rows", "no measurement rows under the header", "export a finished Model Analyzer run")
    cols = resolve_columns(path, list(raw_rows[0]))
    rows = [measure_row(path, i, r, cols) for i, r in enumerate(raw_rows, start=2)]
    if options.batch_size is not None:
        rows = [r for r in rows if r.batch == options.batch_size]
        if not rows:
            raise SpecError(path, "rows", f"no row at batch size {options.batch_size}", "drop --batch-size or pick "
                            "one the file has")
    models = sorted({r.model for r in rows})
    if options.model and len(models) > 1:
        raise SpecError(path, f"column {cols['model']}", f"--model renames one model but the file has {len(models)}: "
                        f"{', '.join(models)}", "drop --model (the file's names are kept) or split the file")
    groups: dict[tuple[str, int], list[Measured]] = defaultdict(list)
    for r in rows:
        groups[(r.model, r.batch)].append(r)
    return [_profile_row(path, rs, options) for _, rs in sorted(groups.items())]


def _profile_row(path: Path, rows: list[Measured], options: ImportOptions) -> Row:
    least = min(r.load for r in rows)
    candidates = [r for r in rows if r.load == least]
    usable = [r for r in candidates if r.d_ms is not None]
    if not usable:
        r = candidates[0]
        raise SpecError(path, f"line {r.line}", f"model {r.model!r} at batch {r.batch}: the least load measured is "
                        f"{r.load_kind.replace('_', ' ')} {r.load:g}, where requests queue and merge, and the file "
                        "has no server compute columns", FIX_LOAD)
    best = min(usable, key=lambda r: (r.d_ms, r.line))
    d = float(best.d_ms)  # type: ignore[arg-type]
    out: Row = {"model": options.model or best.model, "hardware": str(options.hardware),
                "batch_size": str(best.batch), "latency_ms": fmt_ms(d)}
    out |= tail_columns(d, best.tails_ms)
    what = "server compute input + infer + output" if best.timing == "server-compute" else \
        "mean round trip 1000 b / throughput (upper bound)"
    out |= {"throughput_per_s": f"{best.throughput:g}", "timing": best.timing, "triton_config": best.config,
            "source": f"{path.name} line {best.line} (Model Analyzer, {best.config or 'config'}, "
                      f"{best.load_kind.replace('_', ' ')} {best.load:g}; batch time = {what})"}
    return out
