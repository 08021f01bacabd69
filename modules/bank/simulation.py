"""The bank's random operations for the seeded simulation (modules/core/simops.py): a
trader sends a part of one of its balances to another (now and then to a module
account: refused), and the originator hands a few units of its pools to holders (who
then trade and exit). The bank's come first in the draw order."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.simops import FIRST, Actors, SimOp

REFUSED = module_address("vault")  # a module account (the stable vault's): plain transfers to it are refused


def draw_transfer(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A part of one of a random trader's balances to a random trader, three times in a
    hundred to a module account; None if the trader holds nothing."""
    src = rng.choice(actors)
    held = sorted(keeper.balances_of(ctx, actors.address(src)).items())
    if not held:
        return None
    denom, have = rng.choice(held)
    to = actors.address(rng.choice(actors))
    if rng.chance(3, 100):
        to = REFUSED
    return src, {"to": to, "denom": denom, "amount": rng.amount(have)}


def draw_distribute(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """1 to 100 of one of the originator's units (denominations of kind unit: tranche
    units) to a random holder; None if it holds none."""
    originator = actors.signers["originator"][0]
    held = sorted(keeper.balances_of(ctx, actors.address(originator)).items())
    units = [(d, q) for d, q in held if keeper.kind_of(ctx, d) == "unit"]
    if not units:
        return None
    denom, have = rng.choice(units)
    q = min(have, rng.randint(1, 100))
    return originator, {"to": actors.address(rng.choice(actors.signers["holder"])), "denom": denom, "amount": q}


SIM_OPS = (SimOp("transfer", 48, draw_transfer, after=FIRST),
           SimOp("transfer", 24, draw_distribute, after="bank.transfer", name="distribute"))
