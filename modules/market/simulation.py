"""The market's random operations for the seeded simulation (modules/core/simops.py):
orders around the unit's reference price (some outside the band, some selling more than
is held) and cancels (sometimes of an order that is not the signer's)."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.market import keeper
from rwachain.modules.tranches import keeper as tranches

HOUR = 3_600  # s: expiries are whole hours ahead
STALE_PRICE = 100 * 10**6  # stable base units per unit drawn around when no reference price exists (refused)
POOLS_READ = 50  # pools whose units are traded


def _active_units(ctx: Ctx) -> list[str]:
    """The unit denominations of the active pools among the first POOLS_READ."""
    out = []
    for pid in tranches.ids(ctx, 0, POOLS_READ):
        pool = tranches.get(ctx, pid)
        if pool.status == "active":
            out += [t.denom for t in pool.tranches]
    return out


def draw_place(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """An order within 12 % of the reference price (the band is 10 %: some fall outside);
    a sell of at most 30 units held, one time in ten of more than is held; expiring
    within 72 hours four times in ten."""
    units = _active_units(ctx)
    if not units:
        return None
    denom = rng.choice(units)
    actor = rng.choice(actors)
    try:
        ref = keeper.reference_price(ctx, denom)
    except InvalidTransaction:
        ref = STALE_PRICE  # stale: the order will be refused (fail closed)
    side = rng.choice((keeper.BUY, keeper.SELL))
    price = max(1, rng.scale(ref, -12, 12, 100))
    if side == keeper.SELL:
        have = bank.balance(ctx, actors.address(actor), denom)
        qty = max(1, min(have, rng.randint(1, 30)) if rng.chance(9, 10) else have + 1)
    else:
        qty = rng.randint(1, 30)
    expiry = 0 if rng.chance(6, 10) else ctx.block.time + rng.randint(1, 72) * HOUR
    return actor, {"denom": denom, "side": side, "price": price, "quantity": qty, "expiry": expiry}


def draw_cancel(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A cancel of one of the signer's orders, else of any id issued so far (refused
    unless it is the signer's)."""
    actor = rng.choice(actors)
    orders = keeper.orders_of(ctx, actors.address(actor))
    if orders:
        return actor, {"order": rng.choice(orders).id}
    nxt = ctx.get_int(keeper.NEXT)
    return (actor, {"order": rng.randint(1, max(1, nxt))}) if nxt else None


SIM_OPS = (SimOp("place", 48, draw_place, after="tranches.claim"),
           SimOp("cancel", 16, draw_cancel, after="market.place"))
