"""The DCF valuation (modules/valuation/dcf.py) and its fixed-point arithmetic (modules/core/fixed.py).

(a) Differential: generated schedules, times and inputs against a reference written here
    in decimal.Decimal at 60 digits, straight from the formulas (no shared code).
(b) Properties: monotone in every risk input, exact sum of cash flows at zero rates,
    continuous in time across due dates and grace (the overdue ramp ends on the defaulted
    value at due + grace), paying an installment, written off,
    the defaulted formula, value() == explain()["value"].
(c) Pinned vectors: tests/vectors/valuation.json (tests/vectors/generate_valuation.py).
Hypothesis settings come from the profile (`make test` uses HYPOTHESIS_PROFILE=ci).

Error bound of (a). The implementation rounds the loss up (by under 1e-18 of the amount)
and floors once per installment, PV_k = floor(CF_k (WAD - L_k) DF_k / (WAD RAY)), so it
loses less than 1 base unit per installment, and gains at most the ray noise of the
per-second factors (relative ~1e-18): -max(1e-12 ref, n) <= value - ref <= ref * 1e-15 +
1e-6, the issue's bound.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.core import fixed
from rwachain.modules.core.fixed import HALF_RAY, RAY, WAD, YEAR
from rwachain.modules.valuation import dcf

DAY = 86_400
T0 = 1_700_000_000
VECTORS = os.path.join(os.path.dirname(__file__), "vectors", "valuation.json")


# ----- the reference ------------------------------------------------------------------------
def reference(unpaid, now, status, rate, spread, intensity, lgd, grace) -> Decimal:
    """The MECHANISM formulas at 60 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        if status == "written_off":
            return Decimal(0)
        w, year = Decimal(10) ** 18, Decimal(YEAR)
        rs = (Decimal(rate) + Decimal(spread)) / w
        lam = Decimal(intensity) / w
        big_l = Decimal(lgd) / w
        total = Decimal(0)
        # the overdue ramp: the oldest unpaid installment's progress through grace
        t_o = unpaid[0][0] if unpaid else now
        ramp = big_l * min(Decimal(1), Decimal(max(0, now - t_o)) / Decimal(grace))
        for t, cf in unpaid:
            dt = max(0, t - now)
            df = (1 + rs / year) ** (-dt)
            surv = (1 - lam / year) ** dt
            if status == "defaulted":
                loss = big_l
            elif t <= now:
                loss = ramp  # P_k = 0 past due
            else:
                loss = max(big_l * (1 - surv), ramp)
            total += Decimal(cf) * (1 - loss) * df
        return +total


# ----- strategies ---------------------------------------------------------------------------
@st.composite
def schedules(draw, max_n=120):
    n = draw(st.integers(1, max_n))
    gaps = draw(st.lists(st.integers(DAY, YEAR), min_size=n, max_size=n))
    amounts = draw(st.lists(st.integers(1, 10**15), min_size=n, max_size=n))
    t, out = T0, []
    for g, a in zip(gaps, amounts, strict=True):
        t += g
        out.append((t, a))
    return out


