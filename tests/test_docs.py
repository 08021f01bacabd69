"""The docs describe what is built: error codes, calls and events match the code."""

from __future__ import annotations

import pathlib
import re

from modules.app import default_modules
from modules.errors import all_error_classes

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def test_every_error_code_is_in_the_protocol_table():
    text = (DOCS / "protocol.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) \| (\w+) \|", text, re.M))
    assert {int(k): v for k, v in rows.items()} == {c.code: c.name for c in all_error_classes()}


def test_every_call_and_its_cost_is_in_the_fee_table():
    text = (DOCS / "protocol.md").read_text()
    for m in default_modules():
        for c in m.calls.values():
            assert re.search(rf"^\| {m.name}\.{c.name} \| {c.cost} \|", text, re.M), f"{m.name}.{c.name}"


def test_every_emitted_event_type_is_documented():
    text = (DOCS / "events.md").read_text()
    src = "\n".join(p.read_text() for p in (DOCS.parent / "modules").rglob("*.py"))
    emitted = set(re.findall(r'emit\(\s*"([\w.]+)"', src)) | set(re.findall(r'"type": "(\w+\.[\w.]+)"', src))
    assert emitted, "found no events in the code"
    for t in emitted:
        assert f"| {t} |" in text, t


def test_readme_describes_the_built_modules_and_the_license_is_there():
    readme = (DOCS.parent / "README.md").read_text()
    assert "come next" not in readme
    licence = (DOCS.parent / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence


def test_make_lint_runs_only_checks_the_code_passes():
    makefile = (DOCS.parent / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check" in lint and "format --check" not in lint
