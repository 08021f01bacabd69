"""The market module: a limit order book per tranche unit against the stable token.

Calls:
    place {denom, side (buy|sell), price (stable base units per unit), quantity (units), expiry (s, 0: none)}
    cancel {order}
Orders priced outside the band around the unit price computed from oracle data are
refused (the manipulation guard), as are prices under the minimum and trades paying out
zero. Fills: price-time priority at the maker's price; maker and taker fees (bps of the
stable amount, rounded up) go to the reserve, which pays none itself; a fill in which the
reserve buys is cut to what is left of its budget, and a resting reserve order priced
before an input of its pool changed in the block is cancelled, not filled. Expiry: begin-block, through the
due-time index.
"""

from __future__ import annotations

from rwachain.modules.core.args import U64_MAX, Choice, Int
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.market import keeper
from rwachain.modules.stable import module as stable

NAME = "market"
RESERVE = module_address("reserve")


def _stable(ctx: Ctx) -> str:
    return stable.info(ctx)["denom"]


def _place(ctx: Ctx, sender: bytes, args: dict) -> None:
    keeper.place(ctx, sender, args["denom"], args["side"], args["price"], args["quantity"], args["expiry"], RESERVE,
                 _stable(ctx))


def _cancel(ctx: Ctx, sender: bytes, args: dict) -> None:
    keeper.cancel(ctx, sender, args["order"])


def begin_block(ctx: Ctx) -> None:
    keeper.expire(ctx)


def invariants(ctx: Ctx) -> list[str]:
    """The book is never crossed: in every market the best bid is below the best ask."""
    out = []
    denoms = set()
    n = len(keeper.BOOK)
    for k, _ in ctx.iter_prefix(keeper.BOOK):
        denoms.add(k[n:].split(b"\x00")[0].decode())
    for d in sorted(denoms):
        bid, ask = keeper.best(ctx, d, keeper.BUY), keeper.best(ctx, d, keeper.SELL)
        if bid is not None and ask is not None and bid >= ask:
            out.append(f"market {d}: crossed book (bid {bid} >= ask {ask})")
    return out


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


def module() -> Module:
    m = Module(NAME, begin_block=begin_block, invariants=invariants, init_genesis=init_genesis,
               export_genesis=export_genesis, pure_hooks=True)
    m.add_call(Call("place", _place, {
        "denom": stable.UNIT, "side": Choice((keeper.BUY, keeper.SELL)),
        "price": Int(1, keeper.PRICE_MAX), "quantity": Int(1, U64_MAX), "expiry": Int(0, U64_MAX),
    }, cost=4_000, doc="A limit order on a tranche unit's book: matched at once against the other side "
                       "(price-time priority), the rest resting until filled, cancelled or expired."))
    m.add_call(Call("cancel", _cancel, {"order": Int(1, U64_MAX)}, cost=2_000,
                    doc="Take one of the sender's resting orders off the book."))
    return m
