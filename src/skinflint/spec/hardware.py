"""The hardware catalog (YAML): worker types and their prices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from skinflint.spec.files import Bounded, read_yaml_mapping, validate
from skinflint.spec.types import Hardware


class HardwareEntry(BaseModel):
    model_config = ConfigDict(extra="allow")  # instance, source, notes ... are kept as documentation
    price_per_hour: Bounded("price_per_hour")


class HardwareFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hardware: Annotated[dict[str, HardwareEntry], Field(min_length=1)]


def load_hardware(path: Path) -> dict[str, Hardware]:
    """Parse and validate a hardware catalog file."""
    parsed = validate(HardwareFile, read_yaml_mapping(path, "hardware catalog"), path)
    return {name: Hardware(name=str(name), price_per_hour=float(e.price_per_hour))
            for name, e in parsed.hardware.items()}
