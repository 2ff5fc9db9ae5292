"""What arrives on the wire, checked before anything is allocated from it: media types and the
auth scheme as RFC 9110 has them, JSON with bounds, `.npy` headers read before their data.

Every decoding failure is a `ValueError` whose message is the reason the client is told (422);
`Unsupported` is a media type or encoding the server does not take (415).
"""

from __future__ import annotations

import hmac
import io
import json
import math
from itertools import chain
from typing import Any

import numpy as np

NPY = "application/x-npy"
JSON = "application/json"
OCTETS = "application/octet-stream"
MAX_INT_DIGITS = 19        # an int64 has at most 19 digits; longer integers are refused, not parsed
MAX_AXES = 8
MAX_NPY_HEADER = 4096


class Unsupported(ValueError):
    """A media type or content coding the server does not take (415)."""


def media_type(value: str | None) -> str:
    """The `type/subtype` of a Content-Type, lower-case, parameters dropped ('' when absent).
    RFC 9110 8.3.1: type and subtype are case-insensitive; the match is exact, never a prefix."""
    if not value:
        return ""
    return value.split(";", 1)[0].strip().lower()


def bearer_matches(value: str | None, token: str) -> bool:
    """`Authorization: Bearer TOKEN`, the scheme case-insensitive (RFC 9110 11.1), the token
    compared in constant time."""
    if not value:
        return False
    scheme, _, credentials = value.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode())


def check_plain_body(headers: dict[str, str]) -> None:
    """Refuse a compressed body (Content-Encoding other than identity): Unsupported."""
    coding = headers.get("content-encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        raise Unsupported(f"Content-Encoding {coding!r} is not supported: send the body uncompressed")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"JSON integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON has {name}, which is not a number")


def loads(body: bytes | memoryview) -> Any:
    """JSON from UTF-8 bytes; ValueError with the reason for bad UTF-8, bad syntax, nesting
    beyond the interpreter's recursion limit, integers over 19 digits, NaN or Infinity."""
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"body is not UTF-8: {e}") from None
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"body is not JSON: {e}") from None


def nested_shape(data: Any) -> tuple[tuple[int, ...], list]:
    """The shape of a rectangular nest of lists, and its leaves in row-major order; ValueError
    when it is not a list, is ragged, mixes lists and values, or has more than MAX_AXES axes."""
    if type(data) is not list:
        raise ValueError(f"tensor must be a list of numbers (got {type(data).__name__})")
    shape: list[int] = []
    level: list = [data]
    while level and type(level[0]) is list:
        if len(shape) == MAX_AXES:
            raise ValueError(f"tensor has more than {MAX_AXES} axes")
        if set(map(type, level)) != {list}:
            raise ValueError("tensor is not rectangular: lists and values mixed at one depth")
        lengths = set(map(len, level))
        if len(lengths) != 1:
            raise ValueError(f"tensor is not rectangular: rows of lengths {sorted(lengths)[:4]} at depth {len(shape)}")
        shape.append(lengths.pop())
        level = list(chain.from_iterable(level))
    return tuple(shape), level


def numbers(values: list, dtype: np.dtype) -> np.ndarray:
    """JSON numbers as a flat array of `dtype`; ValueError for a string, boolean or null, or a
    value that is not finite in `dtype`."""
    kinds = set(map(type, values))
    if not kinds <= {int, float}:
        bad = sorted(k.__name__ for k in kinds - {int, float})
        raise ValueError(f"tensor values must be JSON numbers (got {', '.join('null' if b == 'NoneType' else b for b in bad)})")
    wide = np.array(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = wide.astype(dtype)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"tensor has values that are not finite as {np.dtype(dtype).name}")
    if out.dtype.kind in "iu" and not np.array_equal(out, wide):
        raise ValueError(f"tensor has values that are not {np.dtype(dtype).name}")
    return out


_HEADERS: dict[bytes, tuple[tuple[int, ...], np.dtype, bool, int]] = {}
HEADER_CACHE = 256          # distinct .npy headers remembered (a load sends one header again and again)


def npy_header(body: bytes | memoryview) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """(shape, dtype, fortran order, data offset) of `.npy` bytes, read without touching the data;
    ValueError for a bad header or an object dtype (no pickle). Headers seen before are not
    parsed again (numpy's parser compiles the header's dict literal: ~0.1 ms)."""
    raw = _header_bytes(body)
    known = _HEADERS.get(raw) if raw is not None else None
    if known is not None:
        return known
    parsed = _parse_npy_header(body)
    if raw is not None and len(_HEADERS) < HEADER_CACHE:
        _HEADERS[raw] = parsed
    return parsed


def npy_header_size(prefix: bytes | memoryview) -> int | None:
    """The byte count of the .npy header (magic and version included) that `prefix` begins, None
    when more bytes are needed to tell; ValueError when it is not .npy."""
    if len(prefix) < 12:
        if bytes(prefix[:6]) != b"\x93NUMPY"[:len(prefix[:6])]:
            raise ValueError("body is not a .npy array (no magic string)")
        return None
    if bytes(prefix[:6]) != b"\x93NUMPY" or prefix[6] not in (1, 2, 3):
        raise ValueError("body is not a .npy array (no magic string or an unknown version)")
    return int.from_bytes(prefix[8:10], "little") + 10 if prefix[6] == 1 else int.from_bytes(prefix[8:12], "little") + 12


def _header_bytes(body: bytes | memoryview) -> bytes | None:
    """The magic, version and header of `.npy` bytes as they are (None when too short to tell)."""
    if len(body) < 12 or bytes(body[:6]) != b"\x93NUMPY":
        return None
    size = int.from_bytes(body[8:10], "little") + 10 if body[6] == 1 else int.from_bytes(body[8:12], "little") + 12
    return bytes(body[:size]) if size <= min(len(body), MAX_NPY_HEADER + 16) else None


def _parse_npy_header(body: bytes | memoryview) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    f = io.BytesIO(body[:MAX_NPY_HEADER + 16])
    try:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f, max_header_size=MAX_NPY_HEADER)
    except Exception as e:  # noqa: BLE001 - any header failure is the client's
        raise ValueError(f"body is not a .npy array: {e}") from None
    if dtype.hasobject:
        raise ValueError("body is a .npy array of pickled objects: send numbers")
    if len(shape) > MAX_AXES:
        raise ValueError(f".npy array has more than {MAX_AXES} axes")
    return tuple(int(d) for d in shape), dtype, bool(fortran), f.tell()


def npy_array(body: bytes | memoryview, shape: tuple[int, ...], dtype: np.dtype, fortran: bool,
              offset: int) -> np.ndarray:
    """The array of a checked `.npy` header, a view on `body` (no copy); ValueError when the
    data is not exactly the header's size."""
    count = math.prod(shape)
    if len(body) - offset != count * dtype.itemsize:
        raise ValueError(f".npy data is {len(body) - offset} bytes, the header says {count * dtype.itemsize}")
    flat = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C")
