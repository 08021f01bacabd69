"""Oracle feeds: their names, classes and per-class policies with hard bounds.

A feed id names what it measures:
    rate                 benchmark rate, APR, wad
    spread/<G>           credit spread of grade G (A..E), APR, wad
    intensity/<G>        annual default intensity of grade G, wad
    lgd/<G>              loss given default of grade G, wad
    grade/<asset id>     an asset's risk grade: 0..4 for A..E (one notch = 1)
    price/<denom>        price of one whole unit of denom in the stable token, wad
    reserve/<address>    a custodian's proof of reserve, stable base units
The class is the part before the first "/"; each class has one policy:
    quorum     signers needed (of the operator set)
    maxAge     s: a value observed longer ago than this is stale
    window     s: step windows are block time // window
    stepAbs    the largest move against the window's start value, in the feed's unit
    stepRel    plus this fraction (wad) of the window's start value
    delay      s: a larger move waits this long before it applies (the guardian may reject it)
    lo, hi     hard bounds: a report outside them freezes the feed (never clamped)
"""

from __future__ import annotations

import re

from rwachain.modules.core.args import U64_TEXT
from rwachain.modules.core.fixed import WAD

GRADES = ("A", "B", "C", "D", "E")
CLASSES = ("rate", "spread", "intensity", "lgd", "grade", "price", "reserve")
PER_GRADE = ("spread", "intensity", "lgd")
POLICY_FIELDS = ("quorum", "maxAge", "window", "stepAbs", "stepRel", "delay", "lo", "hi")
U64_MAX = (1 << 64) - 1
VALUE_MAX = (1 << 128) - 1

_FEED_RE = re.compile(rf"^(rate|(spread|intensity|lgd)/[A-E]|grade/{U64_TEXT}|price/[a-z][a-z0-9/\-]{{1,63}}"
                      r"|reserve/rwa1[02-9ac-hj-np-z]{38})$")
FEED_PATTERN = _FEED_RE.pattern

# (lo, hi) of every policy field: governance and genesis stay inside these.
POLICY_BOUNDS = {
    "quorum": (1, 256),
    "maxAge": (60, 400 * 86_400),
    "window": (1, 30 * 86_400),
    "stepAbs": (0, VALUE_MAX),
    "stepRel": (0, 10 * WAD),
    "delay": (0, 30 * 86_400),
    "lo": (0, VALUE_MAX),
    "hi": (0, VALUE_MAX),
}
VALUE_UNIT = {"rate": "ratio", "spread": "ratio", "intensity": "ratio", "lgd": "ratio", "grade": "int",
              "price": "int", "reserve": "int"}
"""The unit of a class's values (genesis/units.py): rates, spreads, intensities and LGDs
are wad ratios; grades (0..4), prices and reserves are integers in their own scale."""


def policy_units(cls: str) -> dict[str, str]:
    """The unit of each policy field of class cls (genesis/units.py)."""
    v = VALUE_UNIT[cls]
    return {"quorum": "count", "maxAge": "duration", "window": "duration", "stepAbs": v, "stepRel": "ratio",
            "delay": "duration", "lo": v, "hi": v}


def is_feed(feed: str) -> bool:
    return type(feed) is str and _FEED_RE.match(feed) is not None


def class_of(feed: str) -> str:
    return feed.split("/", 1)[0]


def grade_feed(asset_id: int) -> str:
    return f"grade/{asset_id}"


def grade_index(letter: str) -> int:
    return GRADES.index(letter)


def check_policy(cls: str, policy: dict) -> list[str]:
    """Problems with one class's policy (field: message); empty if valid."""
    out = []
    if set(policy) != set(POLICY_FIELDS):
        missing = sorted(set(POLICY_FIELDS) - set(policy))
        extra = sorted(set(policy) - set(POLICY_FIELDS))
        return [f"{f}: required" for f in missing] + [f"{f}: unknown field" for f in extra]
    for f, (lo, hi) in POLICY_BOUNDS.items():
        v = policy[f]
        if type(v) is not int or not lo <= v <= hi:
            out.append(f"{f}: an integer in [{lo}, {hi}]")
    if not out and policy["lo"] > policy["hi"]:
        out.append("lo: must not exceed hi")
    if not out and cls == "grade" and (policy["lo"] != 0 or policy["hi"] != len(GRADES) - 1):
        out.append(f"lo/hi: grades are 0..{len(GRADES) - 1}")
    return out
