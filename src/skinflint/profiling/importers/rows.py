"""What every profile format's reader shares: the row type, the options the file does not carry,
and the checks and formatting of its numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from skinflint.errors import SpecError

Row = dict[str, str]


@dataclass(frozen=True)
class ImportOptions:
    """What the file itself does not say: our model name, the hardware type it ran on, and the
    client batch size (perf_analyzer's `-b`; for Model Analyzer a filter)."""

    model: str | None = None
    hardware: str | None = None
    batch_size: int | None = None


def number(path: Path, line: int, column: str, text: str, *, positive: bool = False) -> float:
    """`text` as a finite number (>= 0, or > 0 if `positive`), else a SpecError naming the cell."""
    try:
        value = float(text)
    except ValueError:
        raise SpecError(path, f"line {line}.{column}", f"not a number (got {text!r})",
                        "the file must be the tool's unedited CSV output") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise SpecError(path, f"line {line}.{column}", f"must be a {'positive' if positive else 'non-negative'} "
                        f"finite number (got {text!r})",
                        "re-run the measurement; this value cannot be a time or a rate")
    return value


def tail_columns(latency_ms: float, spread_ms: dict[str, float]) -> Row:
    """p95_ms / p99_ms as the batch time plus the client's tail spread above its centre (never below
    the batch time): the spread is attributed wholly to the batch, an upper estimate."""
    return {f"{k}_ms": f"{latency_ms + max(0.0, v):.4f}" for k, v in spread_ms.items()}


RATE_TOL = 0.05  # with one request in flight a worker cannot beat 1000 b / d by more than this


def check_one_in_flight(path: Path, where: str, throughput: float, batch: int, d_ms: float) -> None:
    """With one request in flight, inferences/s <= 1000 b / d: a faster row means the batch size is wrong."""
    if throughput > (1 + RATE_TOL) * 1000.0 * batch / d_ms:
        raise SpecError(path, where, f"{throughput:g} inferences/s with one request in flight is above "
                        f"1000 b / d = {1000.0 * batch / d_ms:.1f}/s at batch size {batch}",
                        "give the batch size the client sent (perf_analyzer -b)")


def fmt_ms(value: float) -> str:
    """A time in ms as the profile CSV writes it (0.1 microsecond)."""
    return f"{value:.4f}"
