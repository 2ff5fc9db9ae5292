"""The Open Inference Protocol (KServe v2, HTTP/REST) for one application served as one model.

The model, named after the app, has one input `frame`: shape [N, C, H, W] FP32 (N frames, each
the entry model's input, CHW) or [N, H, W, C] UINT8 (8-bit images, channels last; converted to
CHW float32 / 255, skinflint.runtime.adapters), 1 <= N <= the server's max frames. Each frame
is one request of the runtime (the dispatchers see every frame); the answer waits for all.
Outputs, per exit module M and per output O of its model: `M/O`, the items of every frame
stacked in frame order ([items, ...]), and `M/items` INT64 [N], the items of each frame.
Tensors travel as JSON `data` or in the binary tensor extension (`Inference-Header-Content-Length`:
the JSON header's bytes, then each tensor's raw little-endian bytes, `binary_data_size` each).
Everything is checked against the model before a tensor is built.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from skinflint.runtime.adapters import frame_layout, to_model_layout
from skinflint.runtime.edge import wire

INPUT = "frame"
DTYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
          "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
          "FP32": np.float32, "FP64": np.float64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_CACHED_HEAD = 4096     # bytes: a longer JSON header is parsed every time, never kept
OutputSpec = Mapping[str, Mapping[str, tuple[tuple[int, ...], np.dtype]]]   # module -> output -> (item shape, dtype)


@dataclass
class InferCall:
    """A decoded inference request: its id, the frames (N, *entry shape) float32, the outputs asked
    for (name -> binary; None: all) and whether unnamed outputs go binary."""

    id: str | None
    frames: np.ndarray
    outputs: dict[str, bool] | None
    binary: bool


def datatype(dtype: np.dtype) -> str:
    """The KServe datatype name of a numpy dtype."""
    return NAMES[np.dtype(dtype).newbyteorder("=")]


def output_names(spec: OutputSpec) -> list[str]:
    """Every output tensor's name, in answer order."""
    return [n for m, outs in spec.items() for n in [*(f"{m}/{o}" for o in outs), f"{m}/items"]]


def model_metadata(name: str, entry_shape: Sequence[int], spec: OutputSpec) -> dict[str, Any]:
    """The model metadata response."""
    outputs = []
    for m, outs in spec.items():
        outputs += [{"name": f"{m}/{o}", "datatype": datatype(dt), "shape": [-1, *shape]}
                    for o, (shape, dt) in outs.items()]
        outputs.append({"name": f"{m}/items", "datatype": "INT64", "shape": [-1]})
    return {"name": name, "versions": ["1"], "platform": "skinflint",
            "inputs": [{"name": INPUT, "datatype": "FP32", "shape": [-1, *entry_shape]}], "outputs": outputs}


def _tensor_head(t: Any, entry_shape: tuple[int, ...], max_frames: int) -> tuple[list[int], np.dtype, str]:
    """(shape, dtype, layout) of the input tensor's JSON head, all checked."""
    if type(t) is not dict:
        raise ValueError(f"'inputs' must hold one tensor object named {INPUT!r}")
    if t.get("name") != INPUT:
        raise ValueError(f"unknown input {t.get('name')!r}: this model's one input is {INPUT!r}")
    kind, shape = t.get("datatype"), t.get("shape")
    if kind not in DTYPES:
        raise ValueError(f"unknown datatype {kind!r}: send FP32 (CHW frames) or UINT8 (HWC images)")
    if type(shape) is not list or not all(type(d) is int for d in shape):
        raise ValueError("'shape' must be a list of integers")
    if len(shape) != len(entry_shape) + 1:
        raise ValueError(f"'shape' must be [N, {', '.join(map(str, entry_shape))}] (got {shape})")
    if not 1 <= shape[0] <= max_frames:
        raise ValueError(f"N = {shape[0]} frames: send 1 to {max_frames} per request")
    dtype = np.dtype(DTYPES[kind])
    return shape, dtype, frame_layout(shape[1:], dtype, entry_shape)


