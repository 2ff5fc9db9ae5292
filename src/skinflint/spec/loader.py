"""Load an application file with the hardware and profiles it names, and check them together."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from skinflint.errors import SpecError
from skinflint.spec.app import parse_app
from skinflint.spec.files import read_yaml_mapping
from skinflint.spec.hardware import load_hardware
from skinflint.spec.catalog import catalog_profile_rows, hardware_catalog, is_catalog
from skinflint.spec.bounds import check, check_workload
from skinflint.spec.profiles import build_profiles, load_profiles, read_profile_rows, warn_padded
from skinflint.spec.types import App, Spec


def _resolve(app_path: Path, value: str, field: str) -> Path:
    path = (app_path.parent / value).resolve()
    if not path.is_file():
        raise SpecError(app_path, field, f"file not found: {value} (looked at {path})",
                        "paths are relative to the app file")
    return path


def load_spec(app_path: str | Path, *, rate: float | None = None, slo_ms: float | None = None,
              hardware: Iterable[str] | None = None) -> Spec:
    """Read APP.yaml and the files it names; apply overrides; return a frozen, checked Spec."""
    app_path = Path(app_path)
    parsed, app = parse_app(read_yaml_mapping(app_path, "application"), app_path)
    if is_catalog(parsed.hardware):  # a bundled catalog by name (spec/catalog.py)
        hw_path = Path(parsed.hardware)
        catalog = {n: h.to_hardware() for n, h in hardware_catalog(parsed.hardware, app_path).items()}
    else:
        hw_path = _resolve(app_path, parsed.hardware, "hardware")
        catalog = load_hardware(hw_path)
    profile_values = [parsed.profiles] if isinstance(parsed.profiles, str) else parsed.profiles
    profile_paths = [_resolve(app_path, v, "profiles") for v in profile_values if not is_catalog(v)]
    catalog_values = [v for v in profile_values if is_catalog(v)]
    notes = {}
    if catalog_values:  # catalog rows: this app's models on priced hardware only, and the note says so
        rows = [(p, where, row) for p in profile_paths for where, row in read_profile_rows(p)]
        extra, notes["catalog"] = catalog_profile_rows(
            catalog_values, priced=catalog, models=[m.model for m in app.modules],
            measured={(r[0], r[1]) for _, _, r in rows}, hardware_label=hw_path.name, source=app_path)
        profiles = build_profiles(rows + extra)
        profile_paths += catalog_values
    else:
        profiles = load_profiles(profile_paths)
    for (model, hw), _ in profiles.curves.items():
        if hw not in catalog:
            raise SpecError(profile_paths[0] if len(profile_paths) == 1 else app_path, "hardware",
                            f"profile of {model!r} names hardware {hw!r}, which is not in {hw_path.name}",
                            f"add {hw!r} with its price_per_hour to {hw_path.name}, or remove those rows")
    app = with_overrides(app, rate=rate, slo_ms=slo_ms, source="command line")
    if hardware is not None:
        catalog = select_hardware(catalog, hardware, hw_path)
    spec = Spec(app, catalog, profiles, {"app": str(app_path), "hardware": str(hw_path),
                                         "profiles": ",".join(map(str, profile_paths)), **notes})
    check_coverage(spec, app_path)
    check_workload(spec, app_path)
    warn_padded(profiles, [m.model for m in app.modules], catalog)
    return spec


def with_overrides(app: App, *, rate: float | None, slo_ms: float | None, source: str) -> App:
    """The app with --rate / --slo-ms applied, each checked against its bound (spec.bounds)."""
    from dataclasses import replace

    for name, value in (("rate", rate), ("slo_ms", slo_ms)):
        if value is not None:
            check(name, value, source, f"--{name.replace('_', '-')}")
    return replace(app, rate=app.rate if rate is None else float(rate),
                   slo_ms=app.slo_ms if slo_ms is None else float(slo_ms))


def select_hardware(catalog: dict, names: Iterable[str], hw_path: Path) -> dict:
    """Restrict the catalog to a named subset (the --hardware option)."""
    names = list(names)
    if not names:
        raise SpecError("command line", "--hardware", "empty hardware subset", "name at least one hardware type")
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise SpecError("command line", "--hardware", f"unknown hardware {', '.join(map(repr, unknown))}",
                        f"choose from {', '.join(catalog)} ({hw_path.name})")
    return {n: catalog[n] for n in names}


def check_coverage(spec: Spec, source: Path | str) -> None:
    """Every module's model must have a profile on at least one hardware type of the catalog."""
    for i, m in enumerate(spec.app.modules):
        curves = [c for c in spec.profiles.for_model(m.model) if c.hardware in spec.hardware]
        if not curves:
            known = spec.profiles.models
            hint = f"known models: {', '.join(known[:8])}{' ...' if len(known) > 8 else ''}"
            if spec.profiles.for_model(m.model):
                hint = "its profiled hardware is excluded by --hardware; include one of " + ", ".join(
                    c.hardware for c in spec.profiles.for_model(m.model))
            raise SpecError(source, f"module {m.name!r}.model", f"no profile for model {m.model!r} "
                            "on the available hardware", hint)
