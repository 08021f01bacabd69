"""account_ methods: an account's balances, nonces and roles."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core import accounts
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.roles.module import roles_of
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import ADDRESS, HEIGHT, Param, Result, rpc_method


@rpc_method("account_get", [Param("address", ADDRESS, "account address"), HEIGHT],
            Result("account", S.ACCOUNT),
            "Balances, nonce, pending nonce (past the mempool) and roles of an account.")
async def account_get(api: Api, address: bytes, height: int | None):
    ctx = api.reader(height)
    n = accounts.nonce(ctx, address)
    balances = keeper.balances_of(ctx, address)
    return {"address": encode_address(address), "nonce": n, "pendingNonce": api.node.mempool.pending_nonce(address, n),
            "balances": {d: str(v) for d, v in sorted(balances.items())}, "roles": roles_of(ctx, address)}
