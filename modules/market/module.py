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

The folder has the module anatomy: keeper.py (the state keys and the only code that
reads or writes them), records.py (Order, Trade: what the keeper takes and returns),
genesis.py, invariants.py, queries.py (market_*) and simulation.py (its random
operations); this file holds the calls and the hook and declares the rest.
"""

from __future__ import annotations

from rwachain.modules.core.args import U64_MAX, Choice, Int
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.market import genesis, keeper, queries, simulation
from rwachain.modules.market.invariants import invariants
from rwachain.modules.stable import module as stable

NAME = "market"
RESERVE = module_address("reserve")


def _stable(ctx: Ctx) -> str:
    return stable.info(ctx).denom


def _place(ctx: Ctx, sender: bytes, args: dict) -> None:
    keeper.place(ctx, sender, args["denom"], args["side"], args["price"], args["quantity"], args["expiry"], RESERVE,
                 _stable(ctx))


def _cancel(ctx: Ctx, sender: bytes, args: dict) -> None:
    keeper.cancel(ctx, sender, args["order"])


def begin_block(ctx: Ctx) -> None:
    keeper.expire(ctx)


def module() -> Module:
    m = Module(NAME, begin_block=begin_block, invariants=invariants, init_genesis=genesis.init_genesis,
               export_genesis=genesis.export_genesis, genesis_json=genesis.SECTION, queries=queries.QUERIES,
               sim_ops=simulation.SIM_OPS, pure_hooks=True, pausable=4,
               params=Governed(keeper.PARAMS, keeper.DEFAULT_PARAMS, keeper.PARAM_UNITS, keeper.params, place=2))
    m.add_call(Call("place", _place, {
        "denom": stable.UNIT, "side": Choice((keeper.BUY, keeper.SELL)),
        "price": Int(1, keeper.PRICE_MAX), "quantity": Int(1, U64_MAX), "expiry": Int(0, U64_MAX),
    }, cost=4_000, doc="A limit order on a tranche unit's book: matched at once against the other side "
                       "(price-time priority), the rest resting until filled, cancelled or expired."))
    m.add_call(Call("cancel", _cancel, {"order": Int(1, U64_MAX)}, cost=2_000,
                    doc="Take one of the sender's resting orders off the book."))
    return m
