"""The stable token: custodian mint and burn, the instant exit, purchases from the vault,
the floor redemption, and the collateral ratio every block (modules/stable/vault.py).

State: modules/stable/keeper.py (the token's record, StableToken in records.py: the
denomination, the genesis proof-of-reserve value and custodian mints).
Genesis balances of the stable denomination count as a custodian mint against the
genesis proof-of-reserve value (genesis/loader.py refuses a genesis where they exceed it),
attributed to the first genesis custodian (stable/minted/<custodian>).

Calls: mint {to, amount} and burn {amount} (custodian); exit {unit, quantity, minOut};
buy {unit, quantity, maxIn}; redeem {amount} (the floor: never paused).
"""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.args import ADDRESS, AMOUNT, U64_MAX, Int, Text
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import ModuleAccountRefuses
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.roles import module as roles
from rwachain.modules.stable import genesis, invariants, keeper, queries, simulation, vault
from rwachain.modules.stable.genesis import STATE  # noqa: F401 (the module's name for it too)
from rwachain.modules.stable.keeper import info  # noqa: F401 (the module's name for it too)
from rwachain.modules.tranches import keeper as tranches

NAME = "stable"
UNIT = Text(64, tranches.UNIT_PATTERN)


def _mint(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "custodian", sender)
    if bank.is_module_account(ctx, args["to"]):
        raise ModuleAccountRefuses("module accounts receive funds only through their module's rules")
    vault.custodian_mint(ctx, sender, args["to"], args["amount"])


def _burn(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "custodian", sender)
    vault.custodian_burn(ctx, sender, args["amount"])


def _exit(ctx: Ctx, sender: bytes, args: dict) -> None:
    vault.exit_units(ctx, sender, args["unit"], args["quantity"], args["minOut"])


def _buy(ctx: Ctx, sender: bytes, args: dict) -> None:
    vault.buy_units(ctx, sender, args["unit"], args["quantity"], args["maxIn"])


def _redeem(ctx: Ctx, sender: bytes, args: dict) -> None:
    vault.redeem(ctx, sender, args["amount"])


def end_block(ctx: Ctx) -> None:
    if keeper.has_token(ctx):
        vault.record_cr(ctx)


def module() -> Module:
    m = Module(NAME, init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis,
               invariants=invariants.invariants,
               genesis_json=genesis.SECTION, queries=queries.QUERIES, sim_ops=simulation.SIM_OPS, end_block=end_block,
               pure_hooks=True, pausable=5,
               params=Governed(keeper.PARAMS, keeper.DEFAULT_PARAMS, keeper.PARAM_UNITS, keeper.params, place=0),
               accounts=(("vault", 1),))
    m.add_call(Call("mint", _mint, {"to": ADDRESS, "amount": AMOUNT}, cost=3_000,
                    doc="Custodian: mint against off-chain deposits, within its proof-of-reserve feed; not below CR 1."))
    m.add_call(Call("burn", _burn, {"amount": AMOUNT}, cost=3_000,
                    doc="Custodian: burn its stable tokens (off-chain payout pro rata below CR 1)."))
    m.add_call(Call("exit", _exit, {"unit": UNIT, "quantity": Int(1, U64_MAX), "minOut": Int(0, vault.WAD**3)},
                    cost=10_000, doc="Swap eligible tranche units into the stable token at price x (1 - haircut)."))
    m.add_call(Call("buy", _buy, {"unit": UNIT, "quantity": Int(1, U64_MAX), "maxIn": AMOUNT}, cost=10_000,
                    doc="Buy units out of the vault at price x (1 + spread), burning the stable tokens paid."))
    m.add_call(Call("redeem", _redeem, {"amount": AMOUNT}, cost=10_000,
                    doc="The floor: burn stable tokens for a slice of every vault holding (never paused)."))
    return m
