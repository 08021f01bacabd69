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
    writtenDown  face written down by losses, base units
    covered      of that, paid back by the insurance fund, base units
Rounding: interest accrues down (the pool pays it), the index floors and carries the
remainder into the next allocation, so no cash is lost between allocated and the index.
"""

from __future__ import annotations

from modules.args import AMOUNT_MAX
from modules.fixed import RAY, per_second_ray, rpow_capped

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


def distribute(pool: dict, cash: int) -> list[int]:
    """Allocate cash (base units) senior to junior: each senior tranche's interest, then its
    principal, then the next; the junior takes all that is left (principal, then residual).
    Returns the amount allocated to each tranche."""
    out = []
    ts = pool["tranches"]
    for t in ts[:-1]:
        pay_i = min(cash, t["interest"])
        t["interest"] -= pay_i
        pay_p = min(cash - pay_i, t["outstanding"])
        t["outstanding"] -= pay_p
        _credit(t, pay_i + pay_p)
        cash -= pay_i + pay_p
        out.append(pay_i + pay_p)
    junior = ts[-1]
    junior["outstanding"] -= min(cash, junior["outstanding"])
    _credit(junior, cash)
    out.append(cash)
    return out


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
    """Each tranche's claim at now: outstanding face plus interest accrued to now."""
    p = {**pool, "tranches": [dict(t) for t in pool["tranches"]]}
    accrue(p, now)
    return [t["outstanding"] + t["interest"] for t in p["tranches"]]


def tranche_values(pool: dict, pool_value: int, now: int) -> list[int]:
    """Walk senior to junior over pool_value: each takes min(what is left, its claim); the
    junior takes the rest."""
    left = pool_value
    out = []
    cl = claims(pool, now)
    for c in cl[:-1]:
        v = min(left, c)
        out.append(v)
        left -= v
    out.append(left)
    return out
