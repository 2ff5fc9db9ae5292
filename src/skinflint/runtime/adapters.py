"""Adapters: how a module's input items are made from the request and its parents' outputs.

An app module may name one (`adapter: crops`); the default, `frame`, gives the module the
request's own tensor. The runtime decides how many items a request brings to a module (its
`rate_factor`, rounded as the simulator does, skinflint.fanout) and asks the adapter for
exactly that many, each shaped like one input of the module's model.

    adapter(frame, parents, count, shape) -> list of `count` arrays of `shape`

`parents` maps each parent module to the outputs of its items (a list of {name: array}).

A request's own tensor arrives in one of two documented layouts (`frame_layout`, checked on its
shape and dtype before any of its data is read): `CHW`, the entry model's input exactly
(float32, channels first), or `HWC`, an 8-bit image as PIL and OpenCV give it ((H, W, C) uint8
for a (C, H, W) input), converted by `to_model_layout` to CHW float32 in [0, 1] (value / 255).
Every adapter's work is bounded by the shapes of the plan's models, never by the request.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from skinflint.registry import Registry

ItemOutputs = dict[str, np.ndarray]
Adapter = Callable[[np.ndarray, dict[str, list[ItemOutputs]], int, Sequence[int]], list[np.ndarray]]

_REGISTRY: Registry[Adapter] = Registry("adapter", "adapter")
DEFAULT = "frame"


def register_adapter(name: str, adapter: Adapter) -> Adapter:
    """Add an adapter under `name`; a duplicate name is an error."""
    return _REGISTRY.register(name, adapter)


def get_adapter(name: str) -> Adapter:
    """The adapter `name` ("" = the default); the error lists the known ones."""
    return _REGISTRY.get(name or DEFAULT)


def adapter_names() -> list[str]:
    """The registered adapter names."""
    return _REGISTRY.names()


CHW, HWC = "CHW", "HWC"


def frame_layout(shape: Sequence[int], dtype: np.dtype, item_shape: Sequence[int]) -> str:
    """The layout of a request tensor of `shape` and `dtype` (the last len(item_shape) axes) for a
    model taking float32 `item_shape`: CHW or HWC (module docstring); ValueError naming both
    otherwise. Reads no data."""
    shape, item_shape, dtype = tuple(shape), tuple(item_shape), np.dtype(dtype)
    tail = shape[len(shape) - len(item_shape):] if len(shape) >= len(item_shape) else shape
    if tail == item_shape and dtype.kind == "f" and dtype.itemsize == 4:
        return CHW
    if len(item_shape) == 3 and tail == (*item_shape[1:], item_shape[0]) and dtype == np.uint8:
        return HWC
    image = f" or {[*item_shape[1:], item_shape[0]]} uint8 (HWC image)" if len(item_shape) == 3 else ""
    raise ValueError(f"tensor must be {list(item_shape)} float32 (CHW){image}; got {list(shape)} {dtype.name}")


def to_model_layout(tensor: np.ndarray, layout: str) -> np.ndarray:
    """`tensor` (its last three axes in `layout`) as native float32 CHW: as it is, or an HWC uint8
    image moved to channels first and scaled to [0, 1]."""
    if layout == HWC:
        return np.moveaxis(tensor, -1, -3).astype(np.float32) / np.float32(255)
    return tensor.astype(np.float32, copy=False)


def resize(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Nearest-neighbour resize of a (C, H, W) image to `shape` (C', H', W'), channels cycled
    when C differs, gathered in one step (only the output's elements are read); any other array
    is flattened, cycled and reshaped."""
    shape = tuple(int(d) for d in shape)
    image = np.asarray(image)
    if image.shape == shape:
        return image
    if image.ndim == 3 and len(shape) == 3 and image.size:
        c, h, w = image.shape
        rows = (np.arange(shape[1]) * h // shape[1]).clip(0, h - 1)
        cols = (np.arange(shape[2]) * w // shape[2]).clip(0, w - 1)
        chans = np.arange(shape[0]) % c
        return image[np.ix_(chans, rows, cols)]
    flat = image.reshape(-1) if image.size else np.zeros(1, image.dtype)
    return np.resize(flat, shape)


def frame(frame_: np.ndarray, parents: dict[str, list[ItemOutputs]], count: int,
          shape: Sequence[int]) -> list[np.ndarray]:
    """The request's tensor (resized to the model's input) for each of the `count` items."""
    item = resize(frame_, shape).astype(frame_.dtype, copy=False)
    return [item] * count


def crops(frame_: np.ndarray, parents: dict[str, list[ItemOutputs]], count: int,
          shape: Sequence[int]) -> list[np.ndarray]:
    """Detector boxes -> crops: the `count` best-scoring boxes of the (first) parent's `boxes`
    ([anchors, 4], corners normalised to [0, 1]) and `scores` ([anchors, classes]) outputs, each
    cut from the frame and resized to the model's input (a degenerate box becomes a 1-pixel crop)."""
    outputs = next(iter(parents.values()))[0]
    boxes, scores = np.asarray(outputs["boxes"]), np.asarray(outputs["scores"])
    best = np.argsort(-scores.max(axis=-1), kind="stable")[:count]
    _, h, w = frame_.shape
    out = []
    for k in range(count):
        x1, y1, x2, y2 = (np.clip(boxes[best[k % len(best)]], 0.0, 1.0) * [w, h, w, h]).astype(int)
        x1, x2 = sorted((min(x1, w - 1), min(x2, w - 1)))
        y1, y2 = sorted((min(y1, h - 1), min(y2, h - 1)))
        out.append(resize(frame_[:, y1:y2 + 1, x1:x2 + 1], shape).astype(frame_.dtype, copy=False))
    return out


register_adapter("frame", frame)
register_adapter("crops", crops)
