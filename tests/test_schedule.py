"""Installment schedules (modules/assets/schedule.py): generated kinds, given schedules, limits.

Pinned vectors: 100,000.000000 units (6 decimals: 10**11 base units) at 12 % APR over 12
monthly periods of 2,592,000 s from START, one per kind; docs/mechanism.md uses the equal one.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.assets import schedule
from rwachain.modules.core.fixed import WAD, YEAR

START = 1_700_000_000
PERIOD = 2_592_000
P = 100_000_000_000
R = 12 * WAD // 100

EQUAL_12 = [  # (due, principal part, interest part); A = 8,877,190,691, the last 8,877,190,690
    (1702592000, 7890889322, 986301369),
    (1705184000, 7968717271, 908473420),
    (1707776000, 8047312839, 829877852),
    (1710368000, 8126683595, 750507096),
    (1712960000, 8206837187, 670353504),
    (1715552000, 8287781335, 589409356),
    (1718144000, 8369523836, 507666855),
    (1720736000, 8452072564, 425118127),
    (1723328000, 8535435471, 341755220),
    (1725920000, 8619620588, 257570103),
    (1728512000, 8704636024, 172554667),
    (1731104000, 8790489968, 86700722),
]


# ----- pinned vectors ------------------------------------------------------------------------
def test_pinned_bullet():
    # 10**11 * 0.12 * (12 * 2,592,000 / 31,536,000) = 11,835,616,438.35... -> down
    assert schedule.generate("bullet", P, R, START, PERIOD, 12) == [(START + 12 * PERIOD, P, 11_835_616_438)]


def test_pinned_interest_only():
    rows = schedule.generate("interest_only", P, R, START, PERIOD, 12)
    # 10**11 * 0.12 * 2,592,000 / 31,536,000 = 986,301,369.86... -> down
    assert rows == [(START + k * PERIOD, P if k == 12 else 0, 986_301_369) for k in range(1, 13)]


def test_pinned_equal():
    assert schedule.periodic_rate(R, PERIOD) == 9_863_013_698_630_136  # 0.98630136986301369863 % -> down
    assert schedule.annuity_payment(P, schedule.periodic_rate(R, PERIOD), 12) == 8_877_190_691
    rows = schedule.generate("equal", P, R, START, PERIOD, 12)
    assert rows == EQUAL_12
    amounts = [p + i for _, p, i in rows]
    assert amounts[:-1] == [8_877_190_691] * 11 and amounts[-1] == 8_877_190_690
    assert sum(p for _, p, _ in rows) == P
    assert sum(i for _, _, i in rows) == 6_526_288_291


def test_equal_at_rate_zero():
    rows = schedule.generate("equal", 1_000, 0, START, PERIOD, 7)
    assert [p for _, p, _ in rows] == [142] * 6 + [148]
    assert all(i == 0 for _, _, i in rows)
    # a rate too small to show in one period counts as zero
    assert schedule.generate("equal", 1_000, 1, START, PERIOD, 7) == rows


# ----- properties of every kind ---------------------------------------------------------------
kinds = st.sampled_from(schedule.KINDS)


@given(kinds, st.integers(10**6, 10**24), st.integers(0, schedule.MAX_RATE), st.integers(0, 2 * 10**9),
       st.integers(schedule.MIN_PERIOD, schedule.MAX_PERIOD), st.integers(1, schedule.MAX_INSTALLMENTS))
def test_generated_schedules_are_valid(kind, principal, rate, start, period, count):
    if count * period > schedule.MAX_TERM:
        with pytest.raises(ValueError, match="term"):
            schedule.generate(kind, principal, rate, start, period, count)
        return
    try:
        rows = schedule.generate(kind, principal, rate, start, period, count)
    except ValueError as exc:  # only the documented unrepresentable cases
        assert "rounds to 0" in str(exc) or "too small" in str(exc), exc
        return
    assert schedule.check_given(principal, rows) == rows
    assert sum(p for _, p, _ in rows) == principal
    assert all(p >= 0 and i >= 0 and p + i > 0 for _, p, i in rows)
    if kind == "bullet":
        assert rows == [(start + count * period, principal, principal * rate * count * period // (YEAR * WAD))]
        return
    assert [d for d, _, _ in rows] == [start + k * period for k in range(1, count + 1)]
    if kind == "interest_only":
        interest = principal * rate * period // (YEAR * WAD)
        assert rows[-1][1] == principal and all(i == interest for _, _, i in rows)
        return
    amounts = [p + i for _, p, i in rows]
    assert len(set(amounts[:-1])) <= 1
    i = schedule.periodic_rate(rate, period)
    out = principal
    for _, p, interest in rows:
        assert interest == out * i // WAD
        out -= p
    assert out == 0
    if i >= 10**12 and count > 1:
        # The constant payment is the annuity formula for i up to the rpow rounding and the
        # floor (for smaller i, F - RAY has too few significant digits for this bound).
        exact = Fraction(principal * i, WAD) / (1 - (1 + Fraction(i, WAD)) ** -count)
        err = abs(amounts[0] - exact)
        assert err <= 1 + exact * Fraction(1, 10**12)
        # The last one absorbs only the remainder: the error of A and the interest floors
        # (< 1 a period), compounded over the term.
        assert abs(amounts[-1] - amounts[0]) <= (2 + err) * count * (1 + Fraction(i, WAD)) ** count + 2


@pytest.mark.slow
@given(st.integers(1, 60), st.integers(1, 10**12), st.data())
def test_check_given_accepts_valid_and_names_the_bad_index(n, principal, data):
    dues = sorted(data.draw(st.sets(st.integers(0, 4 * 10**9), min_size=n, max_size=n)))
    cuts = sorted(data.draw(st.lists(st.integers(0, principal), min_size=n - 1, max_size=n - 1)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, principal], strict=True)]
    rows = [(d, p, 1) for d, p in zip(dues, parts, strict=True)]
    assert schedule.check_given(principal, rows) == rows
    assert schedule.check_given(principal, [list(r) for r in rows]) == rows
    k = data.draw(st.integers(0, n - 1))
    broken = list(rows)
    broken[k] = (rows[k][0], rows[k][1] + 1, 1)
    with pytest.raises(ValueError, match="sum"):
        schedule.check_given(principal, broken)
    if k > 0:
        broken = list(rows)
        broken[k] = (rows[k - 1][0], rows[k][1], 1)
        with pytest.raises(ValueError, match=f"installment {k}: due time"):
            schedule.check_given(principal, broken)


def test_check_given_errors():
    ok = [(100, 5, 0), (200, 5, 1)]
    assert schedule.check_given(10, ok) == ok
    cases = [
        ([(100, 5, 0), (100, 5, 1)], "installment 1: due time 100 is not after"),
        ([(200, 5, 0), (100, 5, 1)], "installment 1: due time"),
        ([(100, 10, 0), (200, 0, 0)], "installment 1: amount is 0"),
        ([(100, 11, 0), (200, -1, 3)], "installment 1: parts"),
        ([(100, 5, -1), (200, 5, 1)], "installment 0: parts"),
        ([(-1, 5, 0), (200, 5, 1)], "installment 0: due time -1 is outside"),
        ([(100, 5, 0), (200, 5)], "installment 1: expected"),
        ([(100, 5, 0), (200, 5, True)], "installment 1: expected"),
        ([(100, 5, 0), (200, 4, 1)], "sum to 9, not the principal 10"),
        ([], "0 installments"),
        ([(k, 1, 0) for k in range(1, 362)], "361 installments"),
    ]
    for rows, msg in cases:
        with pytest.raises(ValueError, match=msg):
            schedule.check_given(10, rows)
    with pytest.raises(ValueError, match="principal"):
        schedule.check_given(0, ok)


def test_generate_limits():
    good = {"kind": "equal", "principal": P, "rate_wad": R, "start": START, "period": PERIOD, "count": 12}
    assert len(schedule.generate(**good)) == 12
    bad = [
        ({"kind": "annuity"}, "schedule kind"),
        ({"principal": 0}, "principal"),
        ({"principal": schedule.MAX_PRINCIPAL + 1}, "principal"),
        ({"rate_wad": -1}, "rate"),
        ({"rate_wad": schedule.MAX_RATE + 1}, "rate"),
        ({"period": schedule.MIN_PERIOD - 1}, "period"),
        ({"period": schedule.MAX_PERIOD + 1}, "period"),
        ({"count": 0}, "count"),
        ({"count": schedule.MAX_INSTALLMENTS + 1}, "count"),
        ({"start": -1}, "start"),
        ({"count": 12, "period": 2 * 10**9}, "period"),
        ({"count": 360, "period": YEAR}, "term"),
        ({"count": 12.0}, "count"),
        ({"kind": "interest_only", "rate_wad": 0}, "rounds to 0"),
        ({"kind": "equal", "rate_wad": 0, "principal": 11}, "smaller than count"),
    ]
    for change, msg in bad:
        with pytest.raises(ValueError, match=msg):
            schedule.generate(**{**good, **change})
    # one installment is always fine, whatever the rate
    assert schedule.generate("interest_only", 5, 0, START, PERIOD, 1) == [(START + PERIOD, 5, 0)]
    assert schedule.generate("equal", 5, R, START, PERIOD, 1) == [(START + PERIOD, 5, 0)]
    assert schedule.generate("bullet", 5, 0, 0, schedule.MIN_PERIOD, 1) == [(schedule.MIN_PERIOD, 5, 0)]


def test_equal_tiny_principal_is_refused_not_broken():
    # A rounds so low against the interest floors that the schedule cannot repay exactly
    for principal in range(1, 400):
        for count in (2, 12, 60):
            try:
                rows = schedule.generate("equal", principal, 10 * WAD, START, PERIOD, count)
            except ValueError as exc:
                assert "too small" in str(exc) or "amount is 0" in str(exc), exc
                continue
            assert sum(p for _, p, _ in rows) == principal
            assert len({p + i for _, p, i in rows[:-1]}) <= 1
