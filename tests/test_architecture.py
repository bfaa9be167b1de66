"""The shape of services/: its modules import each other without a cycle (so each can be
read, imported and tested from the bottom up), and none of them reaches up into the web
layer or the bot. Checked on the source with ast, so an import inside a function or under
TYPE_CHECKING counts as much as one at the top."""

from __future__ import annotations

import ast
import importlib
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parent.parent / "services"
MODULES = sorted(p.stem for p in SERVICES.glob("*.py") if p.stem != "__init__")
# What sits above services/: the Flask app and its parts, the bot, the command line.
# (werkzeug's password hashing is a library like any other.)
ABOVE = {"flask", "flask_wtf", "app", "extensions", "bot", "admin", "pages", "webhooks", "api"}
ABOVE |= {"cli"}


def imports_of(
    module: str, folder: Path = SERVICES, known: list[str] = MODULES
) -> tuple[set[str], set[str]]:
    """(modules of services/ it imports, top-level packages it imports from outside)."""
    path = folder / f"{module}.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    inside: set[str] = set()
    outside: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "services":
                    inside.update(parts[1:2])
                else:
                    outside.add(parts[0])
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level:  # from . import x / from .x import y, inside services/
                parts = ["services", *parts]
            if parts[:1] != ["services"]:
                outside.add(parts[0])
            elif len(parts) > 1:
                inside.add(parts[1])
            else:  # from services import x, y
                inside.update(a.name for a in node.names if a.name in known)
    inside.discard(module)
    return inside & set(known), outside


GRAPH = {module: imports_of(module)[0] for module in MODULES}


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += graph[module]
    return seen


def test_every_module_of_services_imports() -> None:
    for module in MODULES:
        importlib.import_module(f"services.{module}")


def test_services_import_each_other_without_a_cycle() -> None:
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))  # "a -> b": a imports b
        tangled = sorted(m for m in GRAPH if m in reaches(GRAPH, m))
        pytest.fail(
            f"import cycle in services/: {cycle}\nall modules on a cycle: {', '.join(tangled)}",
            pytrace=False,
        )


def test_services_import_neither_flask_nor_the_layers_above() -> None:
    reaching_up = {
        module: sorted(outside & ABOVE)
        for module in MODULES
        if (outside := imports_of(module)[1]) & ABOVE
    }
    assert reaching_up == {}


def test_the_cycle_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: a cycle made only of a function-level `from services import x`
    and a relative import is still found."""
    (tmp_path / "a.py").write_text("def f():\n    from services import b\n")
    (tmp_path / "b.py").write_text("from .a import f\nimport flask\n")
    graph = {m: imports_of(m, tmp_path, ["a", "b"])[0] for m in ("a", "b")}
    assert imports_of("b", tmp_path, ["a", "b"])[1] == {"flask"}
    assert graph == {"a": {"b"}, "b": {"a"}}
    with pytest.raises(CycleError):
        TopologicalSorter(graph).prepare()
