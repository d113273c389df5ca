"""The house's shape: no import cycle, arrows only downward (ARCHITECTURE.md), rooms and modules of a readable size.

Imports are read from the source (top-level and inside functions alike), not from what a run
happens to import.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ARCHITECTURE.md's order: a room may import any room after it, never one before it
ROOMS = ("ui", "study", "judging", "training", "models", "jobs", "feedback", "scoring", "storage")
MAX_MODULE_LINES = 300
MAX_ROOM_LINES = 2500


def project_modules() -> dict[str, Path]:
    """Every project module by dotted name (tests/ and bench/ left out: they may reach anywhere)."""
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "tests", "bench") or rel.parts[0].startswith("."):
            continue
        name = ".".join(rel.with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    assert find_cycle(graph()) is None


def test_arrows_point_down():
    upward = [
        f"{module} -> {dep}"
        for module, deps in graph().items()
        for dep in deps
        if module.split(".")[0] in ROOMS and dep.split(".")[0] in ROOMS
        and ROOMS.index(dep.split(".")[0]) < ROOMS.index(module.split(".")[0])
    ]
    assert upward == []


def test_feedback_never_touches_weights():
    heavy = ("torch", "transformers", "peft", "trl")
    for name, path in project_modules().items():
        if name.split(".")[0] in ("feedback", "scoring", "storage", "jobs"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            roots |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert not roots & set(heavy), f"{name} imports {roots & set(heavy)}"


def test_modules_and_rooms_stay_small():
    modules = project_modules()
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules.items()}
    assert {n: c for n, c in lines.items() if c > MAX_MODULE_LINES} == {}
    rooms = {room: sum(c for n, c in lines.items() if n.split(".")[0] == room) for room in ROOMS}
    assert {r: c for r, c in rooms.items() if c > MAX_ROOM_LINES} == {}


def test_every_room_is_named_in_architecture():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert [room for room in ROOMS if f"{room}/" not in text] == []


@cache
def top_level_names(path: Path) -> set[str]:
    """The names a module binds at its top level (definitions, assignments, imports)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.If, ast.Try)):
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def missing_imports(paths) -> list[str]:
    """`from project_module import name` lines whose name is neither bound in that module nor a submodule of it."""
    modules = project_modules()
    missing = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and not node.level and node.module in modules):
                continue
            bound = top_level_names(modules[node.module])
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            missing += [f"{where}:{node.lineno}: {node.module}.{a.name}" for a in node.names
                        if a.name != "*" and a.name not in bound and f"{node.module}.{a.name}" not in modules]
    return missing


def test_missing_imports_are_found(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from training import no_such_module\nfrom storage.db import Store\n", encoding="utf-8")
    assert missing_imports([probe]) == ["probe.py:1: training.no_such_module"]


def test_every_project_import_exists():
    """A module moved between rooms leaves no script or test importing it from the old room (bench/ is not
    imported by any test, so only this catches it)."""
    paths = [p for p in ROOT.rglob("*.py") if not p.relative_to(ROOT).parts[0].startswith(".")]
    assert missing_imports(paths) == []
