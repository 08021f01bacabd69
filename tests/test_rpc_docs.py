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
