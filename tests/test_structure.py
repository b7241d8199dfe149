"""The shape the README's module map promises: lean imports, no import cycle,
the layers importing only downwards, modules of a readable size, and the public
names exactly as documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import edi_bridge

ROOT = Path(edi_bridge.__file__).parent
HEAVY = ("werkzeug", "lxml", "zeep", "reportlab", "pypdf")
MAX_LINES = 450


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _imports(name: str, path: Path, package: bool, known: set[str]) -> Iterator[str]:
    """Every edi_bridge module ``name`` imports, wherever the import stands (type-only too).

    Importing ``a.b.c`` runs ``a.b``'s ``__init__`` first, so that counts as well
    (the root package aside, which only re-exports).
    """
    base = name.split(".") if package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                for a in node.names
            ]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if not target or target == name:
                continue
            yield target
            parent = target.rpartition(".")[0]
            while "." in parent:
                if parent in known and not name.startswith(parent + "."):
                    yield parent
                parent = parent.rpartition(".")[0]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: set(_imports(name, path, package, known)) for name, (path, package) in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return groups


def test_import_edi_bridge_loads_no_heavy_dependency() -> None:
    code = "import sys, edi_bridge; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "edi_bridge" in out
    assert [m for m in HEAVY if m in out] == []


def test_a_worker_on_sqlite_loads_neither_the_http_stack_nor_postgresql(tmp_path: Path) -> None:
    # Start-up of a worker process is mostly imports: it loads what its sends need.
    code = (
        "import sys\n"
        "from edi_bridge import Bridge\n"
        "from edi_bridge.worker import Worker\n"
        f"with Bridge.open({str(tmp_path / 'edi.db')!r}) as bridge:\n"
        "    Worker(bridge, poll_interval=3600).run(until_idle=True)\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "edi_bridge.worker" in out
    loaded = {m.split(".")[0] for m in out}
    assert [m for m in ("requests", "urllib3", "psycopg") if m in loaded] == []
    assert not [m for m in out if m.startswith("sqlalchemy.dialects.postgresql")]


def test_the_module_graph_has_no_cycle() -> None:
    graph = _graph()
    assert "edi_bridge.workflow.bridge" in graph["edi_bridge.workflow"]
    assert _cycles(graph) == []


def test_a_cycle_would_be_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_layers_import_only_downwards() -> None:
    graph = _graph()

    def reaches(prefix: str) -> dict[str, set[str]]:
        return {
            name: {t for t in targets if t == prefix or t.startswith(prefix + ".")}
            for name, targets in graph.items()
            if not (name == prefix or name.startswith(prefix + "."))
        }

    core = ("edi_bridge.lifecycle", "edi_bridge.models", "edi_bridge.provider", "edi_bridge.store")
    for name in core:
        bad = {t for t in graph[name] if t.startswith(("edi_bridge.workflow", "edi_bridge.paper"))}
        assert bad == set(), name
    assert {n for n in graph["edi_bridge.lifecycle"]} == set()
    # Only what stands above the workflow knows it (the root package re-exports Bridge).
    above = ("edi_bridge.testing", "edi_bridge.worker", "edi_bridge.cli")
    users = {n for n, t in reaches("edi_bridge.workflow").items() if t} - {"edi_bridge"}
    assert {u for u in users if not u.startswith(above)} == set()
    # None of the workflow's parts imports the facade.
    parts = [
        n
        for n in graph
        if n.startswith("edi_bridge.workflow.") and n != "edi_bridge.workflow.bridge"
    ]
    assert parts
    assert [p for p in parts if "edi_bridge.workflow.bridge" in graph[p]] == []
    # Nothing imports the command line but the command line.
    cli_users = {n for n, t in reaches("edi_bridge.cli").items() if t}
    assert cli_users == set()


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_public_names_are_the_documented_ones() -> None:
    design = (ROOT.parent / "docs" / "design.md").read_text(encoding="utf-8")
    section = design.split("## Public names", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))
    assert documented == set(edi_bridge.__all__)
    assert len(edi_bridge.__all__) == len(set(edi_bridge.__all__))
