"""Measured batch latencies to a CSV that `skinflint calibrate` reads (docs/daynight.md, "Calibration"):

    model,hardware,batch_size,latency_ms
    mobilenet_v2,cpu1,1,12.41

One row per batch a worker completed: the model, the worker's hardware type, the number of items
in the batch, and the batch's wall time from its dispatch to its outputs (ms).
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

COLUMNS = ("model", "hardware", "batch_size", "latency_ms")


class BatchLog:
    """Appends one row per batch run to `path` (header first); thread-safe; `close()` flushes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)
        self._lock = threading.Lock()
        self.rows = 0

    def record(self, model: str, hardware: str, batch_size: int, latency_ms: float) -> None:
        """One batch of `batch_size` items of `model` ran on `hardware` in `latency_ms`."""
        with self._lock:
            if self._file.closed:
                return
            self._writer.writerow((model, hardware, int(batch_size), f"{latency_ms:.3f}"))
            self.rows += 1

    def close(self) -> None:
        """Flush and close the file (later records are ignored)."""
        with self._lock:
            if not self._file.closed:
                self._file.close()
