"""The insurance fund's random operations for the seeded simulation (modules/core/simops.py):
accounts stake a part of their native tokens, stakers unbond a part of their stake, and
anyone withdraws or claims (a claim by an account that never staked is refused).
actors.signers["staker"] are the accounts that may stake."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.insurance import keeper


def stakers(ctx: Ctx, actors: Actors) -> list[str]:
    """The accounts among actors.signers["staker"] with bonded stake, in draw order."""
    return [a for a in actors.signers["staker"] if keeper.stake_of(ctx, actors.address(a)) > 0]


def draw_stake(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A part of a quarter of the account's native tokens."""
    actor = rng.choice(actors.signers["staker"])
    have = bank.balance(ctx, actors.address(actor), bank.native_denom(ctx))
    return actor, {"amount": rng.amount(have // 4)}


def draw_unbond(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A part of a quarter of a staker's bonded stake."""
    bonded = stakers(ctx, actors)
    if not bonded:
        return None
    actor = rng.choice(bonded)
    return actor, {"amount": rng.amount(keeper.stake_of(ctx, actors.address(actor)) // 4)}


def draw_withdraw(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    return rng.choice(actors.signers["staker"]), {}


def draw_claim(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """Nine times in ten a staker (when there is one), else any trader."""
    bonded = stakers(ctx, actors)
    return (rng.choice(bonded) if bonded and rng.chance(90, 100) else rng.choice(actors)), {}


SIM_OPS = (SimOp("stake", 12, draw_stake, after="oracle.reject"),
           SimOp("unbond", 3, draw_unbond, after="insurance.stake"),
           SimOp("withdraw", 3, draw_withdraw, after="insurance.unbond"),
           SimOp("claim", 4, draw_claim, after="insurance.withdraw"))
