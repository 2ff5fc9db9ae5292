"""`make docs-check`: the README's and docs' code blocks run as documented, and the figures they
quote from benches equal the bench outputs committed under bench/results/.

Markers (HTML comments, invisible when rendered; docs/CONTRIBUTING.md says how to use them):

    <!-- docs-check: skip (why) -->             on the line before a ```sh / ```python block: not run
    <!-- docs-check: figure FILE SELECTOR -->   right after a number: the number must equal FILE's value
    <!-- docs-check: table FILE [N] -->         on the line before a Markdown table: it must equal the
                                                N-th (default 1st) Markdown table of FILE

Blocks fenced as ```sh, ```bash, ```shell or ```python run (bash -e; python in a fresh
interpreter) in a scratch copy of examples/, docs/ and bench/ with .venv linked, each within
BLOCK_TIMEOUT_S; unlabelled blocks are output or synopses and are not run. SELECTOR for a CSV
file is `FILTERS:COLUMN` (the one matching row's cell) or `count FILTERS` (matching rows), with
FILTERS like `planner=optimal&cost!=` (`col!=` alone: not empty); for a JSON file a dotted path
(`results.0.cost_usd`). A trailing ` x100` scales the file's value (shares quoted as percents).
The doc's number is compared at the decimals it is written with.

    .venv/bin/python tools/docs_check.py [FILE.md ...]     (default: README.md docs/*.md)
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK_TIMEOUT_S = 180
RUN = {"sh": "bash", "bash": "bash", "shell": "bash", "python": "python"}
MARKER = re.compile(r"<!--\s*docs-check:\s*(\w+)\s*(.*?)\s*-->")
NUMBER = re.compile(r"([-+−]?\d[\d,]*(?:\.\d+)?)\s*%?\**\s*$")


@dataclass
class Block:
    """A fenced code block: where it is, its language, its text and the marker before it."""

    path: Path
    line: int
    lang: str
    text: str
    marker: tuple[str, str] | None


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file."""
    out, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang, start = lines[i][3:].strip(), i
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            m = MARKER.search(prev)
            out.append(Block(path, start + 1, lang, "\n".join(lines[start + 1:j]) + "\n",
                             (m.group(1), m.group(2)) if m else None))
            i = j
        i += 1
    return out


def scratch() -> Path:
    """A scratch copy of what the docs' commands read and write, with .venv linked."""
    d = Path(tempfile.mkdtemp(prefix="docs-check-"))
    for name in ("examples", "docs", "bench"):
        shutil.copytree(ROOT / name, d / name, ignore=shutil.ignore_patterns("*.onnx", "__pycache__"))
    (d / ".venv").symlink_to(ROOT / ".venv")
    return d


def run_block(block: Block, cwd: Path) -> tuple[bool, str, float]:
    """Run one block; (ok, the tail of its output, seconds)."""
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", COLUMNS="100")
    if RUN[block.lang] == "bash":
        argv = ["bash", "-e", "-o", "pipefail", "-c", block.text]
    else:
        argv = [str(ROOT / ".venv" / "bin" / "python"), "-c", block.text]
    start = time.perf_counter()
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
        ok, tail = p.returncode == 0, (p.stdout + p.stderr)[-1500:]
    except subprocess.TimeoutExpired:
        ok, tail = False, f"ran past {BLOCK_TIMEOUT_S} s (mark it `<!-- docs-check: skip (why) -->` if expensive)"
    return ok, tail, time.perf_counter() - start


def _csv_value(path: Path, selector: str) -> float:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    count = selector.startswith("count")
    filters, _, column = selector[len("count"):].strip().partition(":") if count else selector.partition(":")
    for f in filter(None, filters.split("&")):
        key, op, value = re.match(r"([^!=]+)(!=|=)(.*)", f).groups()  # type: ignore[union-attr]
        rows = [r for r in rows if (r[key] == value) == (op == "=")]
    if count:
        return float(len(rows))
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} rows match {filters!r}, not one")
    return float(rows[0][column])


