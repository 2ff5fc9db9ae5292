"""The package's import graph has no circle and keeps the layers of docs/ARCHITECTURE.md.

The graph is read with `ast` from every module of src/skinflint, imports inside functions and
under `if TYPE_CHECKING:` included (a lazy or type-only import is still an arrow; a Protocol in
the lower module breaks such a circle). `from a.b import c` points at the module a.b.c when there
is one, else at a.b; a package's implicit import of its parent is not an arrow, and
`importlib.import_module` with a computed name is invisible (cli.py loads its commands so: the
top layer; extras.require loads optional third-party packages).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Each component (a top-level module or package of skinflint) and the components it may import,
# bottom layer first. The same table, in words, is docs/ARCHITECTURE.md's "Layers".
FOUNDATION = {"errors", "registry", "extras", "stats", "fanout"}
INPUTS = FOUNDATION | {"spec"}
CORE = INPUTS | {"model", "plan", "dispatch", "topology", "traffic", "admission"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "stats": set(),
    "fanout": set(),
    "registry": {"errors"},
    "extras": {"errors"},
    "spec": FOUNDATION,
    "model": INPUTS,
    "plan": INPUTS | {"model"},
    "dispatch": FOUNDATION,
    "traffic": FOUNDATION,                       # the traffic a plan is made for: data and syntax
    "admission": FOUNDATION,                     # the one admission rule, for the runtime and the simulator
    "topology": CORE,
    "verify": CORE,
    "profiling": INPUTS,
    "calibration": INPUTS | {"profiling"},
    "sim": CORE,
    "planners": CORE | {"sim"},                  # sim sits below: a planner may simulate (traffic-aware, #11)
    "api": CORE | {"planners", "verify"},
    "control": CORE | {"api", "planners"},       # the control loop's plan cache asks the API for plans
    "runtime": CORE | {"control", "profiling"},  # never sim, daynight, planners
    "daynight": CORE | {"sim", "control", "api", "planners", "verify"},
    "report": CORE | {"sim", "control", "api", "planners", "verify", "daynight", "profiling", "calibration"},
    "deploy": CORE | {"runtime"},                # cluster manifests for a plan; the runtime's metric names
    "demo": CORE | {"sim", "api", "planners", "verify", "report"},
    "testing": INPUTS | {"model", "plan"},
}
TOP = {"skinflint", "__main__", "cli", "commands"}  # the package's face and the command line: anything

# Arrows that break the layers today and are being removed (none left: issue #12 part B moved the
# control-loop pieces LiveRuntime uses to control/). Listed here so that nothing new joins them;
# the test fails once one is gone, so that it is struck from this list.
PENDING: set[tuple[str, str]] = set()


def module_names(src: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under src/skinflint (packages by their __init__)."""
    out = {}
    for path in sorted((src / "skinflint").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _target(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(src: Path) -> dict[str, set[str]]:
    """Module -> the skinflint modules it imports anywhere in its body."""
    modules = module_names(src)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {_target(a.name, modules) for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: climb from this module's package
                    up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{up}.{base}" if base else up
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else _target(base, modules)
                            for a in node.names}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def component(module: str) -> str:
    """`skinflint.sim.engine` -> `sim`; `skinflint` itself -> `skinflint`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(SRC)


def test_the_graph_sees_every_module_and_lazy_imports(graph: dict[str, set[str]]) -> None:
    assert len(graph) > 100  # 111 modules when this was written
    # both arrows come from imports inside functions only
    assert "skinflint.planners.optimal" in graph["skinflint.planners"]
    assert "skinflint.sim.arrivals.basic" in graph["skinflint.sim.arrivals"]


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_every_arrow_keeps_the_layers(graph: dict[str, set[str]]) -> None:
    unknown = sorted({component(m) for m in graph} - TOP - set(ALLOWED))
    assert unknown == [], "a new component: give it a place in ALLOWED and in docs/ARCHITECTURE.md"
    broken = {(a, b) for a, targets in graph.items() if component(a) not in TOP
              for b in targets if component(b) != component(a) and component(b) not in ALLOWED[component(a)]}
    assert sorted(broken - PENDING) == []
    assert PENDING <= broken, "a pending arrow is gone: strike it from PENDING"


def test_inside_planners_the_solver_is_below_the_planners(graph: dict[str, set[str]]) -> None:
    """planners/solve/ uses planners/base.py only; the planner files never import the registry."""
    for a, targets in graph.items():
        if a.startswith("skinflint.planners.solve"):
            assert {t for t in targets if t.startswith("skinflint.planners")} <= \
                {t for t in graph if t.startswith("skinflint.planners.solve")} | {"skinflint.planners.base"}, a
        elif a.startswith("skinflint.planners."):
            assert "skinflint.planners" not in targets, a
