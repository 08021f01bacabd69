"""The tranches' invariants, checked after every genesis import and every simulated block."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.tranches import keeper


def invariants(ctx: Ctx) -> list[str]:
    """Every pool's own checks (keeper.check_pool), and the live-unit index holds exactly
    the non-junior units of the active pools that have received repayments."""
    out = []
    live = set()
    for pid in keeper.ids(ctx, 0, 1 << 30):
        pool = keeper.get(ctx, pid)
        out.extend(keeper.check_pool(ctx, pool))
        if keeper.is_live(pool):
            live.update(t.denom for t in pool.tranches[:-1])
    if set(keeper.live_units(ctx)) != live:
        out.append(f"tranches: the live-unit index {sorted(keeper.live_units(ctx))} != {sorted(live)}")
    return out
