"""The waterfall of a pool: interest accrual, cash allocation senior to junior, write-downs,
and the per-unit payout index. Pure functions over the pool record (no state access): each
takes a Pool (modules/tranches/records.py, which lists a tranche's fields) and returns the
new one, with what it computed.

A write-off writes down only what the pool is short (shortfall): the faces outstanding above
the principal its other assets still owe. The written-down face the fund did not cover
(writtenDown - covered, no interest on it) stays a claim of its tranche: later cash restores
it right after the tranche's principal, before any cash reaches the next tranche; what the
tranches above the junior leave repays the insurance fund's cover (coverOwed) before the junior.
Rounding: interest accrues down (the pool pays it), the index floors and carries the
remainder into the next allocation, so no cash is lost between allocated and the index.
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.fixed import RAY, per_second_ray, rpow_capped
from rwachain.modules.tranches.records import Pool, Tranche

CLAIM_MAX = AMOUNT_MAX
"""Most a tranche's claim (outstanding + interest) grows to by accrual, base units (2^128 - 1,
the bound of every amount): per-second compounding at the rate cap (1,000 % APR) reaches it
after about 9 years of unpaid interest, and stops there whatever the time gap."""


def accrue(pool: Pool, now: int) -> Pool:
    """The pool with every non-junior tranche's interest accrued up to now, compounded per
    second on outstanding face plus unpaid interest, the claim saturating at CLAIM_MAX:
    claim' = min(claim * rpow(RAY + per_second_ray(rate), dt) // RAY, CLAIM_MAX)."""
    dt = now - pool.lastAccrual
    if dt <= 0:
        return pool
    ts = list(pool.tranches)
    for k, t in enumerate(ts[:-1]):
        base = t.outstanding + t.interest
        if base and t.rate:
            growth = rpow_capped(RAY + per_second_ray(t.rate), dt, (CLAIM_MAX + 1) * RAY)
            ts[k] = replace(t, interest=t.interest + max(0, min(base * growth // RAY, CLAIM_MAX) - base))
    return replace(pool, tranches=tuple(ts), lastAccrual=now)


def _credit(t: Tranche, cash: int) -> Tranche:
    """The tranche with cash (base units) allocated: its index rises by cash per unit, the
    remainder carried."""
    if not cash:
        return t
    total = cash * RAY + t.carry
    return replace(t, allocated=t.allocated + cash, index=t.index + total // t.units, carry=total % t.units)


def unpaid_loss(t: Tranche) -> int:
    """A tranche's written-down face that neither the fund nor later cash has paid, base units."""
    return t.writtenDown - t.covered


def distribute(pool: Pool, cash: int, hold: int = 0) -> tuple[Pool, list[int]]:
    """Allocate cash (base units) senior to junior: each senior tranche's interest, then its
    principal, then its unpaid loss (restoring written-down face), then the next; of what is
    left, up to hold (the insurance fund's cover owed) is not allocated, and the junior takes
    the rest (principal, then residual). Returns the new pool and the amount allocated to
    each tranche."""
    out, ts = [], []
    for t in pool.tranches[:-1]:
        pay_i = min(cash, t.interest)
        pay_p = min(cash - pay_i, t.outstanding)
        pay_r = min(cash - pay_i - pay_p, unpaid_loss(t))
        paid = pay_i + pay_p + pay_r
        ts.append(_credit(replace(t, interest=t.interest - pay_i, outstanding=t.outstanding - pay_p,
                                  writtenDown=t.writtenDown - pay_r), paid))
        cash -= paid
        out.append(paid)
    cash -= min(cash, hold)
    junior = pool.tranches[-1]
    ts.append(_credit(replace(junior, outstanding=junior.outstanding - min(cash, junior.outstanding)), cash))
    out.append(cash)
    return replace(pool, tranches=tuple(ts)), out


def shortfall(pool: Pool, lost: int, collateral: int) -> int:
    """What a write-off of `lost` principal writes down, base units: the faces outstanding above
    the collateral left (the principal the pool's other assets owe plus cash not yet allocated),
    at most `lost`. Over-collateral that excess interest built by paying faces down absorbs
    the loss first; a write-down never exceeds the principal lost."""
    faces = sum(t.outstanding for t in pool.tranches)
    return min(lost, max(0, faces - collateral))


def write_down(pool: Pool, loss: int) -> tuple[Pool, list[int]]:
    """Write loss (base units of face) down junior first; returns the new pool and each
    tranche's write-down."""
    ts = list(pool.tranches)
    out = [0] * len(ts)
    for k in range(len(ts) - 1, -1, -1):
        t = ts[k]
        d = min(loss, t.outstanding)
        ts[k] = replace(t, outstanding=t.outstanding - d, writtenDown=t.writtenDown + d)
        out[k] = d
        loss -= d
    return replace(pool, tranches=tuple(ts)), out


def cover(pool: Pool, downs: list[int], paid: int) -> tuple[Pool, list[int]]:
    """Allocate an insurance payment to the tranches above the junior, senior first, each up
    to its write-down in this loss; returns the new pool and each tranche's share."""
    ts = list(pool.tranches)
    out = [0] * len(ts)
    for k, t in enumerate(ts[:-1]):
        c = min(paid, downs[k])
        if c:
            ts[k] = _credit(replace(t, covered=t.covered + c), c)
            out[k] = c
            paid -= c
    return replace(pool, tranches=tuple(ts)), out


def claims(pool: Pool, now: int) -> list[int]:
    """Each tranche's claim at now: outstanding face plus interest accrued to now, plus (above
    the junior) its unpaid loss."""
    ts = accrue(pool, now).tranches
    return [t.outstanding + t.interest + unpaid_loss(t) for t in ts[:-1]] + [ts[-1].outstanding]


def tranche_values(pool: Pool, pool_value: int, now: int) -> list[int]:
    """Walk senior to junior over pool_value: each takes min(what is left, its claim); then the
    insurance fund's cover owed (not a tranche) takes its part, and the junior the rest."""
    left = pool_value
    out = []
    cl = claims(pool, now)
    for c in cl[:-1]:
        v = min(left, c)
        out.append(v)
        left -= v
    out.append(left - min(left, pool.coverOwed))
    return out
