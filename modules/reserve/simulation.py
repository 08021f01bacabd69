"""The reserve's random operations for the seeded simulation (modules/core/simops.py):
traders sell a part of a tranche unit they hold to the reserve (paid in stable or
native tokens), queue a part of their native tokens for redemption, and cancel their
queued redemptions."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.tranches import keeper as tranches


def draw_sell(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A part of one of a random trader's units; None if it holds none."""
    actor = rng.choice(actors)
    units = [(d, q) for d, q in sorted(bank.balances_of(ctx, actors.address(actor)).items())
             if tranches.parse_denom(d) is not None]
    if not units:
        return None
    denom, have = rng.choice(units)
    return actor, {"unit": denom, "quantity": rng.amount(have), "minOut": 0,
                   "payIn": rng.choice(("stable", "native"))}


def draw_request_redeem(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A part of a twentieth of the trader's native tokens."""
    actor = rng.choice(actors)
    have = bank.balance(ctx, actors.address(actor), bank.native_denom(ctx))
    return actor, {"amount": rng.amount(have // 20)}


def draw_cancel_redeem(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    return rng.choice(actors), {}


SIM_OPS = (SimOp("sell", 6, draw_sell, after="insurance.claim"),
           SimOp("requestRedeem", 2, draw_request_redeem, after="reserve.sell"),
           SimOp("cancelRedeem", 1, draw_cancel_redeem, after="reserve.requestRedeem"))
