"""The oracle module: quorum-signed reports, the guardian's veto, queued moves coming due.

Calls:
    report {feed, value, observedAt, round, epoch, signers, signature}
        from an operator account; the report is checked at admission (signature included)
        and again in the block, where the policy decides: applied, queued or frozen.
    reject {feed}   guardian: drop the feed's queued move.
Hooks: begin-block applies queued moves whose delay has passed.

The folder has the module anatomy: keeper.py (the state keys and the only code that
reads or writes them), feeds.py and report.py (feed ids, policies, the signed report
bytes), records.py (OperatorSet, Policy, FeedState: what the keeper takes and returns),
genesis.py, invariants.py, queries.py (oracle_*) and simulation.py (its random
operations); this file holds the calls and the hook and declares the rest.
"""

from __future__ import annotations

from rwachain.modules.core import params
from rwachain.modules.core.args import U64_MAX, Bytes, Int, Text
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.oracle import feeds, genesis, keeper, queries, simulation
from rwachain.modules.oracle.invariants import invariants
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


def module() -> Module:
    m = Module(NAME, begin_block=begin_block, invariants=invariants, init_genesis=genesis.init_genesis,
               export_genesis=genesis.export_genesis, genesis_json=genesis.SECTION, queries=queries.QUERIES,
               sim_ops=simulation.SIM_OPS, pure_hooks=True, pausable=2)
    m.add_call(Call("report", _report, REPORT_ARGS, cost=REPORT_COST, admit=_admit_report,
                    signature_job=_signature_job,
                    doc="Carry a quorum-signed report: feed value, observation time, round, signer bitmap, "
                        "aggregate BLS signature over docs/mechanism.md's report bytes."))
    m.add_call(Call("reject", _reject, {"feed": Text(96, feeds.FEED_PATTERN)}, cost=2_000,
                    doc="Guardian: reject the feed's queued value before it applies."))
    return m
