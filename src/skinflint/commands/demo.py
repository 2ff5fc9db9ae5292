"""`skinflint demo`: the main job on bundled data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.demo import run_demo


@app.command("demo")
def demo_command(app_file: Optional[Path] = typer.Option(None, "--app", help="Another app instead of the bundled one.")) -> None:
    """Plan the bundled traffic-camera pipeline and show what each lever saves."""
    run_demo(app_file)
