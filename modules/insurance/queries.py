"""The insurance fund's RPC methods (insurance_*), declared with their schemas
(modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    Optional,
    Query,
    QueryParam,
    arr,
    mapof,
    obj,
)
from rwachain.modules.insurance import keeper
from rwachain.modules.insurance.records import Fund

INFO = obj(fund=ADDR, balance=AMOUNT, bonded=AMOUNT, stake=AMOUNT, shares=AMOUNT, bondedShares=AMOUNT,
           era=INT, slashes=INT, holdings=mapof(AMOUNT),
           account=Optional(obj(address=ADDR, bonded=AMOUNT, shares=AMOUNT, rewards=mapof(AMOUNT),
                                unbonding=arr(obj(release=INT, shares=AMOUNT, amount=AMOUNT)))))
PARAMS = obj(unbonding=INT, feeShare=AMOUNT)


def _account(ctx: Ctx, address: bytes, f: Fund) -> dict:
    """A staker's bonded and unbonding stake (native base units, shares) and its rewards."""
    rec = keeper.record(ctx, address)
    return {"address": encode_address(address), "bonded": str(keeper.stake_of(ctx, address)),
            "shares": str(rec.shares),
            "rewards": {d: str(a) for d, a in keeper.pending(ctx, address).items()},
            "unbonding": [{"release": t, "shares": str(sh), "amount": str(f.value(sh))}
                          for t, sh in keeper.unbonding(ctx, address)]}


def _info(ctx: Ctx, address: bytes | None) -> dict:
    f = keeper.fund(ctx)
    out = {"fund": encode_address(keeper.FUND),
           "balance": str(bank.balance(ctx, keeper.FUND, bank.native_denom(ctx))),
           "bonded": str(keeper.total(ctx)), "stake": str(f.native), "shares": str(f.shares),
           "bondedShares": str(f.bonded), "era": f.era, "slashes": f.slashes,
           "holdings": {d: str(v) for d, v in bank.balances_of(ctx, keeper.FUND).items()}}
    if address is not None:
        out["account"] = _account(ctx, address, f)
    return out


def _params(ctx: Ctx) -> dict:
    p = keeper.params(ctx)
    return {"unbonding": p["unbonding"], "feeShare": str(p["feeShare"])}


QUERIES = (
    Query("insurance_info", _info, (QueryParam("address", "address", "a staker (optional)", required=False),),
          "info", INFO, "The fund: its account and balance, bonded stake in all, its era and slashes, and an "
          "account's bonded and unbonding stake and its rewards (fees and recoveries)."),
    Query("insurance_params", _params, (), "params", PARAMS, "Unbonding period (s) and the stakers' share of fees (wad)."),
)
