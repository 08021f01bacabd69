"""The market's invariants, checked after every genesis import and every simulated block."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.market import keeper


def invariants(ctx: Ctx) -> list[str]:
    """The book is never crossed: in every market the best bid is below the best ask."""
    out = []
    denoms = set()
    n = len(keeper.BOOK)
    for k, _ in ctx.iter_prefix(keeper.BOOK):
        denoms.add(k[n:].split(b"\x00")[0].decode())
    for d in sorted(denoms):
        bid, ask = keeper.best(ctx, d, keeper.BUY), keeper.best(ctx, d, keeper.SELL)
        if bid is not None and ask is not None and bid >= ask:
            out.append(f"market {d}: crossed book (bid {bid} >= ask {ask})")
    return out
