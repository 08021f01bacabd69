"""The oracle's genesis section: operators (with their proofs of possession), a policy per
feed class (in human units, modules/core/units.py) and feeds, as an export writes them;
checked with field-named errors, imported and exported (Module.genesis_json,
modules/core/sections.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rwachain.modules.core import bls, units
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
from rwachain.modules.oracle import feeds, keeper
from rwachain.modules.oracle.records import FeedState, Policy
from rwachain.modules.roles import keeper as roles

FEED_STATE = {"round", "updatedAt", "windowId", "windowValue", "frozen", "pending"}


def check(raw: Any, checked: dict) -> dict:
    """The oracle section: operators (PoP checked), a policy per feed class, feeds (their
    observation time defaults to the genesis time)."""
    genesis_time = checked["meta"]["genesisTime"]
    s = object_field("oracle", raw, {"operators", "policies", "feeds"}, {"epoch"})
    out: dict = {"epoch": int_field("oracle.epoch", s.get("epoch", 1), 1)}
    ops = []
    for i, o in enumerate(list_field("oracle.operators", s["operators"])):
        p = f"oracle.operators[{i}]"
        o = object_field(p, o, {"address", "blsPubkey", "pop"})
        pk = hex_field(f"{p}.blsPubkey", o["blsPubkey"], bls.PUBKEY_SIZE)
        pop = hex_field(f"{p}.pop", o["pop"], bls.SIGNATURE_SIZE)
        if not bls.verify_possession(pk, pop):
            raise GenesisError(f"{p}.pop: the proof of possession does not verify for this key")
        ops.append({"address": address_field(f"{p}.address", o["address"]), "blsPubkey": pk, "pop": pop})
    if len({o["blsPubkey"] for o in ops}) != len(ops) or len({o["address"] for o in ops}) != len(ops):
        raise GenesisError("oracle.operators: a key or address appears twice")
    if not ops:
        raise GenesisError("oracle.operators: at least one operator")
    out["operators"] = ops
    pol = object_field("oracle.policies", s["policies"], set(feeds.CLASSES))
    out["policies"] = {}
    for cls in feeds.CLASSES:
        p = f"oracle.policies.{cls}"
        c = object_field(p, pol[cls], set(feeds.POLICY_FIELDS))
        conv = units.parse_like(p, feeds.policy_units(cls), c, units.NO_STABLE)
        problems = feeds.check_policy(cls, conv)
        if problems:
            raise GenesisError(f"{p}.{problems[0]}")
        if conv["quorum"] > len(ops):
            raise GenesisError(f"{p}.quorum: {conv['quorum']} is more than the {len(ops)} operators")
        out["policies"][cls] = conv
    out["feeds"] = []
    seen = set()
    for i, f in enumerate(list_field("oracle.feeds", s["feeds"])):
        p = f"oracle.feeds[{i}]"
        f = object_field(p, f, {"id", "value"}, {"observedAt"} | FEED_STATE)
        if not feeds.is_feed(f["id"]) or f["id"] in seen:
            raise GenesisError(f"{p}.id: not a feed id, or declared twice")
        seen.add(f["id"])
        pol_c = out["policies"][feeds.class_of(f["id"])]
        v = int_field(f"{p}.value", f["value"], 0, feeds.VALUE_MAX)
        if not pol_c["lo"] <= v <= pol_c["hi"]:
            raise GenesisError(f"{p}.value: {v} is outside the class bounds [{pol_c['lo']}, {pol_c['hi']}]")
        e = {"id": f["id"], "value": v, "observedAt": int_field(f"{p}.observedAt", f.get("observedAt", genesis_time))}
        if FEED_STATE & set(f):
            object_field(p, f, {"id", "value", "observedAt"} | FEED_STATE)
            e["round"] = int_field(f"{p}.round", f["round"])
            e["updatedAt"] = int_field(f"{p}.updatedAt", f["updatedAt"])
            e["windowId"] = int_field(f"{p}.windowId", f["windowId"])
            e["windowValue"] = int_field(f"{p}.windowValue", f["windowValue"], 0, feeds.VALUE_MAX)
            if type(f["frozen"]) is not bool:
                raise GenesisError(f"{p}.frozen: expected true or false")
            e["frozen"] = f["frozen"]
            e["pending"] = None
            if f["pending"] is not None:
                q = object_field(f"{p}.pending", f["pending"], {"value", "round", "observedAt", "activatesAt"})
                e["pending"] = {k: int_field(f"{p}.pending.{k}", q[k], 0, feeds.VALUE_MAX) for k in sorted(q)}
        out["feeds"].append(e)
    return out


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: no operators, left out)."""
    if not section:
        return None
    out = {"epoch": section["epoch"],
           "operators": [{"address": encode_address(o["address"]), "blsPubkey": "0x" + o["blsPubkey"].hex(),
                          "pop": "0x" + o["pop"].hex()} for o in section["operators"]],
           "policies": {c: units.like_to_json(feeds.policy_units(c), p, units.NO_STABLE)
                        for c, p in section["policies"].items()},
           "feeds": []}
    for f in section["feeds"]:
        e = {k: (str(v) if type(v) is int else v) for k, v in f.items() if k != "pending"}
        if "pending" in f:
            e["pending"] = None if f["pending"] is None else {k: str(v) for k, v in f["pending"].items()}
        out["feeds"].append(e)
    return out


SECTION = Section(check, to_json)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {operators: [{address, blsPubkey, pop}], policies: {class: policy},
    feeds: [{id, value, observedAt, ...state fields of an exported feed}]}."""
    for cls in feeds.CLASSES:
        keeper.set_policy(ctx, cls, Policy.from_stored(section["policies"][cls]))
    ops = [(o["address"], o["blsPubkey"], o["pop"]) for o in section["operators"]]
    for addr, _, _ in ops:
        if not roles.has_role(ctx, "operator", addr):
            roles.grant(ctx, "operator", addr)
    keeper.set_operators(ctx, ops)
    if section.get("epoch", 1) != 1:
        keeper.put_operator_set(ctx, replace(keeper.operator_set(ctx), epoch=section["epoch"]))
    for f in section["feeds"]:  # (each indexed for when it goes stale)
        if FEED_STATE & set(f):  # an exported feed: its whole state (check requires every field)
            keeper.restore_feed(ctx, f["id"], FeedState.from_stored(f))
        else:
            keeper.create_feed(ctx, f["id"], f["value"], f["observedAt"])


def export_genesis(ctx: Ctx) -> dict:
    s = keeper.operator_set(ctx)
    if not s.operators:
        return {}
    return {"epoch": s.epoch,
            "operators": [{"address": o.address, "blsPubkey": o.pubkey, "pop": o.pop} for o in s.operators],
            "policies": {cls: keeper.policy(ctx, cls).to_stored() for cls in feeds.CLASSES},
            "feeds": [{"id": feed, **keeper.state_of(ctx, feed).to_stored()} for feed in keeper.list_feeds(ctx)]}