@dataclass(frozen=True)
class Head:
    """A binary-extension request's JSON header, parsed and checked once (a client sends the same
    header with every request, so the edge keeps these by the header's bytes: `HeadCache`): the
    input's shape, dtype, layout and byte count, the request's id and outputs, or why the outputs
    are wrong (told after the body, as for a JSON body, so the connection is kept)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    layout: str
    nbytes: int
    id: str | None = None
    outputs: dict[str, bool] | None = None
    binary: bool = False
    error: str | None = None
    inline: bool = False          # the tensor is the header's JSON `data` (no binary part)


def read_head(head: bytes | memoryview, entry_shape: Sequence[int], max_frames: int,
              known_outputs: Sequence[str]) -> Head:
    """The binary extension's JSON header checked against the model; ValueError with the reason."""
    doc = wire.loads(head)
    if type(doc) is not dict:
        raise ValueError("the inference request must be a JSON object")
    t = _the_input(doc)
    shape, dtype, layout = _tensor_head(t, tuple(entry_shape), max_frames)
    nbytes = math.prod(shape) * dtype.itemsize
    size = _params(t).get("binary_data_size")
    if size is None and "data" in t:
        return Head(tuple(shape), dtype, layout, 0, inline=True)
    if type(size) is not int or size != nbytes:
        raise ValueError(f"binary_data_size must be {nbytes} bytes for shape {shape} {datatype(dtype)}, and the "
                         f"bytes after the JSON header as many")
    try:
        return Head(tuple(shape), dtype, layout, nbytes, _request_id(doc), *_outputs(doc, known_outputs))
    except ValueError as e:
        return Head(tuple(shape), dtype, layout, nbytes, error=str(e))


class HeadCache:
    """Parsed binary headers by their bytes (at most `size`; cleared when full): a header is
    parsed and checked once per client, not once per request."""

    def __init__(self, entry_shape: Sequence[int], max_frames: int, known_outputs: Sequence[str],
                 size: int = 256) -> None:
        self.entry_shape, self.max_frames, self.known, self.size = tuple(entry_shape), max_frames, known_outputs, size
        self._heads: dict[bytes, Head] = {}

    def get(self, head: bytes | memoryview) -> Head:
        """The parsed header; ValueError with the reason."""
        key = bytes(head)
        found = self._heads.get(key)
        if found is None:
            found = read_head(key, self.entry_shape, self.max_frames, self.known)
            if found.inline or len(key) > MAX_CACHED_HEAD:   # data in it, or a big one: not kept
                return found
            if len(self._heads) >= self.size:
                self._heads.clear()
            self._heads[key] = found
        return found


def header_length(value: str, content_length: int | None) -> int:
    """Inference-Header-Content-Length as a byte count within the body; ValueError otherwise."""
    if not value.isdigit() or (content_length is not None and int(value) > content_length):
        raise ValueError("Inference-Header-Content-Length must be the JSON header's byte count, within the body")
    return int(value)


def check_head(prefix: memoryview, header_length_value: str, content_length: int | None,
               heads: HeadCache) -> bool | None:
    """Check a binary-extension body from its JSON header alone (before the tensor bytes come): True
    when it fits, None when the header is not all in yet; ValueError with the reason."""
    n = header_length(header_length_value, content_length)
    if len(prefix) < n:
        return None
    head = heads.get(prefix[:n])
    if content_length is not None and content_length - n != head.nbytes:
        raise ValueError(f"binary_data_size must be {head.nbytes} bytes for shape {list(head.shape)} "
                         f"{datatype(head.dtype)}, and the bytes after the JSON header ({content_length - n}) as many")
    return True


def parse_binary(body: bytes, header_length_value: str, heads: HeadCache) -> InferCall:
    """A binary-extension request from its body: the header (parsed once per client), then the
    tensor read in place; ValueError with the reason."""
    n = header_length(header_length_value, len(body))
    head = heads.get(memoryview(body)[:n])
    if len(body) - n != head.nbytes:
        raise ValueError(f"binary_data_size must be {head.nbytes} bytes for shape {list(head.shape)} "
                         f"{datatype(head.dtype)}, and the bytes after the JSON header ({len(body) - n}) as many")
    if head.inline:
        return _from_doc(wire.loads(memoryview(body)[:n]), heads.entry_shape, heads.max_frames, heads.known)
    if head.error is not None:
        raise ValueError(head.error)
    tensor = np.frombuffer(body, dtype=head.dtype.newbyteorder("<"), count=math.prod(head.shape),
                           offset=n).reshape(head.shape)
    return InferCall(head.id, to_model_layout(tensor, head.layout), head.outputs, head.binary)


def parse_infer(body: bytes, header_length: str | None, entry_shape: Sequence[int], max_frames: int,
                known_outputs: Sequence[str], heads: HeadCache | None = None) -> InferCall:
    """An inference request from its body (and the binary extension's header); ValueError with the
    reason for anything malformed. Shapes, datatypes and sizes are checked before any copy."""
    if header_length is not None:
        return parse_binary(body, header_length, heads or HeadCache(entry_shape, max_frames, known_outputs))
    return _from_doc(wire.loads(body), entry_shape, max_frames, known_outputs)


