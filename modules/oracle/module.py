"""The oracle module: quorum-signed reports, the guardian's veto, queued moves coming due.

Calls:
    report {feed, value, observedAt, round, epoch, signers, signature}
        from an operator account; the report is checked at admission (signature included)
        and again in the block, where the policy decides: applied, queued or frozen.
    reject {feed}   guardian: drop the feed's queued move.
Hooks: begin-block applies queued moves whose delay has passed.
"""

from __future__ import annotations

from rwachain.modules.core import due, params
from rwachain.modules.core.args import U64_MAX, Bytes, Int, Text
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.oracle import feeds, keeper
from rwachain.modules.roles import module as roles

NAME = "oracle"
REPORT_COST = 20_000  # cost units: an aggregate BLS verification is ~100x a transfer's checks

REPORT_ARGS = {
    "feed": Text(96, feeds.FEED_PATTERN),
    "value": Int(0, feeds.VALUE_MAX),
    "observedAt": Int(0, U64_MAX),
    "round": Int(1, U64_MAX),
    "epoch": Int(1, U64_MAX),
    "signers": Bytes(None, 32),
    "signature": Bytes(96),
}


def _chain_id(ctx: Ctx) -> str:
    return params.load(ctx)["chainId"]


def _admit_report(ctx: Ctx, sender: bytes, args: dict) -> None:
    """Admission: role, feed, epoch, round, quorum and the aggregate signature (remembered)."""
    roles.require(ctx, "operator", sender)
    keeper.check_report(ctx, _chain_id(ctx), args)


def _signature_job(ctx: Ctx, sender: bytes, args: dict):
    if not roles.has_role(ctx, "operator", sender):
        return None
    return keeper.signature_job(ctx, _chain_id(ctx), args)


def _report(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "operator", sender)
    keeper.apply_report(ctx, _chain_id(ctx), args)


def _reject(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "guardian", sender)
    keeper.reject_pending(ctx, args["feed"])


def begin_block(ctx: Ctx) -> None:
    keeper.apply_due(ctx)
    keeper.mark_newly_stale(ctx)


# ----- genesis ---------------------------------------------------------------------------
def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {operators: [{address, blsPubkey, pop}], policies: {class: policy},
    feeds: [{id, value, observedAt, ...state fields of an exported feed}]}."""
    for cls in feeds.CLASSES:
        keeper.set_policy(ctx, cls, section["policies"][cls])
    ops = [(o["address"], o["blsPubkey"], o["pop"]) for o in section["operators"]]
    for addr, _, _ in ops:
        if not roles.has_role(ctx, "operator", addr):
            roles.grant(ctx, "operator", addr)
    keeper.set_operators(ctx, ops)
    if section.get("epoch", 1) != 1:
        st = keeper.operator_set(ctx)
        st["epoch"] = section["epoch"]
        ctx.set_obj(keeper.SET, st)
    for f in section["feeds"]:
        keeper.create_feed(ctx, f["id"], f["value"], f["observedAt"])  # (indexes when it goes stale)
        extra = {k: v for k, v in f.items() if k not in ("id", "value", "observedAt")}
        if extra:
            st = keeper.state_of(ctx, f["id"])
            st.update(extra)
            ctx.set_obj(keeper.FEED + f["id"].encode(), st)
            if st["pending"] is not None:
                due.schedule(ctx, keeper.DUE, st["pending"]["activatesAt"], f["id"].encode())


def export_genesis(ctx: Ctx) -> dict:
    s = keeper.operator_set(ctx)
    if not s["operators"]:
        return {}
    out = {"epoch": s["epoch"],
           "operators": [{"address": a, "blsPubkey": pk, "pop": pop} for a, pk, pop in s["operators"]],
           "policies": {cls: keeper.policy(ctx, cls) for cls in feeds.CLASSES}, "feeds": []}
    for feed in keeper.list_feeds(ctx):
        st = keeper.state_of(ctx, feed)
        out["feeds"].append({"id": feed, **st})
    return out


def module() -> Module:
    m = Module(NAME, begin_block=begin_block, init_genesis=init_genesis, export_genesis=export_genesis,
               pure_hooks=True)
    m.add_call(Call("report", _report, REPORT_ARGS, cost=REPORT_COST, admit=_admit_report,
                    signature_job=_signature_job, note_verified=keeper.note_verified,
                    doc="Carry a quorum-signed report: feed value, observation time, round, signer bitmap, "
                        "aggregate BLS signature over docs/mechanism.md's report bytes."))
    m.add_call(Call("reject", _reject, {"feed": Text(96, feeds.FEED_PATTERN)}, cost=2_000,
                    doc="Guardian: reject the feed's queued value before it applies."))
    return m
