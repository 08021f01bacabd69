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
