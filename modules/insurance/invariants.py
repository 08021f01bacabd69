"""The insurance fund's invariants: bonded and held shares add up to the fund's, each slash
pays out no more than it recovered nor recovers more than it covered, and the fund holds the
native stake, the rewards owed and the recoveries not yet paid out."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.insurance import keeper
from rwachain.modules.insurance.keeper import FUND
from rwachain.modules.tranches import keeper as tranches


def _slash_problems(ctx: Ctx) -> tuple[int, list[str]]:
    """(recoveries received and not yet paid out, stable base units; broken slash records)."""
    held, out = 0, []
    for gen, s in keeper.slashes(ctx):
        held += s.recovered - s.paid
        if not s.paid <= s.recovered <= s.covered:
            out.append(f"insurance: slash {gen} paid {s.paid} of {s.recovered} recovered on a cover of {s.covered}")
    return held, out


def invariants(ctx: Ctx) -> list[str]:
    f = keeper.fund(ctx)
    idx = keeper.indexes(ctx)
    bonded, held, owed = 0, 0, {}
    out = []
    for addr in keeper.stakers(ctx):
        rec, _, cleared = keeper.current(ctx, addr, f)
        bonded += rec.shares
        held += rec.held
        if not cleared and rec.held != rec.shares + sum(sh for _, sh in keeper.unbonding(ctx, addr)):
            out.append(f"insurance: {addr.hex()} holds {rec.held} shares, not its bonded and unbonding ones")
        for d, a in keeper.settle(rec, idx).owed.items():
            owed[d] = owed.get(d, 0) + a
    if bonded != f.bonded:
        out.append(f"insurance: bonded shares sum to {bonded}, the fund says {f.bonded}")
    if held != f.shares:
        out.append(f"insurance: the stakers' shares (bonded and unbonding) sum to {held}, not {f.shares}")
    g = ctx.get_obj(b"chain/genesis")
    if g is not None:
        owed[g["nativeDenom"]] = owed.get(g["nativeDenom"], 0) + f.native
    recovering, broken = _slash_problems(ctx)
    out += broken
    if recovering:
        stable = tranches.stable_denom(ctx)
        owed[stable] = owed.get(stable, 0) + recovering
    for d, need in owed.items():
        if bank.balance(ctx, FUND, d) < need:
            out.append(f"insurance: the fund holds less {d} than its stake and rewards owed ({need})")
    return out