def _from_doc(doc: Any, entry_shape: Sequence[int], max_frames: int, known_outputs: Sequence[str]) -> InferCall:
    """A request whose tensor is JSON `data`."""
    if type(doc) is not dict:
        raise ValueError("the inference request must be a JSON object")
    t = _the_input(doc)
    shape, dtype, layout = _tensor_head(t, tuple(entry_shape), max_frames)
    count = math.prod(shape)
    if _params(t).get("binary_data_size") is not None:
        raise ValueError("parameters.binary_data_size needs the binary extension's Inference-Header-Content-Length")
    if "data" not in t:
        raise ValueError("the input has neither 'data' nor parameters.binary_data_size")
    nest, flat = wire.nested_shape(t["data"])
    if len(nest) > 1 and nest != tuple(shape):
        raise ValueError(f"'data' is nested as {list(nest)}, 'shape' says {shape}")
    if len(flat) != count:
        raise ValueError(f"'data' has {len(flat)} values, 'shape' {shape} needs {count}")
    tensor = wire.numbers(flat, dtype).reshape(shape)
    return InferCall(_request_id(doc), to_model_layout(tensor, layout), *_outputs(doc, known_outputs))


def _the_input(doc: dict) -> Any:
    inputs = doc.get("inputs")
    if type(inputs) is not list or len(inputs) != 1:
        raise ValueError(f"'inputs' must be a list of one tensor named {INPUT!r}")
    return inputs[0]


def _params(t: dict) -> dict:
    params = t.get("parameters", {})
    if type(params) is not dict:
        raise ValueError("input 'parameters' must be an object")
    return params


def _request_id(doc: dict) -> str | None:
    rid = doc.get("id")
    if rid is not None and type(rid) is not str:
        raise ValueError("'id' must be a string")
    return rid


def _flag(params: Any, key: str, where: str) -> bool:
    if params is None:
        return False
    if type(params) is not dict or type(params.get(key, False)) is not bool:
        raise ValueError(f"{where} 'parameters' must be an object and {key} a boolean")
    return params.get(key, False)


def _outputs(doc: dict, known: Sequence[str]) -> tuple[dict[str, bool] | None, bool]:
    binary = _flag(doc.get("parameters"), "binary_data_output", "request")
    outs = doc.get("outputs")
    if outs is None:
        return None, binary
    if type(outs) is not list or not all(type(o) is dict and type(o.get("name")) is str for o in outs):
        raise ValueError("'outputs' must be a list of objects with a 'name'")
    asked = {}
    for o in outs:
        if o["name"] not in known:
            raise ValueError(f"unknown output {o['name']!r}: this model has {', '.join(known)}")
        asked[o["name"]] = _flag(o.get("parameters"), "binary_data", "output") or binary
    return asked, binary


def output_tensors(results: Sequence[Any], spec: OutputSpec) -> list[tuple[str, np.ndarray]]:
    """Every output tensor of the answer to `results` (one per frame), in answer order."""
    tensors = []
    for m, outs in spec.items():
        for o, (shape, dt) in outs.items():
            items = [item[o] for r in results for item in r.outputs[m]]
            tensors.append((f"{m}/{o}", np.stack(items) if items else np.zeros((0, *shape), dt)))
        tensors.append((f"{m}/items", np.array([len(r.outputs[m]) for r in results], dtype=np.int64)))
    return tensors


def encode_infer(model: str, call: InferCall, tensors: list[tuple[str, np.ndarray]],
                 parameters: dict[str, Any]) -> tuple[bytes, int | None]:
    """The answer body and, when any tensor goes binary, the JSON header's length."""
    outputs, blobs = [], []
    for name, arr in tensors:
        if call.outputs is not None and name not in call.outputs:
            continue
        entry: dict[str, Any] = {"name": name, "datatype": datatype(arr.dtype), "shape": list(arr.shape)}
        if (call.outputs or {}).get(name, call.binary):
            blob = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = arr.ravel().tolist()
        outputs.append(entry)
    doc: dict[str, Any] = {"model_name": model, "model_version": "1", "outputs": outputs, "parameters": parameters}
    if call.id is not None:
        doc["id"] = call.id
    head = json.dumps(doc).encode()
    if not blobs:
        return head, None
    return b"".join([head, *blobs]), len(head)
