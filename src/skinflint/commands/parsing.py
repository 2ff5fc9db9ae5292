"""Parsers the commands share: `NAME[:key=value,...]` options and arrival processes. Each bad
input is a SpecError naming the option and the fix (plan files: `skinflint.plan.load_plan`)."""

from __future__ import annotations

from typing import Any

from skinflint.spec.bounds import parse_param
from skinflint.errors import SpecError
from skinflint.sim.arrivals import arrival_kinds, arrival_params, make_arrivals
from skinflint.traffic import split_named


def parse_named(text: str, option: str, form: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` -> (NAME, params), numbers bounded (conventions.parse_param); a
    malformed item is a SpecError naming `option` and the expected `form`."""
    name, raw = split_named(text, "command line", option, form)
    return name, {key: parse_param(value, option, key) for key, value in raw.items()}


def parse_arrivals(text: str, rate: float) -> Any:
    """`KIND[:key=value,...]`, e.g. `bursty:ratio=4,burst_s=2` or `replay:file=ts.txt`; the offered
    rate is passed to processes that take a `rate` unless given."""
    kind, params = parse_named(text, "--arrivals", "KIND:key=value,key=value (e.g. bursty:ratio=4,burst_s=2)")
    if kind not in arrival_kinds():
        raise SpecError("command line", "--arrivals", f"unknown arrival process {kind!r}",
                        f"choose one of: {', '.join(arrival_kinds())}")
    if "rate" in arrival_params(kind) and "rate" not in params and kind not in ("varying",):
        params["rate"] = rate
    return make_arrivals(kind, **params)
