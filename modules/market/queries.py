"""The market's RPC methods (market_*), declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    STR,
    Query,
    QueryParam,
    arr,
    enum,
    nullable,
    obj,
    pair,
)
from rwachain.modules.market import keeper
from rwachain.modules.market.records import Order, Trade

ORDER = obj(id=INT, denom=STR, side=enum("buy", "sell"), owner=ADDR, price=AMOUNT, quantity=AMOUNT, filled=AMOUNT,
            expiry=AMOUNT, createdAt=INT)
BOOK = obj(denom=STR, referencePrice=nullable(AMOUNT), bids=arr(pair(AMOUNT, AMOUNT)), asks=arr(pair(AMOUNT, AMOUNT)))
TRADES = arr(obj(n=INT, price=AMOUNT, quantity=AMOUNT, buyer=ADDR, seller=ADDR, taker=enum("buy", "sell"), time=INT,
                 height=INT))
CANDLES = arr(obj(start=INT, open=AMOUNT, high=AMOUNT, low=AMOUNT, close=AMOUNT, volume=AMOUNT, trades=INT))
DENOM = QueryParam("denom", "string", "a tranche unit denomination, e.g. unit/p1/t0")


def order_json(o: Order) -> dict:
    """An order as the RPC answers it (market_orders, reserve_info)."""
    return {"id": o.id, "denom": o.denom, "side": o.side, "owner": encode_address(o.owner), "price": str(o.price),
            "quantity": str(o.quantity), "filled": str(o.filled), "expiry": str(o.expiry), "createdAt": o.createdAt}


def _trade_json(t: Trade) -> dict:
    return {"n": t.n, "price": str(t.price), "quantity": str(t.quantity), "buyer": encode_address(t.buyer),
            "seller": encode_address(t.seller), "taker": t.taker, "time": t.time, "height": t.height}


def _book(ctx: Ctx, denom: str, levels: int) -> dict:
    levels = max(1, min(levels, 200))
    try:
        ref = str(keeper.reference_price(ctx, denom))
    except InvalidTransaction:
        ref = None
    return {"denom": denom, "referencePrice": ref,
            "bids": [[str(p), str(q)] for p, q in keeper.depth(ctx, denom, keeper.BUY, levels)],
            "asks": [[str(p), str(q)] for p, q in keeper.depth(ctx, denom, keeper.SELL, levels)]}


def _trades(ctx: Ctx, denom: str, after: int | None, limit: int) -> list[dict]:
    return [_trade_json(t) for t in keeper.trades(ctx, denom, -1 if after is None else after, max(1, min(limit, 1000)))]


def _orders(ctx: Ctx, owner: bytes, after: int, limit: int) -> list[dict]:
    return [order_json(o) for o in keeper.orders_of(ctx, owner, after, max(1, min(limit, 1000)))]


def _candles(ctx: Ctx, denom: str, interval: int, limit: int) -> list[dict]:
    """OHLC and volume per interval (s) over the last limit trades (prices in stable base
    units per unit, volume in units)."""
    limit = max(1, min(limit, 10_000))
    out: list[dict] = []
    for t in keeper.trades(ctx, denom, keeper.trade_count(ctx, denom) - limit - 1, limit):
        start = t.time // interval * interval
        if not out or out[-1]["start"] != start:
            out.append({"start": start, "open": t.price, "high": t.price, "low": t.price, "close": t.price,
                        "volume": 0, "trades": 0})
        c = out[-1]
        c["high"], c["low"], c["close"] = max(c["high"], t.price), min(c["low"], t.price), t.price
        c["volume"] += t.quantity
        c["trades"] += 1
    return [{**c, **{k: str(c[k]) for k in ("open", "high", "low", "close", "volume")}} for c in out]


QUERIES = (
    Query("market_book", _book, (DENOM, QueryParam("levels", "u64", "price levels per side (default 20, at most 200)",
                                                   required=False, default=20)),
          "book", BOOK, "Depth of a unit's book: [price, open quantity] per level, best first, and the reference unit "
          "price from oracle data that bounds the band (null when it cannot be computed)."),
    Query("market_trades", _trades, (DENOM, QueryParam("after", "u64", "trades after this number (default: from the "
                                                                       "first)", required=False),
                                     QueryParam("limit", "u64", "at most 1000 (default 100)", required=False,
                                                default=100)),
          "trades", TRADES, "A unit's trades in order: number, price, quantity, buyer, seller, taker side, time, "
          "height."),
    Query("market_orders", _orders, (QueryParam("owner", "address", "order owner"),
                                     QueryParam("after", "u64", "orders with a larger id (default 0)", required=False,
                                                default=0),
                                     QueryParam("limit", "u64", "at most 1000 (default 1000)", required=False,
                                                default=1000)),
          "orders", arr(ORDER), "An account's resting orders in id order; a page of at most limit, the next one "
          "after the last id."),
    Query("market_candles", _candles, (DENOM, QueryParam("interval", "u64", "seconds per candle (default 3600)",
                                                         required=False, default=3600, min=1),
                                       QueryParam("limit", "u64", "trades read, most recent first (default 1000, at "
                                                                  "most 10000)", required=False, default=1000)),
          "candles", CANDLES, "Open, high, low, close and volume per interval, from the unit's trades."),
)
