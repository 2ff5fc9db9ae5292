"""A zoo of real vision architectures with random weights, built locally as ONNX (no download).

Each entry is a function of a numpy Generator that returns a checked `onnx.ModelProto` whose
input is ``images [batch, 3, H, W]`` with a symbolic batch axis. `build_zoo(DIR)` writes one
``NAME.onnx`` per entry; the profiler, the runtime and the tests all read those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import onnx

from skinflint.errors import SpecError
from skinflint.profiling.zoo import models as m
from skinflint.profiling.zoo.graph import BATCH, GraphBuilder


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry: its architecture, input size and task."""

    name: str
    architecture: Callable[..., object]
    input_size: int
    task: str
    description: str

    def build(self, rng: np.random.Generator) -> onnx.ModelProto:
        """The model with fresh random weights from `rng`."""
        g = GraphBuilder(rng, self.name)
        out = self.architecture(g, "images")
        if self.task == "detection":
            boxes, scores = out
            outputs = {g.identity(boxes, "boxes"): [BATCH, "anchors", 4],
                       g.identity(scores, "scores"): [BATCH, "anchors", "classes"]}
        else:
            outputs = {g.identity(out, "logits"): [BATCH, "classes"]}
        meta = {"zoo_name": self.name, "architecture": self.architecture.__name__,
                "input_size": str(self.input_size), "weights": "random (He normal), not trained"}
        return g.model(m.image_input(self.input_size), outputs, self.description, meta)


ZOO: dict[str, ZooModel] = {z.name: z for z in (
    ZooModel("resnet18", m.resnet18, 224, "classification",
             "ResNet-18 classifier, 224x224 ImageNet input (11.7M parameters)"),
    ZooModel("mobilenet_v2", m.mobilenet_v2, 224, "classification",
             "MobileNetV2 (width 1.0) classifier, 224x224 ImageNet input (3.5M parameters)"),
    ZooModel("ssdlite_mobilenet_v2", m.ssdlite_mobilenet_v2, 320, "detection",
             "SSDLite detector on a MobileNetV2 backbone, 320x320 frames, 91 classes, no NMS"),
    ZooModel("tiny_cnn", m.tiny_cnn, 32, "classification",
             "tiny test classifier on 32x32 images (one conv, one linear layer)"),
)}
DEFAULT = ("resnet18", "mobilenet_v2", "ssdlite_mobilenet_v2")


def get_zoo_model(name: str) -> ZooModel:
    """A zoo entry by name; SpecError listing the known names otherwise."""
    if name not in ZOO:
        raise SpecError("command line", "--models", f"unknown zoo model {name!r}", f"choose from {', '.join(ZOO)}")
    return ZOO[name]


def build_zoo(directory: str | Path, names: Iterable[str] = DEFAULT, *,
              rng: np.random.Generator | None = None) -> list[Path]:
    """Write NAME.onnx for each zoo entry into `directory` (created); returns the paths written."""
    entries = [get_zoo_model(n) for n in names]
    rng = rng if rng is not None else np.random.default_rng(0)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise SpecError(directory, "", "exists and is not a directory", "name a directory for the zoo")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in entries:
        path = directory / f"{entry.name}.onnx"
        onnx.save_model(entry.build(rng), path)
        paths.append(path)
    return paths
