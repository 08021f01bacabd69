"""Installment schedules: generated (bullet, interest-only, equal) or given, and their checks.

A schedule is a list of (due time s, principal part, interest part) in base units, due
times strictly increasing, every part >= 0, every installment amount (principal +
interest) > 0, and the principal parts summing to the principal exactly. Pure functions.

Generated kinds, with due times start + k * period for k = 1..count (rate is APR, wad):

    bullet         ONE installment at start + count * period: the principal plus simple
                   interest principal * rate * count * period // (YEAR * WAD)
    interest_only  count installments of interest principal * rate * period // (YEAR * WAD)
                   each; the principal is repaid with the last one
    equal          annuity (French amortization): periodic rate
                       i = rate * period // YEAR                                  (wad, down)
                   F = rpow(RAY + i * 10**9, count)                               (ray, half-up steps)
                   A = principal * i * F // (WAD * (F - RAY))                     (down)
                   each installment: interest = outstanding * i // WAD (down), principal
                   part = A - interest; the LAST installment takes the whole remaining
                   outstanding (the rounding remainder) plus its interest, so the
                   principal parts sum to the principal exactly and every installment but
                   the last pays exactly A. If i == 0 (rate 0, or a rate too small to show
                   in a period): principal // count each, the remainder on the last.

A generated schedule that would break the rules above (an installment of 0, a negative
last part when the principal is tiny against count) is refused with ValueError, as is
anything outside the limits below. docs/mechanism.md, "Schedules", has a worked example.
"""

from __future__ import annotations

from collections.abc import Sequence

from rwachain.modules.core.fixed import RAY, WAD, WAD_TO_RAY, YEAR, Amount, Seconds, Wad, rpow

KINDS = ("bullet", "interest_only", "equal")
"""The generated schedule kinds (a given schedule is checked with check_given)."""
MAX_INSTALLMENTS = 360
"""Most installments in one schedule (30 years of monthly payments)."""
MIN_PERIOD: Seconds = 86_400
"""Shortest period of a generated schedule: one day."""
MAX_PERIOD: Seconds = YEAR
"""Longest period of a generated schedule: one year."""
MAX_TERM: Seconds = 50 * YEAR
"""Longest term count * period of a generated schedule: 50 years."""
MAX_RATE: Wad = 10 * WAD
"""Highest annual rate of a generated schedule: 1,000 % APR."""
MAX_PRINCIPAL: Amount = 10**30
"""Largest principal (base units); also bounds every part of a given schedule."""
MAX_TIME: Seconds = 2**63 - 1
"""Latest due time (unix seconds)."""

Row = tuple[int, int, int]


def _int(name: str, v: object, lo: int, hi: int) -> int:
    if type(v) is not int:
        raise ValueError(f"{name}: an integer")
    if not lo <= v <= hi:
        raise ValueError(f"{name}: {v} is outside [{lo}, {hi}]")
    return v


def generate(kind: str, principal: Amount, rate_wad: Wad, start: Seconds, period: Seconds,
             count: int) -> list[Row]:
    """The (due, principal part, interest part) rows of a generated schedule (module
    docstring). Raises ValueError on a bad kind, an argument outside the limits, or a
    schedule that cannot be represented (an installment of 0)."""
    if kind not in KINDS:
        raise ValueError(f"schedule kind: {kind!r} is not one of {', '.join(KINDS)}")
    _int("principal", principal, 1, MAX_PRINCIPAL)
    _int("rate", rate_wad, 0, MAX_RATE)
    _int("period", period, MIN_PERIOD, MAX_PERIOD)
    _int("count", count, 1, MAX_INSTALLMENTS)
    _int("start", start, 0, MAX_TIME - count * period)
    if count * period > MAX_TERM:
        raise ValueError(f"term: {count} x {period} s is longer than {MAX_TERM} s")
    if kind == "bullet":
        interest = principal * rate_wad * count * period // (YEAR * WAD)
        rows = [(start + count * period, principal, interest)]
    elif kind == "interest_only":
        interest = principal * rate_wad * period // (YEAR * WAD)
        if interest == 0 and count > 1:
            raise ValueError("interest_only: the interest of a period rounds to 0 (use a bullet schedule)")
        rows = [(start + k * period, principal if k == count else 0, interest) for k in range(1, count + 1)]
    else:
        rows = _equal(principal, rate_wad, start, period, count)
    return check_given(principal, rows)


def periodic_rate(rate_wad: Wad, period: Seconds) -> Wad:
    """The rate of one period of an equal schedule: rate * period // YEAR (wad, down)."""
    return rate_wad * period // YEAR


def annuity_payment(principal: Amount, i: Wad, count: int) -> Amount:
    """The constant installment A of an equal schedule with periodic rate i (wad) > 0:
    principal * i * F // (WAD * (F - RAY)) with F = rpow(RAY + i * 10**9, count) (ray)."""
    f = rpow(RAY + i * WAD_TO_RAY, count)
    return principal * i * f // (WAD * (f - RAY))


def _equal(principal: int, rate_wad: int, start: int, period: int, count: int) -> list[Row]:
    i = periodic_rate(rate_wad, period)
    rows = []
    if i == 0:
        part = principal // count
        if part == 0:
            raise ValueError(f"equal: principal {principal} is smaller than count {count}")
        for k in range(1, count + 1):
            rows.append((start + k * period, part if k < count else principal - part * (count - 1), 0))
        return rows
    a = annuity_payment(principal, i, count)
    outstanding = principal
    for k in range(1, count + 1):
        interest = outstanding * i // WAD
        part = a - interest if k < count else outstanding
        if part < 0 or (part >= outstanding if k < count else part > outstanding):
            raise ValueError(f"equal: principal {principal} is too small for {count} equal installments")
        outstanding -= part
        rows.append((start + k * period, part, interest))
    return rows


def check_given(principal: Amount, items: Sequence[Sequence[int]]) -> list[Row]:
    """Validate a schedule [(due, principal part, interest part), ...] for principal and
    return it as a list of tuples. Raises ValueError naming the first bad installment
    (0-based index): due times strictly increasing within [0, MAX_TIME], parts >= 0 and at
    most MAX_PRINCIPAL, amount > 0, 1..MAX_INSTALLMENTS rows, principal parts summing to
    principal."""
    _int("principal", principal, 1, MAX_PRINCIPAL)
    if not 1 <= len(items) <= MAX_INSTALLMENTS:
        raise ValueError(f"schedule: {len(items)} installments; 1 to {MAX_INSTALLMENTS}")
    out: list[Row] = []
    prev = -1
    total = 0
    for k, item in enumerate(items):
        if len(item) != 3 or any(type(x) is not int for x in item):
            raise ValueError(f"installment {k}: expected (due, principal, interest) integers")
        due, part, interest = item
        if not 0 <= due <= MAX_TIME:
            raise ValueError(f"installment {k}: due time {due} is outside [0, {MAX_TIME}]")
        if due <= prev:
            raise ValueError(f"installment {k}: due time {due} is not after the previous one ({prev})")
        if not (0 <= part <= MAX_PRINCIPAL and 0 <= interest <= MAX_PRINCIPAL):
            raise ValueError(f"installment {k}: parts must be in [0, {MAX_PRINCIPAL}]")
        if part + interest == 0:
            raise ValueError(f"installment {k}: amount is 0")
        prev = due
        total += part
        out.append((due, part, interest))
    if total != principal:
        raise ValueError(f"schedule: principal parts sum to {total}, not the principal {principal}")
    return out
