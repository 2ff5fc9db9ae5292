"""The bounds every number passes at the edge (docs/FORMATS.md "Bounds").

A bound is far beyond any real deployment; its job is to keep work bounded and to refuse the
absurd (a 401-digit rate, `1e308` ms hops, `--headroom 15` meant as 15 %) with one line that
names the file, the field and the fix, before anything is planned or simulated. Every reader
of numbers (YAML, CSV, plan JSON, command-line options) calls `check` or `parse_text` here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skinflint.errors import SpecError

DOCS = 'docs/FORMATS.md "Bounds"'


@dataclass(frozen=True)
class Bound:
    """Allowed values `lo < x <= hi` (`lo <= x` when `lo_closed`), whole numbers if `whole`."""

    name: str
    lo: float
    hi: float
    unit: str
    applies_to: str
    lo_closed: bool = False
    whole: bool = False
    fix: str = ""

    def describe(self) -> str:
        """The range as the docs write it, e.g. `(0, 1,000,000] req/s`."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{'[' if self.lo_closed else '('}{_num(self.lo)}, {_num(self.hi)}]{unit}"


BOUNDS: dict[str, Bound] = {b.name: b for b in (
    Bound("rate", 0, 1e6, "req/s", "app `rate`, `--rate`, `--peak`, plan rates"),
    Bound("module_rate", 0, 1e9, "req/s", "a module's or pool's rate in a plan (rate x rate_factor)"),
    Bound("curve_rate", 0, 1e6, "req/s", "rates of a day curve (`--curve`, `varying:file=`)", lo_closed=True),
    Bound("curve_time_s", 0, 7 * 86400, "s", "times of a day curve (a week at most)", lo_closed=True),
    Bound("slo_ms", 0, 3.6e6, "ms", "app `slo_ms`, `--slo-ms`, plan `slo_ms`"),
    Bound("hop_ms", 0, 3.6e6, "ms", "app `hop_ms`", lo_closed=True),
    Bound("rate_factor", 0, 1e3, "", "module `rate_factor`"),
    Bound("latency_ms", 0, 3.6e6, "ms", "profile `latency_ms`, plan latencies and cycles"),
    Bound("elapsed_ms", 0, 3.6e6, "ms", "worst latencies in a plan", lo_closed=True),
    Bound("price_per_hour", 0, 1e4, "$/h", "hardware `price_per_hour`, plan prices"),
    Bound("batch_size", 1, 65536, "", "profile and plan batch sizes", lo_closed=True, whole=True),
    Bound("workers", 1, 1e5, "", "workers of one plan group; of a whole plan (checked before simulating)",
          lo_closed=True, whole=True),
    Bound("headroom", 0, 1, "", "`--headroom` (a fraction: 0.15 plans for 15 % more)", lo_closed=True,
          fix="write a fraction, e.g. --headroom 0.15 for 15 % more; for more than double, raise --rate"),
    Bound("utilization", 0.01, 1, "", "`--utilization`", lo_closed=True, fix="e.g. --utilization 0.9"),
    Bound("duration_s", 0, 1e6, "s", "`simulate --duration`, `load --duration`"),
    Bound("seconds", 0, 86400, "s", "`--startup-s`, `--epoch-s`, time constants of policies", lo_closed=True),
    Bound("grid_step", 0, 1, "", "`day --grid-step`"),
    Bound("requests", 1, 1e9, "", "`--max-requests` (the cap on requests of one simulation)", lo_closed=True,
          whole=True),
    Bound("seed", 0, 2**63 - 1, "", "`--seed`", lo_closed=True, whole=True),
    Bound("target", 0, 1, "", "`--target` (the fraction of requests within the SLO)"),
    Bound("count", 0, 1e9, "", "other whole-number options (`--min-samples`, `--port`, ...)", lo_closed=True,
          whole=True),
    Bound("parameter", -1e9, 1e9, "", "numbers in `KIND:key=value` options (`--arrivals`, `--bursts`)",
          lo_closed=True),
)}

# Sizes of inputs, checked by the readers (spec/parse.py, spec/profiles.py, spec/app.py).
LIMITS: dict[str, tuple[int, str]] = {
    "file_bytes": (64 * 2**20, "bytes in one input file"),
    "depth": (32, "levels of nesting in a YAML or JSON file"),
    "nodes": (1_000_000, "YAML nodes, aliases expanded"),
    "digits": (4000, "digits in one number (longer ones are refused where they are read)"),
    "modules": (50, "modules in one application"),
    "batch_sizes": (256, "batch sizes in one profile curve (model, hardware)"),
    "plan_workers": (100_000, "workers in one plan (a lower bound is checked before planning)"),
    "sim_requests": (5_000_000, "requests in one `simulate` run unless --max-requests raises it"),
    "day_requests": (20_000_000, "requests of a `day` curve (each policy) unless --max-requests raises it"),
}
MAX_REQUESTS = LIMITS["sim_requests"][0]
MAX_DAY_REQUESTS = LIMITS["day_requests"][0]


def limit(name: str) -> int:
    """The size limit `name` of LIMITS."""
    return LIMITS[name][0]


def _num(x: float) -> str:
    if x == int(x) and abs(x) >= 1000:
        return f"{int(x):,}"
    return f"{x:g}"


