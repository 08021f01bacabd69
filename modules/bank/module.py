"""The bank module: the transfer call, and the Module that declares it with the bank's
genesis section (the genesis's "denoms": modules/bank/genesis.py), invariants, RPC
methods (bank_*) and random operations.

The folder is the example of a module's anatomy (docs/adding-a-module.md): keeper.py
(the state keys and the only code that reads and writes them, and the bank.settle slot),
records.py (its records as dataclasses), genesis.py, invariants.py, queries.py,
simulation.py and this file. Every transaction's fee is charged by the framework
(modules/core/app.py), and the genesis accounts' balances are imported with the accounts.
"""

from __future__ import annotations

from rwachain.modules.bank import genesis, keeper, queries, simulation
from rwachain.modules.bank.genesis import export_genesis, init_genesis
from rwachain.modules.bank.invariants import invariants
from rwachain.modules.core.args import ADDRESS, AMOUNT, DENOM
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import ModuleAccountRefuses
from rwachain.modules.core.registry import Call, Module

NAME = "bank"
__all__ = ["NAME", "export_genesis", "init_genesis", "invariants", "module"]


def _transfer(ctx: Ctx, sender: bytes, args: dict) -> None:
    to, denom, amount = args["to"], args["denom"], args["amount"]
    keeper.require_denom(ctx, denom)
    if keeper.is_module_account(ctx, to):
        raise ModuleAccountRefuses("module accounts receive funds only through their module's rules")
    keeper.transfer(ctx, sender, to, denom, amount)
    ctx.emit("bank.transfer", sender=sender, recipient=to, denom=denom, amount=amount)


def module() -> Module:
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, genesis_json=genesis.SECTION,
               invariants=invariants, queries=queries.QUERIES, sim_ops=simulation.SIM_OPS, pausable=0)
    m.add_call(Call("transfer", _transfer, {"to": ADDRESS, "denom": DENOM, "amount": AMOUNT}, cost=1000,
                    doc="Send amount of denom to another account (not a module account)."))
    return m
