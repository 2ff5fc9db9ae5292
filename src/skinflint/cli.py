"""The `skinflint` command line: one typer app, commands in `skinflint.commands.*`, and one
`main()` that turns every user-facing error into a one-line message and an exit code
(2 invalid input, 3 no plan meets the SLO) — never a traceback."""

from __future__ import annotations

import importlib
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator

import typer
from typer.exceptions import Abort, Exit, TyperException

from skinflint.errors import SkinflintError

app = typer.Typer(
    name="skinflint",
    help="Serve DNN pipelines under a latency objective for the least money.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from skinflint import __version__

        print(f"skinflint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                       help="Print the version and exit.")) -> None:
    """Serve DNN pipelines under a latency objective for the least money."""

# Each module registers its commands on `app`; later issues add names here.
COMMANDS = ("plan", "demo", "compare", "simulate", "profiles", "profiles_import", "profile", "zoo", "serve", "day",
            "calibrate", "report", "deploy")


def _load_commands() -> None:
    from skinflint.commands.conventions import apply

    for name in COMMANDS:
        importlib.import_module(f"skinflint.commands.{name}")
    apply(app)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"skinflint: warning: {message}", file=sys.stderr)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """While the block runs, print each warning as one line `skinflint: warning: ...` on stderr;
    then put back whatever showed warnings before."""
    before = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        warnings.showwarning = before


def fail(message: str, code: int) -> "typer.Exit":
    """Print one line on stderr and return the Exit to raise."""
    print(f"skinflint: error: {' '.join(str(message).split())}", file=sys.stderr)
    return typer.Exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `skinflint` script; returns the exit code."""
    _load_commands()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        with one_line_warnings():
            app(args=args or ["--help"], prog_name="skinflint", standalone_mode=False)
    except SkinflintError as e:
        print(f"skinflint: error: {' '.join(str(e).split())}", file=sys.stderr)
        return e.exit_code
    except Exit as e:
        return e.exit_code
    except Abort:
        print("skinflint: aborted", file=sys.stderr)
        return 130
    except TyperException as e:  # usage errors: unknown option, bad option value, missing argument
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx is not None else "skinflint"
        print(f"skinflint: error: command line: {' '.join(e.format_message().split())} (fix: see `{where} --help`)",
              file=sys.stderr)
        return 2
    return 0


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
