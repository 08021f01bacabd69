"""roles_ methods: who holds a role, and the roles that exist."""

from __future__ import annotations

from rwachain.modules.core.crypto import encode_address
from rwachain.modules.roles.module import ROLES, holders
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import HEIGHT, Param, Result, choice, rpc_method


@rpc_method("roles_holders", [Param("role", choice(*ROLES), "role name"), HEIGHT], Result("addresses", S.arr(S.ADDR)),
            "Accounts holding a role.")
async def roles_holders(api: Api, role: str, height: int | None):
    return [encode_address(a) for a in holders(api.reader(height), role)]


@rpc_method("roles_params", [HEIGHT], Result("params", S.obj(roles=S.arr(S.enum(*ROLES)))), "The roles that exist.")
async def roles_params(api: Api, height: int | None):
    api.reader(height)  # the same answer at every retained height; refuses others
    return {"roles": list(ROLES)}
