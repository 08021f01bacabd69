"""The assets' genesis section: {params?, next?, assets: [record fields (records.Asset) +
schedule (+ history, mark)], poolMarks?} as in state, so an exported chain re-imports to the same root; a
hand-written genesis may leave out the bookkeeping fields (check, payments, repaid,
recovered, history, mark, next), which are then derived. Checked with field-named errors,
imported and exported (Module.genesis_json, modules/core/sections.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rwachain.modules.assets import keeper, marks
from rwachain.modules.assets.records import Asset, Mark, Payment, PoolMark
from rwachain.modules.core import units
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


@dataclass(frozen=True, slots=True)
class Entry:
    """One asset of the section: its record, schedule rows [due, principal, interest, paid],
    payment history and last mark (None: not valued yet)."""

    asset: Asset
    schedule: list[list[int]]
    history: list[Payment]
    mark: Mark | None


def check(raw: Any, checked: dict) -> dict:
    """The assets section: {params?, next?, assets: [Entry]}; an asset's originator holds
    the role in the roles section, and the stable section is declared (assets are repaid in
    the stable token)."""
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
    items: list[Entry] = []
    for i, a in enumerate(list_field("assets.assets", s["assets"])):
        items.append(_entry(f"assets.assets[{i}]", a, items[-1].asset.id if items else 0, genesis_time,
                            roles.get("originator", [])))
    out["assets"] = items
    if "next" in s:
        out["next"] = int_field("assets.next", s["next"], (items[-1].asset.id if items else 0) + 1)
    out["poolMarks"] = []
    for i, e in enumerate(list_field("assets.poolMarks", s.get("poolMarks", []))):
        q = f"assets.poolMarks[{i}]"
        if type(e) is not list or len(e) != 2:
            raise GenesisError(f"{q}: expected [pool, {{value, stale}}]")
        m = object_field(q, e[1], {"value", "stale"})
        out["poolMarks"].append((int_field(f"{q}[0]", e[0], 1), PoolMark(int_field(f"{q}.value", m["value"], 0, 1 << 255),
                                                                      int_field(f"{q}.stale", m["stale"]))))
    return out


def _entry(p: str, raw: Any, prev_id: int, genesis_time: int, originators: list[bytes]) -> Entry:
    """One asset of the section, checked field by field (p: its path in the genesis)."""
    a = object_field(p, raw, ASSET_REQUIRED, ASSET_OPTIONAL)
    asset_id = int_field(f"{p}.id", a["id"], prev_id + 1)
    kind, status = a["kind"], a["status"]
    if kind not in keeper.KINDS:
        raise GenesisError(f"{p}.kind: one of {', '.join(keeper.KINDS)}")
    if status not in keeper.STATUSES:
        raise GenesisError(f"{p}.status: one of {', '.join(keeper.STATUSES)}")
    originator = address_field(f"{p}.originator", a["originator"])
    if originator not in originators:
        raise GenesisError(f"{p}.originator: the account does not hold the originator role")
    owner = address_field(f"{p}.owner", a["owner"]) if "owner" in a else originator
    principal = int_field(f"{p}.principal", a["principal"], 1, AMOUNT_MAX)
    rate = int_field(f"{p}.rate", units.parse(f"{p}.rate", "ratio", a["rate"], units.NO_STABLE), 0, 10 * 10**18)
    grace = int_field(f"{p}.grace", units.parse(f"{p}.grace", "duration", a["grace"], units.NO_STABLE), 1)
    doc_hash = hex_field(f"{p}.docHash", a["docHash"], 32)
    grade = _grade(p, status, a.get("grade"))
    v = a.get("verifier")
    verifier = None if v is None else address_field(f"{p}.verifier", v)
    if status != "registered" and verifier is None:
        raise GenesisError(f"{p}.verifier: a verified asset names its verifier")
    registered_at = int_field(f"{p}.registeredAt", a.get("registeredAt", genesis_time))
    verified_at = int_field(f"{p}.verifiedAt", a.get("verifiedAt", 0 if grade is None else genesis_time))
    pool = None if a.get("pool") is None else int_field(f"{p}.pool", a["pool"])
    repaid = int_field(f"{p}.repaid", a.get("repaid", 0), 0, AMOUNT_MAX)
    recovered = int_field(f"{p}.recovered", a.get("recovered", 0), 0, AMOUNT_MAX)
    sched = _schedule(p, a["schedule"], principal)
    hist = _history(p, a.get("history", []))
    rec = Asset(asset_id, kind, originator, owner, principal, rate, grace, doc_hash, status, grade, verifier,
                registered_at, verified_at, pool, repaid, recovered,
                int_field(f"{p}.payments", a.get("payments", len(hist))), 0)
    check = int_field(f"{p}.check", a["check"]) if "check" in a else keeper.next_check(rec, sched)
    return Entry(replace(rec, check=check), sched, hist, _mark(p, a.get("mark")))


def _grade(p: str, status: str, g: Any) -> int | None:
    """The grade index (None for a registered asset, which has none yet)."""
    if status == "registered":
        if g is not None:
            raise GenesisError(f"{p}.grade: a registered asset has no grade yet")
        return None
    if g not in feeds.GRADES:
        raise GenesisError(f"{p}.grade: one of {', '.join(feeds.GRADES)}")
    return feeds.grade_index(g)


def _schedule(p: str, raw: Any, principal: int) -> list[list[int]]:
    """The rows [due, principal, interest, paid] (paid 0 when left out); the principal parts
    sum to the principal."""
    sched = []
    prev_due = -1
    total = 0
    for j, row in enumerate(list_field(f"{p}.schedule", raw)):
        q = f"{p}.schedule[{j}]"
        if type(row) is not list or len(row) not in (3, 4):
            raise GenesisError(f"{q}: expected [due, principal, interest, paid?]")
        r = [int_field(f"{q}[{k}]", x, 0, AMOUNT_MAX) for k, x in enumerate(row)] + ([0] if len(row) == 3 else [])
        if r[0] <= prev_due or r[3] > r[1] + r[2] or r[1] + r[2] == 0:
            raise GenesisError(f"{q}: due times strictly increase; paid <= principal + interest; amount > 0")
        prev_due = r[0]
        total += r[1]
        sched.append(r)
    if not sched or total != principal:
        raise GenesisError(f"{p}.schedule: principal parts must sum to the principal {principal}")
    return sched


def _history(p: str, raw: Any) -> list[Payment]:
    out = []
    for j, h in enumerate(list_field(f"{p}.history", raw)):
        q = f"{p}.history[{j}]"
        h = object_field(q, h, {"kind", "amount", "time", "height"})
        if h["kind"] not in ("repay", "recover"):
            raise GenesisError(f"{q}.kind: repay or recover")
        out.append(Payment(h["kind"], int_field(f"{q}.amount", h["amount"], 1, AMOUNT_MAX),
                           int_field(f"{q}.time", h["time"]), int_field(f"{q}.height", h["height"])))
    return out


def _mark(p: str, raw: Any) -> Mark | None:
    if raw is None:
        return None
    m = object_field(f"{p}.mark", raw, {"value", "time", "stale", "next"})
    return Mark(int_field(f"{p}.mark.value", m["value"], 0, AMOUNT_MAX), int_field(f"{p}.mark.time", m["time"]),
                bool(m["stale"]), int_field(f"{p}.mark.next", m["next"]))


def _conv(k: str, v: Any) -> Any:
    """A stored field's JSON form."""
    if v is None or type(v) is bool:
        return v
    if k in ("originator", "owner", "verifier"):
        return encode_address(v)
    if k == "docHash":
        return "0x" + v.hex()
    if k == "grade":
        return feeds.GRADES[v]
    return str(v) if type(v) is int else v


