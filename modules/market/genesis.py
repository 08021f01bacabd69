"""The market's genesis section: resting orders and the trade log, as an export writes
them ({next, orders, trades: [[denom, n, trade]], counts: [[denom, count]]}), checked with
field-named errors into records (modules/market/records.py), imported and exported
(Module.genesis_json, modules/core/sections.py)."""

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


def _order(q: str, o: Any) -> Order:
    o = object_field(q, o, set(ORDER_INTS) | {"denom", "side", "owner"})
    if o["side"] not in (keeper.BUY, keeper.SELL) or type(o["denom"]) is not str:
        raise GenesisError(f"{q}: side is buy or sell; denom a unit denomination")
    return Order(denom=o["denom"], side=o["side"], owner=address_field(f"{q}.owner", o["owner"]),
                 **{f: int_field(f"{q}.{f}", o[f], 0, 1 << 128) for f in ORDER_INTS})


def _trade(q: str, e: Any) -> tuple[str, Trade]:
    if type(e) is not list or len(e) != 3:
        raise GenesisError(f"{q}: expected [denom, n, trade]")
    t = object_field(q, e[2], set(TRADE_INTS) | {"buyer", "seller", "taker"})
    return e[0], Trade(n=int_field(f"{q}[1]", e[1]), buyer=address_field(f"{q}.buyer", t["buyer"]),
                       seller=address_field(f"{q}.seller", t["seller"]), taker=t["taker"],
                       **{f: int_field(f"{q}.{f}", t[f], 0, 1 << 128) for f in TRADE_INTS})


def check(raw: Any, checked: dict) -> dict:
    """The section as init_genesis takes it: {next, orders: [Order], trades: [(denom, Trade)],
    counts: [[denom, count]]}."""
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

    def order(o: Order) -> dict:
        return {**{f: str(getattr(o, f)) for f in ORDER_INTS}, "denom": o.denom, "side": o.side,
                "owner": encode_address(o.owner)}

    def trade(t: Trade) -> dict:
        return {**{f: str(getattr(t, f)) for f in TRADE_INTS}, "buyer": encode_address(t.buyer),
                "seller": encode_address(t.seller), "taker": t.taker}
    return {"next": section["next"], "orders": [order(o) for o in section["orders"]],
            "trades": [[d, t.n, trade(t)] for d, t in section["trades"]], "counts": section["counts"]}


SECTION = Section(check, to_json)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: as check returns it."""
    for o in section.get("orders", []):
        keeper.restore(ctx, o)
    for denom, t in section.get("trades", []):
        keeper.put_trade(ctx, denom, t)
    for denom, count in section.get("counts", []):
        keeper.set_trade_count(ctx, denom, count)
    if section.get("next"):
        ctx.set_int(keeper.NEXT, section["next"])


def export_genesis(ctx: Ctx) -> dict:
    orders = keeper.all_orders(ctx)
    trades = keeper.all_trades(ctx)
    if not (orders or trades or ctx.get_int(keeper.NEXT)):
        return {}
    return {"next": ctx.get_int(keeper.NEXT), "orders": orders, "trades": trades,
            "counts": [list(c) for c in keeper.trade_counts(ctx)]}
