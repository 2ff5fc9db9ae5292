"""Where a bench writes its output: one file per bench and command line under bench/results/, so
that no run overwrites another's (`baselines_suite.py --fanout-lag` writes next to the default
run's file, not over it), and the docs check (tools/docs_check.py) can compare the figures the
docs quote with the committed files.

    with record(__file__, sys.argv[1:]):   # in a bench's `if __name__ == "__main__":`
        main()

tees what the bench prints to bench/results/NAME[--option-value...].md (NAME: the script's stem);
`result_path(NAME, argv, ".csv")` names its other outputs the same way.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path
from typing import Iterator, Sequence

RESULTS = Path(__file__).resolve().parent / "results"
NOT_IN_NAME = ("--out",)  # options that choose where, not what


def variant(argv: Sequence[str]) -> str:
    """The command line as a file-name suffix: `--fanout-lag --duration 20` -> `--fanout-lag--duration-20`."""
    parts, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in NOT_IN_NAME:
            skip = True
            continue
        parts.append(re.sub(r"[^A-Za-z0-9.=_-]+", "-", arg))
    return "".join(p if p.startswith("--") else f"-{p}" for p in parts)


def result_path(name: str, argv: Sequence[str], suffix: str, out: Path = RESULTS) -> Path:
    """bench/results/NAME[VARIANT]SUFFIX."""
    return out / f"{name}{variant(argv)}{suffix}"


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


@contextlib.contextmanager
def record(script: str, argv: Sequence[str]) -> Iterator[Path]:
    """Tee stdout to the bench's own result file (written only if the bench finishes)."""
    path = result_path(Path(script).stem, argv, ".md")
    buffer = io.StringIO()
    real = sys.stdout
    sys.stdout = _Tee(real, buffer)  # type: ignore[assignment]
    try:
        yield path
    finally:
        sys.stdout = real
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!-- {Path(script).name} {' '.join(argv)} -->\n" + buffer.getvalue(), encoding="utf-8")
    print(f"wrote {path}")
