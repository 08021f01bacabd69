"""The roles' genesis section: {role: [rwa1... addresses]}, checked with field-named
errors, imported and exported (Module.genesis_json, modules/core/sections.py)."""

from __future__ import annotations

from typing import Any

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.sections import GenesisError, Section, address_field
from rwachain.modules.roles import keeper
from rwachain.modules.roles.records import ROLES


def check(raw: Any, checked: dict) -> dict[str, list[bytes]]:
    """The section as init_genesis takes it: {role: [20-byte addresses]}."""
    if type(raw) is not dict:
        raise GenesisError("roles: expected a map of role to addresses")
    out = {}
    for role, addrs in raw.items():
        if role not in ROLES:
            raise GenesisError(f"roles.{role}: unknown role (one of {', '.join(ROLES)})")
        if type(addrs) is not list:
            raise GenesisError(f"roles.{role}: expected a list of addresses")
        out[role] = [address_field(f"roles.{role}[{i}]", a) for i, a in enumerate(addrs)]
    return out


def to_json(section: dict[str, list[bytes]]) -> dict[str, list[str]]:
    return {role: [encode_address(a) for a in addrs] for role, addrs in section.items()}


SECTION = Section(check, to_json, absent={})


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {role: [20-byte addresses]}."""
    for role in ROLES:
        for addr in section.get(role, []):
            keeper.seed(ctx, role, addr)


def export_genesis(ctx: Ctx) -> dict:
    return {role: holders for role in ROLES if (holders := keeper.holders(ctx, role))}