def _entry_json(e: Entry) -> dict:
    out = {k: _conv(k, v) for k, v in e.asset.to_stored().items()}
    out["schedule"] = [[str(x) for x in row] for row in e.schedule]
    out["history"] = [{"amount": str(h.amount), "height": h.height, "kind": h.kind, "time": h.time} for h in e.history]
    m = e.mark
    out["mark"] = None if m is None else {"next": str(m.next), "stale": m.stale, "time": m.time, "value": str(m.value)}
    return out


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: no assets, left out)."""
    if not section.get("assets"):
        return None
    out: dict = {"assets": [_entry_json(e) for e in section["assets"]]}
    if "params" in section:
        out["params"] = units.like_to_json(keeper.PARAM_UNITS, section["params"], units.NO_STABLE)
    if section.get("next"):
        out["next"] = section["next"]
    if section.get("poolMarks"):
        out["poolMarks"] = [[pid, {"value": str(m.value), "stale": m.stale}] for pid, m in section["poolMarks"]]
    return out


SECTION = Section(check, to_json, needs=("roles", "stable"))


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {params?, next, assets: [Entry], poolMarks: [(pool, PoolMark)]}."""
    if "params" in section:
        ctx.set_obj(keeper.PARAMS, section["params"])
    for e in section.get("assets", []):
        rec = e.asset
        keeper.restore(ctx, rec, e.schedule, e.history)
        gfeed = feeds.grade_feed(rec.id)
        if rec.grade is not None and oracle.state_of(ctx, gfeed) is None:
            oracle.create_feed(ctx, gfeed, rec.grade, rec.verifiedAt)
        if e.mark is not None:  # an export: as it was
            keeper.restore_mark(ctx, rec, e.mark)
        elif rec.grade is not None:  # a new genesis: valued at the genesis time
            marks.remark(ctx, rec)
    if section.get("assets"):
        ctx.set_int(keeper.NEXT, section.get("next") or max(e.asset.id for e in section["assets"]) + 1)
    for pid, pm in section.get("poolMarks", []):
        keeper.set_pool_mark(ctx, pid, pm)


def export_genesis(ctx: Ctx) -> dict:
    out: dict = {"next": ctx.get_int(keeper.NEXT), "assets": []}
    if ctx.get(keeper.PARAMS) is not None:
        out["params"] = ctx.get_obj(keeper.PARAMS)
    for rec in keeper.each(ctx):
        out["assets"].append(Entry(rec, keeper.schedule_of(ctx, rec.id), keeper.history(ctx, rec.id),
                                   keeper.mark(ctx, rec.id)))
    out["poolMarks"] = keeper.pool_marks(ctx)
    return out
