"""The project's module-level import graph: no cycles, and the plain data-type modules import nothing;
click only in ``cli`` modules; and no module longer than :data:`MAX_LINES` (one concept each).

Read with ``ast`` (nothing is imported): an edge is an import at module level, outside
``if TYPE_CHECKING:``; importing ``a.b.c`` also runs ``a`` and ``a.b``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules whose types everything shares: they must import no other project module.
LEAF_MODULES = ("aligncot_tasks.types", "aligncot_tasks.benchmarks", "training.evaluate.leaderboard.cells")
#: Most lines a module may have: a longer one holds more than one concept; split it.
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    out = {}
    for package in ("aligncot_tasks", "training"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imported(body: list[ast.stmt]) -> list[str]:
    names = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            names += _imported(node.body + node.orelse + getattr(node, "finalbody", []))
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        deps = set()
        for imported in _imported(ast.parse(path.read_text(encoding="utf-8")).body):
            parts = imported.split(".")
            deps |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & modules.keys()
        graph[name] = deps - {name}
    return graph


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for dep in graph[node]:
            if dep == start:
                return [*path, start]
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, [*path, dep]))
    return None


def test_no_import_cycles():
    graph = _graph()
    cycles = [c for m in sorted(graph) if (c := _cycle_from(graph, m))]
    assert not cycles, " -> ".join(cycles[0])


def test_a_cycle_is_found():
    graph = {"a": {"a.x"}, "a.x": {"a.y"}, "a.y": {"a", "b"}, "b": set()}
    assert _cycle_from(graph, "a.x") == ["a.x", "a.y", "a", "a.x"]
    assert _cycle_from(graph, "b") is None


@pytest.mark.parametrize("module", LEAF_MODULES)
def test_data_type_modules_import_nothing_of_the_project(module):
    graph = _graph()
    packages = {m for m in graph if (ROOT / m.replace(".", "/") / "__init__.py").exists()}
    assert graph[module] <= packages, sorted(graph[module] - packages)


def test_no_module_is_over_max_lines():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    assert not {m: n for m, n in lengths.items() if n > MAX_LINES}


def test_only_cli_modules_import_click():
    """Commands live in ``cli`` modules (``cli.py``, ``*_cli.py``); library modules are callable without click."""

    def imports_click(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] == "click" for n in names):
                return True
        return False

    def is_cli(path: Path) -> bool:
        return path.stem == "cli" or path.stem.endswith("_cli")

    assert not sorted(n for n, p in _modules().items() if not is_cli(p) and imports_click(p))
