"""bank_ methods: balances, supply, denominations and module accounts."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import ADDRESS, HEIGHT, STRING, Param, Result, rpc_method


def _denoms(ctx: Ctx) -> list[str]:
    return [k[len(keeper.DENOM):].decode() for k, _ in ctx.iter_prefix(keeper.DENOM)]


@rpc_method("bank_balance", [Param("address", ADDRESS, "account"), Param("denom", STRING, "denomination"), HEIGHT],
            Result("amount", S.AMOUNT), "Balance in base units.")
async def bank_balance(api: Api, address: bytes, denom: str, height: int | None):
    return str(keeper.balance(api.reader(height), address, denom))


@rpc_method("bank_supply", [Param("denom", STRING, "denomination"), HEIGHT], Result("amount", S.AMOUNT),
            "Total supply in base units.")
async def bank_supply(api: Api, denom: str, height: int | None):
    return str(keeper.supply(api.reader(height), denom))


@rpc_method("bank_params", [HEIGHT], Result("params", S.BANK_PARAMS), "Denominations: symbol, decimals, kind; module accounts.")
async def bank_params(api: Api, height: int | None):
    ctx = api.reader(height)
    denoms = {d: keeper.denom_info(ctx, d) for d in _denoms(ctx)}
    n = len(keeper.MODACCT)
    mods = {ctx.get_obj(k): encode_address(k[n:]) for k, _ in ctx.iter_prefix(keeper.MODACCT)}
    return {"nativeDenom": api.app.native, "denoms": denoms, "moduleAccounts": mods}
