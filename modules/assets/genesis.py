"""The assets' genesis section: {params?, next?, assets: [record + schedule (+ history,
mark)], poolMarks?} as in state, so an exported chain re-imports to the same root; a
hand-written genesis may leave out the bookkeeping fields (check, payments, repaid,
recovered, history, mark, next), which are then derived. Checked with field-named errors,
imported and exported (Module.genesis_json, modules/core/sections.py)."""

from __future__ import annotations

from typing import Any

from rwachain.modules.assets import keeper, marks
from rwachain.modules.core import due, units
from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.sections import (
    GenesisError,
    Section,
    address_field,
    hex_field,
    int_field,
    list_field,
    object_field,
)
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle

ASSET_REQUIRED = {"id", "kind", "originator", "principal", "rate", "grace", "docHash", "status", "schedule"}
ASSET_OPTIONAL = {"owner", "grade", "verifier", "registeredAt", "verifiedAt", "pool", "repaid", "recovered",
                  "payments", "check", "history", "mark"}


def check(raw: Any, checked: dict) -> dict:
    """The assets section: {params?, next?, assets: [record + schedule (+ history, mark)]};
    an asset's originator holds the role in the roles section, and the stable section is
    declared (assets are repaid in the stable token)."""
    if checked.get("stable") is None:
        raise GenesisError("assets: assets are repaid in the stable token: declare stable first")
    genesis_time, roles = checked["meta"]["genesisTime"], checked.get("roles", {})
    s = object_field("assets", raw, {"assets"}, {"params", "next", "poolMarks"})
    out: dict = {}
    if "params" in s:
        out["params"] = units.parse_like("assets.params", keeper.PARAM_UNITS, s["params"], units.NO_STABLE)
        for k, v in out["params"]["graceMax"].items():
            int_field(f"assets.params.graceMax.{k}", v, 1)
        int_field("assets.params.maxInstallments", out["params"]["maxInstallments"], 1, 100_000)
    items = []
    prev = 0
    for i, a in enumerate(list_field("assets.assets", s["assets"])):
        p = f"assets.assets[{i}]"
        a = object_field(p, a, ASSET_REQUIRED, ASSET_OPTIONAL)
        rec = {"id": int_field(f"{p}.id", a["id"], prev + 1)}
        prev = rec["id"]
        if a["kind"] not in keeper.KINDS:
            raise GenesisError(f"{p}.kind: one of {', '.join(keeper.KINDS)}")
        if a["status"] not in keeper.STATUSES:
            raise GenesisError(f"{p}.status: one of {', '.join(keeper.STATUSES)}")
        rec["kind"] = a["kind"]
        rec["originator"] = address_field(f"{p}.originator", a["originator"])
        if rec["originator"] not in roles.get("originator", []):
            raise GenesisError(f"{p}.originator: the account does not hold the originator role")
        rec["owner"] = address_field(f"{p}.owner", a["owner"]) if "owner" in a else rec["originator"]
        rec["principal"] = int_field(f"{p}.principal", a["principal"], 1, AMOUNT_MAX)
        rec["rate"] = int_field(f"{p}.rate", units.parse(f"{p}.rate", "ratio", a["rate"], units.NO_STABLE), 0, 10 * 10**18)
        rec["grace"] = int_field(f"{p}.grace", units.parse(f"{p}.grace", "duration", a["grace"], units.NO_STABLE), 1)
        rec["docHash"] = hex_field(f"{p}.docHash", a["docHash"], 32)
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
        rec["verifier"] = None if v is None else address_field(f"{p}.verifier", v)
        if rec["status"] != "registered" and rec["verifier"] is None:
            raise GenesisError(f"{p}.verifier: a verified asset names its verifier")
        rec["registeredAt"] = int_field(f"{p}.registeredAt", a.get("registeredAt", genesis_time))
        rec["verifiedAt"] = int_field(f"{p}.verifiedAt", a.get("verifiedAt", 0 if rec["grade"] is None else genesis_time))
        rec["pool"] = None if a.get("pool") is None else int_field(f"{p}.pool", a["pool"])
        rec["repaid"] = int_field(f"{p}.repaid", a.get("repaid", 0), 0, AMOUNT_MAX)
        rec["recovered"] = int_field(f"{p}.recovered", a.get("recovered", 0), 0, AMOUNT_MAX)
        sched = []
        prev_due = -1
        total = 0
        for j, row in enumerate(list_field(f"{p}.schedule", a["schedule"])):
            q = f"{p}.schedule[{j}]"
            if type(row) is not list or len(row) not in (3, 4):
                raise GenesisError(f"{q}: expected [due, principal, interest, paid?]")
            r = [int_field(f"{q}[{k}]", x, 0, AMOUNT_MAX) for k, x in enumerate(row)] + ([0] if len(row) == 3 else [])
            if r[0] <= prev_due or r[3] > r[1] + r[2] or r[1] + r[2] == 0:
                raise GenesisError(f"{q}: due times strictly increase; paid <= principal + interest; amount > 0")
            prev_due = r[0]
            total += r[1]
            sched.append(r)
        if not sched or total != rec["principal"]:
            raise GenesisError(f"{p}.schedule: principal parts must sum to the principal {rec['principal']}")
        hist = []
        for j, h in enumerate(list_field(f"{p}.history", a.get("history", []))):
            q = f"{p}.history[{j}]"
            h = object_field(q, h, {"kind", "amount", "time", "height"})
            if h["kind"] not in ("repay", "recover"):
                raise GenesisError(f"{q}.kind: repay or recover")
            hist.append({"kind": h["kind"], "amount": int_field(f"{q}.amount", h["amount"], 1, AMOUNT_MAX),
                         "time": int_field(f"{q}.time", h["time"]), "height": int_field(f"{q}.height", h["height"])})
        rec["payments"] = int_field(f"{p}.payments", a.get("payments", len(hist)))
        rec["check"] = int_field(f"{p}.check", a["check"]) if "check" in a else _first_check(rec, sched)
        mark = a.get("mark")
        if mark is not None:
            m = object_field(f"{p}.mark", mark, {"value", "time", "stale", "next"})
            mark = {"value": int_field(f"{p}.mark.value", m["value"], 0, AMOUNT_MAX),
                    "time": int_field(f"{p}.mark.time", m["time"]), "stale": bool(m["stale"]),
                    "next": int_field(f"{p}.mark.next", m["next"])}
        items.append({**rec, "schedule": sched, "history": hist, "mark": mark})
    out["assets"] = items
    if "next" in s:
        out["next"] = int_field("assets.next", s["next"], prev + 1)
    out["poolMarks"] = []
    for i, e in enumerate(list_field("assets.poolMarks", s.get("poolMarks", []))):
        q = f"assets.poolMarks[{i}]"
        if type(e) is not list or len(e) != 2:
            raise GenesisError(f"{q}: expected [pool, {{value, stale}}]")
        m = object_field(q, e[1], {"value", "stale"})
        out["poolMarks"].append([int_field(f"{q}[0]", e[0], 1), {"value": int_field(f"{q}.value", m["value"], 0, 1 << 255),
                                                            "stale": int_field(f"{q}.stale", m["stale"])}])
    return out


