"""Reading YAML and CSV files, and turning pydantic errors into one-line `SpecError`s."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from skinflint.errors import SpecError


def read_text(path: Path, what: str) -> str:
    """The file's text, or a SpecError naming the file and why it could not be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "", f"{what} file not found", "check the path") from None
    except IsADirectoryError:
        raise SpecError(path, "", f"{what} path is a directory, not a file", "name the file") from None
    except UnicodeDecodeError:
        raise SpecError(path, "", f"{what} file is not UTF-8 text", "save it as UTF-8 text") from None
    except OSError as e:
        raise SpecError(path, "", f"cannot read {what} file: {e.strerror}", "check the path and permissions") from None


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Parse a YAML file whose top level must be a mapping."""
    text = read_text(path, what)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(e, "problem", None) or "malformed YAML"
        raise SpecError(path, where, f"malformed YAML: {problem}", "fix the YAML syntax there") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(path, "", f"the {what} file is {kind}, expected a mapping of fields",
                        f"see FORMATS.md for the {what} format")
    return data


def read_csv_rows(path: Path, what: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV file with a header that holds every `required` column."""
    text = read_text(path, what)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames
        if not header:
            raise SpecError(path, "header", f"the {what} CSV is empty",
                            f"write a header line: {','.join(required)}")
        header = [h.strip() for h in header]
        reader.fieldnames = header
        missing = [c for c in required if c not in header]
        if missing:
            raise SpecError(path, "header", f"missing column(s) {', '.join(missing)} (found: {', '.join(header)})",
                            f"the header must include {','.join(required)}")
        rows = []
        for i, row in enumerate(reader, start=2):
            if None in row:
                raise SpecError(path, f"line {i}", "more values than header columns",
                                "remove the extra values or quote values that contain commas")
            if any(row.get(c) is None for c in required):
                raise SpecError(path, f"line {i}", "fewer values than header columns",
                                f"give a value for each of {','.join(required)}")
            rows.append({k: (v or "").strip() for k, v in row.items()})
        return rows
    except csv.Error as e:
        raise SpecError(path, "CSV", f"malformed CSV: {e}", "fix the quoting or line endings") from None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove it or check its spelling",
    "greater_than": "use a positive number",
    "greater_than_equal": "use a number that is not negative",
    "less_than_equal": "use a smaller number",
    "finite_number": "use a finite number",
    "float_type": "write a plain number, unquoted",
    "int_type": "write a whole number, unquoted",
    "string_type": "write a string (quote it)",
    "list_type": "write a YAML list",
    "dict_type": "write a YAML mapping",
    "too_short": "give at least one entry",
    "string_too_short": "give a non-empty name",
}


def validate(model: type[BaseModel], data: Any, source: Path, prefix: str = "") -> Any:
    """Validate `data` with a pydantic model; the first error becomes a one-line SpecError."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = _loc(tuple(err["loc"]))
        if prefix:
            field = f"{prefix}.{field}" if field != "(top level)" else prefix
        got = err.get("input")
        got_text = "" if err["type"] == "missing" or isinstance(got, (dict, list)) else f" (got {got!r})"
        raise SpecError(source, field, f"{err['msg']}{got_text}", _FIXES.get(err["type"], "see FORMATS.md")) from None
