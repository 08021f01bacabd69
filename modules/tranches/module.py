"""The tranches module: pools of an originator's verified assets split into senior to
junior tranches of small units; repayments flow through the waterfall to a per-unit index.

Calls:
    createPool {assets, tranches: [[face, rate]] senior first, unitSize}   originator
    claim {pool, tranche}                                                   any unit holder
Pooled assets' repayments, recoveries and write-offs reach the pool through the assets
module (keeper.on_asset_event); unit transfers settle payouts through the bank's hook.

The folder has the module anatomy: keeper.py (the state keys and the only code that
writes them), waterfall.py (the claims and values senior to junior), records.py (Pool,
Tranche), genesis.py, invariants.py, queries.py (pool_*, tranche_*) and simulation.py
(its random operations); this file holds the calls and declares the rest.
"""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets.schedule import MAX_RATE
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.args import AMOUNT, AMOUNT_MAX, U64_MAX, Int, Ints, Rows
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.core.wiring import Offer
from rwachain.modules.roles import module as roles
from rwachain.modules.tranches import genesis, keeper, queries, simulation
from rwachain.modules.tranches.invariants import invariants
from rwachain.modules.valuation.queries import VALUATION_POOL

NAME = "tranches"
MAX_TRANCHES = keeper.MAX_TRANCHES
MAX_POOL_ASSETS = 1000


def _create(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "originator", sender)
    keeper.create(ctx, sender, args["assets"], [tuple(r) for r in args["tranches"]], args["unitSize"])


def _claim(ctx: Ctx, sender: bytes, args: dict) -> None:
    paid = keeper.claim(ctx, args["pool"], args["tranche"], sender)
    ctx.emit("tranches.claimed", pool=args["pool"], tranche=args["tranche"], holder=sender, amount=paid)


def module() -> Module:
    offers = (Offer(bank.SETTLE, keeper.on_units_move, key=keeper.UNIT_PREFIX),
              Offer(assets.POOL_EVENT, keeper.on_asset_event, key=NAME))
    m = Module(NAME, invariants=invariants, init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis,
               genesis_json=genesis.SECTION, queries=(*queries.QUERIES, VALUATION_POOL), sim_ops=simulation.SIM_OPS,
               offers=offers, needs=(keeper.COVER, keeper.COVER_REPAID), pausable=3)
    m.add_call(Call("createPool", _create, {
        "assets": Ints(MAX_POOL_ASSETS, 1, U64_MAX),
        "tranches": Rows(("face", "rate"), MAX_TRANCHES, min_rows=1, col_hi=(AMOUNT_MAX, MAX_RATE)),
        "unitSize": AMOUNT,
    }, cost=20_000, doc="Originator: pool verified assets into tranches [[face, rate (wad APR)]] senior first; "
                       "1..8 tranches, rates at most the asset rate cap (10 WAD); faces sum to the assets' "
                       "outstanding principal (par > 0) and are multiples of unitSize."))
    m.add_call(Call("claim", _claim, {"pool": Int(1, U64_MAX), "tranche": Int(0, MAX_TRANCHES - 1)}, cost=3_000,
                    doc="Collect the stable tokens a tranche owes the sender's units."))
    return m
