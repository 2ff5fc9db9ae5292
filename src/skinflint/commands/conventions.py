"""What every command shares, applied in one place (`apply`, called by `cli.main`):

- every numeric option passes spec.bounds: the options named in OPTION_BOUNDS get their bound
  (`--rate` the rate bound, `--headroom` a fraction, ...), every other int/float option a generic
  finite bound; plain ASCII decimals only (`--rate 1_0` is refused, not read as 10);
- plain help (no `<bool>` placeholders on flags, nothing cut at 80 columns) and a usage line
  that reads `skinflint plan [OPTIONS] APP_FILES...`.

A command module declares options as usual (`rate: Optional[float] = typer.Option(None,
"--rate")`); nothing more is needed for its numbers to be checked.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import typer
from typer.core import TyperCommand

from skinflint.errors import SpecError
from skinflint.spec.bounds import _DECIMAL, check, check_plan_workers, check_requests, parse_text

# option -> bound of spec.bounds (options not named here get "parameter" or "count")
OPTION_BOUNDS: dict[str, str] = {
    "--rate": "rate", "--peak": "rate", "--slo-ms": "slo_ms", "--headroom": "headroom",
    "--utilization": "utilization", "--duration": "duration_s", "--seed": "seed", "--max-requests": "requests",
    "--startup-s": "seconds", "--epoch-s": "seconds", "--timeout": "seconds", "--time-cap-s": "seconds",
    "--replan-tick": "seconds", "--replan-half-life": "seconds", "--replan-window": "seconds",
    "--grid-step": "grid_step", "--target": "target",
}


def _bounded_value(param: Any, bound: str, process: Any, ctx: Any, value: Any) -> Any:
    """`param.process_value` for a numeric option: its text read by spec.bounds, not by float()."""
    option = param.opts[0] if param.opts else bound
    if isinstance(value, str):
        value = parse_text(bound, value, "command line", option)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):  # a default
        value = check(bound, value, "command line", option)
    return process(ctx, value)


def _bind_bound(param: Any) -> None:
    """Route an int/float option's value through its bound (OPTION_BOUNDS, else a generic one)."""
    kind = param.type_descriptor.annotation
    if param.param_type_name != "option" or getattr(param, "is_flag", False) or kind not in (int, float):
        return
    bound = OPTION_BOUNDS.get(param.opts[0], "count" if kind is int else "parameter")
    param.process_value = partial(_bounded_value, param, bound, param.process_value)


def parse_param(text: str, option: str, key: str) -> float | str:
    """A `key=value` value of a `KIND:key=value,...` option: a bounded number when it is written as
    one, else the text (a file name, a mode); `1_0`, `٤` or `nan` are refused, not read as numbers."""
    value = text.strip()
    if _DECIMAL.fullmatch(value):
        return parse_text("parameter", value, "command line", f"{option} {key}")
    try:
        float(value)
    except ValueError:
        return value
    raise SpecError("command line", f"{option} {key}", f"{value!r} is not a number in plain ASCII decimal digits",
                    "write e.g. 2.5")


def expected_requests(process: Any, duration_s: float) -> float:
    """About how many requests an arrival process makes in `duration_s` (an upper estimate)."""
    stamps = getattr(process, "stamps_ms", None)
    if stamps is not None:
        return float(len(stamps))
    rate = getattr(process, "rate", None)
    if rate is None and getattr(process, "points", None):
        rate = max(process.points[1])
    if rate is None and getattr(process, "fn", None) is not None:
        rate = max(process.fn(duration_s * i / 256) for i in range(257))
    return float(rate or 0.0) * duration_s


def check_simulation(plans: list[Any], processes: list[Any], duration_s: float, max_requests: int) -> None:
    """Before simulating: each plan (or fleet) within the workers bound, all arrivals within the cap."""
    for plan in plans:
        workers = (sum(g.workers for m in getattr(plan, "modules", ()) for g in m.groups)
                   + len(getattr(plan, "shared_workers", ())) + sum(g.workers for p in plan.pools for g in p.groups))
        check_plan_workers(workers, getattr(plan, "app", "fleet"), "plan for a lower rate, or simulate a smaller app")
    check_requests(sum(expected_requests(p, duration_s) for p in processes), max_requests)


class Command(TyperCommand):
    """A typer command with bounded numeric options, plain help and a plain usage line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rich_markup_mode = None  # click's plain help: wraps, never cuts; flags without placeholders
        for p in self.params:
            _bind_bound(p)

    @staticmethod
    def _argument_name(p: Any) -> str:
        name = p.metavar or (p.name or "").upper()
        name = name if p.required else f"[{name}]"
        return name + ("..." if p.nargs != 1 else "")

    def _arguments(self, ctx: Any) -> list[Any]:
        return [p for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [self._argument_name(p) for p in self._arguments(ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args = [(self._argument_name(p), (getattr(p, "help", "") or "")) for p in self._arguments(ctx)]
        opts = [r for p in self.get_params(ctx) if p.param_type_name == "option" and (r := p.get_help_record(ctx))]
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def apply(app: typer.Typer) -> None:
    """Make every command of `app` (and of its sub-apps) a `Command`, with plain group help."""
    app.rich_markup_mode = None
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = Command
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apply(group.typer_instance)
