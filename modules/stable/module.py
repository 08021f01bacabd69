"""The stable token's custodian accounting, as genesis seeds it.

State (canonical msgpack map under stable/custodian):
    denom             the stable denomination
    attestedReserve   proof-of-reserve value, base units: custodian mints never exceed it
    custodianMinted   stable tokens minted by custodians against that reserve, base units
Genesis balances of the stable denomination count as a custodian mint against the
genesis proof-of-reserve value (genesis/loader.py refuses a genesis where they exceed it).
"""

from __future__ import annotations

from modules.context import Ctx
from modules.registry import Module

NAME = "stable"
CUSTODIAN = b"stable/custodian"


def init_genesis(ctx: Ctx, section: dict) -> None:
    ctx.set_obj(CUSTODIAN, {"attestedReserve": section["proofOfReserve"],
                            "custodianMinted": section["custodianMinted"], "denom": section["denom"]})


def export_genesis(ctx: Ctx) -> dict:
    c = ctx.get_obj(CUSTODIAN)
    if c is None:
        return {}
    return {"denom": c["denom"], "proofOfReserve": c["attestedReserve"], "custodianMinted": c["custodianMinted"]}


def invariants(ctx: Ctx) -> list[str]:
    c = ctx.get_obj(CUSTODIAN)
    if c is not None and c["custodianMinted"] > c["attestedReserve"]:
        return [f"stable: custodian minted {c['custodianMinted']} above attested reserve {c['attestedReserve']}"]
    return []


def info(ctx: Ctx) -> dict | None:
    return ctx.get_obj(CUSTODIAN)


def module() -> Module:
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, invariants=invariants)
    m.queries["custodian"] = info
    return m
