"""Tiny apps and ONNX models for the runtime tests: a 32x32 detector (boxes + scores) feeding a
32x32 classifier through the `crops` adapter, with profiles made up for the sleep runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from skinflint.plan import Plan
from skinflint.planners.base import PlanOptions  # noqa: F401  (documents where options live)
from skinflint.profiling.zoo import ZOO
from skinflint.profiling.zoo.graph import BATCH, GraphBuilder
from skinflint.profiling.zoo.models import image_input
from skinflint.spec.loader import load_spec
from skinflint.spec.types import Spec
import skinflint


def tiny_detector(rng: np.random.Generator) -> onnx.ModelProto:
    """conv 3->8 stride 4 on 32x32 (an 8x8 map), heads for 4 box corners and 5 class scores
    per cell: boxes [batch, 64, 4] (sigmoid, so in [0, 1]) and scores [batch, 64, 5]."""
    g = GraphBuilder(rng, "tiny_det")
    fmap = g.relu(g.conv("images", 3, 8, 3, stride=4))
    boxes = g._node("Sigmoid", [g.reshape(g.transpose(g.conv(fmap, 8, 4, 1), (0, 2, 3, 1)), (0, -1, 4))])
    scores = g.softmax(g.reshape(g.transpose(g.conv(fmap, 8, 5, 1), (0, 2, 3, 1)), (0, -1, 5)), axis=2)
    outputs = {g.identity(boxes, "boxes"): [BATCH, "anchors", 4], g.identity(scores, "scores"): [BATCH, "anchors", 5]}
    return g.model(image_input(32), outputs, "tiny test detector", {"zoo_name": "tiny_det"})


def write_models(directory: Path) -> Path:
    """tiny_det.onnx and tiny_cnn.onnx in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny_detector(np.random.default_rng(0)), directory / "tiny_det.onnx")
    onnx.save(ZOO["tiny_cnn"].build(np.random.default_rng(1)), directory / "tiny_cnn.onnx")
    return directory


def write_app(directory: Path, *, rate: float = 100.0, slo_ms: float = 200.0, det_ms: float = 4.0,
              cls_ms: float = 2.0, rate_factor: float = 2.0, adapter: str = "crops") -> Path:
    """A detect -> classify app (`adapter`: crops for ONNX, frame for the sleep runner) on one hardware type `cpu`; batch b takes
    base * (1 + 0.5 (b - 1)) ms. Returns the app file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hardware.yaml").write_text("hardware:\n  cpu: {price_per_hour: 0.1}\n")
    rows = ["model,hardware,batch_size,latency_ms"]
    for model, base in (("tiny_det", det_ms), ("tiny_cnn", cls_ms)):
        for b in (1, 2, 4, 8):
            rows.append(f"{model},cpu,{b},{base * (1 + 0.5 * (b - 1)):.3f}")
    (directory / "profiles.csv").write_text("\n".join(rows) + "\n")
    (directory / "app.yaml").write_text(
        f"name: tiny\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: {rate}\nslo_ms: {slo_ms}\n"
        "modules:\n  - {name: detect, model: tiny_det}\n"
        f"  - {{name: classify, model: tiny_cnn, after: [detect], rate_factor: {rate_factor}, adapter: {adapter}}}\n")
    return directory / "app.yaml"


def planned(app_file: Path, **options: object) -> tuple[Plan, Spec]:
    """The default plan and the spec of `app_file`."""
    spec = load_spec(app_file)
    return skinflint.plan(spec, **options), spec


def write_fleet(directory: Path, rates: tuple[float, float] = (150.0, 100.0), slo_ms: float = 50.0) -> list[Path]:
    """Two apps `front` and `back` of write_app's shape (frame adapter, the sleep runner's) running
    the same two models; at these rates and SLO a fleet plan pools both models (one worker each). Returns the app files."""
    files = []
    for name, rate in zip(("front", "back"), rates):
        path = write_app(directory / name, rate=rate, slo_ms=slo_ms, adapter="frame")
        path.write_text(path.read_text().replace("name: tiny", f"name: {name}"))
        files.append(path)
    return files
