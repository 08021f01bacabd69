"""The tranches' random operations for the seeded simulation (modules/core/simops.py):
the originator pools one to three of its verified assets into a senior and a junior
tranche (or one), and unit holders claim what their tranche owes them."""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.tranches import keeper

STABLE_UNIT = 10**6  # base units of one stable token (6 decimals)
UNIT_SIZES = (100 * STABLE_UNIT, 10 * STABLE_UNIT, STABLE_UNIT, 10_000, 100, 1)
"""Unit sizes tried, largest first: a pool takes the largest that divides its par."""
ASSETS_READ = 40  # verified assets read per draw


def units_of(ctx: Ctx, address: bytes) -> list[tuple[str, int]]:
    """(unit denomination, quantity) of every tranche unit address holds, in denomination order."""
    return [(d, q) for d, q in sorted(bank.balances_of(ctx, address).items()) if keeper.parse_denom(d) is not None]


def unit_holding(rng, ctx: Ctx, actors: Actors, names: list[str]) -> tuple[str, str, int] | None:
    """(actor, unit, quantity held): a random one of names and one of its units; None if it has none."""
    actor = rng.choice(names)
    units = units_of(ctx, actors.address(actor))
    if not units:
        return None
    denom, have = rng.choice(units)
    return actor, denom, have


def draw_create_pool(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """The originator pools 1..3 of its verified assets: a senior tranche of 50..90 % of par
    at 2..8 % a year over a junior one (all junior when the senior rounds to nothing)."""
    originator = actors.signers["originator"][0]
    orig = actors.address(originator)
    ids = [i for i in assets.ids_by(ctx, assets.status_prefix("verified"), 0, ASSETS_READ)
           if assets.get(ctx, i).originator == orig]
    if not ids:
        return None
    chosen = sorted(rng.sample(ids, rng.randint(1, min(3, len(ids)))))
    par = sum(assets.outstanding_principal(assets.schedule_of(ctx, i)) for i in chosen)
    unit = next(u for u in UNIT_SIZES if par % u == 0)
    senior = par * rng.randint(50, 90) // 100 // unit * unit
    spec = [[senior, rng.randint(2, 8) * WAD // 100], [par - senior, 0]] if senior else [[par, 0]]
    return originator, {"assets": chosen, "tranches": spec, "unitSize": unit}


def draw_claim(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A holder of units (a trader or the originator) claims from their tranche."""
    held = unit_holding(rng, ctx, actors, [*actors, *actors.signers["originator"]])
    if held is None:
        return None
    actor, denom, _ = held
    pid, k = keeper.parse_denom(denom)
    return actor, {"pool": pid, "tranche": k}


SIM_OPS = (SimOp("createPool", 1, draw_create_pool, after="assets.recover"),
           SimOp("claim", 16, draw_claim, after="tranches.createPool"))
