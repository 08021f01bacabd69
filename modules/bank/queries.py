"""The bank's RPC methods (bank_*): balances, supply, denominations and module accounts,
declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    STR,
    Query,
    QueryParam,
    enum,
    mapof,
    obj,
)

PARAMS = obj(nativeDenom=STR, denoms=mapof(obj(decimals=INT, kind=enum("native", "stable", "unit"), symbol=STR)),
             moduleAccounts=mapof(ADDR))
DENOM = QueryParam("denom", "string", "denomination")


def _denoms(ctx: Ctx) -> list[str]:
    return [k[len(keeper.DENOM):].decode() for k, _ in ctx.iter_prefix(keeper.DENOM)]


def _balance(ctx: Ctx, address: bytes, denom: str) -> str:
    return str(keeper.balance(ctx, address, denom))


def _supply(ctx: Ctx, denom: str) -> str:
    return str(keeper.supply(ctx, denom))


def _params(ctx: Ctx) -> dict:
    denoms = {d: keeper.denom_info(ctx, d) for d in _denoms(ctx)}
    n = len(keeper.MODACCT)
    mods = {ctx.get_obj(k): encode_address(k[n:]) for k, _ in ctx.iter_prefix(keeper.MODACCT)}
    return {"nativeDenom": keeper.native_denom(ctx), "denoms": denoms, "moduleAccounts": mods}


QUERIES = (
    Query("bank_balance", _balance, (QueryParam("address", "address", "account"), DENOM), "amount", AMOUNT,
          "Balance in base units."),
    Query("bank_supply", _supply, (DENOM,), "amount", AMOUNT, "Total supply in base units."),
    Query("bank_params", _params, (), "params", PARAMS, "Denominations: symbol, decimals, kind; module accounts."),
)
