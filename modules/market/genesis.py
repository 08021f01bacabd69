"""The market's genesis section: resting orders and the trade log, as an export writes
them ({next, orders, trades: [[denom, n, trade]], counts: [[denom, count]]}), checked with
field-named errors, imported and exported (Module.genesis_json, modules/core/sections.py)."""

from __future__ import annotations

from typing import Any

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.sections import (
    GenesisError,
    Section,
    address_field,
    int_field,
    list_field,
    object_field,
)
from rwachain.modules.market import keeper
from rwachain.modules.market.records import ORDER_INTS, TRADE_INTS, Order, Trade


def _order(q: str, o: Any) -> dict:
    o = object_field(q, o, set(ORDER_INTS) | {"denom", "side", "owner"})
    if o["side"] not in (keeper.BUY, keeper.SELL) or type(o["denom"]) is not str:
        raise GenesisError(f"{q}: side is buy or sell; denom a unit denomination")
    return {"denom": o["denom"], "side": o["side"], "owner": address_field(f"{q}.owner", o["owner"]),
            **{f: int_field(f"{q}.{f}", o[f], 0, 1 << 128) for f in ORDER_INTS}}


def _trade(q: str, e: Any) -> list:
    if type(e) is not list or len(e) != 3:
        raise GenesisError(f"{q}: expected [denom, n, trade]")
    t = object_field(q, e[2], set(TRADE_INTS) | {"buyer", "seller", "taker"})
    return [e[0], int_field(f"{q}[1]", e[1]), {"buyer": address_field(f"{q}.buyer", t["buyer"]),
                                               "seller": address_field(f"{q}.seller", t["seller"]),
                                               "taker": t["taker"],
                                               **{f: int_field(f"{q}.{f}", t[f], 0, 1 << 128) for f in TRADE_INTS}}]


def check(raw: Any, checked: dict) -> dict:
    """The section as init_genesis takes it."""
    s = object_field("market", raw, set(), {"next", "orders", "trades", "counts"})
    orders = [_order(f"market.orders[{i}]", o) for i, o in enumerate(list_field("market.orders", s.get("orders", [])))]
    trades = [_trade(f"market.trades[{i}]", e) for i, e in enumerate(list_field("market.trades", s.get("trades", [])))]
    counts = [[c[0], int_field(f"market.counts[{i}]", c[1])]
              for i, c in enumerate(list_field("market.counts", s.get("counts", [])))]
    return {"next": int_field("market.next", s.get("next", len(orders) + 1)), "orders": orders, "trades": trades,
            "counts": counts}


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: an empty market, left out)."""
    if not section:
        return None

    def order(v: dict) -> dict:
        o = Order.from_stored(v)
        return {**{f: str(getattr(o, f)) for f in ORDER_INTS}, "denom": o.denom, "side": o.side,
                "owner": encode_address(o.owner)}

    def trade(n: int, v: dict) -> dict:
        t = Trade.from_stored(n, v)
        return {**{f: str(getattr(t, f)) for f in TRADE_INTS}, "buyer": encode_address(t.buyer),
                "seller": encode_address(t.seller), "taker": t.taker}
    return {"next": section["next"], "orders": [order(o) for o in section["orders"]],
            "trades": [[d, n, trade(n, t)] for d, n, t in section["trades"]], "counts": section["counts"]}


SECTION = Section(check, to_json)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {next, orders: [order], trades: [[denom, n, trade]], counts: [[denom, count]]}."""
    for o in section.get("orders", []):
        keeper.restore(ctx, o)
    for denom, n, t in section.get("trades", []):
        ctx.set_obj(keeper.TRADE + denom.encode() + b"\x00" + n.to_bytes(8, "big"), t)
    for denom, count in section.get("counts", []):
        ctx.set_int(keeper.TRADES + denom.encode(), count)
    if section.get("next"):
        ctx.set_int(keeper.NEXT, section["next"])


def export_genesis(ctx: Ctx) -> dict:
    orders = [ctx.get_obj(k) for k, _ in ctx.iter_prefix(keeper.ORDER)]
    counts = [[k[len(keeper.TRADES):].decode(), ctx.get_int(k)] for k, _ in ctx.iter_prefix(keeper.TRADES)]
    trades = []
    for k, _ in ctx.iter_prefix(keeper.TRADE):
        denom, n = k[len(keeper.TRADE):].split(b"\x00", 1)
        trades.append([denom.decode(), int.from_bytes(n, "big"), ctx.get_obj(k)])
    if not (orders or trades or ctx.get_int(keeper.NEXT)):
        return {}
    return {"next": ctx.get_int(keeper.NEXT), "orders": orders, "trades": trades, "counts": counts}
