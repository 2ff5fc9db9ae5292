"""One small registry class for a family of pluggable things (policies, arrival processes, ...):
a dict by name; a duplicate name is an error, and an unknown one lists the known names."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, TypeVar

from skinflint.errors import SpecError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; `option` is the command-line option that names them."""

    def __init__(self, kind: str, option: str, load: Callable[[], None] | None = None) -> None:
        self.kind, self.option, self._load = kind, option, load
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add `entry` under `name`; a duplicate name is a ValueError."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        """The registered names, sorted."""
        if self._load:
            self._load()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The entry called `name`; a SpecError listing the known names if there is none."""
        known = self.names()
        try:
            return self._entries[name]
        except KeyError:
            raise SpecError("command line", self.option, f"unknown {self.kind} {name!r}",
                            f"choose one of: {', '.join(known)}") from None

    def build(self, name: str, skip: tuple[str, ...] = (), **params: Any) -> Any:
        """Call the factory `name` with `params`; an unknown parameter or a value it refuses
        (TypeError, ValueError) is a SpecError listing its parameters (`skip`: not listed)."""
        factory = self.get(name)
        allowed = [p for p in inspect.signature(factory).parameters if p not in skip]  # type: ignore[arg-type]
        unknown = [k for k in params if k not in allowed]
        missing = [n for n, p in inspect.signature(factory).parameters.items()  # type: ignore[arg-type]
                   if p.default is inspect.Parameter.empty and n not in params and n not in skip
                   and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if missing and not unknown:
            raise SpecError("command line", self.option, f"{name} needs {', '.join(f'{m}=...' for m in missing)}",
                            f"write {name}:{','.join(f'{m}=VALUE' for m in missing)}")
        if unknown:
            raise SpecError("command line", self.option, f"{name} takes no parameter {', '.join(map(repr, unknown))}",
                            f"its parameters are: {', '.join(allowed)}")
        try:
            return factory(**params)  # type: ignore[operator]
        except (TypeError, ValueError) as e:
            raise SpecError("command line", self.option, f"{name}: {e}", f"its parameters are: {', '.join(allowed)}") from None
