"""Generate tests/vectors/valuation.json (run from the repo root):

    .venv/bin/python tests/vectors/generate_valuation.py

The test suite never runs this script: tests/test_valuation.py loads the JSON file and
recomputes every entry with the project code. The values pin the fixed-point arithmetic
(modules/core/fixed.py) and the valuation (modules/valuation/dcf.py) exactly: if a vector
changes, a valuation changed, which is a CONSENSUS CHANGE (docs/mechanism.md).

Layout. Integers that can exceed 2^53 (amounts, wad and ray values) are decimal strings;
times and durations in seconds (due, now, dt, grace, n) are JSON numbers.
    fixed.perSecondRay  [{"apr", "ray"}]                 per_second_ray(apr)
    fixed.rpow          [{"x", "n", "ray"}]              rpow(x, n)
    fixed.factors       [{"rate", "spread", "intensity", "discount", "survival"}]
                        d and q of dcf.discount_per_second / survival_per_second (grace 1)
    cases               [{"name", "unpaid": [[due, amount], ...], "now", "status",
                          "inputs": {rate, spread, intensity, lgd, grace}, "value",
                          "explain": <dcf.explain output> (some cases)}]
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from rwachain.modules.assets import schedule  # noqa: E402
from rwachain.modules.core.fixed import RAY, WAD, per_second_ray, rpow  # noqa: E402
from rwachain.modules.valuation import dcf  # noqa: E402

SECONDS_KEYS = {"due", "now", "dt", "grace", "n"}
PCT = WAD // 100
DAY = 86_400
PERIOD = 2_592_000
START = 1_700_000_000


def to_json(v, key: str | None = None):
    """Ints as decimal strings except the seconds fields; recursive over dicts and lists."""
    if isinstance(v, dict):
        return {k: to_json(x, k) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if key == "unpaid":
            return [[t, str(a)] for t, a in v]
        return [to_json(x) for x in v]
    if type(v) is int and key not in SECONDS_KEYS:
        return str(v)
    return v


def worked_schedule() -> list[tuple[int, int]]:
    """The worked example: 100,000.000000 units at 12 % in 12 equal monthly installments."""
    rows = schedule.generate("equal", 100_000_000_000, 12 * PCT, START, PERIOD, 12)
    return [(d, p + i) for d, p, i in rows]


def cases() -> list[dict]:
    grade_c = {"rate": 4 * PCT + PCT // 4, "spread": 4 * PCT, "intensity": 5 * PCT, "lgd": 55 * PCT,
               "grace": 30 * DAY}
    sched = worked_schedule()
    # two installments paid; the third (due START + 90 days) 5 days past due
    unpaid = sched[2:]
    now = START + 95 * DAY
    out = [
        ("worked example: performing, third installment 5 days past due", unpaid, now, "performing",
         grade_c, True),
        ("worked example, defaulted", unpaid, now, "defaulted", grade_c, True),
        ("worked example, written off", unpaid, now, "written_off", grade_c, True),
        ("worked example, now exactly at a due date", unpaid, sched[2][0], "performing", grade_c, True),
        ("worked example, one second before a due date", unpaid, sched[2][0] - 1, "performing", grade_c, True),
        ("worked example, past due beyond grace", unpaid, sched[2][0] + 30 * DAY + 1, "performing", grade_c, True),
        ("worked example, the last second of the overdue ramp", unpaid, sched[2][0] + 30 * DAY - 1, "performing",
         grade_c, True),
        ("worked example, at due + grace: the ramp ends on the defaulted value", unpaid, sched[2][0] + 30 * DAY,
         "performing", grade_c, False),
        ("worked example, defaulted at due + grace", unpaid, sched[2][0] + 30 * DAY, "defaulted", grade_c, False),
        ("zero rates, nothing past due: the sum of cash flows", sched, START,
         "performing", {"rate": 0, "spread": 0, "intensity": 0, "lgd": 60 * PCT, "grace": 30 * DAY}, True),
        ("bullet one year out, grade A", [(START + 365 * DAY, 10**12)], START, "performing",
         {"rate": 4 * PCT + PCT // 4, "spread": PCT, "intensity": PCT // 2, "lgd": 40 * PCT, "grace": 30 * DAY},
         True),
        ("extreme: 50 % + 50 %, intensity 100 %, LGD 100 %, grace 1 s", unpaid, now, "performing",
         {"rate": 50 * PCT, "spread": 50 * PCT, "intensity": 100 * PCT, "lgd": 100 * PCT, "grace": 1}, True),
    ]
    rows60 = schedule.generate("equal", 5_000_000_000_000, 9 * PCT, START, PERIOD, 60)
    sched60 = [(d, p + i) for d, p, i in rows60]
    grade_e = {"rate": 4 * PCT + PCT // 4, "spread": 12 * PCT, "intensity": 30 * PCT, "lgd": 80 * PCT,
               "grace": 30 * DAY}
    out += [
        ("60 monthly, grade E, inside the schedule, all unpaid", sched60, START + 1000 * DAY + 12_345,
         "performing", grade_e, False),
        ("60 monthly, grade E, before the first due", sched60, START, "performing", grade_e, False),
        ("60 monthly, grade E, defaulted", sched60, START + 1000 * DAY, "defaulted", grade_e, False),
    ]
    res = []
    for name, unp, t, status, inp, with_explain in out:
        inputs = dcf.Inputs(**inp)
        ex = dcf.explain(unp, t, status, inputs)
        v = dcf.value(unp, t, status, inputs)
        assert v == ex["value"]
        case = {"name": name, "unpaid": unp, "now": t, "status": status, "inputs": inp, "value": v}
        if with_explain:
            case["explain"] = ex
        res.append(case)
    return res


def fixed() -> dict:
    aprs = [0, 1, PCT, 5 * PCT, 12 * PCT, 50 * PCT, 100 * PCT, 1000 * WAD, 31_536_000, 15_768_000, 15_767_999]
    psr = [{"apr": a, "ray": per_second_ray(a)} for a in aprs]
    d5 = RAY * RAY // (RAY + per_second_ray(5 * PCT))
    xs = [RAY, RAY + per_second_ray(5 * PCT), d5, RAY - per_second_ray(30 * PCT), RAY // 2, 0, 3 * RAY]
    ns = [0, 1, 2, 3, 86_400, PERIOD, 31_536_000, 157_680_000]
    rp = [{"x": x, "n": n, "ray": rpow(x, n)} for x in xs for n in ns if not (x == 3 * RAY and n > 3)]
    fac = []
    for rate, spread, intensity in [(0, 0, 0), (4 * PCT + PCT // 4, 4 * PCT, 5 * PCT), (50 * PCT, 50 * PCT, WAD)]:
        inp = dcf.Inputs(rate=rate, spread=spread, intensity=intensity, lgd=0, grace=1)
        fac.append({"rate": rate, "spread": spread, "intensity": intensity,
                    "discount": dcf.discount_per_second(inp), "survival": dcf.survival_per_second(inp)})
    return {"perSecondRay": psr, "rpow": rp, "factors": fac}


def main() -> None:
    doc = {"about": "modules/valuation/dcf.py and modules/core/fixed.py; written by "
                    "tests/vectors/generate_valuation.py; a change here is a consensus change",
           "fixed": fixed(), "cases": cases()}
    path = os.path.join(HERE, "valuation.json")
    with open(path, "w") as f:
        json.dump(to_json(doc), f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
