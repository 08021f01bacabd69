"""The stable token's random operations for the seeded simulation (modules/core/simops.py):
exits of held units into the vault, purchases out of it, floor redemptions, and the
custodian's mints and burns (one mint in twenty signed by a holder: refused)."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches.simulation import unit_holding

STABLE_UNIT = 10**6  # base units of one stable token (6 decimals)
REDEEM_MAX = 5_000 * STABLE_UNIT  # the most one redemption draws from a holder's balance


def draw_exit(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    held = unit_holding(rng, ctx, actors, actors)
    if held is None:
        return None
    actor, denom, have = held
    return actor, {"unit": denom, "quantity": rng.amount(have), "minOut": 0}


def draw_buy(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    held = [(d, q) for d, q in sorted(bank.balances_of(ctx, vault.VAULT).items()) if tranches.parse_denom(d)]
    if not held:
        return None
    denom, have = rng.choice(held)
    actor = rng.choice(actors)
    return actor, {"unit": denom, "quantity": rng.amount(have),
                   "maxIn": bank.balance(ctx, actors.address(actor), vault.denom(ctx)) or 1}


def draw_redeem(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    actor = rng.choice(actors)
    have = min(bank.balance(ctx, actors.address(actor), vault.denom(ctx)), REDEEM_MAX)
    return actor, {"amount": rng.amount(have)}


def draw_mint(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    holders = actors.signers["holder"]
    actor = actors.signers["custodian"][0] if rng.chance(95, 100) else rng.choice(holders)
    to = rng.choice([*actors.signers["servicer"], *holders])
    return actor, {"to": actors.address(to), "amount": rng.randint(1, 200) * 1_000 * STABLE_UNIT}


def draw_burn(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    custodian = actors.signers["custodian"][0]
    have = bank.balance(ctx, actors.address(custodian), vault.denom(ctx))
    return custodian, {"amount": rng.amount(have // 10)}


SIM_OPS = (SimOp("exit", 24, draw_exit, after="market.cancel"),
           SimOp("buy", 12, draw_buy, after="stable.exit"),
           SimOp("redeem", 12, draw_redeem, after="stable.buy"),
           SimOp("mint", 8, draw_mint, after="stable.redeem"),
           SimOp("burn", 4, draw_burn, after="stable.mint"))
