"""Adapters: how a module's input items are made from the request and its parents' outputs.

An app module may name one (`adapter: crops`); the default, `frame`, gives the module the
request's own tensor. The runtime decides how many items a request brings to a module (its
`rate_factor`, rounded as the simulator does, skinflint.fanout) and asks the adapter for
exactly that many, each shaped like one input of the module's model.

    adapter(frame, parents, count, shape) -> list of `count` arrays of `shape`

`parents` maps each parent module to the outputs of its items (a list of {name: array}).
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


def resize(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Nearest-neighbour resize of a (C, H, W) image to `shape` (C', H', W'), channels cycled
    when C differs; any other array is flattened, cycled and reshaped."""
    shape = tuple(int(d) for d in shape)
    image = np.asarray(image)
    if image.shape == shape:
        return image
    if image.ndim == 3 and len(shape) == 3 and image.size:
        c, h, w = image.shape
        rows = (np.arange(shape[1]) * h // shape[1]).clip(0, h - 1)
        cols = (np.arange(shape[2]) * w // shape[2]).clip(0, w - 1)
        chans = np.arange(shape[0]) % c
        return np.ascontiguousarray(image[chans][:, rows][:, :, cols])
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
