"""The docs describe what is built: error codes, calls and events match the code."""

from __future__ import annotations

import pathlib
import re

from rwachain.modules.core.app import default_modules
from rwachain.modules.core.errors import all_error_classes

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


def test_protocol_states_the_ranges_of_nonce_expiry_and_fee():
    from rwachain.modules.core.tx import FEE_MAX, U64_MAX

    text = (DOCS / "protocol.md").read_text()
    assert U64_MAX == 2**64 - 1 and FEE_MAX == 2**128 - 1
    for field, hi in (("expiry", "2^64 − 1"), ("fee", "2^128 − 1"), ("nonce", "2^64 − 1")):
        assert re.search(rf"0 ≤ {field} ≤ {re.escape(hi)}", text), field


def test_protocol_states_the_insurance_share_of_fees_with_the_default():
    from rwachain.modules.insurance.module import DEFAULT_PARAMS

    text = (DOCS / "protocol.md").read_text()
    share = DEFAULT_PARAMS["feeShare"]
    assert share == 2 * 10**17 and "floor(fees × feeShare / 10^18)" in text
    assert "default 2 × 10^17, 20 %" in text
    m = re.search(r"paid a fee of (\d+)\s+moves (\d+) to the fund; the reserve keeps (\d+)", text)
    assert m and int(m[2]) == int(m[1]) * share // 10**18 and int(m[3]) == int(m[1]) - int(m[2])


def test_execution_failures_are_said_to_come_back_as_receipt_codes():
    for name in ("protocol.md", "rpc.md"):
        text = (DOCS / name).read_text()
        assert re.search(r"execution failures?\b[^.]*?(is|are)\s+(\*\*never\*\*|not)\s+(a\s+)?JSON-RPC error", text, re.I), name


def test_event_subscriptions_say_event_type_is_required():
    text = (DOCS / "rpc.md").read_text()
    assert "`eventType` is required with `kind` `events`" in text


def test_the_ext_rule_for_big_integers_is_stated_and_holds():
    from rwachain.state.codec import encode

    text = " ".join((DOCS / "protocol.md").read_text().split())
    assert "is **fixext16**, `d8 01` + 16 bytes" in text and "is **ext8**, `c7 <length> 01` + payload" in text
    assert encode(2**64).hex() == "c70901010000000000000000"
    for v in (2**119, 2**127 - 1, -(2**127), -(2**119) - 1):  # 16-byte payloads
        assert encode(v)[:2] == b"\xd8\x01" and len(encode(v)) == 18
    for v in (2**127, 2**128 - 1, -(2**119), 2**64, -(2**63) - 1):  # every other length
        assert encode(v)[:1] == b"\xc7" and encode(v)[2:3] == b"\x01"
    assert encode(2**127).hex().startswith("c711010080") and encode(2**119).hex().startswith("d8010080")
