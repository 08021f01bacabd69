"""The tranches' RPC methods (pool_*, tranche_*), declared with their schemas
(modules/core/queries.py). A pool's value is its assets' values at the block time plus
its unallocated cash; the waterfall splits it over the tranches senior first."""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    STR,
    Query,
    QueryError,
    QueryParam,
    arr,
    enum,
    nullable,
    obj,
)
from rwachain.modules.tranches import keeper, waterfall
from rwachain.modules.tranches.records import Pool

TRANCHE = obj(pool=INT, tranche=INT, denom=STR, seniority=enum("senior", "mezzanine", "junior"), face=AMOUNT,
              outstanding=AMOUNT, writtenDown=AMOUNT, rate=AMOUNT, interestDue=AMOUNT, units=AMOUNT, retained=AMOUNT,
              allocated=AMOUNT, claimed=AMOUNT, index=AMOUNT, value=AMOUNT, price=AMOUNT)
POOL = obj(id=INT, status=STR, originator=ADDR, account=ADDR, assets=arr(INT), par=AMOUNT, unitSize=AMOUNT,
           cashReceived=AMOUNT, unallocated=AMOUNT, value=AMOUNT, problems=arr(STR), createdAt=INT,
           tranches=arr(TRANCHE))
POOL_PAGE = obj(pools=arr(POOL), next=nullable(INT))
POOL_ID = QueryParam("pool", "u64", "pool id")
TRANCHE_INDEX = QueryParam("tranche", "u64", "tranche index, 0 = senior")
PAGE_MAX = 100  # pools per page


def find_pool(ctx: Ctx, pool_id: int) -> Pool:
    """The stored pool, or a not_found QueryError."""
    p = keeper.find(ctx, pool_id)
    if p is None:
        raise QueryError("not_found", f"no pool {pool_id}")
    return p


def pool_value(ctx: Ctx, pool: Pool) -> tuple[int, list[dict], list[str]]:
    """(pool value, per-asset values, problems): asset PVs at the block time plus unallocated cash."""
    per, problems, total = [], [], pool.unallocated
    for aid in pool.assets:
        rec = assets.get(ctx, aid)
        try:
            v, prob = marks.value_now(ctx, rec)
        except InvalidTransaction as exc:
            v, prob = 0, [exc.message]
        per.append({"id": aid, "status": rec.status, "value": str(v)})
        problems += [f"asset {aid}: {x}" for x in prob]
        total += v
    return total, per, problems


def _tranche_json(pool: Pool, k: int, value: int) -> dict:
    t = pool.tranches[k]
    return {"pool": pool.id, "tranche": k, "denom": t.denom, "seniority": "junior" if k == len(pool.tranches) - 1
            else ("senior" if k == 0 else "mezzanine"), "face": str(t.face), "outstanding": str(t.outstanding),
            "writtenDown": str(t.writtenDown), "rate": str(t.rate), "interestDue": str(t.interest),
            "units": str(t.units), "retained": str(t.retained), "allocated": str(t.allocated),
            "claimed": str(t.claimed), "index": str(t.index), "value": str(value),
            "price": str(value * WAD // t.units)}


def pool_json(ctx: Ctx, pool: Pool) -> dict:
    """A pool as the RPC answers it, valued at the block time."""
    total, _, problems = pool_value(ctx, pool)
    values = waterfall.tranche_values(pool, total, ctx.block.time)
    return {"id": pool.id, "status": pool.status, "originator": encode_address(pool.originator),
            "account": encode_address(pool.account), "assets": list(pool.assets), "par": str(pool.par),
            "unitSize": str(pool.unitSize), "cashReceived": str(pool.cashReceived),
            "unallocated": str(pool.unallocated), "value": str(total), "problems": problems,
            "createdAt": pool.createdAt,
            "tranches": [_tranche_json(pool, k, v) for k, v in enumerate(values)]}


def _get(ctx: Ctx, pool: int) -> dict:
    return pool_json(ctx, find_pool(ctx, pool))


def _list(ctx: Ctx, after: int, limit: int) -> dict:
    limit = max(1, min(limit, PAGE_MAX))
    ids = keeper.ids(ctx, after, limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    return {"pools": [pool_json(ctx, keeper.get(ctx, i)) for i in ids], "next": ids[-1] if more else None}


def _tranche_of(ctx: Ctx, pool: int, tranche: int) -> Pool:
    p = find_pool(ctx, pool)
    if tranche >= len(p.tranches):
        raise QueryError("not_found", f"pool {pool} has no tranche {tranche}")
    return p


def _tranche(ctx: Ctx, pool: int, tranche: int) -> dict:
    p = _tranche_of(ctx, pool, tranche)
    total, _, _ = pool_value(ctx, p)
    return _tranche_json(p, tranche, waterfall.tranche_values(p, total, ctx.block.time)[tranche])


def _claimable(ctx: Ctx, pool: int, tranche: int, address: bytes) -> str:
    return str(keeper.claimable(ctx, _tranche_of(ctx, pool, tranche), tranche, address))


QUERIES = (
    Query("pool_get", _get, (POOL_ID,), "pool", POOL,
          "A pool: assets, par, ledger (cash received, unallocated), value at the block time, and its tranches "
          "(outstanding face, write-downs, index, value, unit price).", errors=("not_found",)),
    Query("pool_list", _list, (QueryParam("after", "u64", "pools after this id (default 0)", required=False, default=0),
                               QueryParam("limit", "u64", "page size, at most 100 (default 20)", required=False,
                                          default=20)),
          "page", POOL_PAGE, "Pools in id order; paginated with next."),
    Query("tranche_get", _tranche, (POOL_ID, TRANCHE_INDEX), "tranche", TRANCHE,
          "A tranche: value and unit price at the block time, outstanding face, write-downs, payout index.",
          errors=("not_found",)),
    Query("tranche_claimable", _claimable, (POOL_ID, TRANCHE_INDEX, QueryParam("address", "address", "unit holder")),
          "amount", AMOUNT, "Stable base units the holder can claim from the tranche now.", errors=("not_found",)),
)
