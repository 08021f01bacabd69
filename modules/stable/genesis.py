"""The stable token's genesis section: {denom, proofOfReserve} (an export adds
custodianMinted and the typed `state` of every stable/ record), checked with field-named
errors, bounded by the genesis accounts, imported and exported (Module.genesis_json,
modules/core/sections.py)."""

from __future__ import annotations

from typing import Any

from rwachain.modules.core import typed
from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.core.sections import GenesisError, Section, int_field, object_field
from rwachain.modules.roles import keeper as roles
from rwachain.modules.stable import keeper
from rwachain.modules.stable.records import StableToken

STATE = (
    Record("minted", keeper.MINTED, (("custodian", "addr"),), "int", field="amount"),
    Record("units", keeper.UNITS, value="int"),
    Record("use", keeper.USE, (("ceiling", "bytes"),), "int", field="amount"),
    Record("useByGrade", keeper.BY_GRADE, (("denom", "str"),), ("list", "int"), field="amounts"),
    Record("cr", keeper.CR, value={"cr": ("opt", "int"), "time": "int", "fresh": "bool", "lastFresh": ("opt", "int")}),
    Record("eligible", keeper.ELIGIBLE, (("denom", "str"),), "bool", field="eligible"),
)
"""The typed `state` of the stable section (modules/core/records.py): every stable/ record but
the custodian record, which the section's own fields give."""


def check(raw: Any, checked: dict) -> dict:
    """The section as init_genesis takes it (custodianMinted added by with_totals)."""
    if type(raw) is not dict:
        raise GenesisError("stable: expected {denom, proofOfReserve} (an export adds custodianMinted, state)")
    object_field("stable", raw, {"denom", "proofOfReserve"}, {"custodianMinted", "state"})
    denoms = checked["denoms"]
    if raw["denom"] not in denoms or denoms[raw["denom"]]["kind"] != "stable":
        raise GenesisError("stable.denom: must name a denomination of kind stable")
    out = {"denom": raw["denom"], "proofOfReserve": int_field("stable.proofOfReserve", raw["proofOfReserve"], 0,
                                                               AMOUNT_MAX)}
    if "state" in raw:
        out["custodianMinted"] = int_field("stable.custodianMinted", raw.get("custodianMinted", 0), 0, AMOUNT_MAX)
        out["state"] = typed.check("stable.state", raw["state"], STATE)
    return out


def with_totals(section: dict, totals: dict[str, int]) -> dict:
    """An export carries its own accounting: what the custodians minted (the rest was minted
    against units); otherwise every genesis balance of the stable token counts as
    custodian-minted. Either is bounded by the attested reserve."""
    denom = section["denom"]
    held = section.get("custodianMinted", totals.get(denom, 0))
    if held > section["proofOfReserve"]:
        raise GenesisError(f"stable.proofOfReserve: genesis balances of {denom} "
                           f"({held}) exceed the attested reserve ({section['proofOfReserve']})")
    return {"custodianMinted": totals.get(denom, 0), **section}


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: no stable token, left out)."""
    if not section:
        return None
    out = {"denom": section["denom"], "proofOfReserve": str(section["proofOfReserve"])}
    if "state" in section:
        out["custodianMinted"] = str(section["custodianMinted"])
        out["state"] = typed.to_json(section["state"], STATE)
    return out


SECTION = Section(check, to_json, with_totals=with_totals)

_init_state, _export_state = typed_genesis("stable", STATE, (b"stable/",), skip=(keeper.CUSTODIAN,))


def init_genesis(ctx: Ctx, section: dict) -> None:
    keeper.put_info(ctx, StableToken(section["denom"], section["proofOfReserve"], section["custodianMinted"]))
    if "state" in section:  # an export: every stable/ record as it was
        _init_state(ctx, section["state"])
        return
    holders = roles.holders(ctx, "custodian")
    if holders and section["custodianMinted"]:
        keeper.set_minted(ctx, holders[0], section["custodianMinted"])


def export_genesis(ctx: Ctx) -> dict:
    token = keeper.info(ctx)
    if token is None:
        return {}
    return {"denom": token.denom, "proofOfReserve": token.attestedReserve, "custodianMinted": token.custodianMinted,
            "state": _export_state(ctx)}
