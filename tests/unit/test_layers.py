"""
The layer table of docs/architecture.md ("Layers") holds for every import in gateway/: a module
imports only modules of its own room or of the rooms its row lists, and no modules import each
other in a circle (imports inside functions and under TYPE_CHECKING count too).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gateway"


def layer_table() -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """room -> (module prefixes, rooms it may import), from docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rooms: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("**"):
            continue
        room = cells[0].strip("*")
        prefixes = tuple(re.findall(r"`(gateway[\w.]*)`", cells[1]))
        allowed = frozenset(name for name in re.split(r"[,\s]+", cells[3].replace("—", "")) if name)
        rooms[room] = (prefixes, allowed)
    return rooms


def all_modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The gateway modules `path` imports, anywhere in it, with the line."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gateway"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if not base.startswith("gateway"):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in modules else base), node.lineno


def room_of(module: str, rooms: dict[str, tuple[tuple[str, ...], frozenset[str]]]) -> str | None:
    """The room whose longest prefix names `module` (None: in no room)."""
    best, length = None, -1
    for room, (prefixes, _) in rooms.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = room, len(prefix)
    return best


def test_the_table_is_read() -> None:
    rooms = layer_table()
    assert {"command", "app", "web", "provisioning", "backend", "sql", "embedded", "brig", "scim"} <= set(rooms)
    assert rooms["scim"][1] == frozenset(), "scim/ imports nothing of the gateway"


def test_every_module_is_in_a_room() -> None:
    rooms = layer_table()
    lost = [m for m in all_modules() if m != "gateway" and room_of(m, rooms) is None]
    assert not lost, f"modules in no room of docs/architecture.md's layer table: {lost}"


def test_no_import_points_up_or_across() -> None:
    rooms, modules = layer_table(), all_modules()
    wrong = []
    for name, path in modules.items():
        room = room_of(name, rooms)
        if room is None:
            continue
        for target, line in imports_of(path, name, modules):
            target_room = room_of(target, rooms)
            if target_room is None or target_room == room or target_room in rooms[room][1]:
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line} ({room}) imports {target} ({target_room})")
    assert not wrong, "imports against the layer table:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    modules = all_modules()
    graph = {
        name: {t for t, _ in imports_of(path, name, modules) if t in modules and t != name}
        for name, path in modules.items()
    }
    cycles = _strongly_connected(graph)
    assert not cycles, "modules that import each other in a circle: " + "; ".join(
        " -> ".join(sorted(c)) for c in cycles
    )


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize(
    ("graph", "cyclic"),
    [({"a": {"b"}, "b": {"a"}}, True), ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
     ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True)],
)  # fmt: skip
def test_cycle_finder(graph: dict[str, set[str]], cyclic: bool) -> None:
    assert bool(_strongly_connected(graph)) is cyclic
