"""The oracle's RPC methods (oracle_*), declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.core import due
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    BOOL,
    HEXS,
    INT,
    STR,
    Query,
    QueryError,
    QueryParam,
    arr,
    mapof,
    nullable,
    obj,
)
from rwachain.modules.oracle import feeds, keeper
from rwachain.modules.oracle.records import Policy

PENDING_MOVE = obj(value=AMOUNT, round=AMOUNT, observedAt=AMOUNT, activatesAt=INT)
FEED = obj(feed=STR, **{"class": STR}, value=AMOUNT, round=AMOUNT, observedAt=AMOUNT, updatedAt=INT, stale=BOOL,
           frozen=BOOL, windowValue=AMOUNT, pending=nullable(PENDING_MOVE))
POLICY = obj(delay=INT, hi=AMOUNT, lo=AMOUNT, maxAge=INT, quorum=INT, stepAbs=AMOUNT, stepRel=AMOUNT, window=INT)
FEED_PAGE = obj(feeds=arr(FEED), policies=mapof(POLICY), next=nullable(STR))
OPERATORS = obj(epoch=INT, operators=arr(obj(index=INT, address=ADDR, blsPubkey=HEXS)))
POLICY_AMOUNTS = ("stepAbs", "stepRel", "lo", "hi")  # policy fields answered as decimal strings
PAGE_MAX = 1000  # feeds per page


def feed_json(ctx: Ctx, feed: str) -> dict:
    """A feed as the RPC answers it: value, round, times, staleness, frozen flag, queued move."""
    st = keeper.state_of(ctx, feed)
    fv = keeper.read(ctx, feed)
    pend = st.pending
    return {"feed": feed, "class": feeds.class_of(feed), "value": str(st.value), "round": str(st.round),
            "observedAt": str(st.observedAt), "updatedAt": st.updatedAt, "stale": fv.stale,
            "frozen": st.frozen, "windowValue": str(st.windowValue),
            "pending": None if pend is None else {"value": str(pend.value), "round": str(pend.round),
                                                  "observedAt": str(pend.observedAt),
                                                  "activatesAt": pend.activatesAt}}


def _latest(ctx: Ctx, feed: str) -> dict:
    if keeper.state_of(ctx, feed) is None:
        raise QueryError("not_found", f"no feed {feed!r}")
    return feed_json(ctx, feed)


def _pending(ctx: Ctx) -> list[dict]:
    p = due.PREFIX + keeper.DUE.encode() + b"\x00"
    return [feed_json(ctx, k[len(p) + 8:].decode()) for k, _ in ctx.iter_prefix(p)]


def _feeds(ctx: Ctx, prefix: str, after: str, limit: int) -> dict:
    limit = max(1, min(limit, PAGE_MAX))
    ids = []
    more = False
    for f in keeper.feeds_after(ctx, prefix, after):
        if len(ids) == limit:
            more = True
            break
        ids.append(f)
    pols = {c: _policy_json(p) for c in feeds.CLASSES if (p := keeper.find_policy(ctx, c)) is not None}
    return {"feeds": [feed_json(ctx, f) for f in ids], "policies": pols, "next": ids[-1] if more else None}


def _policy_json(p: Policy) -> dict:
    """A policy as the RPC answers it: its stored fields, amounts as decimal strings."""
    return {k: str(v) if k in POLICY_AMOUNTS else v for k, v in p.to_stored().items()}


def _operators(ctx: Ctx) -> dict:
    s = keeper.operator_set(ctx)
    return {"epoch": s.epoch, "operators": [{"index": i, "address": encode_address(o.address),
                                             "blsPubkey": "0x" + o.pubkey.hex()} for i, o in enumerate(s.operators)]}


QUERIES = (
    Query("oracle_latest", _latest, (QueryParam("feed", "string", "feed id, e.g. rate, spread/B, grade/3, price/rwa"),),
          "feed", FEED, "A feed's value, round, observation time, staleness, frozen flag and queued move.",
          errors=("not_found",)),
    Query("oracle_pending", _pending, (), "pending", arr(FEED),
          "Feeds with a queued move (a step beyond the policy), in activation order."),
    Query("oracle_feeds", _feeds, (
        QueryParam("prefix", "string", "only feeds starting with this (e.g. spread/, grade/)", required=False,
                   default=""),
        QueryParam("after", "string", "feeds after this id (pagination)", required=False, default=""),
        QueryParam("limit", "u64", "page size, at most 1000 (default 200)", required=False, default=200)),
          "page", FEED_PAGE, "Feeds with their values, and the policy of each feed class."),
    Query("oracle_operators", _operators, (), "set", OPERATORS,
          "The operator set: its epoch and, in bitmap order, each operator's account and BLS public key."),
)
