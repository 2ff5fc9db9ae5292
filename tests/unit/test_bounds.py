"""spec.bounds and spec.parse: the edge every number passes (docs/FORMATS.md "Bounds")."""

from __future__ import annotations

from pathlib import Path

import pytest

from skinflint.errors import SpecError
from skinflint.spec.bounds import bounds_markdown, check, min_workers, parse_text, problem
from skinflint.spec.parse import load_json, load_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value", [0, -1, 1e6 + 1, 10 ** 401, float("nan"), float("inf"), True, None, "300", [1]])
def test_rate_refused(value: object) -> None:
    assert problem("rate", value) is not None


@pytest.mark.parametrize("value", [1e-9, 1, 300.5, 1_000_000])
def test_rate_accepted(value: float) -> None:
    assert check("rate", value, "f", "rate") == float(value)


def test_closed_and_open_lower_ends() -> None:
    assert problem("hop_ms", 0) is None and problem("slo_ms", 0) is not None  # [0, ..] vs (0, ..]
    assert problem("batch_size", 1) is None and problem("batch_size", 1.5)[0] == "1.5 is not a whole number"


def test_headroom_hint_says_it_is_a_fraction() -> None:
    with pytest.raises(SpecError, match=r"--headroom: 15 is above the bound 1 \(fix: write a fraction, "
                                        r"e\.g\. --headroom 0\.15"):
        check("headroom", 15, "command line", "--headroom")


@pytest.mark.parametrize("text", ["1_0", "٤", "１", "0x10", "nan", "inf", "1 0", "", "1" * 5001])
def test_text_numbers_are_plain_ascii_decimals(text: str) -> None:
    with pytest.raises(SpecError, match="plain ASCII decimal digits"):
        parse_text("latency_ms", text, "p.csv", "line 2.latency_ms")


def test_text_numbers_in_range_are_read() -> None:
    assert parse_text("latency_ms", " 2.5e1 ", "p.csv", "x") == 25.0
    assert parse_text("batch_size", "08", "p.csv", "x") == 8  # CSV has no octal
    with pytest.raises(SpecError, match="above the bound 65,536"):
        parse_text("batch_size", "65537", "p.csv", "x")


def test_yaml_duplicate_key_names_key_and_both_lines() -> None:
    with pytest.raises(SpecError, match=r"a\.yaml: line 3, column 1: duplicate key 'rate' \(first at line 1\)"):
        load_yaml("rate: 1\nslo_ms: 2\nrate: 3000\n", "a.yaml")
    with pytest.raises(SpecError, match="duplicate key 'b'"):
        load_yaml("a: {b: 1, b: 2}\n", "a.yaml")  # one line: flow style


@pytest.mark.parametrize("text,why", [("x: 1_0", "not a plain decimal"), ("x: 010", "not a plain decimal"),
                                      ("x: 1:30", "not a plain decimal"), ("x: 0x1f", "not a plain decimal"),
                                      ("x: 1_0.5", "not a plain decimal"), ("x: " + "1" * 4001, "out of range")])
def test_yaml_numbers_must_be_plain_decimals(text: str, why: str) -> None:
    with pytest.raises(SpecError, match=why):
        load_yaml(text, "a.yaml")


def test_yaml_exponents_are_numbers_and_merge_keys_still_work() -> None:
    assert load_yaml("a: 1e3\nb: 1.5e-2\nc: .inf\n", "a.yaml") == {"a": 1000.0, "b": 0.015, "c": float("inf")}
    assert load_yaml("a: &x {p: 1}\nb:\n  <<: *x\n  p: 2\n", "a.yaml")["b"] == {"p": 2}


def test_yaml_depth_and_alias_expansion_are_bounded() -> None:
    assert load_yaml("x: " + "[" * 31 + "]" * 31, "a.yaml") is not None  # the mapping is level 1
    with pytest.raises(SpecError, match="nested more than 32 levels"):
        load_yaml("x: " + "[" * 10000 + "]" * 10000, "a.yaml")
    laughs = "l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 8))
    with pytest.raises(SpecError, match="once aliases are expanded"):  # 10^7 nodes from 80 lines
        load_yaml(laughs, "a.yaml")


@pytest.mark.parametrize("text,why", [('{"a": 1, "a": 2}', "duplicate key 'a'"), ('{"a": NaN}', "NaN is not"),
                                      ('{"a": ' + "1" * 5001 + "}", "5001-digit"), ("[" * 100000, "nested more"),
                                      ('{"a": ' + "[" * 40 + "]" * 40 + "}", "nested more"), ('{"a": ', "not JSON")])
def test_json_is_strict(text: str, why: str) -> None:
    with pytest.raises(SpecError, match=why):
        load_json(text, "plan.json", "fix it")


def test_min_workers_is_the_fluid_bound() -> None:
    import skinflint

    spec = skinflint.load_spec(ROOT / "examples/traffic/app.yaml")
    need, _ = min_workers(spec)
    # every plan has at least as many workers as the bound (the optimal one included)
    assert need <= sum(m.workers for m in skinflint.plan(spec).modules) + 1


def test_formats_md_bounds_tables_match_the_code() -> None:
    text = (ROOT / "docs/FORMATS.md").read_text(encoding="utf-8")
    block = text.split("<!-- docs-check: bounds -->\n", 1)[1].split("\n<!-- docs-check: end -->", 1)[0]
    assert block == bounds_markdown(), "regenerate: python -c 'from skinflint.spec.bounds import bounds_markdown; ...'"


def test_plan_files_accept_the_plans_dispatch_kinds() -> None:
    from skinflint.plan import DISPATCH_KINDS
    from skinflint.spec.plan_file import DISPATCH

    assert DISPATCH == DISPATCH_KINDS
