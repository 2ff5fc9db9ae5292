"""The hardware catalog (YAML): worker types, their prices, and how they execute.

    hardware:
      T4:   {price_per_hour: 0.526, execution: {provider: cuda, gpus: 1}}
      cpu1: {price_per_hour: 0.05}                       # no execution: a CPU worker

`execution` (optional, additive): `provider` cpu | cuda | tensorrt; `gpus` per worker (default 1
on a GPU provider, a fraction for a share of one device; 0 and only 0 on cpu); `accelerator`
the GPU model as Ray names it (T4, A10G, L4, V100, A100, H100; default: none)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator

from pydantic_core import PydanticCustomError

from skinflint.spec.files import Bounded, read_yaml_mapping, validate
from skinflint.spec.types import CPU, Execution, Hardware

Gpus = Annotated[StrictFloat | StrictInt, Field(ge=0, le=64, allow_inf_nan=False)]


class ExecutionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["cpu", "cuda", "tensorrt"]
    gpus: Optional[Gpus] = None
    accelerator: Optional[StrictStr] = None

    @model_validator(mode="after")
    def _gpus_match_provider(self) -> "ExecutionEntry":
        if self.provider == "cpu" and self.gpus:
            raise PydanticCustomError("bound", "{problem}", {"problem": f"a cpu worker holds no GPU (gpus {self.gpus})",
                                                             "fix": "drop gpus, or use provider cuda or tensorrt"})
        if self.provider != "cpu" and self.gpus == 0:
            raise PydanticCustomError("bound", "{problem}", {"problem": f"a {self.provider} worker needs a GPU (gpus 0)",
                                                             "fix": "give gpus > 0 (a fraction for a share of one device)"})
        return self

    def to_execution(self) -> Execution:
        gpus = 0.0 if self.provider == "cpu" else float(1 if self.gpus is None else self.gpus)
        return Execution(self.provider, gpus, self.accelerator)


class HardwareEntry(BaseModel):
    model_config = ConfigDict(extra="allow")  # instance, source, notes ... are kept as documentation
    price_per_hour: Bounded("price_per_hour")
    execution: Optional[ExecutionEntry] = None


class HardwareFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hardware: Annotated[dict[str, HardwareEntry], Field(min_length=1)]


def load_hardware(path: Path) -> dict[str, Hardware]:
    """Parse and validate a hardware catalog file."""
    parsed = validate(HardwareFile, read_yaml_mapping(path, "hardware catalog"), path)
    return {name: Hardware(name=str(name), price_per_hour=float(e.price_per_hour),
                           execution=e.execution.to_execution() if e.execution else CPU)
            for name, e in parsed.hardware.items()}
