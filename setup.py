"""Build hook: the package map and the one native part.

Installed, the project is the one import name ``rwachain``. The repository keeps its five
top-level folders, which DESIGN.md fixes (state, modules, genesis, node, rpc); each is
mapped to ``rwachain.<folder>`` here, with every sub-package below it, and ``rwachain``
itself comes from the folder rwachain/ (its ``__init__`` only).

The native part is the state tree's batch update (state/_tree_native.c). It is optional:
where it cannot be compiled, the node runs the reference implementation in state/tree.py
(same results). Everything else is declared in pyproject.toml."""

import os

from setuptools import Extension, setup

LAYERS = ("state", "modules", "genesis", "node", "rpc")


def _package_map():
    """{installed package name: folder} for rwachain and every package under the layers."""
    mapping = {"rwachain": "rwachain"}
    for layer in LAYERS:
        for folder, dirs, files in os.walk(layer):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            if "__init__.py" in files:
                mapping["rwachain." + folder.replace(os.sep, ".")] = folder
    return mapping


PACKAGE_DIR = _package_map()

setup(
    packages=sorted(PACKAGE_DIR),
    package_dir=PACKAGE_DIR,
    package_data={"rwachain.genesis": ["*.json", "data/*.json", "data/*.csv", "scenarios/*.json"],
                  "rwachain.genesis.scenario": ["*.json"]},
    ext_modules=[Extension("rwachain.state._tree_native", ["state/_tree_native.c"], optional=True,
                           extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"])],
)
