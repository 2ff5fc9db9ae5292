"""`skinflint zoo build DIR`: write the zoo's ONNX models (random weights, dynamic batch axis)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.extras import require

zoo_app = typer.Typer(help="Real vision architectures with random weights, built locally as ONNX.",
                      no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")


def _zoo() -> ModuleType:
    """The zoo package, imported only when used: it needs the onnx package."""
    return require("skinflint.profiling.zoo", field="zoo", fix="pip install 'skinflint[profile]' (it needs onnx)")


@zoo_app.command("build")
def build_command(
    directory: Path = typer.Argument(..., help="Folder to write NAME.onnx files into (created)."),
    models: Optional[str] = typer.Option(None, "--models", help="Comma-separated zoo names (default: the three)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights."),
) -> None:
    """Build the zoo: ResNet-18, MobileNetV2 and an SSDLite detector (tiny_cnn on request)."""
    import numpy as np

    zoo = _zoo()
    names = zoo.DEFAULT if models is None else tuple(m.strip() for m in models.split(","))
    for path in zoo.build_zoo(directory, names, rng=np.random.default_rng(seed)):
        entry = zoo.ZOO[path.stem]
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB  {entry.description}")


@zoo_app.command("list")
def list_command() -> None:
    """The zoo's models: name, input size, task and description."""
    zoo = _zoo()
    for z in zoo.ZOO.values():
        print(f"{z.name:22s} {z.task:15s} {z.input_size}x{z.input_size}  {z.description}")
