"""The bundled public catalog: profiles and prices from public sources, selectable by name.

An app file (or a CLI option) names a catalog as ``catalog:NAME`` where it would name a file:
``profiles: catalog:public`` reads the bundled public profiles, ``hardware: catalog:aws`` the
hardware catalog built from the bundled price table. Each catalog row keeps its ``source``.

A profile catalog covers much hardware that no price table prices, so catalog profiles are
filtered: only rows whose hardware is priced in the app's hardware catalog (and whose model
the app uses) are kept, and the loader says what it dropped (`CatalogNote`). Rows from the
user's own profile files are never filtered: an unpriced row there is still an error.
"""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from skinflint.errors import SpecError
from skinflint.spec.files import read_csv_rows, read_yaml_mapping
from skinflint.spec.hardware import load_hardware
from skinflint.spec.profiles import Row, read_profile_rows
from skinflint.spec.types import CPU, Execution, Hardware

PREFIX = "catalog:"
PRICE_COLUMNS = ("hardware", "instance", "usd_per_hour", "source")


class CatalogNote(UserWarning):
    """What a catalog selection kept and dropped (rows on hardware without a price)."""


@dataclass(frozen=True)
class PricedHardware:
    """One row of the bundled price table: a worker type, the instance it is, its price and source."""

    name: str
    instance: str
    price_per_hour: float
    source: str

    def to_hardware(self) -> Hardware:
        """The planner's view: name, price, and how it executes (`catalog_execution`)."""
        return Hardware(self.name, self.price_per_hour, catalog_execution(self.name, self.instance))


GPU_FAMILIES = ("g4dn.", "g5.", "g6.", "p3.", "p4d.", "p4de.", "p5.")   # AWS GPU instance families
RAY_ACCELERATORS = ("T4", "A10G", "L4", "V100", "A100", "H100")        # names ray.util.accelerators knows


def catalog_execution(name: str, instance: str) -> Execution:
    """How a bundled catalog type executes: a GPU instance family runs CUDA with one GPU per
    worker (8 for an "x8" type), the accelerator named after the GPU (g4dn.* holds a T4); other
    types are CPUs."""
    if not instance.startswith(GPU_FAMILIES):
        return CPU
    gpu = "T4" if instance.startswith("g4dn.") else next((a for a in RAY_ACCELERATORS if name.startswith(a)), None)
    return Execution("cuda", 8.0 if name.endswith(" x8") else 1.0, gpu)


def _skypilot(h: PricedHardware) -> bool:
    return "skypilot-org/skypilot-catalog" in h.source


def _ribbon(h: PricedHardware) -> bool:
    return h.source.startswith("github.com/boringlee24/SC21_Ribbon")


# name -> (file under data/public, description)
PROFILE_CATALOGS: dict[str, tuple[str, str]] = {
    "public": ("profiles.csv", "public DNN profiles (NVIDIA DeepLearningExamples, Ribbon SC'21, YOLOv8 blog)"),
}
# name -> (row filter over the price table, description)
HARDWARE_CATALOGS: dict[str, tuple[Callable[[PricedHardware], bool], str]] = {
    "public": (lambda h: True, "every priced worker type of the bundled price table"),
    "aws": (_skypilot, "AWS us-east-1 on-demand, SkyPilot catalog snapshot (GPUs and CPU boxes)"),
    "ribbon-2021": (_ribbon, "AWS on-demand prices as used by the Ribbon SC'21 paper (~2021)"),
}


def data_dir() -> Path:
    """The folder of the bundled public data (profiles.csv, prices.csv, README.md)."""
    return Path(str(resources.files("skinflint") / "data" / "public"))


def is_catalog(value: str) -> bool:
    """Whether an app-file value names a bundled catalog rather than a file."""
    return value.startswith(PREFIX)


def _name(value: str, known: Iterable[str], source: str | Path, field: str) -> str:
    name = value[len(PREFIX):] if is_catalog(value) else value
    known = list(known)
    if name not in known:
        raise SpecError(source, field, f"unknown catalog {value!r}",
                        f"use one of: {', '.join(PREFIX + k for k in known)} (or a file path)")
    return name


def price_table() -> list[PricedHardware]:
    """Every row of the bundled price table, in file order."""
    path = data_dir() / "prices.csv"
    out = []
    for i, row in enumerate(read_csv_rows(path, "price table", PRICE_COLUMNS), start=2):
        try:
            price = float(row["usd_per_hour"])
        except ValueError:
            price = math.nan
        if not math.isfinite(price) or price <= 0:
            raise SpecError(path, f"line {i}.usd_per_hour", f"not a positive price ({row['usd_per_hour']!r})",
                            "fix the bundled price table")
        out.append(PricedHardware(row["hardware"], row["instance"], price, row["source"]))
    return out


