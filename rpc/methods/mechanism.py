"""RPC methods of the mechanism modules: assets_, valuation_, oracle_ (docs/rpc.md)."""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.bank import keeper as bank_keeper
from rwachain.modules.core import timelock
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.governance import module as governance
from rwachain.modules.insurance import module as insurance
from rwachain.modules.market import keeper as market
from rwachain.modules.market import queries as market_queries
from rwachain.modules.reserve import module as reserve_module
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import queries as tranches_queries
from rwachain.modules.tranches import waterfall
from rwachain.rpc.errors import INVALID_STATE, NOT_FOUND, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import (
    ADDRESS,
    HEIGHT,
    STRING,
    U64,
    Param,
    Result,
    choice,
    rpc_method,
)

PROPOSAL_STATUSES = ("voting", "passed", "rejected", "executed", "failed")  # modules/governance/module.py
ID = Param("id", U64, "asset id")


def _asset(ctx: Ctx, asset_id: int) -> dict:
    rec = assets.find(ctx, asset_id)
    if rec is None:
        raise RpcError(NOT_FOUND, f"no asset {asset_id}")
    return rec


# ----- valuation_ ---------------------------------------------------------------------------
@rpc_method("valuation_asset", [ID, HEIGHT], Result("valuation", S.VALUATION),
    "An asset's value at the block time with its explanation: inputs, oracle rounds, each installment's "
    "expected cash and discount factor. problems lists stale, frozen or missing feeds (actions priced by "
    "this value refuse while it is not empty).", errors=[NOT_FOUND, INVALID_STATE])
async def valuation_asset(api: Api, id: int, height: int | None):
    ctx = api.reader(height)
    rec = _asset(ctx, id)
    if rec["grade"] is None:
        raise RpcError(INVALID_STATE, f"asset {id} is not verified yet: it has no grade and no value")
    try:
        out = marks.explain(ctx, rec)
    except InvalidTransaction as exc:
        raise RpcError(INVALID_STATE, exc.message) from None
    return {"id": id, **enc.value(out)}


# ----- valuation_pool (the pools and their values are the tranches module's queries) ------------
POOL_ID = Param("pool", U64, "pool id")
_pool_value = tranches_queries.pool_value


def _pool(ctx: Ctx, pool_id: int) -> dict:
    p = tranches.find(ctx, pool_id)
    if p is None:
        raise RpcError(NOT_FOUND, f"no pool {pool_id}")
    return p


@rpc_method("valuation_pool", [POOL_ID, HEIGHT], Result("valuation", S.POOL_VALUATION),
            "A pool's value at the block time: each asset's explanation, unallocated cash, and the walk of that "
            "value senior to junior over the tranches' claims.", errors=[NOT_FOUND])
async def valuation_pool(api: Api, pool: int, height: int | None):
    ctx = api.reader(height)
    p = _pool(ctx, pool)
    total, _, problems = _pool_value(ctx, p)
    explained = []
    for aid in p["assets"]:
        rec = assets.get(ctx, aid)
        try:
            explained.append({"id": aid, **enc.value(marks.explain(ctx, rec))})
        except InvalidTransaction as exc:
            explained.append({"id": aid, "value": "0", "problems": [exc.message]})
    claims = waterfall.claims(p, ctx.block.time)
    values = waterfall.tranche_values(p, total, ctx.block.time)
    return {"pool": pool, "value": str(total), "unallocated": str(p["unallocated"]), "problems": problems,
            "assets": explained, "tranches": [{"tranche": k, "claim": str(c), "value": str(v)}
                                              for k, (c, v) in enumerate(zip(claims, values, strict=True))]}


# ----- insurance_, gov_ --------------------------------------------------------------------------
@rpc_method("insurance_info", [Param("address", ADDRESS, "a staker (optional)", required=False), HEIGHT],
            Result("info", S.INSURANCE_INFO), "The fund: its account and balance, bonded stake in all, its era and "
                                              "slashes, and an account's bonded and unbonding stake and its rewards "
                                              "(fees and recoveries).")
