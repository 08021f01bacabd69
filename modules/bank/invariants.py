"""The bank's invariants, checked after every genesis import and every simulated block."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.context import Ctx


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
