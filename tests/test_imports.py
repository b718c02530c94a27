"""Imports run one way: CLI → recipe → stages → model, errors and helpers, never back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bookpress"


def imported_modules(path: Path) -> set[str]:
    """The package's modules that a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.module:  # from .typeset import Typesetter
                names = [f"bookpress.{node.module}"]
            else:  # from . import stamp
                names = [f"bookpress.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("bookpress.")}
    return found & {module.stem for module in PACKAGE.glob("*.py")}


def import_graph() -> dict[str, set[str]]:
    return {path.stem: imported_modules(path) - {path.stem} for path in PACKAGE.glob("*.py")}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each set of modules that import one another (strongly connected), as one cycle in it."""
    found, seen = [], set()
    for start in sorted(graph):
        for module in sorted(graph[start]):
            path = _path(graph, module, start)
            if path is not None and frozenset(path) not in seen:
                seen.add(frozenset(path))
                found.append([start, *path])
    return found


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """The shortest chain of imports from start to goal, or None."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    for module in queue:
        if module == goal:
            chain = [module]
            while (before := previous[chain[-1]]) is not None:
                chain.append(before)
            return chain[::-1]
        for imported in sorted(graph[module]):
            if imported not in previous:
                previous[imported] = module
                queue.append(imported)
    return None


def test_the_package_has_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" → ".join(cycle) for cycle in found)


def test_only_the_command_line_imports_the_recipe_and_nothing_imports_the_command_line():
    graph = import_graph()
    assert {module for module, imported in graph.items() if "build" in imported} == {"cli"}
    assert not {module for module, imported in graph.items() if "cli" in imported}


def test_the_walk_finds_imports_inside_functions():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert "typeset" in imported_modules(PACKAGE / "build.py")  # imported inside a function
