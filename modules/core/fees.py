"""Fees collected in a block, by denomination, for the end-of-block split.

Every fee is paid to the reserve's module account as it is charged (transaction fees in
the native token, market fees in the stable token) and counted here; at the end of the
block the insurance module moves the stakers' share of the block's fees from the reserve
to the fund (modules/insurance) and clears the counters.

State keys: fees/block/<denom>  int  fees collected in this block, base units
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

BLOCK = b"fees/block/"


def record(ctx: Ctx, denom: str, amount: int) -> None:
    """Count a fee already paid to the reserve."""
    if amount:
        key = BLOCK + denom.encode()
        ctx.set_int(key, ctx.get_int(key) + amount)


def take(ctx: Ctx) -> dict[str, int]:
    """The block's fees by denomination; the counters are cleared."""
    out = {}
    for k, _ in list(ctx.iter_prefix(BLOCK)):
        out[k[len(BLOCK):].decode()] = ctx.get_int(k)
        ctx.delete(k)
    return out
