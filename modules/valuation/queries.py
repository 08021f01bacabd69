"""The valuation namespace's RPC methods (valuation_*), declared with their schemas
(modules/core/queries.py): an asset's value with its explanation, and a pool's value
walked over its tranches. Each is declared by the module whose records it reads: the
assets module declares valuation_asset, the tranches module valuation_pool; the
explanation they share is this folder's (modules/valuation/dcf.py, through
modules/assets/marks.explain)."""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.assets.queries import find_asset
from rwachain.modules.assets.records import Asset
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.queries import (
    AMOUNT,
    BOOL,
    INT,
    STR,
    Query,
    QueryError,
    QueryParam,
    arr,
    json_value,
    mapof,
    obj,
)
from rwachain.modules.tranches import waterfall
from rwachain.modules.tranches.queries import POOL_ID, find_pool, pool_value

FEED_USED = obj(value=AMOUNT, round=AMOUNT, observedAt=AMOUNT, stale=BOOL, frozen=BOOL)
VALUATION = obj(id=INT, value=AMOUNT, status=STR, now=AMOUNT, inputs=mapof(AMOUNT), perSecond=mapof(AMOUNT),
                installments=arr(obj(due=AMOUNT, amount=AMOUNT, dt=AMOUNT, discount=AMOUNT, survival=AMOUNT,
                                     loss=AMOUNT, expected=AMOUNT, pv=AMOUNT)),
                assetStatus=STR, grade=STR, feeds=mapof(FEED_USED), problems=arr(STR))
POOL_VALUATION = obj(pool=INT, value=AMOUNT, unallocated=AMOUNT, problems=arr(STR), assets=arr(VALUATION),
                     tranches=arr(obj(tranche=INT, claim=AMOUNT, value=AMOUNT)))


def _asset(ctx: Ctx, id: int) -> dict:  # noqa: A002 (the RPC parameter's name)
    rec = find_asset(ctx, id)
    if rec.grade is None:
        raise QueryError("invalid_state", f"asset {id} is not verified yet: it has no grade and no value")
    try:
        out = marks.explain(ctx, rec)
    except InvalidTransaction as exc:
        raise QueryError("invalid_state", exc.message) from None
    return {"id": id, **json_value(out)}


def _explained(ctx: Ctx, asset_id: int, rec: Asset) -> dict:
    """One pooled asset's explanation, or its value 0 with the problem that stops it."""
    try:
        return {"id": asset_id, **json_value(marks.explain(ctx, rec))}
    except InvalidTransaction as exc:
        return {"id": asset_id, "value": "0", "problems": [exc.message]}


def _pool(ctx: Ctx, pool: int) -> dict:
    p = find_pool(ctx, pool)
    total, _, problems = pool_value(ctx, p)
    explained = [_explained(ctx, aid, assets.get(ctx, aid)) for aid in p.assets]
    claims = waterfall.claims(p, ctx.block.time)
    values = waterfall.tranche_values(p, total, ctx.block.time)
    return {"pool": pool, "value": str(total), "unallocated": str(p.unallocated), "problems": problems,
            "assets": explained, "tranches": [{"tranche": k, "claim": str(c), "value": str(v)}
                                              for k, (c, v) in enumerate(zip(claims, values, strict=True))]}


VALUATION_ASSET = Query(
    "valuation_asset", _asset, (QueryParam("id", "u64", "asset id"),), "valuation", VALUATION,
    "An asset's value at the block time with its explanation: inputs, oracle rounds, each installment's "
    "expected cash and discount factor. problems lists stale, frozen or missing feeds (actions priced by "
    "this value refuse while it is not empty).", errors=("not_found", "invalid_state"))
"""Declared by the assets module (modules/assets/module.py): it reads an asset record."""
VALUATION_POOL = Query(
    "valuation_pool", _pool, (POOL_ID,), "valuation", POOL_VALUATION,
    "A pool's value at the block time: each asset's explanation, unallocated cash, and the walk of that "
    "value senior to junior over the tranches' claims.", errors=("not_found",))
"""Declared by the tranches module (modules/tranches/module.py): it reads a pool record."""
