"""The roles' invariants, checked after every genesis import and every simulated block."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.roles import keeper
from rwachain.modules.roles.records import ROLES


def invariants(ctx: Ctx) -> list[str]:
    """Every roles key grants a known role to a 20-byte account."""
    return [f"roles: a stored key grants {'no role' if g is None else repr(g.role)}"
            for g in keeper.grants(ctx) if g is None or g.role not in ROLES]
