"""The roles' RPC methods (roles_*), declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import ADDR, Query, QueryParam, arr, enum, obj
from rwachain.modules.roles import keeper
from rwachain.modules.roles.records import ROLES


def _holders(ctx: Ctx, role: str) -> list[str]:
    return [encode_address(a) for a in keeper.holders(ctx, role)]


def _params(ctx: Ctx) -> dict:
    return {"roles": list(ROLES)}  # the same answer at every retained height


QUERIES = (
    Query("roles_holders", _holders, (QueryParam("role", "choice", "role name", choices=ROLES),), "addresses",
          arr(ADDR), "Accounts holding a role."),
    Query("roles_params", _params, (), "params", obj(roles=arr(enum(*ROLES))), "The roles that exist."),
)
