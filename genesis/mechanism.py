"""Genesis sections of the mechanism modules (assets) and the
governed modules' parameters: validation with field paths, and their JSON form for export.

JSON conventions as everywhere: big integers as decimal strings (JSON integers accepted),
bytes as 0x-hex, addresses as rwa1... text, grades as letters A..E. The assets section
holds records as they are in state, so an exported chain re-imports to the same root;
a hand-written genesis may leave out the bookkeeping fields (check, payments, repaid,
recovered, history, mark, next), which are then derived.
"""

from __future__ import annotations

from typing import Any

from rwachain.genesis import units
from rwachain.genesis.fields import GenesisError, _addr, _hex, _int
from rwachain.modules.assets import keeper as assets
from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.sections import list_field, object_field
from rwachain.modules.governance import changes
from rwachain.modules.oracle import feeds

U64 = (1 << 64) - 1


_map = object_field
_list = list_field


# ----- assets -------------------------------------------------------------------------------
ASSET_REQUIRED = {"id", "kind", "originator", "principal", "rate", "grace", "docHash", "status", "schedule"}
ASSET_OPTIONAL = {"owner", "grade", "verifier", "registeredAt", "verifiedAt", "pool", "repaid", "recovered",
                  "payments", "check", "history", "mark"}


def check_assets(raw: Any, genesis_time: int, roles: dict) -> dict:
    """The assets section: {params?, next?, assets: [record + schedule (+ history, mark)]}."""
    s = _map("assets", raw, {"assets"}, {"params", "next", "poolMarks"})
    out: dict = {}
    if "params" in s:
        out["params"] = units.parse_like("assets.params", assets.PARAM_UNITS, s["params"], units.NO_STABLE)
        for k, v in out["params"]["graceMax"].items():
            _int(f"assets.params.graceMax.{k}", v, 1)
        _int("assets.params.maxInstallments", out["params"]["maxInstallments"], 1, 100_000)
    items = []
    prev = 0
    for i, a in enumerate(_list("assets.assets", s["assets"])):
        p = f"assets.assets[{i}]"
        a = _map(p, a, ASSET_REQUIRED, ASSET_OPTIONAL)
        rec = {"id": _int(f"{p}.id", a["id"], prev + 1)}
        prev = rec["id"]
        if a["kind"] not in assets.KINDS:
            raise GenesisError(f"{p}.kind: one of {', '.join(assets.KINDS)}")
        if a["status"] not in assets.STATUSES:
            raise GenesisError(f"{p}.status: one of {', '.join(assets.STATUSES)}")
        rec["kind"] = a["kind"]
        rec["originator"] = _addr(f"{p}.originator", a["originator"])
        if rec["originator"] not in roles.get("originator", []):
            raise GenesisError(f"{p}.originator: the account does not hold the originator role")
        rec["owner"] = _addr(f"{p}.owner", a["owner"]) if "owner" in a else rec["originator"]
        rec["principal"] = _int(f"{p}.principal", a["principal"], 1, AMOUNT_MAX)
        rec["rate"] = _int(f"{p}.rate", units.parse(f"{p}.rate", "ratio", a["rate"], units.NO_STABLE), 0, 10 * 10**18)
        rec["grace"] = _int(f"{p}.grace", units.parse(f"{p}.grace", "duration", a["grace"], units.NO_STABLE), 1)
        rec["docHash"] = _hex(f"{p}.docHash", a["docHash"], 32)
        rec["status"] = a["status"]
        g = a.get("grade")
        if rec["status"] == "registered":
            if g is not None:
                raise GenesisError(f"{p}.grade: a registered asset has no grade yet")
            rec["grade"] = None
        else:
            if g not in feeds.GRADES:
                raise GenesisError(f"{p}.grade: one of {', '.join(feeds.GRADES)}")
            rec["grade"] = feeds.grade_index(g)
        v = a.get("verifier")
        rec["verifier"] = None if v is None else _addr(f"{p}.verifier", v)
        if rec["status"] != "registered" and rec["verifier"] is None:
            raise GenesisError(f"{p}.verifier: a verified asset names its verifier")
        rec["registeredAt"] = _int(f"{p}.registeredAt", a.get("registeredAt", genesis_time))
        rec["verifiedAt"] = _int(f"{p}.verifiedAt", a.get("verifiedAt", 0 if rec["grade"] is None else genesis_time))
        rec["pool"] = None if a.get("pool") is None else _int(f"{p}.pool", a["pool"])
        rec["repaid"] = _int(f"{p}.repaid", a.get("repaid", 0), 0, AMOUNT_MAX)
        rec["recovered"] = _int(f"{p}.recovered", a.get("recovered", 0), 0, AMOUNT_MAX)
        sched = []
        prev_due = -1
        total = 0
        for j, row in enumerate(_list(f"{p}.schedule", a["schedule"])):
            q = f"{p}.schedule[{j}]"
            if type(row) is not list or len(row) not in (3, 4):
                raise GenesisError(f"{q}: expected [due, principal, interest, paid?]")
            r = [_int(f"{q}[{k}]", x, 0, AMOUNT_MAX) for k, x in enumerate(row)] + ([0] if len(row) == 3 else [])
            if r[0] <= prev_due or r[3] > r[1] + r[2] or r[1] + r[2] == 0:
                raise GenesisError(f"{q}: due times strictly increase; paid <= principal + interest; amount > 0")
            prev_due = r[0]
            total += r[1]
            sched.append(r)
        if not sched or total != rec["principal"]:
            raise GenesisError(f"{p}.schedule: principal parts must sum to the principal {rec['principal']}")
        hist = []
        for j, h in enumerate(_list(f"{p}.history", a.get("history", []))):
            q = f"{p}.history[{j}]"
            h = _map(q, h, {"kind", "amount", "time", "height"})
            if h["kind"] not in ("repay", "recover"):
                raise GenesisError(f"{q}.kind: repay or recover")
            hist.append({"kind": h["kind"], "amount": _int(f"{q}.amount", h["amount"], 1, AMOUNT_MAX),
                         "time": _int(f"{q}.time", h["time"]), "height": _int(f"{q}.height", h["height"])})
        rec["payments"] = _int(f"{p}.payments", a.get("payments", len(hist)))
        rec["check"] = _int(f"{p}.check", a["check"]) if "check" in a else _first_check(rec, sched)
        mark = a.get("mark")
        if mark is not None:
            m = _map(f"{p}.mark", mark, {"value", "time", "stale", "next"})
            mark = {"value": _int(f"{p}.mark.value", m["value"], 0, AMOUNT_MAX),
                    "time": _int(f"{p}.mark.time", m["time"]), "stale": bool(m["stale"]),
                    "next": _int(f"{p}.mark.next", m["next"])}
        items.append({**rec, "schedule": sched, "history": hist, "mark": mark})
    out["assets"] = items
    if "next" in s:
        out["next"] = _int("assets.next", s["next"], prev + 1)
    out["poolMarks"] = []
    for i, e in enumerate(_list("assets.poolMarks", s.get("poolMarks", []))):
        q = f"assets.poolMarks[{i}]"
        if type(e) is not list or len(e) != 2:
            raise GenesisError(f"{q}: expected [pool, {{value, stale}}]")
        m = _map(q, e[1], {"value", "stale"})
        out["poolMarks"].append([_int(f"{q}[0]", e[0], 1), {"value": _int(f"{q}.value", m["value"], 0, 1 << 255),
                                                            "stale": _int(f"{q}.stale", m["stale"])}])
    return out


