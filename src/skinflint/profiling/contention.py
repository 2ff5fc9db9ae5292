"""How much of the machine other processes used while we measured (Linux; None elsewhere).

A CPU profile is only as quiet as the machine: on a shared box other work takes cores and shows
up as latency. The machine's busy CPU time (user, nice, system, irq, softirq and steal, from
/proc/stat) minus this process's own CPU time, over the wall time of a measurement and the cores
available, is the share of the machine that others used. The profiler records it per batch size
and flags a measurement ``contended`` above a threshold, instead of hiding it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuSnapshot:
    """Machine-wide busy CPU seconds and this process's CPU seconds at one instant."""

    machine_busy_s: float
    own_s: float
    wall_s: float


def snapshot() -> CpuSnapshot | None:
    """The current counters, or None where /proc/stat cannot be read."""
    try:
        fields = STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    ticks = os.sysconf("SC_CLK_TCK")
    return CpuSnapshot((user + nice + system + irq + softirq + steal) / ticks, time.process_time(), time.monotonic())


def others_share(before: CpuSnapshot | None, after: CpuSnapshot | None, cpus: int | None = None) -> float | None:
    """Fraction of the machine's `cpus` (default: all online) that others used between two snapshots."""
    cpus = cpus or os.cpu_count() or 1
    if before is None or after is None or after.wall_s <= before.wall_s:
        return None
    others = (after.machine_busy_s - before.machine_busy_s) - (after.own_s - before.own_s)
    return min(1.0, max(0.0, others / ((after.wall_s - before.wall_s) * cpus)))
