"""The bank's genesis section: the genesis's top-level "denoms" (modules/core/sections.
DENOMINATIONS), [{id, symbol, decimals, kind}], checked with field-named errors, imported
and exported (Module.genesis_json). The chain's nativeDenom must name one of kind native.
Balances and supplies come with the genesis accounts (App.init_chain), not with this
section."""

from __future__ import annotations

from typing import Any

from rwachain.modules.bank import keeper
from rwachain.modules.bank.records import DENOM_KINDS
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.sections import DENOMINATIONS, GenesisError, Section, int_field

FIELDS = {"id", "symbol", "decimals", "kind"}
MAX_DECIMALS = 18


def _entry(i: int, d: Any, seen: dict) -> dict:
    """One denomination {id, symbol, decimals, kind}, checked (decimals as an int)."""
    p = f"{DENOMINATIONS}[{i}]"
    if type(d) is not dict or set(d) != FIELDS:
        raise GenesisError(f"{p}: expected {{id, symbol, decimals, kind}}")
    if type(d["id"]) is not str or not d["id"] or d["id"] in seen:
        raise GenesisError(f"{p}.id: missing or duplicate denomination id")
    if d["kind"] not in DENOM_KINDS:
        raise GenesisError(f"{p}.kind: one of {', '.join(DENOM_KINDS)}")
    if type(d["symbol"]) is not str:
        raise GenesisError(f"{p}.symbol: expected a string")
    return {**d, "decimals": int_field(f"{p}.decimals", d["decimals"], 0, MAX_DECIMALS)}


def check(raw: Any, checked: dict) -> dict[str, dict]:
    """The section as init_genesis takes it: {id: {id, symbol, decimals, kind}}, in the
    genesis's order; the chain's nativeDenom (checked["meta"]) names one of kind native."""
    if type(raw) is not list or not raw:
        raise GenesisError(f"{DENOMINATIONS}: expected a non-empty list")
    seen: dict[str, dict] = {}
    for i, d in enumerate(raw):
        entry = _entry(i, d, seen)
        seen[entry["id"]] = entry
    native = checked["meta"]["nativeDenom"]
    if native not in seen or seen[native]["kind"] != "native":
        raise GenesisError("nativeDenom: must name a denomination of kind native")
    return seen


def to_json(section: dict[str, dict]) -> list[dict]:
    """The denominations as a genesis writes them: [{id, ...}] in the section's order (an
    exported section: id order, as the state holds them)."""
    return list(section.values())


SECTION = Section(check, to_json, field=DENOMINATIONS)


def init_genesis(ctx: Ctx, section: dict[str, dict]) -> None:
    """Register every denomination of the section."""
    for d in section.values():
        keeper.register_denom(ctx, d["id"], d["symbol"], d["decimals"], d["kind"])


def export_genesis(ctx: Ctx) -> dict[str, dict]:
    """The section of the state: every registered denomination, in id order."""
    return {d.id: d.to_section() for d in keeper.denoms(ctx)}
