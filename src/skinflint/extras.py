"""Optional dependencies (extras) imported on first use, with an error that says how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

from skinflint.errors import SpecError


def require(module: str, *, field: str, fix: str) -> ModuleType:
    """Import `module`, or raise a one-line SpecError naming the option and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SpecError("command line", field, f"{module.split('.')[-1]} is not installed", fix) from None