def hardware_catalog(value: str, source: str | Path = "command line", field: str = "hardware") -> dict[str, PricedHardware]:
    """The named hardware catalog (``catalog:aws`` or ``aws``), with instance and source kept."""
    keep, _ = HARDWARE_CATALOGS[_name(value, HARDWARE_CATALOGS, source, field)]
    return {h.name: h for h in price_table() if keep(h)}


def profile_catalog_path(value: str, source: str | Path = "command line", field: str = "profiles") -> Path:
    """The bundled CSV file of the named profile catalog (``catalog:public`` or ``public``)."""
    filename, _ = PROFILE_CATALOGS[_name(value, PROFILE_CATALOGS, source, field)]
    return data_dir() / filename


def catalog_profile_rows(values: list[str], *, priced: Iterable[str], models: Iterable[str],
                         measured: Iterable[tuple[str, str]], hardware_label: str,
                         source: str | Path) -> tuple[list[tuple[Path, str, Row]], str]:
    """Rows of the named profile catalogs for `models`, on `priced` hardware only.

    `measured` are the (model, hardware) curves of the user's own profile files: they supersede
    the catalog's curve of the same pair. Returns the rows (as `build_profiles` takes them) and a
    one-line note of what was kept and dropped, and warns with it when rows were dropped. A model
    that no source profiles on priced hardware is a SpecError here, naming the closest catalog models.
    """
    priced, models, measured = set(priced), list(dict.fromkeys(models)), set(measured)
    kept: list[tuple[Path, str, Row]] = []
    dropped: dict[str, int] = {}
    superseded = 0
    seen_models: set[str] = set()
    for value in values:
        path = profile_catalog_path(value, source)
        for where, row in read_profile_rows(path):
            seen_models.add(row[0])
            if row[0] not in models:
                continue
            if (row[0], row[1]) in measured:
                superseded += 1
            elif row[1] in priced:
                kept.append((path, where, row))
            else:
                dropped[row[1]] = dropped.get(row[1], 0) + 1
    names = ", ".join(values)
    covered = {m for m, _ in measured} | {r[0] for _, _, r in kept}
    for model in models:
        if model in covered:
            continue
        if model in seen_models:
            raise SpecError(source, "profiles", f"{names} profiles model {model!r} only on hardware without a price "
                            f"in {hardware_label}", "use a hardware catalog that prices it (e.g. catalog:public), "
                            "or a hardware file with its price")
        close = difflib.get_close_matches(model, sorted(seen_models), n=3, cutoff=0.5)
        raise SpecError(source, "profiles", f"no profile for model {model!r} in {names} or the profile files",
                        f"did you mean {' or '.join(map(repr, close))}?" if close else
                        "see `skinflint profiles list` for the catalog's models")
    note = f"{names}: kept {len(kept)} rows of this app's models on hardware priced in {hardware_label}"
    if superseded:
        note += f"; {superseded} rows superseded by the app's own profile files"
    if dropped:
        note += (f"; dropped {sum(dropped.values())} rows on hardware without a price there: "
                 + ", ".join(f"{h} ({n})" for h, n in sorted(dropped.items())))
        warnings.warn(note, CatalogNote, stacklevel=3)
    return kept, note


def hardware_source(value: str, field: str = "--hardware") -> dict[str, PricedHardware]:
    """A hardware catalog named ``catalog:NAME`` or a hardware YAML file (its instance/source kept if given)."""
    if is_catalog(value):
        return hardware_catalog(value, "command line", field)
    path = Path(value)
    extras = read_yaml_mapping(path, "hardware catalog").get("hardware", {})
    out = {}
    for name, h in load_hardware(path).items():
        entry = extras.get(name, {}) if isinstance(extras, dict) else {}
        out[name] = PricedHardware(name, str(entry.get("instance", "")), h.price_per_hour,
                                   str(entry.get("source", path.name)))
    return out


def profile_source_path(value: str, field: str = "--profiles") -> Path:
    """The profile file behind ``catalog:NAME`` or a path (checked to exist)."""
    if is_catalog(value):
        return profile_catalog_path(value, "command line", field)
    path = Path(value)
    if not path.is_file():
        raise SpecError(path, "", "profiles file not found", f"check the path, or use {PREFIX}public")
    return path
