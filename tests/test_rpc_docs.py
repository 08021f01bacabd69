"""docs/rpc.md lists every method of the dispatch table, with its parameters."""

from __future__ import annotations

import pathlib
import re

from rwachain.rpc.errors import SERVER_CODES
from rwachain.rpc.methods.modules import chain_table

METHODS = chain_table()  # the table the node serves

DOC = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "rpc.md").read_text()


def test_every_method_and_parameter_is_documented():
    rows = dict(re.findall(r"^\| `([\w.]+)` \| ([^|]*) \|", DOC, re.M))
    assert set(rows) == set(METHODS)
    for name, m in METHODS.items():
        expected = ", ".join(p.name if p.required else f"[{p.name}]" for p in m.params)
        assert rows[name].strip() == expected, name


def test_every_server_code_is_documented():
    for code in SERVER_CODES:
        assert f"| {code} |" in DOC


def test_every_method_has_its_worst_case_stated_once():
    """docs/rpc.md "Worst case of each method": an integrator's bound on one call's work, so
    a method added to the chain (a module's query too) must be placed in it."""
    section = DOC.split("### Worst case of each method", 1)[1].split("\n#", 1)[0]
    named = [m.strip() for row in re.findall(r"^\| ([^|]+) \| [^|]+ \|$", section, re.M)[1:]
             for m in row.split(",")]
    assert sorted(n for n in set(named) if named.count(n) > 1) == []
    assert set(named) == set(METHODS), (sorted(set(METHODS) - set(named)), sorted(set(named) - set(METHODS)))
