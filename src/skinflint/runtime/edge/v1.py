"""skinflint's own inference API, `POST /v1/apps/APP/infer`: one frame per request.

The body is the frame as `.npy` bytes (Content-Type application/x-npy, or application/octet-
stream; read without pickle, its header checked before its data) or JSON {"tensor": nested
lists of numbers}; the frame is the entry model's input (CHW float32) or, for .npy, an 8-bit
image (HWC uint8, skinflint.runtime.adapters). `?outputs=summary` (default: each output's shape
and argmax) or `full` (the arrays).
"""

from __future__ import annotations

import math
from typing import Any, Sequence
from urllib.parse import parse_qs

import numpy as np

from skinflint.runtime.adapters import frame_layout, to_model_layout
from skinflint.runtime.edge import wire

MEDIA = (wire.NPY, wire.OCTETS, wire.JSON)


def decode_frame(body: bytes, content_type: str, entry_shape: Sequence[int]) -> np.ndarray:
    """The request's frame as (1, *entry shape) float32; ValueError with the reason, Unsupported
    for a media type other than MEDIA."""
    entry_shape = tuple(entry_shape)
    kind = wire.media_type(content_type)
    if kind in (wire.NPY, wire.OCTETS):
        shape, dtype, fortran, offset = wire.npy_header(body)
        if len(shape) != len(entry_shape):
            frame_layout((), dtype, entry_shape)         # raises, naming the accepted layouts
        layout = frame_layout(shape, dtype, entry_shape)
        return to_model_layout(wire.npy_array(body, shape, dtype, fortran, offset), layout)[None]
    if kind == wire.JSON:
        doc = wire.loads(body)
        if type(doc) is not dict or "tensor" not in doc:
            raise ValueError('JSON body must be an object {"tensor": [...]}')
        shape, flat = wire.nested_shape(doc["tensor"])
        frame_layout(shape, np.float32, entry_shape)
        return wire.numbers(flat, np.float32).reshape((1, *shape))
    raise wire.Unsupported(f"unsupported Content-Type {content_type!r}: send {wire.NPY} or {wire.JSON}")


def check_npy_prefix(prefix: memoryview, content_length: int | None, entry_shape: Sequence[int]) -> bool | None:
    """Check a .npy body from its first bytes: True when its header names an acceptable frame (and
    the declared length fits it), None when more bytes are needed; ValueError with the reason."""
    size = wire.npy_header_size(prefix)
    if size is None or len(prefix) < size:
        return None
    shape, dtype, _, offset = wire.npy_header(prefix[:size])
    if len(shape) != len(entry_shape):
        frame_layout((), dtype, entry_shape)
    frame_layout(shape, dtype, entry_shape)
    need = offset + math.prod(shape) * dtype.itemsize
    if content_length is not None and content_length != need:
        raise ValueError(f".npy body is {content_length} bytes, its header says {need}")
    return True


def outputs_mode(query: str) -> str:
    """`summary` or `full` from the query string; ValueError otherwise."""
    values = parse_qs(query).get("outputs", ["summary"])
    if len(values) != 1 or values[0] not in ("summary", "full"):
        raise ValueError("outputs must be 'summary' or 'full'")
    return values[0]


def result_json(result: Any, outputs: str) -> dict[str, Any]:
    """A result as JSON: latency, hops, per-module times, and per exit module per item either the
    outputs' shapes and argmax (`summary`) or the full arrays (`full`)."""
    def item(o: dict[str, np.ndarray]) -> dict[str, Any]:
        if outputs == "full":
            return {k: v.tolist() for k, v in o.items()}
        return {k: {"shape": list(v.shape), "argmax": int(np.argmax(v)) if v.size else None} for k, v in o.items()}
    return {"request": result.request, "latency_ms": result.latency_ms, "on_time": result.on_time,
            "hops": result.hops, "modules": {k: {"ready_ms": a, "done_ms": b} for k, (a, b) in result.modules.items()},
            "outputs": {m: [item(o) for o in items] for m, items in result.outputs.items()}}
