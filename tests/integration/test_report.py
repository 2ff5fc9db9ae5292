"""`skinflint report`: one self-contained HTML page, rendered in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from skinflint.cli import main
from tests.conftest import write_tiny

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SECTIONS = ("Plan", "Cost by module and hardware", "Savings against each baseline", "Cost against rate and against SLO",
            "Latency from simulation", "Cost over a day")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report")
    write_tiny(d)
    (d / "curve.csv").write_text("time_s,rate\n0,20\n600,100\n1200,20\n")
    out = d / "report.html"
    assert main(["report", str(d / "app.yaml"), "--curve", str(d / "curve.csv"), "-o", str(out)]) == 0
    return out


def test_page_is_self_contained_and_has_every_section(page):
    text = page.read_text()
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)   # no external assets
    images = re.findall(r'<img src="([^"]+)"', text)
    assert len(images) >= 7 and all(i.startswith("data:image/png;base64,") for i in images)
    assert "$ per million requests" in text and "$/month" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`); "
                                             "`make report-check` installs it and runs this test")
def test_page_renders_in_headless_chromium(page, tmp_path):
    shot = tmp_path / "shot.png"
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=1100,2600", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2600, 1100)
    # rendered plots put colour on the page: blue bars/lines and the red SLO line, not only black text on white
    rgb = pixels[..., :3]
    blue = np.count_nonzero((rgb[..., 2] > 0.7) & (rgb[..., 0] < 0.4))
    assert blue > 5000
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert "Cost over a day" in dom.stdout
