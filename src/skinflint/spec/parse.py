"""Strict YAML and JSON parsing: what a file says, or one SpecError naming where it is wrong.

Both refuse duplicate keys (YAML names the key and both lines), nesting deeper than the depth
limit, and integers too long to be any bounded number. YAML numbers must be plain decimals:
YAML 1.1 would silently read `1_0` as 10, `010` as 8, `1:30` as 90 and `0x1f` as 31.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

from skinflint.errors import SpecError
from skinflint.spec.bounds import DOCS, limit

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_SPECIAL = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


class _Refused(ConstructorError):
    """A value the strict loader refuses, with the fix to print."""

    def __init__(self, problem: str, fix: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)
        self.fix = fix


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, deep nesting and non-decimal numbers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > limit("depth"):
                raise _Refused(f"nested more than {limit('depth')} levels deep",
                               f"nest at most {limit('depth')} levels ({DOCS})", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _Refused(f"duplicate key {key!r} (first at line {seen[key]})",
                                   "keep one of them: YAML would silently keep the last", key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # unhashable: the base constructor reports it
                continue
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: Node) -> int:
        text = str(self.construct_scalar(node))
        if not _INT.fullmatch(text):
            raise _Refused(f"{text[:40]!r} is not a plain decimal number",
                           "write digits only, e.g. 10 (YAML 1.1 reads 010 as octal 8, 1_0 as 10)", node.start_mark)
        if len(text.lstrip("+-")) > limit("digits"):
            raise _Refused(f"a {len(text.lstrip('+-'))}-digit integer is out of range",
                           f"use a number within the bounds ({DOCS})", node.start_mark)
        return int(text)

    def construct_yaml_float(self, node: Node) -> float:
        text = str(self.construct_scalar(node))
        if _SPECIAL.fullmatch(text):
            return super().construct_yaml_float(node)
        if not _FLOAT.fullmatch(text) or len(text) > limit("digits"):
            raise _Refused(f"{text[:40]!r} is not a plain decimal number", "write e.g. 2.5 or 1.5e3", node.start_mark)
        return float(text)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
# YAML 1.2's exponents: `1e3` and `1.0e3` are numbers (YAML 1.1 reads them as text).
_EXPONENT = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT, list("-+0123456789."))


def _expanded_nodes(root: Node) -> int:
    """Nodes of the document with aliases expanded (an alias counts its whole subtree)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        kids: list[Node] = []
        if isinstance(node, SequenceNode):
            kids = list(node.value)
        elif isinstance(node, MappingNode):
            kids = [n for pair in node.value for n in pair]
        if done or not kids:
            sizes[id(node)] = 1 + sum(sizes.get(id(k), 0) for k in kids)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
    return sizes[id(root)]


def load_yaml(text: str, path: str | Path) -> Any:
    """The document in `text`, or a SpecError naming `path`, the line and what is wrong."""
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_nodes(node) > limit("nodes"):
            raise SpecError(path, "YAML", f"more than {limit('nodes'):,} values once aliases are expanded",
                            "write the values out; do not nest aliases")
        return loader.construct_document(node)
    except _Refused as e:
        mark = e.problem_mark
        raise SpecError(path, f"line {mark.line + 1}, column {mark.column + 1}", e.problem, e.fix) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(e, "problem", None) or "malformed YAML"
        raise SpecError(path, where, f"malformed YAML: {problem}", "fix the YAML there") from None
    except RecursionError:
        raise SpecError(path, "YAML", "nested too deep", f"nest at most {limit('depth')} levels") from None
    finally:
        if loader is not None:
            loader.dispose()


class _JsonProblem(ValueError):
    pass


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            raise _JsonProblem(f"duplicate key {key!r} in one object")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > limit("digits"):
        raise _JsonProblem(f"a {len(text)}-digit integer is out of range")
    return int(text)


def _constant(text: str) -> float:
    raise _JsonProblem(f"{text} is not a JSON number")


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def load_json(text: str, path: str | Path, fix: str) -> Any:
    """The JSON value in `text` (no duplicate keys, NaN or Infinity), or a SpecError naming `path`."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise SpecError(path, f"line {e.lineno}, column {e.colno}", f"not JSON: {e.msg}", fix) from None
    except _JsonProblem as e:
        raise SpecError(path, "JSON", str(e), fix) from None
    except RecursionError:
        data = _TOO_DEEP
    if data is _TOO_DEEP or _depth(data) > limit("depth"):
        raise SpecError(path, "JSON", f"nested more than {limit('depth')} levels deep", fix)
    return data


_TOO_DEEP = object()
