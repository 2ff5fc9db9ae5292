"""One small registry class for a family of pluggable things (planners, policies, arrival
processes, backends, ...): a dict by name; a duplicate name is an error, and an unknown one lists
the known names.

The built-in entries of a family may live in modules that are slow to import; `builtin` is then
a function that imports them and returns them by name, called once, on the first lookup. The
entries' modules never import the registry, so the arrow points one way (family -> entries)."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, Mapping, TypeVar

from skinflint.errors import SpecError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; `option` is the command-line option that names them; `builtin`
    returns the built-in entries by name (called once, on the first lookup)."""

    def __init__(self, kind: str, option: str, builtin: Callable[[], Mapping[str, T] | None] | None = None) -> None:
        self.kind, self.option, self._builtin = kind, option, builtin
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add `entry` under `name`; a duplicate name (built-in ones included) is a ValueError."""
        self._load_builtin()
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._load_builtin()
        return sorted(self._entries)

    def _load_builtin(self) -> None:
        if self._builtin is not None:
            builtin, self._builtin = self._builtin, None
            try:
                entries = builtin()
            except BaseException:
                self._builtin = builtin  # e.g. an import failed: try again on the next lookup
                raise
            for name, entry in (entries or {}).items():  # None: the entries registered themselves
                self.register(name, entry)

    def entries(self) -> dict[str, T]:
        """Every entry by name, in name order."""
        return {name: self._entries[name] for name in self.names()}

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
