"""The hardware map: per hardware type of a plan, the node selector, GPU count and pod size of
one worker pod (YAML; the bundled default covers the public catalog, data/deploy/k8s-hardware.yaml)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from skinflint.errors import SpecError
from skinflint.spec.files import read_yaml_mapping, validate

QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"     # a Kubernetes resource quantity, e.g. 500m, 12Gi
Quantity = Annotated[StrictStr, Field(pattern=QUANTITY)]


class PodSize(BaseModel):
    """Where a pod runs and what it asks for (requests = limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    node_selector: dict[StrictStr, StrictStr] = {}
    gpus: Annotated[StrictInt, Field(ge=0)] = 0
    cpu: Quantity
    memory: Quantity


class HardwareMap(BaseModel):
    """The head pod's size and one worker pod per hardware type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    head: PodSize
    hardware: dict[StrictStr, PodSize]


def default_map_path() -> Path:
    """The bundled map of the public catalog's hardware."""
    return Path(str(resources.files("skinflint") / "data" / "deploy" / "k8s-hardware.yaml"))


def load_hardware_map(path: Path | None = None) -> tuple[Path, HardwareMap]:
    """The map at `path` (default: the bundled one), validated at the edge."""
    path = Path(path) if path is not None else default_map_path()
    return path, validate(HardwareMap, read_yaml_mapping(path, "hardware map"), path)


def pod_size(hmap: HardwareMap, source: Path, hardware: str) -> PodSize:
    """The worker pod of `hardware`, or a SpecError naming the map and the fix."""
    try:
        return hmap.hardware[hardware]
    except KeyError:
        raise SpecError(source, f"hardware.{hardware}", f"the plan uses hardware {hardware!r}, which the map "
                        "does not place", "copy the map, add an entry for it, and pass --hardware-map FILE") from None


def k8s_name(text: str) -> str:
    """`text` as a DNS-1123 label (lower case, digits, '-'; at most 63 characters)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    if not name:
        raise SpecError("plan", "name", f"{text!r} has no letters or digits to name a Kubernetes object",
                        "rename it")
    return name
