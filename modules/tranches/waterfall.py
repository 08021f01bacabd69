"""The waterfall of a pool: interest accrual, cash allocation senior to junior, write-downs,
and the per-unit payout index. Pure functions over the pool record (no state access).

A tranche (a map in the pool record, ordered senior first, junior last):
    face         original face, stable base units
    outstanding  face not yet repaid or written down, base units
    rate         APR, wad (the junior's is unused: it takes the residual)
    interest     interest accrued and not yet paid, base units
    units        units issued (a bank denomination, indivisible)
    allocated    cash allocated to the tranche so far, base units
    index        cumulative cash per unit, ray (x 10^27) base units per unit
    carry        what the index could not take yet: (cash x RAY) mod units
    writtenDown  face written down by losses and not yet restored by later cash, base units
    covered      of that, paid back by the insurance fund, base units
A write-off writes down only what the pool is short (shortfall): the faces outstanding above
the principal its other assets still owe. The written-down face the fund did not cover
(writtenDown - covered, no interest on it) stays a claim of its tranche: later cash restores
it right after the tranche's principal, before any cash reaches the next tranche; what the
tranches above the junior leave repays the insurance fund's cover (coverOwed) before the junior.
Rounding: interest accrues down (the pool pays it), the index floors and carries the
remainder into the next allocation, so no cash is lost between allocated and the index.
"""

from __future__ import annotations

from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.fixed import RAY, per_second_ray, rpow_capped

CLAIM_MAX = AMOUNT_MAX
"""Most a tranche's claim (outstanding + interest) grows to by accrual, base units (2^128 - 1,
the bound of every amount): per-second compounding at the rate cap (1,000 % APR) reaches it
after about 9 years of unpaid interest, and stops there whatever the time gap."""


def accrue(pool: dict, now: int) -> None:
    """Accrue every non-junior tranche's interest up to now, compounded per second on
    outstanding face plus unpaid interest, the claim saturating at CLAIM_MAX:
    claim' = min(claim * rpow(RAY + per_second_ray(rate), dt) // RAY, CLAIM_MAX)."""
    dt = now - pool["lastAccrual"]
    if dt <= 0:
        return
    for t in pool["tranches"][:-1]:
        base = t["outstanding"] + t["interest"]
        if base and t["rate"]:
            growth = rpow_capped(RAY + per_second_ray(t["rate"]), dt, (CLAIM_MAX + 1) * RAY)
            t["interest"] += max(0, min(base * growth // RAY, CLAIM_MAX) - base)
    pool["lastAccrual"] = now


def _credit(t: dict, cash: int) -> None:
    if not cash:
        return
    t["allocated"] += cash
    total = cash * RAY + t["carry"]
    t["index"] += total // t["units"]
    t["carry"] = total % t["units"]


def unpaid_loss(t: dict) -> int:
    """A tranche's written-down face that neither the fund nor later cash has paid, base units."""
    return t["writtenDown"] - t.get("covered", 0)


def distribute(pool: dict, cash: int, hold: int = 0) -> list[int]:
    """Allocate cash (base units) senior to junior: each senior tranche's interest, then its
    principal, then its unpaid loss (restoring written-down face), then the next; of what is
    left, up to hold (the insurance fund's cover owed) is not allocated, and the junior takes
    the rest (principal, then residual). Returns the amount allocated to each tranche."""
    out = []
    ts = pool["tranches"]
    for t in ts[:-1]:
        pay_i = min(cash, t["interest"])
        t["interest"] -= pay_i
        pay_p = min(cash - pay_i, t["outstanding"])
        t["outstanding"] -= pay_p
        pay_r = min(cash - pay_i - pay_p, unpaid_loss(t))
        t["writtenDown"] -= pay_r
        paid = pay_i + pay_p + pay_r
        _credit(t, paid)
        cash -= paid
        out.append(paid)
    cash -= min(cash, hold)
    junior = ts[-1]
    junior["outstanding"] -= min(cash, junior["outstanding"])
    _credit(junior, cash)
    out.append(cash)
    return out


def shortfall(pool: dict, lost: int, collateral: int) -> int:
    """What a write-off of `lost` principal writes down, base units: the faces outstanding above
    the collateral left (the principal the pool's other assets owe plus cash not yet allocated),
    at most `lost`. Over-collateral that excess interest built by paying faces down absorbs
    the loss first; a write-down never exceeds the principal lost."""
    faces = sum(t["outstanding"] for t in pool["tranches"])
    return min(lost, max(0, faces - collateral))


def write_down(pool: dict, loss: int) -> list[int]:
    """Write loss (base units of face) down junior first; returns each tranche's write-down."""
    out = [0] * len(pool["tranches"])
    for k in range(len(pool["tranches"]) - 1, -1, -1):
        t = pool["tranches"][k]
        d = min(loss, t["outstanding"])
        t["outstanding"] -= d
        t["writtenDown"] += d
        out[k] = d
        loss -= d
    return out


def cover(pool: dict, downs: list[int], paid: int) -> list[int]:
    """Allocate an insurance payment to the tranches above the junior, senior first, each up
    to its write-down in this loss; returns each tranche's share."""
    out = [0] * len(pool["tranches"])
    for k, t in enumerate(pool["tranches"][:-1]):
        c = min(paid, downs[k])
        if c:
            t["covered"] = t.get("covered", 0) + c
            _credit(t, c)
            out[k] = c
            paid -= c
    return out


def claims(pool: dict, now: int) -> list[int]:
    """Each tranche's claim at now: outstanding face plus interest accrued to now, plus (above
    the junior) its unpaid loss."""
    p = {**pool, "tranches": [dict(t) for t in pool["tranches"]]}
    accrue(p, now)
    ts = p["tranches"]
    return [t["outstanding"] + t["interest"] + unpaid_loss(t) for t in ts[:-1]] + [ts[-1]["outstanding"]]


def tranche_values(pool: dict, pool_value: int, now: int) -> list[int]:
    """Walk senior to junior over pool_value: each takes min(what is left, its claim); then the
    insurance fund's cover owed (not a tranche) takes its part, and the junior the rest."""
    left = pool_value
    out = []
    cl = claims(pool, now)
    for c in cl[:-1]:
        v = min(left, c)
        out.append(v)
        left -= v
    out.append(left - min(left, pool.get("coverOwed", 0)))
    return out