def _json_value(path: Path, selector: str) -> float:
    data = json.loads(path.read_text(encoding="utf-8"))
    for part in selector.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return float(data)


def file_value(spec: str) -> float:
    """The value a `figure` marker names: `FILE SELECTOR [x100]`."""
    name, _, selector = spec.partition(" ")
    scale = 100.0 if selector.endswith(" x100") else 1.0
    selector = selector.removesuffix(" x100").strip()
    path = ROOT / name
    value = _json_value(path, selector) if path.suffix == ".json" else _csv_value(path, selector)
    return value * scale


def prose(path: Path) -> list[tuple[int, str]]:
    """(line number, line) outside fenced blocks, with inline code blanked (markers there are examples)."""
    out, fenced = [], False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((n, re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), line)))
    return out


def check_figures(path: Path) -> list[str]:
    """Every `figure` marker of a file: the number before it equals the file's value."""
    problems = []
    for n, line in prose(path):
        for m in MARKER.finditer(line):
            if m.group(1) != "figure":
                continue
            quoted = NUMBER.search(line[:m.start()].replace("**", ""))
            where = f"{path.relative_to(ROOT)}:{n}"
            if not quoted:
                problems.append(f"{where}: no number right before the figure marker")
                continue
            text = quoted.group(1).replace(",", "").replace("−", "-")
            decimals = len(text.partition(".")[2])
            try:
                value = file_value(m.group(2))
            except (OSError, KeyError, IndexError, ValueError) as e:
                problems.append(f"{where}: cannot read {m.group(2)!r}: {e}")
                continue
            if f"{value:.{decimals}f}" != f"{float(text):.{decimals}f}":
                problems.append(f"{where}: the doc says {quoted.group(1)}, {m.group(2)} says {value:.{decimals}f}")
    return problems


def _tables(text: str) -> list[list[list[str]]]:
    out, current = [], []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            if not re.fullmatch(r"\|?[\s:|-]+\|?", line.strip()):
                current.append([c.strip().replace("**", "") for c in line.strip().strip("|").split("|")])
        elif current:
            out.append(current)
            current = []
    return out


def check_tables(path: Path) -> list[str]:
    """Every `table` marker: the table after it equals the N-th table of the named file."""
    problems, lines = [], path.read_text(encoding="utf-8").splitlines()
    for n, line in prose(path):
        m = MARKER.search(line)
        if not m or m.group(1) != "table":
            continue
        name, _, index = m.group(2).partition(" ")
        where = f"{path.relative_to(ROOT)}:{n}"
        try:
            theirs = _tables((ROOT / name).read_text(encoding="utf-8"))[int(index or 1) - 1]
        except (OSError, IndexError, ValueError) as e:
            problems.append(f"{where}: cannot read table {index or 1} of {name}: {e}")
            continue
        ours = _tables("\n".join(lines[n:]))[0]
        if ours != theirs:
            diff = next(((a, b) for a, b in zip(ours, theirs) if a != b), (len(ours), len(theirs)))
            problems.append(f"{where}: the table differs from {name}: {diff[0]} vs {diff[1]}")
    return problems


def main(argv: list[str]) -> int:
    files = [ROOT / a for a in argv] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems: list[str] = []
    cwd, start, ran, skipped = scratch(), time.perf_counter(), 0, 0
    try:
        for path in files:
            problems += check_figures(path) + check_tables(path)
            for b in blocks(path):
                if b.lang not in RUN:
                    continue
                where = f"{path.relative_to(ROOT)}:{b.line}"
                if b.marker and b.marker[0] == "skip":
                    print(f"skip  {where} {b.marker[1]}")
                    skipped += 1
                    continue
                ok, tail, took = run_block(b, cwd)
                ran += 1
                print(f"{'ok  ' if ok else 'FAIL'}  {where} ({b.lang}, {took:.1f} s)")
                if not ok:
                    problems.append(f"{where}: the {b.lang} block failed:\n{tail}")
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    print(f"docs-check: {ran} blocks run, {skipped} skipped, {len(problems)} problems, "
          f"{time.perf_counter() - start:.0f} s")
    for p in problems:
        print(f"docs-check: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
