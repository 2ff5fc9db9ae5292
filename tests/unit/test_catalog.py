"""The bundled public catalog, selected by name from an app file (catalog:NAME), next to files."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest

import skinflint
from skinflint.errors import SpecError
from skinflint.spec.catalog import (HARDWARE_CATALOGS, CatalogNote, data_dir, hardware_catalog, price_table,
                                    profile_catalog_path)
from skinflint.spec.loader import load_spec

SSD = "ssd320_v1.2_resnet50_fpn|tf1-ngc20.06|FP16"
TRITON = "resnet50_v1.5|triton-onnxrt-trt|FP16"  # profiled on A100-80GB, A40, T4, V100-32GB


def write_app(folder: Path, profiles: str, hardware: str, models=(SSD, TRITON), slo_ms: float = 500) -> Path:
    mods = "\n".join(f"  - name: m{i}\n    model: \"{m}\"" + (f"\n    after: [m{i - 1}]" if i else "")
                     for i, m in enumerate(models))
    path = folder / "app.yaml"
    path.write_text(f"name: t\nprofiles: {profiles}\nhardware: {hardware}\nrate: 100\nslo_ms: {slo_ms}\n"
                    f"modules:\n{mods}\n")
    return path


def test_bundled_data_is_the_shared_public_data_with_sources():
    rows = list(csv.DictReader((data_dir() / "profiles.csv").open()))
    assert len(rows) == 1443 and all(r["source"] for r in rows)
    prices = price_table()
    assert len(prices) == 20 and all(p.source and p.instance for p in prices)
    assert (data_dir() / "README.md").is_file()


def test_hardware_catalogs_partition_the_price_table_by_source():
    aws, ribbon = hardware_catalog("catalog:aws"), hardware_catalog("ribbon-2021")
    assert aws["T4"].instance == "g4dn.xlarge" and aws["T4"].price_per_hour == 0.526
    assert "skypilot" in aws["A100-40GB"].source and "g4dn.2xlarge" in ribbon
    assert set(aws) | set(ribbon) == set(hardware_catalog("catalog:public")) and not set(aws) & set(ribbon)


@pytest.mark.parametrize("call", [lambda: hardware_catalog("catalog:gcp"), lambda: profile_catalog_path("catalog:x")])
def test_unknown_catalog_names_list_the_known_ones(call):
    with pytest.raises(SpecError, match="catalog:public"):
        call()


def test_app_selects_catalogs_by_name_and_keeps_only_priced_rows(tmp_path):
    app = write_app(tmp_path, "catalog:public", "catalog:aws")
    with pytest.warns(CatalogNote, match=r"dropped 16 rows .*A40 \(8\), V100-32GB \(8\)"):
        spec = load_spec(app)
    assert {h for _, h in spec.profiles.curves} <= set(spec.hardware)
    assert sorted(c.hardware for c in spec.profiles.for_model(TRITON)) == ["A100-80GB", "T4"]
    assert spec.sources["hardware"] == "catalog:aws" and "dropped 16 rows" in spec.sources["catalog"]
    assert set(spec.profiles.models) == {SSD, TRITON}  # only this app's models are loaded
    plan = skinflint.plan(spec)
    assert plan.cost_per_hour > 0 and not skinflint.verify(plan, spec)


def test_no_note_when_nothing_is_dropped(tmp_path):
    app = write_app(tmp_path, "catalog:public", "catalog:public", models=(SSD,))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CatalogNote)
        spec = load_spec(app)
    assert "dropped" not in spec.sources["catalog"]


def test_own_profile_files_supersede_the_catalog_curve_and_keep_their_check(tmp_path):
    (tmp_path / "mine.csv").write_text(f"model,hardware,batch_size,latency_ms\n{TRITON},T4,1,1.5\n{TRITON},T4,2,2.5\n")
    app = write_app(tmp_path, "[mine.csv, \"catalog:public\"]", "catalog:aws")
    with pytest.warns(CatalogNote, match="superseded"):
        spec = load_spec(app)
    assert spec.profiles.get(TRITON, "T4").latency_ms == (1.5, 2.5)
    assert spec.profiles.get(TRITON, "A100-80GB").batch_sizes[-1] == 128
    (tmp_path / "mine.csv").write_text(f"model,hardware,batch_size,latency_ms\n{TRITON},A40,1,1.5\n")
    with pytest.raises(SpecError, match="'A40', which is not in catalog:aws"), warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogNote)
        load_spec(app)  # an unpriced row of the user's own file is still an error


def test_a_model_profiled_only_on_unpriced_hardware_says_so(tmp_path):
    app = write_app(tmp_path, "catalog:public", "catalog:ribbon-2021", models=(TRITON,))
    with pytest.raises(SpecError, match="only on hardware without a price in catalog:ribbon-2021"):
        load_spec(app)


def test_an_unknown_model_suggests_close_catalog_names(tmp_path):
    app = write_app(tmp_path, "catalog:public", "catalog:aws", models=("resnet50_v1.5|triton-onnxrt-trt|fp16",))
    with pytest.raises(SpecError, match=r"did you mean 'resnet50_v1.5\|triton-onnxrt-trt\|FP16'"):
        load_spec(app)


def test_unknown_catalog_in_an_app_names_the_app_and_field(tmp_path):
    with pytest.raises(SpecError) as e:
        load_spec(write_app(tmp_path, "catalog:public", "catalog:azure"))
    assert str(app_path := tmp_path / "app.yaml") in str(e.value) and "hardware" in str(e.value)
    assert app_path.is_file()


def test_relative_file_paths_work_as_before(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hw.yaml").write_text("hardware:\n  T4: {price_per_hour: 0.5}\n")
    (tmp_path / "data" / "p.csv").write_text("model,hardware,batch_size,latency_ms\nm,T4,1,2.0\nm,T4,4,5.0\n")
    spec = load_spec(write_app(tmp_path, "data/p.csv", "data/hw.yaml", models=("m",)))
    assert "catalog" not in spec.sources and spec.sources["hardware"] == str(tmp_path / "data" / "hw.yaml")
    assert spec.profiles.get("m", "T4").latency_ms == (2.0, 5.0)
    with pytest.raises(SpecError, match="file not found: data/missing.csv"):
        load_spec(write_app(tmp_path, "data/missing.csv", "data/hw.yaml", models=("m",)))


def test_every_hardware_catalog_has_a_description():
    assert all(desc for _, desc in HARDWARE_CATALOGS.values())
