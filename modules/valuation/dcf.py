"""Discounted cash flow with default risk: the value of an asset's unpaid installments.

Pure functions of (unpaid installments, now, status, inputs); no state access.

Inputs (oracle values for the asset's grade, and the asset's grace period):
    rate       r       benchmark rate, APR, wad
    spread     s       the grade's spread over r, APR, wad
    intensity  lambda  the grade's annual default intensity, wad per YEAR
    lgd        LGD     the grade's loss given default, wad (0..WAD)
    grace              seconds past the oldest unpaid due time over which the loss of every
                       unpaid installment ramps to LGD (>= 1)

Per-second factors (ray), rounded half-up:
    d = RAY * RAY / (RAY + per_second_ray(r + s))      discount per second, 1/(1 + (r+s)/YEAR)
    q = RAY - per_second_ray(lambda)                   survival per second, 1 - lambda/YEAR

THE PINNED DEFINITION. `unpaid` is [(t_k, CF_k)] in due order (non-decreasing t_k; an
amount may be 0). Past-due installments (t_k <= now) have DF_k = S_k = RAY. The others
(t_k > now) form a chain that starts at now: with t_0 = now, DF_0 = S_0 = RAY and, for the
j-th installment with t_j > now (in list order),
    DF_j = ray_mul(DF_{j-1}, rpow(d, t_j - t_{j-1}))
    S_j  = ray_mul(S_{j-1},  rpow(q, t_j - t_{j-1}))
so DF of the first future installment is rpow(d, t_1 - now) exactly (ray_mul(RAY, x) = x),
and the later ones are chained through the due times of the future installments in the
list. rpow is modules.fixed.rpow (half-up at every step); the per-gap factors
rpow(d, gap), rpow(q, gap) are memoized (a regular schedule has few distinct gaps).
Then, per installment, with L_k in wad rounded UP and the two products rounded DOWN:
    overdue ramp:            R = ceil(LGD * min(now - t_o, grace) / grace) if t_o < now, else 0,
                             t_o the due time of the first listed installment (the oldest unpaid)
    performing, t_k <= now:  L_k = R
    performing, t_k >  now:  L_k = max(ceil(LGD * (RAY - S_k) / RAY), R)
    defaulted:               L_k = LGD              (reported with S_k = 0)
    E_k  = CF_k * (WAD - L_k) // WAD            (shown in explanations)
    PV_k = CF_k * (WAD - L_k) * DF_k // (WAD * RAY)   (one floor: less than 1 unit lost)
    value = sum of PV_k;  written_off: value = 0 (reported with L_k = WAD, S_k = 0).
Rounding is conservative: the loss is rounded up and each product down, so the value is at
most the exact value plus the ray noise of d, q and rpow (relative ~1e-18), and at most two
base units per installment below it.

No cliff: while the status is unchanged the value is continuous in now. At t_k the future
loss LGD*(1 - q**1) -> 0 meets the ramp R; R starts at 0 when the oldest unpaid installment
falls due and reaches LGD at t_o + grace, where every L_k = LGD: the performing value then
equals the defaulted value, so the scheduled default (assets: defaulted at t_o + grace)
moves nothing; DF_k -> RAY from below.

Because the chain runs through the listed future installments, removing an installment
that is past due (but not the first listed while it is past due: that one sets R), or the
last one, leaves every other PV_k unchanged; removing another
future one re-anchors the chain after it (the other PV_k move by ray rounding noise, which
can flip a final floor: a base unit or two at most, almost always 0). Paying part of an
installment leaves the others unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rwachain.modules.core.fixed import HALF_RAY, RAY, WAD, Ray, Seconds, Wad, per_second_ray, rpow

WAD_RAY = WAD * RAY  # the one divisor of PV_k
PERFORMING = "performing"
"""Value with the hazard term and the overdue ramp."""
DEFAULTED = "defaulted"
"""Value every unpaid installment at CF_k * (1 - LGD), discounted."""
WRITTEN_OFF = "written_off"
"""Value 0."""
STATUSES = (PERFORMING, DEFAULTED, WRITTEN_OFF)

MAX_RATE: Wad = 1000 * WAD
"""Upper bound of rate, spread and intensity each (100,000 % a year): keeps q >= 0 and the
factors meaningful; oracle bounds are far tighter."""

_MEMO_MAX = 4096
"""Bound of the per-gap rpow memo (entries); cleared when full. The memo is a cache of a
pure function: its content never changes a result."""
_gap_memo: dict[tuple[int, int], int] = {}
_SQ_MAX = 256
"""Bound of the memo of squaring tables (one table per per-second base)."""
_squares: dict[int, list[int]] = {}


@dataclass(frozen=True, slots=True)
class Inputs:
    """The oracle inputs of one valuation (all wad) and the asset's grace (seconds)."""

    rate: Wad
    """Benchmark rate r, APR."""
    spread: Wad
    """Spread s of the grade, APR."""
    intensity: Wad
    """Default intensity lambda of the grade, per YEAR."""
    lgd: Wad
    """Loss given default of the grade, 0..WAD."""
    grace: Seconds
    """Seconds after a due time over which the loss of an unpaid installment ramps to LGD."""

    def __post_init__(self) -> None:
        for name in ("rate", "spread", "intensity", "lgd", "grace"):
            if type(getattr(self, name)) is not int:
                raise ValueError(f"{name}: an integer")
        for name in ("rate", "spread", "intensity"):
            v = getattr(self, name)
            if not 0 <= v <= MAX_RATE:
                raise ValueError(f"{name}: {v} is outside [0, {MAX_RATE}] (wad)")
        if not 0 <= self.lgd <= WAD:
            raise ValueError(f"lgd: {self.lgd} is outside [0, {WAD}] (wad)")
        if self.grace < 1:
            raise ValueError(f"grace: {self.grace} s; at least 1 s")

    def as_dict(self) -> dict:
        return {"rate": self.rate, "spread": self.spread, "intensity": self.intensity,
                "lgd": self.lgd, "grace": self.grace}


