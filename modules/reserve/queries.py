"""The reserve's and the native token's RPC methods (reserve_*, native_*), declared with
their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    STR,
    Optional,
    Query,
    QueryError,
    QueryParam,
    arr,
    enum,
    mapof,
    obj,
)
from rwachain.modules.market import keeper as market
from rwachain.modules.market.queries import ORDER, order_json
from rwachain.modules.reserve import keeper

INFO = obj(account=ADDR, holdings=mapof(AMOUNT), value=AMOUNT, epoch=INT, budget=AMOUNT, used=AMOUNT,
           orders=arr(ORDER), treasury=obj(account=ADDR, holdings=mapof(AMOUNT)))
PARAMS = obj(budgetShare=AMOUNT, discount=AMOUNT, premium=AMOUNT, epoch=INT, redeemFee=AMOUNT, cooldown=INT,
             redeemLimit=AMOUNT, nativePayoutShare=AMOUNT)
QUOTE = obj(price=AMOUNT, value=AMOUNT, out=AMOUNT, backing=AMOUNT, payIn=enum("stable", "native"),
            budgetLeft=AMOUNT)
NATIVE_INFO = obj(denom=STR, supply=AMOUNT, circulating=AMOUNT, backing=AMOUNT, basketValue=AMOUNT, treasury=AMOUNT,
                  queued=AMOUNT, epoch=obj(epoch=INT, limit=AMOUNT, used=AMOUNT),
                  payouts=obj(cap=AMOUNT, used=AMOUNT),
                  redemptions=Optional(arr(obj(id=INT, release=INT, amount=AMOUNT, filled=AMOUNT))))
NATIVE_PARAMS = obj(redeemFee=AMOUNT, redeemLimit=AMOUNT, cooldown=INT)


def _holdings(ctx: Ctx, account: bytes) -> dict[str, str]:
    return {d: str(v) for d, v in bank.balances_of(ctx, account).items()}


def _info(ctx: Ctx) -> dict:
    st = keeper.epoch_state(ctx)
    return {"account": encode_address(keeper.RESERVE), "holdings": _holdings(ctx, keeper.RESERVE),
            "value": str(keeper.holdings_value(ctx)), "epoch": st.epoch, "budget": str(st.budget),
            "used": str(st.used), "orders": [order_json(o) for o in market.orders_of(ctx, keeper.RESERVE)],
            "treasury": {"account": encode_address(keeper.TREASURY), "holdings": _holdings(ctx, keeper.TREASURY)}}


def _quote(ctx: Ctx, unit: str, quantity: int, payIn: str | None) -> dict:  # noqa: N803 (the RPC parameter's name)
    pay_in = payIn or "stable"
    try:
        q = keeper.quote_sale(ctx, unit, quantity, pay_in)
    except InvalidTransaction as exc:
        raise QueryError("invalid_state", exc.message, {"name": exc.name}) from None
    return {"price": str(q.price), "value": str(q.value), "out": str(q.out), "backing": str(q.backing),
            "payIn": pay_in, "budgetLeft": str(max(0, keeper.epoch_state(ctx).left))}


def _native_info(ctx: Ctx, address: bytes | None) -> dict:
    n = bank.native_denom(ctx)
    st = keeper.native_epoch(ctx)
    tr = keeper.treasury_epoch(ctx)
    out = {"denom": n, "supply": str(bank.supply(ctx, n)),
           "circulating": str(keeper.native_circulating(ctx)), "backing": str(keeper.backing(ctx)),
           "basketValue": str(keeper.holdings_value(ctx)),
           "treasury": str(bank.balance(ctx, keeper.TREASURY, n)),
           "queued": str(keeper.queued(ctx)),
           "epoch": {"epoch": st.epoch, "limit": str(st.limit), "used": str(st.used)},
           "payouts": {"cap": str(tr.cap), "used": str(tr.used)}}
    if address is not None:
        out["redemptions"] = [{"id": e.id, "release": e.release, "amount": str(e.amount), "filled": str(e.filled)}
                              for e in keeper.redemptions(ctx, address)]
    return out


def _native_params(ctx: Ctx) -> dict:
    p = keeper.params(ctx)
    return {"redeemFee": str(p["redeemFee"]), "redeemLimit": str(p["redeemLimit"]), "cooldown": p["cooldown"]}


def _params(ctx: Ctx) -> dict:
    return {k: str(v) if k not in ("epoch", "cooldown") else v for k, v in keeper.params(ctx).items()}


QUERIES = (
    Query("reserve_info", _info, (), "info", INFO,
          "The buyback reserve: holdings and their value, the epoch's budget and its use, its standing orders."),
    Query("reserve_quote", _quote, (QueryParam("unit", "string", "tranche unit"),
                                    QueryParam("quantity", "u64", "units to sell"),
                                    QueryParam("payIn", "choice", "what to be paid in (default stable)",
                                               required=False, choices=("stable", "native"))),
          "quote", QUOTE, "What a direct sale to the reserve pays now: price per unit, value, what is paid out "
          "(stable, or native at the backing value), and the budget left."),
    Query("native_info", _native_info,
          (QueryParam("address", "address", "a holder's pending redemptions (optional)", required=False),),
          "info", NATIVE_INFO, "The native token: supply, circulation, backing value per base unit (wad of stable "
          "base units), the treasury, the redemption queue, this epoch's redemption limit and use, the treasury's "
          "native payout cap and use, and a holder's queued redemptions."),
    Query("native_params", _native_params, (), "params", NATIVE_PARAMS,
          "Native redemption: fee and per-epoch limit (wad), cool-down (s)."),
    Query("reserve_params", _params, (), "params", PARAMS,
          "Budget share, discount, premium, redemption fee and limit, the treasury's native payout share (wad), "
          "epoch and cool-down (s)."),
)
