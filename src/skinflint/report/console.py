"""The console every command prints tables with, and its one rule: numbers are never cut.

A table is printed as a table when every cell fits on one line within the console's width (the
headers may wrap at spaces); otherwise it is printed as one block per row — the row's label,
then `column: value` pairs, as many to a line as fit. Nothing is ever cut with "…".

The width is $COLUMNS when set, else the terminal's, else 160 (piped output stays wide).
"""

from __future__ import annotations

import os
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 160


def _plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def _widths(table: Table) -> tuple[list[int], list[int]]:
    """Per column: the width with no cell wrapped and headers wrapped at spaces, and the width
    with nothing wrapped."""
    least, natural = [], []
    for column in table.columns:
        cells = [cell_len(line) for c in column.cells for line in _plain(c).splitlines()] or [0]
        header = _plain(column.header)
        words = [cell_len(w) for w in header.split()] or [0]
        least.append(max(cells + words))
        natural.append(max(cells + [cell_len(header)]))
    return least, natural


def table_width(table: Table) -> int:
    """Columns needed to print `table` with no cell wrapped (headers wrapped at spaces)."""
    return sum(_widths(table)[0]) + 3 * len(table.columns) + 1  # padding 1 + 1 and one rule per column


def records(table: Table, width: int) -> Group:
    """The narrow layout: per row its label (a left-justified first column), then `header: value`."""
    headers = [" ".join(_plain(c.header).split()) for c in table.columns]
    rows = list(zip(*([_plain(x) for x in c.cells] for c in table.columns)))
    labelled = bool(table.columns) and table.columns[0].justify == "left"
    lines: list[Text] = [Text(_plain(table.title), style="italic")] if table.title else []
    for row in rows:
        items = [f"{h}: {' '.join(v.split())}" for h, v in zip(headers, row) if v.strip()]
        if labelled and row and row[0].strip():
            lines.append(Text(" ".join(row[0].split()), style="bold"))
            items = items[1:]
        line = ""
        for item in items:
            if line and cell_len(line) + 3 + cell_len(item) > width - 2:
                lines.append(Text("  " + line))
                line = item
            else:
                line = f"{line} | {item}" if line else item
        if line:
            lines.append(Text("  " + line))
    return Group(*lines)


def fit(table: Table, width: int) -> Table | Group:
    """`table` when it fits `width` with its cells whole (column widths set so that rich need not
    squeeze them: the spare width unwraps the headers that need least), else its narrow layout."""
    least, natural = _widths(table)
    spare = width - table_width(table)
    if spare < 0:
        return records(table, width)
    if sum(natural) - sum(least) <= spare:
        return table
    widths = list(least)
    for i in sorted(range(len(widths)), key=lambda i: natural[i] - least[i]):
        grant = min(spare, natural[i] - least[i])
        widths[i] += grant
        spare -= grant
    for column, w in zip(table.columns, widths):
        column.width = w
    return table


class TableConsole(Console):
    """A rich Console that prints every Table by the rule above."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 - rich's name
        super().print(*(fit(o, self.width) if isinstance(o, Table) else o for o in objects), **kwargs)


def console_width(stderr: bool = False) -> int:
    """$COLUMNS when set, else the terminal's width, else PIPED_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    probe = Console(stderr=stderr)
    return probe.width if probe.is_terminal else PIPED_WIDTH


def make_console(stderr: bool = False) -> TableConsole:
    """The console commands print with (see the module docstring)."""
    return TableConsole(stderr=stderr, width=console_width(stderr))
