"""Reading YAML and CSV files, and turning pydantic errors into one-line `SpecError`s."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from skinflint.errors import SpecError
from skinflint.spec.bounds import BOUNDS, limit, problem, show
from skinflint.spec.parse import load_yaml


def read_text(path: Path, what: str) -> str:
    """The file's text, or a SpecError naming the file and why it could not be read."""
    try:
        if Path(path).stat().st_size > limit("file_bytes"):
            raise SpecError(path, "", f"{what} file is larger than {limit('file_bytes') // 2**20} MiB",
                            "split it, or check that it is the right file")
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
    data = load_yaml(read_text(path, what), path)
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
        twice = sorted({h for h in header if header.count(h) > 1})
        if twice:
            raise SpecError(path, "header", f"column(s) {', '.join(twice)} appear twice",
                            "keep one column of each name")
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


def Bounded(name: str) -> Any:  # noqa: N802 - a type, read as one: `rate: Bounded("rate")`
    """A pydantic field type for a number within spec.bounds' bound `name` (int if whole, else float)."""
    whole = BOUNDS[name].whole

    def check(value: Any) -> Any:
        found = problem(name, value)
        if found is not None:
            raise PydanticCustomError("bound", "{problem}", {"problem": found[0], "fix": found[1]})
        return int(value) if whole else float(value)

    return Annotated[int if whole else float, PlainValidator(check)]


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
    "list_type": "write a list",
    "dict_type": "write a mapping",
    "too_short": "give at least one entry",
    "too_long": "give fewer entries (docs/FORMATS.md \"Bounds\")",
    "literal_error": "use one of the values named",
    "bool_type": "write true or false",
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
        if err["type"] == "bound":  # spec.bounds via `Bounded`: the message and the fix are its own
            raise SpecError(source, field, err["ctx"]["problem"], err["ctx"]["fix"]) from None
        got = err.get("input")
        got_text = "" if err["type"] == "missing" or isinstance(got, (dict, list)) else f" (got {show(got)})"
        raise SpecError(source, field, f"{err['msg']}{got_text}", _FIXES.get(err["type"], "see FORMATS.md")) from None
