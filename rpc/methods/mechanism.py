"""RPC methods still written here: valuation_ and gov_ (docs/rpc.md); the other namespaces
are their modules' queries (rpc/methods/modules.py)."""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.assets.records import Asset
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.governance import module as governance
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import queries as tranches_queries
from rwachain.modules.tranches import waterfall
from rwachain.rpc.errors import INVALID_STATE, NOT_FOUND, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import (
    HEIGHT,
    U64,
    Param,
    Result,
    choice,
    rpc_method,
)

PROPOSAL_STATUSES = ("voting", "passed", "rejected", "executed", "failed")  # modules/governance/module.py
ID = Param("id", U64, "asset id")


def _asset(ctx: Ctx, asset_id: int) -> Asset:
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
    if rec.grade is None:
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


# ----- gov_ -----------------------------------------------------------------------------------------
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
