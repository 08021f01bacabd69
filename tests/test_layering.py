"""The import direction of DESIGN.md and the determinism rules of modules/, checked by AST.

Direction: rpc -> node -> genesis -> modules -> state (node may also import modules and
state; rpc may import genesis). Each layer is imported as ``rwachain.<layer>``: the bare
names (``import state``) are not installed and are refused here. modules/ never imports trio or a clock, randomness, threads
or I/O, and never uses floats or true division.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = ["state", "modules", "genesis", "node", "rpc"]
ALLOWED = {
    "state": set(),
    "modules": {"state"},
    "genesis": {"modules", "state"},
    "node": {"genesis", "modules", "state"},
    "rpc": {"node", "genesis", "modules", "state"},
}
FORBIDDEN_IN_MODULES = {"trio", "time", "datetime", "random", "secrets", "threading", "asyncio",
                        "socket", "os", "concurrent", "subprocess", "uuid"}


def _files(pkg: str):
    return sorted((ROOT / pkg).rglob("*.py"))


def _top(name: str) -> str:
    """The layer an absolute import name belongs to: 'rwachain.state.tree' -> 'state'; a
    bare layer name is reported as 'bare:<layer>'; anything else is its first component."""
    parts = name.split(".")
    if parts[0] == "rwachain" and len(parts) > 1:
        return parts[1]
    return "bare:" + parts[0] if parts[0] in LAYERS else parts[0]


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, _top(a.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "rwachain":  # from rwachain import state
                for a in node.names:
                    yield node.lineno, a.name
            else:
                yield node.lineno, _top(node.module)


@pytest.mark.parametrize("pkg", LAYERS)
def test_import_direction(pkg):
    bad = []
    for f in _files(pkg):
        for line, top in _imports(f):
            if top.startswith("bare:"):
                bad.append(f"{f.relative_to(ROOT)}:{line} imports {top[5:]} (not rwachain.{top[5:]})")
            elif top in LAYERS and top != pkg and top not in ALLOWED[pkg]:
                bad.append(f"{f.relative_to(ROOT)}:{line} imports {top}")
    assert bad == [], "imports against rpc -> node -> genesis -> modules -> state:\n" + "\n".join(bad)


def test_modules_are_deterministic():
    bad = []
    for f in _files("modules"):
        tree = ast.parse(f.read_text(), str(f))
        for line, top in _imports(f):
            if top in FORBIDDEN_IN_MODULES:
                bad.append(f"{f.relative_to(ROOT)}:{line} imports {top}")
        for node in ast.walk(tree):
            where = f"{f.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and type(node.value) is float:
                bad.append(f"{where} float literal")
            elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
                bad.append(f"{where} true division (use //)")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
                bad.append(f"{where} float()")
    assert bad == [], "non-deterministic constructs in modules/:\n" + "\n".join(bad)


def test_the_checker_catches_violations(tmp_path):
    """The checks above are not vacuous: a planted violation is found."""
    f = tmp_path / "bad.py"
    f.write_text("import time\nfrom rwachain.node import chain\nfrom rwachain import rpc\n"
                 "import state.tree\nx = 1 / 2\n")
    tops = [t for _, t in _imports(f)]
    assert tops == ["time", "node", "rpc", "bare:state"]
    tree = ast.parse(f.read_text())
    assert any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(tree))


def test_standalone_verifier_imports_nothing_of_the_project():
    tops = {t for _, t in _imports(ROOT / "state" / "proof.py")}
    assert tops <= {"__future__", "hashlib"}


@pytest.mark.parametrize("folder", ["tests", "bench", "rwachain"])
def test_nothing_imports_the_bare_layer_names(folder):
    """Tests, benchmarks and the package root import the layers as rwachain.<layer> too: the
    bare names resolve only when the repository happens to be on sys.path (python -m pytest
    puts it there), never in an installed environment."""
    bad = [f"{f.relative_to(ROOT)}:{line} imports {top[5:]}"
           for f in _files(folder) for line, top in _imports(f) if top.startswith("bare:")]
    assert bad == [], "bare layer imports:\n" + "\n".join(bad)


def _module_name(path: pathlib.Path, root: pathlib.Path = ROOT) -> str:
    """rwachain.<layer>.<...> of a file of the five layers (a package: its __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["rwachain", *parts])


def _import_graph(files: list[pathlib.Path], root: pathlib.Path = ROOT) -> dict[str, set[str]]:
    """Module name -> the project modules it imports, at module level or inside functions
    alike (``from pkg import name`` points at pkg.name when that is a module, else pkg)."""
    known = {_module_name(f, root): f for f in files}
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, f in known.items():
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                           for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in known and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_import_cycle_anywhere():
    """No two files of the five layers import each other, directly or in a circle, counting
    imports made inside functions: a deferred import hides a circle, it does not remove it.
    Failed before: four circles (genesis/loader.py through the simulator, governance's
    changes and module, stable -> vault -> tranches keeper -> stable, the RPC method files)."""
    files = [f for pkg in LAYERS for f in _files(pkg)]
    cycles = _cycles(_import_graph(files))
    named = {_module_name(f): f.relative_to(ROOT) for f in files}
    report = ["  " + " <-> ".join(str(named[m]) for m in comp) for comp in cycles]
    assert cycles == [], "import cycles:\n" + "\n".join(report)


def test_the_cycle_check_finds_a_planted_cycle(tmp_path):
    """The cycle check is not vacuous: three files importing in a circle (one inside a
    function) are reported as one cycle, and a file outside it is not."""
    pkg = tmp_path / "state"
    pkg.mkdir()
    (pkg / "a.py").write_text("from rwachain.state import b\n")
    (pkg / "b.py").write_text("def f():\n    from rwachain.state.c import x\n")
    (pkg / "c.py").write_text("import rwachain.state.a\nx = 1\n")
    (pkg / "d.py").write_text("from rwachain.state import a\n")
    graph = _import_graph(sorted(pkg.glob("*.py")), tmp_path)
    assert _cycles(graph) == [["rwachain.state.a", "rwachain.state.b", "rwachain.state.c"]]