def _first_check(rec: dict, sched: list[list[int]]) -> int:
    """The due-time entry an asset starts with (modules/assets/keeper.track)."""
    d = assets.oldest_unpaid_due(sched)
    if d is None:
        return 0
    if rec["status"] in assets.PERFORMING:
        return d + 1
    if rec["status"] == "overdue":
        return d + rec["grace"]
    return 0


def assets_to_json(section: dict) -> dict:
    def conv(k, v):
        if v is None or type(v) is bool:
            return v
        if k in ("originator", "owner", "verifier"):
            return encode_address(v)
        if k == "docHash":
            return "0x" + v.hex()
        if k == "grade":
            return feeds.GRADES[v]
        if k == "schedule":
            return [[str(x) for x in row] for row in v]
        if k == "history":
            return [{**h, "amount": str(h["amount"])} for h in v]
        if k == "mark":
            return {**v, "value": str(v["value"]), "next": str(v["next"])}
        return str(v) if type(v) is int else v
    out: dict = {"assets": [{k: conv(k, v) for k, v in a.items()} for a in section.get("assets", [])]}
    if "params" in section:
        out["params"] = units.like_to_json(assets.PARAM_UNITS, section["params"], units.NO_STABLE)
    if section.get("next"):
        out["next"] = section["next"]
    if section.get("poolMarks"):
        out["poolMarks"] = [[pid, {"value": str(m["value"]), "stale": m["stale"]}] for pid, m in section["poolMarks"]]
    return out


# ----- the governed modules' parameters -----------------------------------------------------
def check_module_params(raw: dict, stable: units.Stable = units.NO_STABLE) -> dict:
    """params.<module> of the governed modules (modules/governance/changes.governed): every
    key of the module's defaults, each in its declared unit (human or raw base units,
    genesis/units.py), within governance's hard bounds."""
    governed = changes.governed_units()
    out = {}
    for name in sorted(set(raw) - {"chain"}):
        if name not in governed:
            raise GenesisError(f"params.{name}: unknown field (chain, {', '.join(sorted(governed))})")
        out[name] = units.parse_like(f"params.{name}", governed[name], raw[name], stable)
    for name, p in out.items():
        try:
            changes.check_bounds(name, p, out)
        except InvalidState as exc:  # "reserve.discount = ... is outside its hard bounds [...]"
            msg = exc.message
            raise GenesisError(f"params.{msg}" if msg.startswith(f"{name}.") else f"params.{name}: {msg}") from None
    return out


def module_params_to_json(section: dict, stable: units.Stable = units.NO_STABLE) -> dict:
    """params.<module> in human units (amounts raw when stable names no denomination)."""
    governed = changes.governed_units()
    return {name: units.like_to_json(governed[name], p, stable) for name, p in sorted(section.items())}
