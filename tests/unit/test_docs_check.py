"""tools/docs_check.py: figure and table markers catch a doc that drifted from its source file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("docs_check", ROOT / "tools" / "docs_check.py")
docs_check = importlib.util.module_from_spec(_spec)
sys.modules["docs_check"] = docs_check  # dataclasses look their module up
_spec.loader.exec_module(docs_check)  # type: ignore[union-attr]


@pytest.fixture()
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(docs_check, "ROOT", tmp_path)
    (tmp_path / "r.csv").write_text("planner,cost,ok\noptimal,6.838,True\nnexus,7.364,False\nnaive,,False\n")
    (tmp_path / "r.json").write_text('{"results": [{"share": 0.401}]}')
    (tmp_path / "t.md").write_text("out\n\n| a | b |\n|---|---:|\n| x | 1.5 |\n")
    return tmp_path


def _doc(d: Path, text: str) -> Path:
    (d / "doc.md").write_text(text)
    return d / "doc.md"


def test_figures_equal_at_the_written_decimals(files: Path) -> None:
    doc = _doc(files, "costs $6.84<!-- docs-check: figure r.csv planner=optimal:cost --> an hour; "
                      "2<!-- docs-check: figure r.csv count cost!= --> plans; "
                      "**40.1 %**<!-- docs-check: figure r.json results.0.share x100 -->\n")
    assert docs_check.check_figures(doc) == []


def test_a_drifted_figure_is_reported(files: Path) -> None:
    doc = _doc(files, "costs $6.85<!-- docs-check: figure r.csv planner=optimal:cost -->\n"
                      "3<!-- docs-check: figure r.csv count ok=False -->\n")
    problems = docs_check.check_figures(doc)
    assert len(problems) == 2 and "says 6.84" in problems[0] and "says 2" in problems[1]


def test_markers_in_code_are_examples_not_checks(files: Path) -> None:
    doc = _doc(files, "`9<!-- docs-check: figure r.csv count -->`\n```\n9<!-- docs-check: figure r.csv count -->\n```\n")
    assert docs_check.check_figures(doc) == []


def test_tables_are_compared_cell_by_cell(files: Path) -> None:
    good = _doc(files, "<!-- docs-check: table t.md -->\n| a | b |\n|---|---|\n| **x** | 1.5 |\n")
    assert docs_check.check_tables(good) == []
    bad = _doc(files, "<!-- docs-check: table t.md -->\n| a | b |\n|---|---|\n| x | 1.6 |\n")
    assert "differs" in docs_check.check_tables(bad)[0]


def test_blocks_and_their_skip_markers(files: Path) -> None:
    doc = _doc(files, "<!-- docs-check: skip (slow) -->\n```sh\nsleep 999\n```\n\n```python\nprint(1)\n```\n```\nout\n```\n")
    found = [(b.lang, b.marker) for b in docs_check.blocks(doc)]
    assert found == [("sh", ("skip", "(slow)")), ("python", None), ("", None)]
