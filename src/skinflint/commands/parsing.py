"""Parsers the commands share: `NAME[:key=value,...]` options, arrival processes and plan files.
Each bad input is a SpecError naming the option or file and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skinflint.errors import SpecError
from skinflint.plan import Plan, plan_from_dict
from skinflint.sim.arrivals import arrival_kinds, arrival_params, make_arrivals
from skinflint.spec.files import read_text


def parse_named(text: str, option: str, form: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` -> (NAME, params), numbers as floats; a malformed item is a SpecError
    naming `option` and the expected `form`."""
    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise SpecError("command line", option, f"cannot read {item!r} in {text!r}", f"write {form}")
        try:
            params[key] = float(value)
        except ValueError:
            params[key] = value
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


def load_plan(path: Path) -> Plan:
    """A plan JSON as written by `skinflint plan --format json` (FORMATS.md)."""
    try:
        return plan_from_dict(json.loads(read_text(path, "plan")))
    except json.JSONDecodeError as e:
        raise SpecError(path, f"line {e.lineno}", f"not JSON: {e.msg}", "write the plan with --format json") from None
    except (KeyError, TypeError, ValueError) as e:
        raise SpecError(path, "", f"not a plan: {e!r}", "write the plan with `skinflint plan --format json`") from None
