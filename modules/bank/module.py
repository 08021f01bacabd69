"""The bank module: the transfer call, genesis of denominations, queries, invariants."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.args import ADDRESS, AMOUNT, DENOM
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import ModuleAccountRefuses
from rwachain.modules.core.registry import Call, Module

NAME = "bank"


def _transfer(ctx: Ctx, sender: bytes, args: dict) -> None:
    to, denom, amount = args["to"], args["denom"], args["amount"]
    keeper.require_denom(ctx, denom)
    if keeper.is_module_account(ctx, to):
        raise ModuleAccountRefuses("module accounts receive funds only through their module's rules")
    keeper.transfer(ctx, sender, to, denom, amount)
    ctx.emit("bank.transfer", sender=sender, recipient=to, denom=denom, amount=amount)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {"denoms": [{id, symbol, decimals, kind}]}; balances come with accounts."""
    for d in section["denoms"]:
        keeper.register_denom(ctx, d["id"], d["symbol"], d["decimals"], d["kind"])


def export_genesis(ctx: Ctx) -> dict:
    n = len(keeper.DENOM)
    denoms = []
    for k, _ in ctx.iter_prefix(keeper.DENOM):
        info = ctx.get_obj(k)
        denoms.append({"id": k[n:].decode(), **info})
    return {"denoms": denoms}


def invariants(ctx: Ctx) -> list[str]:
    """Sum of balances equals supply for every denomination; no negative balance."""
    sums: dict[str, int] = {}
    n = len(keeper.BAL) + 20
    problems = []
    for k, _ in ctx.iter_prefix(keeper.BAL):
        v = ctx.get_int(k)
        if v <= 0:
            problems.append(f"non-positive stored balance at {k.hex()}")
        denom = k[n:].decode()
        sums[denom] = sums.get(denom, 0) + v
    m = len(keeper.SUPPLY)
    supplies = {k[m:].decode(): ctx.get_int(k) for k, _ in ctx.iter_prefix(keeper.SUPPLY)}
    for denom in sorted(set(sums) | set(supplies)):
        if sums.get(denom, 0) != supplies.get(denom, 0):
            problems.append(f"{denom}: balances sum to {sums.get(denom, 0)}, supply is {supplies.get(denom, 0)}")
    return problems


def module() -> Module:
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, invariants=invariants)
    m.add_call(Call("transfer", _transfer, {"to": ADDRESS, "denom": DENOM, "amount": AMOUNT}, cost=1000,
                    doc="Send amount of denom to another account (not a module account)."))
    m.queries["balance"] = lambda ctx, addr, denom: keeper.balance(ctx, addr, denom)
    m.queries["balances"] = lambda ctx, addr: keeper.balances_of(ctx, addr)
    m.queries["supply"] = lambda ctx, denom: keeper.supply(ctx, denom)
    return m
