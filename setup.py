"""Build hook for the one native part: the state tree's batch update (state/_tree_native.c).

Everything else is declared in pyproject.toml. The extension is optional: where it cannot be
compiled, the node runs the reference implementation in state/tree.py (same results)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("state._tree_native", ["state/_tree_native.c"], optional=True,
                             extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"])])
