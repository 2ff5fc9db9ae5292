"""Functions longer than a limit in src/skinflint, longest first (a shape check, not a benchmark).

    .venv/bin/python bench/long_functions.py [--over 50] [--root src/skinflint]

A function's length is its source lines from `def` (decorators excluded) to its last line,
nested functions counted inside their parent and listed on their own as well.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def long_functions(root: Path, over: int) -> list[tuple[int, str]]:
    """(lines, "path:line name") for every function or method of more than `over` lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > over:
                    out.append((lines, f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"))
    return sorted(out, key=lambda t: (-t[0], t[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--over", type=int, default=50)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / "src" / "skinflint")
    args = parser.parse_args()
    rows = long_functions(args.root, args.over)
    for lines, where in rows:
        print(f"{lines:4d}  {where}")
    print(f"{len(rows)} functions over {args.over} lines")


if __name__ == "__main__":
    main()