def show(value: Any) -> str:
    """A value as a message quotes it: huge integers by their digit count, long text cut."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int) and len(str(abs(value))) > 15:
        return f"a {len(str(abs(value)))}-digit integer"
    text = repr(value) if isinstance(value, str) else (f"{value:g}" if isinstance(value, float) else str(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a yes/no value"
    if value is None:
        return "empty"
    return {str: "text", list: "a list", dict: "a mapping"}.get(type(value), f"a {type(value).__name__}")


def problem(name: str, value: Any) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for `value` against bound `name`, or None when it passes.

    Accepts int or float (never bool); text is refused with a hint when it looks like a number."""
    b = BOUNDS[name]
    fix = b.fix or f"use a number in {b.describe()} ({DOCS})"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            return f"{show(value)} is text, not a number", "write the number unquoted"
        return f"{show(value)} is {_kind(value)}, not a number", "write a plain number, e.g. 2.5"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{show(value)} is not a finite number", fix
    if b.whole and isinstance(value, float) and value != int(value):
        return f"{show(value)} is not a whole number", fix
    if b.lo_closed and value < b.lo:
        return f"{show(value)} is below the bound {_num(b.lo)}", fix
    if not b.lo_closed and value <= b.lo:
        return f"{show(value)} is not above {_num(b.lo)}", fix
    if value > b.hi:
        return f"{show(value)} is above the bound {_num(b.hi)}{' ' + b.unit if b.unit else ''}", fix
    return None


def check(name: str, value: Any, source: str | Path, field: str) -> Any:
    """`value` if it is within bound `name`, else a SpecError naming `source` and `field`."""
    found = problem(name, value)
    if found is not None:
        raise SpecError(source, field, *found)
    return int(value) if BOUNDS[name].whole else float(value)


# Plain ASCII decimals only: no `1_0`, no Arabic-Indic or full-width digits, no hex.
_DECIMAL = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_WHOLE = re.compile(r"\+?[0-9]+")


def parse_text(name: str, text: str, source: str | Path, field: str) -> Any:
    """A number written as text (CSV cells, option values) checked against bound `name`."""
    b = BOUNDS[name]
    raw = text.strip()
    pattern = _WHOLE if b.whole else _DECIMAL
    if len(raw) > limit("digits") or not pattern.fullmatch(raw):
        what = "a whole number" if b.whole else "a number"
        raise SpecError(source, field, f"{show(raw)} is not {what} in plain ASCII decimal digits",
                        f"write e.g. {'8' if b.whole else '12.5'} ({DOCS})")
    return check(name, int(raw) if b.whole else float(raw), source, field)


def min_workers(spec: Any) -> tuple[float, str]:
    """A lower bound on the workers of any plan of `spec` (u = 1, no headroom), and the module
    needing most: each module's rate over the best b / d(b) of its curves on the catalog."""
    total, worst, worst_n = 0.0, "", -1.0
    for m in spec.app.modules:
        best = max((b * 1000.0 / d for c in spec.profiles.for_model(m.model) if c.hardware in spec.hardware
                    for b, d in zip(c.batch_sizes, c.effective_ms)), default=0.0)
        n = spec.app.rate * m.rate_factor / best if best > 0 else 0.0
        total += n
        if n > worst_n:
            worst, worst_n = m.name, n
    return total, worst


def check_workload(spec: Any, source: str | Path) -> None:
    """Refuse, before planning, an app whose every plan would exceed the workers bound."""
    need, module = min_workers(spec)
    cap = limit("plan_workers")
    if need > cap:
        raise SpecError(source, "rate", f"at {spec.app.rate:g} req/s a plan needs at least {need:,.0f} workers "
                        f"(module {module!r} the most), above the bound of {cap:,} per plan",
                        f"lower the rate or rate_factor, or split the app ({DOCS})")


def check_plan_workers(workers: int, source: str | Path, fix: str = "") -> None:
    """Refuse a plan with more workers than the bound (before simulating or serving it)."""
    cap = limit("plan_workers")
    if workers > cap:
        raise SpecError(source, "workers", f"the plan has {workers:,} workers, above the bound of {cap:,}",
                        fix or f"plan for a lower rate ({DOCS})")


def check_requests(expected: float, cap: int, source: str | Path = "command line",
                   option: str = "--duration") -> None:
    """Refuse a simulation expected to see more than `cap` requests (rate x duration)."""
    if not expected <= cap:
        raise SpecError(source, option, f"about {expected:,.0f} requests to simulate, above the cap of {cap:,}",
                        f"{'shorten --duration or lower --rate' if option == '--duration' else 'lower the rates'}, "
                        "or raise the cap with --max-requests N")


def bounds_markdown() -> str:
    """The Bounds tables of docs/FORMATS.md, from BOUNDS and LIMITS (a test keeps them equal)."""
    lines = ["| bound | allowed | applies to |", "|---|---|---|"]
    lines += [f"| `{b.name}` | {b.describe()}{' (whole)' if b.whole else ''} | {b.applies_to} |" for b in BOUNDS.values()]
    lines += ["", "| limit | at most | of |", "|---|---:|---|"]
    lines += [f"| `{name}` | {n:,} | {what} |" for name, (n, what) in LIMITS.items()]
    return "\n".join(lines)
