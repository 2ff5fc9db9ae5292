"""Shared fixtures: the bundled example and small helpers to write input files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAFFIC = ROOT / "src" / "skinflint" / "data" / "examples" / "traffic"


@pytest.fixture
def traffic_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled traffic example."""
    dst = tmp_path / "traffic"
    shutil.copytree(TRAFFIC, dst)
    return dst


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A two-module app with monotone profiles (no warnings) in a temp folder."""
    return write_tiny(tmp_path)


def write_tiny(tmp_path: Path) -> Path:
    """Write the tiny app (hardware, profiles, app.yaml) into `tmp_path` and return it."""
    (tmp_path / "hardware.yaml").write_text("hardware:\n  T4: {price_per_hour: 0.5}\n  A10G: {price_per_hour: 1.0}\n")
    rows = ["model,hardware,batch_size,latency_ms"]
    for model, base in (("det", 20.0), ("cls", 5.0)):
        for hw, speed in (("T4", 1.0), ("A10G", 0.5)):
            for b in (1, 2, 4, 8):
                rows.append(f"{model},{hw},{b},{base * speed * (1 + 0.5 * b):.3f}")
    (tmp_path / "profiles.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "app.yaml").write_text(
        "name: tiny\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: 100\nslo_ms: 300\n"
        "modules:\n  - name: a\n    model: det\n  - name: b\n    model: cls\n    after: [a]\n    rate_factor: 2\n")
    return tmp_path
