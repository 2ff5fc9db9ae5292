"""Parsers the commands share: `NAME[:key=value,...]` options and arrival processes. Each bad
input is a SpecError naming the option and the fix (plan files: `skinflint.plan.load_plan`)."""

from __future__ import annotations

from typing import Any

from skinflint.commands.conventions import parse_param
from skinflint.errors import SpecError
from skinflint.sim.arrivals import arrival_kinds, arrival_params, make_arrivals


def parse_named(text: str, option: str, form: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` -> (NAME, params), numbers bounded (conventions.parse_param); a
    malformed item is a SpecError naming `option` and the expected `form`."""
    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise SpecError("command line", option, f"cannot read {item!r} in {text!r}", f"write {form}")
        params[key] = parse_param(value, option, key)
    return name, params


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