def _first_check(rec: dict, sched: list[list[int]]) -> int:
    """The due-time entry an asset starts with (modules/assets/keeper.track)."""
    d = keeper.oldest_unpaid_due(sched)
    if d is None:
        return 0
    if rec["status"] in keeper.PERFORMING:
        return d + 1
    if rec["status"] == "overdue":
        return d + rec["grace"]
    return 0


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: no assets, left out)."""
    if not section.get("assets"):
        return None

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
        out["params"] = units.like_to_json(keeper.PARAM_UNITS, section["params"], units.NO_STABLE)
    if section.get("next"):
        out["next"] = section["next"]
    if section.get("poolMarks"):
        out["poolMarks"] = [[pid, {"value": str(m["value"]), "stale": m["stale"]}] for pid, m in section["poolMarks"]]
    return out


SECTION = Section(check, to_json, needs=("roles", "stable"))


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {params?, next, assets: [{record..., schedule, history, mark}]}."""
    if "params" in section:
        ctx.set_obj(keeper.PARAMS, section["params"])
    for a in section.get("assets", []):
        rec = {k: v for k, v in a.items() if k not in ("schedule", "history", "mark")}
        b = keeper.idb(rec["id"])
        ctx.set_obj(keeper.REC + b, rec)
        ctx.set_obj(keeper.SCHED + b, a["schedule"])
        ctx.set(keeper.BY_ORIG + rec["originator"] + b, b"\xc0")
        ctx.set(keeper.status_prefix(rec["status"]) + b, b"\xc0")
        if rec["status"] in keeper.VALUED and rec["grade"] is not None:
            ctx.set(keeper.grade_prefix(rec["grade"]) + b, b"\xc0")
        for n, h in enumerate(a.get("history", [])):
            ctx.set_obj(keeper.HIST + b + n.to_bytes(4, "big"), h)
        gfeed = feeds.grade_feed(rec["id"])
        if rec["grade"] is not None and oracle.state_of(ctx, gfeed) is None:
            oracle.create_feed(ctx, gfeed, rec["grade"], rec["verifiedAt"])
        if a.get("mark") is not None:  # an export: as it was
            ctx.set_obj(keeper.MARK + b, a["mark"])
            if a["mark"].get("next"):
                due.schedule(ctx, keeper.mark_due(rec["status"]), a["mark"]["next"], b)
        elif rec["grade"] is not None:  # a new genesis: valued at the genesis time
            marks.remark(ctx, rec)
        if rec["check"]:
            due.schedule(ctx, keeper.DUE, rec["check"], b)
    if section.get("assets"):
        ctx.set_int(keeper.NEXT, section.get("next") or max(a["id"] for a in section["assets"]) + 1)
    for pid, pm in section.get("poolMarks", []):
        ctx.set_obj(keeper.POOL_MARK + pid.to_bytes(8, "big"), pm)


def export_genesis(ctx: Ctx) -> dict:
    out: dict = {"next": ctx.get_int(keeper.NEXT), "assets": []}
    if ctx.get(keeper.PARAMS) is not None:
        out["params"] = ctx.get_obj(keeper.PARAMS)
    n = len(keeper.REC)
    for k, _ in ctx.iter_prefix(keeper.REC):
        aid = int.from_bytes(k[n:], "big")
        rec = ctx.get_obj(k)
        out["assets"].append({**rec, "schedule": keeper.schedule_of(ctx, aid),
                              "history": keeper.history(ctx, aid), "mark": marks.mark(ctx, aid)})
    n = len(keeper.POOL_MARK)
    out["poolMarks"] = [[int.from_bytes(k[n:], "big"), ctx.get_obj(k)] for k, _ in ctx.iter_prefix(keeper.POOL_MARK)]
    return out