def inputs_st():
    return st.builds(dcf.Inputs, rate=st.integers(0, WAD // 2), spread=st.integers(0, WAD // 2),
                     intensity=st.integers(0, WAD), lgd=st.integers(0, WAD), grace=st.integers(1, 180 * DAY))


@st.composite
def a_time(draw, unpaid, grace):
    """Before, inside (at, around and between due dates, inside grace) or after the schedule."""
    dues = [t for t, _ in unpaid]
    mode = draw(st.sampled_from(["before", "at_due", "around_due", "in_grace", "at_grace_end", "between",
                                 "after"]))
    k = draw(st.integers(0, len(dues) - 1))
    if mode == "before":
        return dues[0] - draw(st.integers(1, 5 * YEAR))
    if mode == "at_due":
        return dues[k]
    if mode == "around_due":
        return dues[k] + draw(st.integers(-2, 2))
    if mode == "in_grace":
        return dues[k] + draw(st.integers(0, grace))
    if mode == "at_grace_end":
        return dues[k] + grace + draw(st.integers(-1, 1))
    if mode == "between":
        return draw(st.integers(dues[0], dues[-1]))
    return dues[-1] + draw(st.integers(1, 2 * YEAR))


@st.composite
def scenarios(draw, max_n=120, statuses=dcf.STATUSES):
    unpaid = draw(schedules(max_n))
    inp = draw(inputs_st())
    now = draw(a_time(unpaid, inp.grace))
    status = draw(st.sampled_from(statuses))
    return unpaid, now, status, inp


def ref_of(unpaid, now, status, inp):
    return reference(unpaid, now, status, inp.rate, inp.spread, inp.intensity, inp.lgd, inp.grace)


# ----- (a) differential ---------------------------------------------------------------------
@given(scenarios())
def test_matches_the_decimal_reference(sc):
    unpaid, now, status, inp = sc
    v = dcf.value(unpaid, now, status, inp)
    ref = ref_of(unpaid, now, status, inp)
    n = len(unpaid)
    with localcontext() as ctx:
        ctx.prec = 60
        below = max(Decimal("1e-12") * ref, Decimal(n))
        above = ref * Decimal("1e-15") + Decimal("1e-6")
        assert -below <= v - ref <= above, (v, ref, v - ref)
    assert dcf.explain(unpaid, now, status, inp)["value"] == v


def test_one_floor_per_installment_keeps_the_error_under_one_unit():
    """The case that two floors would get wrong: E = floor(3 * 0.6) = 1, then floor(1 * 0.99) = 0;
    with one floor PV = floor(3 * 0.6 * 0.99...) = 1 (exact 1.78). The first installment is
    past grace, so the overdue ramp gives the second one the loss LGD too."""
    inp = dcf.Inputs(rate=WAD // 100, spread=0, intensity=0, lgd=4 * WAD // 10, grace=1)
    unpaid = [(T0 - 10, 3), (T0 + YEAR, 3)]
    ex = dcf.explain(unpaid, T0, "performing", inp)
    assert ex["overdueLoss"] == inp.lgd
    assert [r["expected"] for r in ex["installments"]] == [1, 1]
    assert [r["pv"] for r in ex["installments"]] == [1, 1]
    assert dcf.value([(T0 + YEAR, 3)], T0, "defaulted", inp) == 1


# ----- (b) properties -----------------------------------------------------------------------
@given(scenarios(max_n=60), st.sampled_from(["rate", "spread", "intensity", "lgd"]), st.integers(1, WAD // 2))
def test_more_risk_never_raises_the_value(sc, field, bump):
    unpaid, now, status, inp = sc
    fields = inp.as_dict()
    fields[field] = min(fields[field] + bump, WAD) if field == "lgd" else fields[field] + bump
    riskier = dcf.Inputs(**fields)
    assert dcf.value(unpaid, now, status, riskier) <= dcf.value(unpaid, now, status, inp)


@given(schedules(), st.integers(0, WAD), st.integers(1, 180 * DAY), st.integers(0, 5 * YEAR))
def test_zero_rates_nothing_past_due_is_the_sum_of_cash_flows(unpaid, lgd, grace, early):
    inp = dcf.Inputs(rate=0, spread=0, intensity=0, lgd=lgd, grace=grace)
    now = unpaid[0][0] - 1 - early
    assert dcf.value(unpaid, now, "performing", inp) == sum(a for _, a in unpaid)
    ex = dcf.explain(unpaid, now, "performing", inp)
    assert all(r["discount"] == RAY and r["survival"] == RAY and r["loss"] == 0 for r in ex["installments"])


@given(scenarios(max_n=30, statuses=("performing",)))
def test_value_is_continuous_in_time(sc):
    """No cliff at a due date or at due + grace: one second moves the value by at most the
    time value and hazard of one second plus the ramp of one second (LGD / grace) on every
    installment, and the rounding (2 per installment); a cliff would be CF * LGD."""
    unpaid, _, status, inp = sc
    inp = dcf.Inputs(rate=inp.rate, spread=inp.spread, intensity=inp.intensity, lgd=inp.lgd,
                     grace=max(inp.grace, DAY))
    total = sum(a for _, a in unpaid)
    n = len(unpaid)
    bound = (2 * total * (inp.rate + inp.spread + inp.intensity) // (YEAR * WAD)
             + total * inp.lgd // (WAD * inp.grace) + 2 * n + 2)
    points = set()
    for t, _ in unpaid:
        for x in (t, t + inp.grace):
            points.update(range(x - 2, x + 2))
    for now in sorted(points):
        a = dcf.value(unpaid, now, status, inp)
        b = dcf.value(unpaid, now + 1, status, inp)
        assert abs(b - a) <= bound, (now, a, b, bound)


@given(scenarios(max_n=30, statuses=("performing",)), st.integers(0, 2 * YEAR))
def test_the_overdue_ramp_ends_on_the_defaulted_value(sc, late):
    """From the oldest due time + grace on, the performing value is the defaulted value to
    the base unit, so the scheduled default moves nothing; the second before it differs by
    at most a second of the ramp (LGD / grace of the outstanding), of time value and the rounding."""
    unpaid, _, status, inp = sc
    end = unpaid[0][0] + inp.grace
    assert dcf.value(unpaid, end + late, status, inp) == dcf.value(unpaid, end + late, "defaulted", inp)
    total = sum(a for _, a in unpaid)
    bound = (total * (inp.rate + inp.spread + inp.intensity) // (YEAR * WAD)
             + total * inp.lgd // (WAD * inp.grace) + 2 * len(unpaid) + 2)
    assert abs(dcf.value(unpaid, end - 1, status, inp) - dcf.value(unpaid, end, "defaulted", inp)) <= bound
    ex = dcf.explain(unpaid, end - 1, status, inp)
    assert all(r["loss"] >= ex["overdueLoss"] for r in ex["installments"])


@given(scenarios(max_n=40, statuses=("performing", "defaulted")), st.data())
def test_paying_an_installment_removes_its_pv(sc, data):
    unpaid, now, status, inp = sc
    k = data.draw(st.integers(0, len(unpaid) - 1))
    before = dcf.explain(unpaid, now, status, inp)["installments"]
    rest = unpaid[:k] + unpaid[k + 1 :]
    after = dcf.explain(rest, now, status, inp)["installments"] if rest else []
    others = before[:k] + before[k + 1 :]
    assert dcf.value(rest, now, status, inp) == sum(r["pv"] for r in after)
    future = [j for j, (t, _) in enumerate(unpaid) if t > now]
    if k == 0 and unpaid[0][0] < now and status == "performing" and rest:
        # the oldest unpaid, past due, sets the overdue ramp: paying it can only lower the
        # others' losses (the next oldest is younger), never their discount
        assert after[0]["loss"] <= others[0]["loss"] or status != "performing"
        for x, y in zip(after, others, strict=True):
            assert x["loss"] <= y["loss"] and x["discount"] == y["discount"] and x["pv"] >= y["pv"]
    elif unpaid[k][0] <= now or k == len(unpaid) - 1:
        # past due, or the last: the chain of the others is untouched
        assert after == others
        assert dcf.value(rest, now, status, inp) == dcf.value(unpaid, now, status, inp) - before[k]["pv"]
    else:
        assert k in future
        # a future installment: the others after it are re-chained; only ray rounding moves
        # them (relative ~1e-18, which can still flip the final floors)
        for x, y in zip(after, others, strict=True):
            assert abs(x["pv"] - y["pv"]) <= 2
            assert abs(x["discount"] - y["discount"]) <= 10**12  # ray units: relative 1e-15
        for x, y in zip(after[:k], others[:k], strict=True):
            assert x == y


@given(scenarios(max_n=60), st.integers(1, 10**15))
def test_partial_payment_leaves_the_others_exact(sc, paid):
    unpaid, now, status, inp = sc
    k = len(unpaid) // 2
    t, a = unpaid[k]
    part = unpaid[:k] + [(t, max(0, a - paid))] + unpaid[k + 1 :]
    x = dcf.explain(unpaid, now, status, inp)["installments"]
    y = dcf.explain(part, now, status, inp)["installments"]
    assert x[:k] + x[k + 1 :] == y[:k] + y[k + 1 :]


@given(scenarios(max_n=60))
def test_written_off_is_zero_and_defaulted_formula(sc):
    unpaid, now, _, inp = sc
    assert dcf.value(unpaid, now, "written_off", inp) == 0
    ex = dcf.explain(unpaid, now, "written_off", inp)
    assert ex["value"] == 0 and all(r["loss"] == WAD and r["pv"] == 0 for r in ex["installments"])
    # defaulted: sum of floor(CF (WAD - LGD) DF / (WAD RAY)), DF from the chain
    perf = dcf.explain(unpaid, now, "performing", inp)["installments"]
    expect = sum(a * (WAD - inp.lgd) * r["discount"] // (WAD * RAY)
                 for (_, a), r in zip(unpaid, perf, strict=True))
    assert dcf.value(unpaid, now, "defaulted", inp) == expect
    # a performing loss never exceeds LGD, so default never raises the value
    assert expect <= dcf.value(unpaid, now, "performing", inp)


def test_chain_definition_against_direct_rpow():
    """The first future installment is rpow(d, t - now) exactly; later ones are the chain."""
    inp = dcf.Inputs(rate=4 * WAD // 100, spread=3 * WAD // 100, intensity=5 * WAD // 100, lgd=WAD // 2,
                     grace=30 * DAY)
    unpaid = [(T0 + k * 2_592_000 + (k % 3) * DAY, 10**12) for k in range(1, 13)]
    now = T0 + 40 * DAY
    d, q = dcf.discount_per_second(inp), dcf.survival_per_second(inp)
    rows = dcf.explain(unpaid, now, "performing", inp)["installments"]
    df = s = RAY
    prev = now
    for (t, _), r in zip(unpaid, rows, strict=True):
        if t <= now:
            assert r["discount"] == r["survival"] == RAY
            continue
        df = fixed.ray_mul(df, fixed.rpow(d, t - prev))
        s = fixed.ray_mul(s, fixed.rpow(q, t - prev))
        prev = t
        assert (r["discount"], r["survival"]) == (df, s)
    first = next(r for r in rows if r["due"] > now)
    assert first["discount"] == fixed.rpow(d, first["due"] - now)


def test_inputs_and_arguments_are_checked():
    ok = {"rate": 0, "spread": 0, "intensity": 0, "lgd": 0, "grace": 1}
    for field, bad in [("grace", 0), ("grace", -5), ("lgd", WAD + 1), ("lgd", -1), ("rate", -1),
                       ("intensity", dcf.MAX_RATE + 1), ("rate", True), ("spread", 1.0)]:
        with pytest.raises(ValueError):
            dcf.Inputs(**{**ok, field: bad})
    inp = dcf.Inputs(**ok)
    with pytest.raises(ValueError, match="status"):
        dcf.value([(T0, 1)], T0, "overdue", inp)
    with pytest.raises(ValueError, match="installment 1"):
        dcf.value([(T0 + 10, 1), (T0 + 5, 1)], T0, "performing", inp)
    with pytest.raises(ValueError, match="installment 1"):
        dcf.value([(T0 - 10, 1), (T0 - 20, 1)], T0, "performing", inp)
    with pytest.raises(ValueError, match="installment 0"):
        dcf.value([(T0 + 10, -1)], T0, "performing", inp)
    with pytest.raises(ValueError, match="installment 1"):
        dcf.explain([(T0 + 10, 1), (T0 + 5, 1)], T0, "performing", inp)
    assert dcf.value([], T0, "performing", inp) == 0
    with pytest.raises(AttributeError):
        inp.rate = 5  # frozen


# ----- fixed-point helpers ------------------------------------------------------------------
@given(st.integers(0, 10**40), st.integers(0, 10**40), st.integers(1, 10**30))
def test_mul_div_rounding(a, b, d):
    exact = Fraction(a * b, d)
    assert fixed.mul_div_down(a, b, d) == exact.__floor__()
    assert fixed.mul_div_up(a, b, d) == exact.__ceil__()
    h = fixed.mul_div_half_up(a, b, d)
    assert h - Fraction(1, 2) <= exact < h + Fraction(1, 2)


@given(st.integers(0, 3 * RAY), st.integers(0, 2000))
def test_rpow_is_the_maker_algorithm_and_close_to_exact(x, n):
    # the textbook loop, written out again
    z = x if n % 2 else RAY
    m, y = n // 2, x
    while m:
        y = (y * y + HALF_RAY) // RAY
        if m % 2:
            z = (z * y + HALF_RAY) // RAY
        m //= 2
    assert fixed.rpow(x, n) == (RAY if n == 0 else z if x else 0)
    assert dcf._rpow(x, n) == fixed.rpow(x, n)
    if x <= RAY and n <= 200:
        exact = Fraction(x, RAY) ** n * RAY
        assert abs(fixed.rpow(x, n) - exact) <= n  # at most half a unit per multiplication


@given(st.integers(RAY - 10**20, RAY), st.integers(0, 2**32))
def test_memoized_rpow_equals_rpow(x, n):
    assert dcf._rpow(x, n) == fixed.rpow(x, n)
    assert dcf._gap(x, n) == fixed.rpow(x, n)


def test_fixed_constants_and_conversions():
    assert (fixed.WAD, fixed.RAY, fixed.YEAR) == (10**18, 10**27, 31_536_000)
    assert fixed.wad_to_ray(3 * WAD // 2) == 3 * RAY // 2
    assert fixed.per_second_ray(YEAR) == 10**9  # YEAR wad-units a year = 1e9 ray-units a second
    assert fixed.per_second_ray(YEAR // 2) == 5 * 10**8
    assert fixed.per_second_ray(15_767_999) == 499_999_968  # half-up
    assert fixed.per_second_ray(5 * WAD // 100) == 1_585_489_599_188_229_325
    assert fixed.ray_mul(RAY, 12345) == 12345
    assert fixed.rpow(0, 0) == RAY and fixed.rpow(0, 5) == 0
    with pytest.raises(ValueError):
        fixed.rpow(RAY, -1)


# ----- (c) pinned vectors -------------------------------------------------------------------
def _load():
    with open(VECTORS) as f:
        return json.load(f)


def _ints(v):
    """Decimal strings back to ints (every string in the file is an int except names)."""
    if isinstance(v, dict):
        return {k: (x if k in ("name", "status") else _ints(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [_ints(x) for x in v]
    if isinstance(v, str):
        return int(v)
    return v


def test_fixed_vectors():
    doc = _load()["fixed"]
    for e in _ints(doc["perSecondRay"]):
        assert fixed.per_second_ray(e["apr"]) == e["ray"], e
    for e in _ints(doc["rpow"]):
        assert fixed.rpow(e["x"], e["n"]) == e["ray"], e
    for e in _ints(doc["factors"]):
        inp = dcf.Inputs(rate=e["rate"], spread=e["spread"], intensity=e["intensity"], lgd=0, grace=1)
        assert dcf.discount_per_second(inp) == e["discount"]
        assert dcf.survival_per_second(inp) == e["survival"]


@pytest.mark.parametrize("case", _load()["cases"], ids=lambda c: c["name"])
def test_valuation_vectors(case):
    c = _ints(case)
    unpaid = [tuple(x) for x in c["unpaid"]]
    inp = dcf.Inputs(**c["inputs"])
    assert dcf.value(unpaid, c["now"], c["status"], inp) == c["value"]
    ex = dcf.explain(unpaid, c["now"], c["status"], inp)
    assert ex["value"] == c["value"]
    if "explain" in c:
        assert ex == c["explain"]
    ref = ref_of(unpaid, c["now"], c["status"], inp)
    assert -len(unpaid) - Decimal("1e-12") * ref <= c["value"] - ref <= Decimal("1e-6") + ref * Decimal("1e-15")