async def insurance_info(api: Api, address: bytes | None, height: int | None):
    ctx = api.reader(height)
    native = api.app.native
    f = insurance.fund(ctx)
    out = {"fund": encode_address(insurance.FUND), "balance": str(bank_keeper.balance(ctx, insurance.FUND, native)),
           "bonded": str(insurance.total(ctx)), "stake": str(f["native"]), "shares": str(f["shares"]),
           "bondedShares": str(f["bonded"]), "era": f["era"], "slashes": f["slashes"],
           "holdings": {d: str(v) for d, v in bank_keeper.balances_of(ctx, insurance.FUND).items()}}
    if address is not None:
        rec = insurance.record(ctx, address)
        out["account"] = {"address": encode_address(address), "bonded": str(insurance.stake_of(ctx, address)),
                          "shares": str(rec["shares"]),
                          "rewards": {d: str(a) for d, a in insurance.pending(ctx, address).items()},
                          "unbonding": [{"release": t, "shares": str(sh),
                                         "amount": str(sh * f["native"] // f["shares"] if f["shares"] else 0)}
                                        for t, sh in timelock.entries(ctx, insurance.UNBOND, address)]}
    return out


@rpc_method("insurance_params", [HEIGHT], Result("params", S.INSURANCE_PARAMS),
            "Unbonding period (s) and the stakers' share of fees (wad).")
async def insurance_params(api: Api, height: int | None):
    p = insurance.params(api.reader(height))
    return {"unbonding": p["unbonding"], "feeShare": str(p["feeShare"])}


def _proposal_json(p: dict) -> dict:
    return {**p, "proposer": encode_address(p["proposer"]), "yes": str(p["yes"]), "no": str(p["no"]),
            "account": encode_address(p["account"]) if len(p["account"]) == 20 else None}


@rpc_method("gov_proposals", [Param("status", choice(*PROPOSAL_STATUSES), "only proposals in this status",
                                     required=False),
                              Param("before", U64, "only ids below this (default: every id)", required=False),
                              Param("limit", U64, "proposals examined, at most 1000 (default 1000)", required=False,
                                    default=1000), HEIGHT],
            Result("proposals", S.arr(S.PROPOSAL)), "Proposals, newest first, with their tallies and status: the "
            "limit newest ids below before are examined (ids run 1, 2, ...), those in status returned; the next "
            "page has before = the lowest id examined.")
async def gov_proposals(api: Api, status: str | None, before: int | None, limit: int, height: int | None):
    ctx = api.reader(height)
    top = (ctx.get_int(governance.NEXT) or 1) if before is None else min(before, ctx.get_int(governance.NEXT) or 1)
    out = []
    for pid in range(top - 1, max(0, top - 1 - max(1, min(limit, 1000))), -1):
        p = ctx.get_obj(governance.PROP + pid.to_bytes(8, "big"))
        if p is not None and (status is None or p["status"] == status):
            out.append(_proposal_json(p))
    return out


@rpc_method("gov_proposal", [Param("id", U64, "proposal id"), HEIGHT], Result("proposal", S.PROPOSAL),
            "One proposal.", errors=[NOT_FOUND])
async def gov_proposal(api: Api, id: int, height: int | None):
    ctx = api.reader(height)
    p = ctx.get_obj(governance.PROP + id.to_bytes(8, "big"))
    if p is None:
        raise RpcError(NOT_FOUND, f"no proposal {id}")
    return _proposal_json(p)


@rpc_method("gov_params", [HEIGHT], Result("params", S.GOV_PARAMS),
            "Voting period and execution delay (s), quorum (wad of bonded stake), paused modules.")
async def gov_params(api: Api, height: int | None):
    ctx = api.reader(height)
    p = governance.params(ctx)
    return {"votingPeriod": p["votingPeriod"], "executionDelay": p["executionDelay"], "quorum": str(p["quorum"]),
            "paused": [k[len(governance.PAUSE):].decode() for k, _ in ctx.iter_prefix(governance.PAUSE)]}


# ----- reserve_ -----------------------------------------------------------------------------------
@rpc_method("reserve_info", [HEIGHT], Result("info", S.RESERVE_INFO),
            "The buyback reserve: holdings and their value, the epoch's budget and its use, its standing orders.")
async def reserve_info(api: Api, height: int | None):
    ctx = api.reader(height)
    st = reserve_module.epoch_state(ctx)
    return {"account": encode_address(reserve_module.RESERVE),
            "holdings": {d: str(v) for d, v in bank_keeper.balances_of(ctx, reserve_module.RESERVE).items()},
            "value": str(reserve_module.holdings_value(ctx)), "epoch": st["epoch"], "budget": str(st["budget"]),
            "used": str(st["used"]), "orders": [market_queries.order_json(o) for o in market.resting(ctx, reserve_module.RESERVE)],
            "treasury": {"account": encode_address(reserve_module.TREASURY),
                         "holdings": {d: str(v) for d, v in
                                      bank_keeper.balances_of(ctx, reserve_module.TREASURY).items()}}}


@rpc_method("reserve_quote", [Param("unit", STRING, "tranche unit"), Param("quantity", U64, "units to sell"),
                              Param("payIn", choice("stable", "native"), "what to be paid in (default stable)",
                                    required=False), HEIGHT],
            Result("quote", S.RESERVE_QUOTE), "What a direct sale to the reserve pays now: price per unit, value, what is paid "
            "out (stable, or native at the backing value), and the budget left.")
async def reserve_quote(api: Api, unit: str, quantity: int, payIn: str | None, height: int | None):  # noqa: N803
    pay_in = payIn
    ctx = api.reader(height)
    try:
        q = reserve_module.quote_sale(ctx, unit, quantity, pay_in or "stable")
    except InvalidTransaction as exc:
        raise RpcError(INVALID_STATE, exc.message, {"name": exc.name}) from None
    st = reserve_module.epoch_state(ctx)
    return {**{k: str(v) for k, v in q.items()}, "payIn": pay_in or "stable",
            "budgetLeft": str(max(0, st["budget"] - st["used"]))}


# ----- native_ --------------------------------------------------------------------------------------
@rpc_method("native_info", [Param("address", ADDRESS, "a holder's pending redemptions (optional)", required=False),
                            HEIGHT], Result("info", S.NATIVE_INFO),
            "The native token: supply, circulation, backing value per base unit (wad of stable base units), the "
            "treasury, the redemption queue, this epoch's redemption limit and use, the treasury's native payout "
            "cap and use, and a holder's queued redemptions.")
async def native_info(api: Api, address: bytes | None, height: int | None):
    ctx = api.reader(height)
    n = api.app.native
    st = reserve_module.native_epoch(ctx)
    tr = reserve_module.treasury_epoch(ctx)
    out = {"denom": n, "supply": str(bank_keeper.supply(ctx, n)),
           "circulating": str(reserve_module.native_circulating(ctx)), "backing": str(reserve_module.backing(ctx)),
           "basketValue": str(reserve_module.holdings_value(ctx)),
           "treasury": str(bank_keeper.balance(ctx, reserve_module.TREASURY, n)),
           "queued": str(ctx.get_int(reserve_module.QUEUED)),
           "epoch": {"epoch": st["epoch"], "limit": str(st["limit"]), "used": str(st["used"])},
           "payouts": {"cap": str(tr["cap"]), "used": str(tr["used"])}}
    if address is not None:
        out["redemptions"] = [{"id": e["id"], "release": e["release"], "amount": str(e["amount"]),
                               "filled": str(e["filled"])} for e in reserve_module.redemptions(ctx, address)]
    return out


@rpc_method("native_params", [HEIGHT], Result("params", S.NATIVE_PARAMS),
            "Native redemption: fee and per-epoch limit (wad), cool-down (s).")
async def native_params(api: Api, height: int | None):
    p = reserve_module.params(api.reader(height))
    return {"redeemFee": str(p["redeemFee"]), "redeemLimit": str(p["redeemLimit"]), "cooldown": p["cooldown"]}


@rpc_method("reserve_params", [HEIGHT], Result("params", S.RESERVE_PARAMS),
            "Budget share, discount, premium, redemption fee and limit, the treasury's native payout share (wad), "
            "epoch and cool-down (s).")
async def reserve_params(api: Api, height: int | None):
    p = reserve_module.params(api.reader(height))
    return {k: str(v) if k not in ("epoch", "cooldown") else v for k, v in p.items()}