def discount_per_second(inputs: Inputs) -> Ray:
    """d = RAY*RAY / (RAY + per_second_ray(rate + spread)), rounded half-up (ray)."""
    den = RAY + per_second_ray(inputs.rate + inputs.spread)
    return (RAY * RAY + den // 2) // den


def survival_per_second(inputs: Inputs) -> Ray:
    """q = RAY - per_second_ray(intensity) (ray)."""
    return RAY - per_second_ray(inputs.intensity)


def _rpow(x: Ray, n: int) -> Ray:
    """rpow(x, n) from a memoized table of x's repeated squares: the same squares and the
    same multiplications in the same order as modules.fixed.rpow, so the same result; only
    the squarings are shared between calls."""
    sq = _squares.get(x)
    if sq is None:
        if len(_squares) >= _SQ_MAX:
            _squares.clear()
        sq = _squares[x] = [x]
    need = n.bit_length()
    while len(sq) < need:
        y = sq[-1]
        sq.append((y * y + HALF_RAY) // RAY)
    z = RAY
    i = 0
    while n:
        if n & 1:
            z = (z * sq[i] + HALF_RAY) // RAY
        n >>= 1
        i += 1
    return z


def _gap(x: Ray, n: int) -> Ray:
    """rpow(x, n), memoized by (x, n)."""
    key = (x, n)
    v = _gap_memo.get(key)
    if v is None:
        if len(_gap_memo) >= _MEMO_MAX:
            _gap_memo.clear()
        v = _gap_memo[key] = _rpow(x, n)
    return v


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of {', '.join(STATUSES)}")


def _bad_item(k: int, t: int, prev: int, cf: int) -> ValueError:
    if cf < 0:
        return ValueError(f"installment {k}: negative amount {cf}")
    return ValueError(f"installment {k}: due time {t} is before the previous one ({prev})")


def overdue_loss(unpaid: Sequence[tuple[int, int]], now: Seconds, inputs: Inputs) -> Wad:
    """R (wad, rounded up): LGD * min(1, (now - t_o) / grace), t_o the due time of the first
    listed installment (the oldest unpaid); 0 when nothing is past due."""
    if not unpaid:
        return 0
    over = now - unpaid[0][0]
    if over <= 0:
        return 0
    if over >= inputs.grace:
        return inputs.lgd
    return -((-inputs.lgd * over) // inputs.grace)


def value(unpaid: Sequence[tuple[int, int]], now: Seconds, status: str, inputs: Inputs) -> int:
    """The value in base units of `unpaid` [(due time s, unpaid amount base units)], in due
    order, at block time `now`, for status performing / defaulted / written_off. The fast
    path of the module docstring's definition; equal to explain(...)["value"]."""
    _check_status(status)
    if status == WRITTEN_OFF:
        return 0
    n = len(unpaid)
    lgd = inputs.lgd
    performing = status == PERFORMING
    ramp = overdue_loss(unpaid, now, inputs) if performing else lgd
    keep = WAD - ramp  # WAD - R (performing) or WAD - LGD (defaulted): the most an installment keeps
    total = 0
    i = 0
    prev = -(1 << 64)
    # past due: DF = S = RAY, so PV = E exactly, with L = R (performing) or LGD
    while i < n:
        t, cf = unpaid[i]
        if t > now:
            break
        if t < prev or cf < 0:
            raise _bad_item(i, t, prev, cf)
        prev = t
        total += cf * keep // WAD
        i += 1
    if i == n:
        return total
    # future: the chain from now
    d = discount_per_second(inputs)
    t, cf = unpaid[i]
    if cf < 0:
        raise _bad_item(i, t, prev, cf)
    g = t - now
    df = _rpow(d, g)
    hazard = performing and lgd != 0 and inputs.intensity != 0 and ramp < lgd
    if not hazard:  # L_k = R (P_k = 0, or R = LGD >= P_k) or LGD (defaulted)
        total += cf * keep * df // WAD_RAY
        prev = t
        last = -1
        fd = RAY
        for k in range(i + 1, n):
            t, cf = unpaid[k]
            g = t - prev
            if g < 0 or cf < 0:
                raise _bad_item(k, t, prev, cf)
            if g != last:
                fd = _gap(d, g)
                last = g
            prev = t
            df = (df * fd + HALF_RAY) // RAY
            total += cf * keep * df // WAD_RAY
        return total
    q = survival_per_second(inputs)
    s = _rpow(q, g)
    # P = ceil(lgd * (RAY - s) / RAY) = -((s - RAY) * lgd // RAY); WAD - max(P, R) = min(WAD + that, keep)
    total += cf * min(WAD + (s - RAY) * lgd // RAY, keep) * df // WAD_RAY
    prev = t
    last = -1
    fd = fq = RAY
    for k in range(i + 1, n):
        t, cf = unpaid[k]
        g = t - prev
        if g < 0 or cf < 0:
            raise _bad_item(k, t, prev, cf)
        if g != last:
            fd = _gap(d, g)
            fq = _gap(q, g)
            last = g
        prev = t
        df = (df * fd + HALF_RAY) // RAY
        s = (s * fq + HALF_RAY) // RAY
        total += cf * min(WAD + (s - RAY) * lgd // RAY, keep) * df // WAD_RAY
    return total


def explain(unpaid: Sequence[tuple[int, int]], now: Seconds, status: str, inputs: Inputs) -> dict:
    """The valuation with every intermediate term (all ints):

        {"value", "status", "now", "inputs": {rate, spread, intensity, lgd, grace},
         "perSecond": {"discount": d (ray), "survival": q (ray)},
         "overdueLoss": R (wad; None unless performing),
         "installments": [{"due", "amount", "dt" (s), "discount" DF_k (ray),
                           "survival" S_k (ray), "loss" L_k (wad), "expected" E_k,
                           "pv" PV_k}, ...]}

    "value" equals value(unpaid, now, status, inputs) and the sum of the "pv" terms."""
    _check_status(status)
    d = discount_per_second(inputs)
    q = survival_per_second(inputs)
    lgd = inputs.lgd
    ramp = overdue_loss(unpaid, now, inputs)
    rows = []
    total = 0
    prev = -(1 << 64)
    anchor = now
    df = s = RAY
    for k, (t, cf) in enumerate(unpaid):
        if t < prev or cf < 0:
            raise _bad_item(k, t, prev, cf)
        prev = t
        if t > now:
            df = (df * rpow(d, t - anchor) + HALF_RAY) // RAY
            s = (s * rpow(q, t - anchor) + HALF_RAY) // RAY
            anchor = t
            dfk, sk = df, s
        else:
            dfk = sk = RAY
        if status == WRITTEN_OFF:
            sk, loss = 0, WAD
        elif status == DEFAULTED:
            sk, loss = 0, lgd
        elif t <= now:
            loss = ramp
        else:
            loss = max(-((-lgd * (RAY - sk)) // RAY), ramp)
        e = cf * (WAD - loss) // WAD
        pv = cf * (WAD - loss) * dfk // WAD_RAY  # one floor per installment
        total += pv
        rows.append({"due": t, "amount": cf, "dt": max(0, t - now), "discount": dfk, "survival": sk,
                     "loss": loss, "expected": e, "pv": pv})
    return {"value": total, "status": status, "now": now, "inputs": inputs.as_dict(),
            "perSecond": {"discount": d, "survival": q},
            "overdueLoss": ramp if status == PERFORMING else None, "installments": rows}
