"""The assets' RPC methods (assets_*), declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.assets import keeper
from rwachain.modules.assets.records import Asset
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    BOOL,
    HASH32,
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
from rwachain.modules.oracle import feeds

MARK = obj(value=AMOUNT, time=INT, stale=BOOL)
ASSET = obj(id=INT, kind=STR, status=STR, originator=ADDR, owner=ADDR, principal=AMOUNT, rate=AMOUNT, grace=AMOUNT,
            docHash=HASH32, grade=nullable(enum("A", "B", "C", "D", "E")), verifier=nullable(ADDR),
            registeredAt=INT, verifiedAt=nullable(INT), pool=nullable(INT), outstanding=AMOUNT, repaid=AMOUNT,
            recovered=AMOUNT, installments=INT, nextDue=nullable(AMOUNT), payments=INT, mark=nullable(MARK))
ASSET_PAGE = obj(assets=arr(ASSET), next=nullable(INT))
SCHEDULE = arr(obj(due=AMOUNT, principal=AMOUNT, interest=AMOUNT, amount=AMOUNT, paid=AMOUNT,
                   state=enum("paid", "past_due", "due")))
PAYMENTS = arr(obj(kind=enum("repay", "recover"), amount=AMOUNT, time=INT, height=INT))
ID = QueryParam("id", "u64", "asset id")
PAGE_MAX = 1000  # assets or payments per page


def find_asset(ctx: Ctx, asset_id: int) -> Asset:
    """The asset, or a not_found QueryError."""
    rec = keeper.find(ctx, asset_id)
    if rec is None:
        raise QueryError("not_found", f"no asset {asset_id}")
    return rec


def asset_json(ctx: Ctx, a: Asset) -> dict:
    """An asset as the RPC answers it: the record, outstanding, next due time, last mark."""
    sched = keeper.schedule_of(ctx, a.id)
    mark = keeper.mark(ctx, a.id)
    nxt = keeper.oldest_unpaid_due(sched)
    return {
        "id": a.id, "kind": a.kind, "status": a.status,
        "originator": encode_address(a.originator), "owner": encode_address(a.owner),
        "principal": str(a.principal), "rate": str(a.rate), "grace": str(a.grace),
        "docHash": "0x" + a.docHash.hex(), "grade": None if a.grade is None else feeds.GRADES[a.grade],
        "verifier": None if a.verifier is None else encode_address(a.verifier),
        "registeredAt": a.registeredAt, "verifiedAt": a.verifiedAt, "pool": a.pool,
        "outstanding": str(keeper.outstanding(sched)), "repaid": str(a.repaid),
        "recovered": str(a.recovered), "installments": len(sched), "nextDue": None if nxt is None else str(nxt),
        "payments": a.payments,
        "mark": None if mark is None else {"value": str(mark.value), "time": mark.time, "stale": mark.stale},
    }


def _get(ctx: Ctx, id: int) -> dict:  # noqa: A002 (the RPC parameter's name)
    return asset_json(ctx, find_asset(ctx, id))


def _list(ctx: Ctx, originator: bytes | None, status: str | None, after: int, limit: int) -> dict:
    limit = max(1, min(limit, PAGE_MAX))
    if originator is not None and status is not None:
        raise QueryError("invalid_params", "invalid params: give originator or status, not both")
    if originator is not None:
        ids = keeper.ids_by(ctx, keeper.BY_ORIG + originator, after, limit + 1)
    elif status is not None:
        ids = keeper.ids_by(ctx, keeper.status_prefix(status), after, limit + 1)
    else:
        ids = keeper.ids_by(ctx, keeper.REC, after, limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    return {"assets": [asset_json(ctx, keeper.find(ctx, i)) for i in ids], "next": ids[-1] if more else None}


def _schedule(ctx: Ctx, id: int) -> list[dict]:  # noqa: A002
    find_asset(ctx, id)
    now = ctx.block.time
    out = []
    for d, p, i, paid in keeper.schedule_of(ctx, id):
        state = "paid" if paid == p + i else ("past_due" if now > d else "due")
        out.append({"due": str(d), "principal": str(p), "interest": str(i), "amount": str(p + i), "paid": str(paid),
                    "state": state})
    return out


def _payments(ctx: Ctx, id: int, skip: int, limit: int) -> list[dict]:  # noqa: A002
    find_asset(ctx, id)
    return [{"kind": h.kind, "amount": str(h.amount), "time": h.time, "height": h.height}
            for h in keeper.history(ctx, id, skip, max(1, min(limit, PAGE_MAX)))]


QUERIES = (
    Query("assets_get", _get, (ID,), "asset", ASSET,
          "An asset: record, status, grade, outstanding, next due time and its last revaluation mark.",
          errors=("not_found",)),
    Query("assets_list", _list, (
        QueryParam("originator", "address", "only this originator's assets", required=False),
        QueryParam("status", "choice", "only assets in this status", required=False, choices=keeper.STATUSES),
        QueryParam("after", "u64", "ids after this one (pagination; default 0)", required=False, default=0),
        QueryParam("limit", "u64", "page size, at most 1000 (default 100)", required=False, default=100)),
          "page", ASSET_PAGE, "Assets by originator or by status (or all), in id order; paginated with next."),
    Query("assets_schedule", _schedule, (ID,), "schedule", SCHEDULE,
          "The installments: due time, principal and interest parts, paid so far, and state at the block time.",
          errors=("not_found",)),
    Query("assets_payments", _payments, (
        ID, QueryParam("skip", "u64", "payments to skip, oldest first (default 0)", required=False, default=0),
        QueryParam("limit", "u64", "at most 1000 (default 1000)", required=False, default=1000)),
          "payments", PAYMENTS, "The payment history, oldest first: repayments and recoveries with amount, block "
          "time and height; a page of at most limit after the first skip.", errors=("not_found",)),
)
