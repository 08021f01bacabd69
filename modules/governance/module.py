"""Governance (first part): proposals voted by bonded insurance stake, a quorum, a voting
period and an execution delay; the guardian's pause.

Actions a proposal may carry (propose: action, target, account):
    unpause {target: module}            lift the guardian's pause
    unfreeze {target: feed}             a frozen oracle feed takes reports again
    grantRole / revokeRole {target: role, account}
and changes (proposeChange: action, target, value; modules/governance/changes.py):
    setParams {target: module, value: "key=int,list=int;int,map.key=int"}
    setPolicy {target: feed class, value: "quorum=3,maxAge=86400,..."}
    setOperators {target: oracle, value: "address:blsPubkeyHex:popHex;..."}
    setValidator {target: validators, value: "0x<ed25519 public key hex>:<power>"} (0 removes)
each checked against hard bounds when proposed and again when executed.

The folder: keeper.py (the state keys and the only code that reads and writes them),
records.py (the Proposal record), genesis.py (the typed genesis section), queries.py
(gov_* RPC methods), simulation.py (random operations), changes.py and validators.py.

Voting power is the stake bonded at the proposal's snapshot, taken when it is created
(modules/insurance.snapshot): stake bonded later does not vote on it, stake unbonded later
still does. A proposal passes when the votes cast reach the quorum of all stake bonded at
its snapshot and yes > no;
it executes executionDelay after the vote ends (both through the due-time index, module
"gov"). A pause stops every call of a module except the floor redemption (stable.redeem)
and staking (insurance.stake: governance's voters can always come in to lift a pause).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from rwachain.modules.core import due
from rwachain.modules.core.args import Bytes, Choice, Int, Text
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidState, Unauthorized
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.governed import Governed, governed, pausable
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.governance import changes, keeper, queries, simulation
from rwachain.modules.governance.genesis import GENESIS, NAME, export_genesis, init_genesis
from rwachain.modules.governance.keeper import (  # noqa: F401 (callers read them here too)
    DEFAULT_PARAMS,
    DUE,
    NEXT,
    PARAM_UNITS,
    PARAMS,
    get,
    params,
)
from rwachain.modules.governance.records import ACTIONS, CHANGES, Proposal
from rwachain.modules.insurance import module as insurance
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.roles import module as roles

# The floor redemption is never blocked; staking stays open so that governance, voted by
# bonded stake, can always gather the votes to lift a pause (a paused insurance module with
# nothing bonded would otherwise be paused for good).
UNPAUSABLE_CALLS = {("stable", "redeem"), ("insurance", "stake")}


def is_paused(ctx: Ctx, module: str, call: str) -> bool:
    return (module, call) not in UNPAUSABLE_CALLS and keeper.is_paused(ctx, module)


@dataclass(frozen=True, slots=True)
class Peers:
    """What governance works from, derived from the modules of its App (modules/core/
    governed.py): the governed modules' parameters and the pausable modules, in order."""

    governed: dict[str, Governed]
    pausable: tuple[str, ...]


def _check_action(peers: Peers, action: str, target: str, account: bytes) -> None:
    if action == "unpause" and target not in peers.pausable:
        raise InvalidState(f"unpause: {target!r} is not a pausable module ({', '.join(peers.pausable)})")
    if action in ("grantRole", "revokeRole"):
        if target not in roles.ROLES:
            raise InvalidState(f"{action}: {target!r} is not a role")
        if len(account) != 20:
            raise InvalidState(f"{action}: account must be a 20-byte address")


def _require_stake(ctx: Ctx, sender: bytes) -> None:
    if insurance.stake_of(ctx, sender) == 0:
        raise Unauthorized("only accounts with bonded insurance stake propose")


def _propose(peers: Peers, ctx: Ctx, sender: bytes, args: dict) -> None:
    _require_stake(ctx, sender)
    _check_action(peers, args["action"], args["target"], args["account"])
    _open(ctx, sender, args["action"], args["target"], args["account"], "")


def _propose_change(peers: Peers, ctx: Ctx, sender: bytes, args: dict) -> None:
    _require_stake(ctx, sender)
    changes.check(ctx, args["action"], args["target"], args["value"], peers.governed)  # bounds checked now and at execution
    _open(ctx, sender, args["action"], args["target"], b"", args["value"])


def _open(ctx: Ctx, sender: bytes, action: str, target: str, account: bytes, value: str) -> None:
    pid = keeper.take_id(ctx)
    end = ctx.block.time + params(ctx)["votingPeriod"]
    p = Proposal(pid, sender, action, target, account, value, ctx.block.time, end, yes=0, no=0, status="voting",
                 executeAt=0, snapshot=insurance.snapshot(ctx))
    keeper.put(ctx, p)
    due.schedule(ctx, DUE, end, pid.to_bytes(8, "big"))
    ctx.emit("gov.proposed", id=pid, proposer=sender, action=action, target=target, end=end,
             snapshot=p.snapshot)


def _vote(ctx: Ctx, sender: bytes, args: dict) -> None:
    p = get(ctx, args["id"])
    if p.status != "voting" or ctx.block.time >= p.end:
        raise InvalidState(f"proposal {p.id} is not open for votes")
    if keeper.has_voted(ctx, p.id, sender):
        raise InvalidState("this account has voted on this proposal")
    weight = _weight(ctx, p, sender)
    if weight == 0:
        raise Unauthorized("only insurance stake bonded when the proposal was made votes on it")
    keeper.record_vote(ctx, p.id, sender, weight)
    keeper.put(ctx, replace(p, yes=p.yes + weight) if args["support"] == "yes" else replace(p, no=p.no + weight))
    ctx.emit("gov.voted", id=p.id, voter=sender, support=args["support"], weight=weight)


def _weight(ctx: Ctx, p: Proposal, addr: bytes) -> int:
    """addr's voting power on p: its stake bonded at p's snapshot (native base units; a
    proposal imported from before snapshots: its bonded stake now)."""
    return insurance.stake_at(ctx, addr, p.snapshot) if p.snapshot is not None else insurance.stake_of(ctx, addr)


def _bonded(ctx: Ctx, p: Proposal) -> int:
    """All stake bonded at p's snapshot, native base units (the quorum's base)."""
    return insurance.total_at(ctx, p.snapshot) if p.snapshot is not None else insurance.total(ctx)


def _pause(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "guardian", sender)
    keeper.pause(ctx, args["module"])
    ctx.emit("gov.paused", module=args["module"], guardian=sender)


def _execute(peers: Peers, ctx: Ctx, p: Proposal) -> None:
    a, t = p.action, p.target
    if a == "unpause":
        keeper.unpause(ctx, t)
    elif a == "unfreeze":
        oracle.unfreeze(ctx, t)
    elif a == "grantRole":
        roles.grant(ctx, t, p.account)
    elif a == "revokeRole":
        roles.revoke(ctx, t, p.account)
    else:
        changes.apply(ctx, a, t, p.value, peers.governed)


def _tally(ctx: Ctx, p: Proposal) -> Proposal:
    """A proposal whose vote ended: passed (executing executionDelay after the end) when the
    votes cast reach the quorum of the stake bonded at its snapshot and yes > no, else rejected."""
    cast = p.yes + p.no
    quorum = _bonded(ctx, p) * params(ctx)["quorum"] // WAD
    if cast >= quorum and cast > 0 and p.yes > p.no:
        p = replace(p, status="passed", executeAt=p.end + params(ctx)["executionDelay"])
        due.schedule(ctx, DUE, p.executeAt, p.id.to_bytes(8, "big"))
    else:
        p = replace(p, status="rejected")
    ctx.emit("gov.tallied", id=p.id, status=p.status, yes=p.yes, no=p.no, quorum=quorum)
    return p


def _run(peers: Peers, ctx: Ctx, p: Proposal) -> Proposal:
    """A passed proposal whose delay is over, executed (or failed, the block going on)."""
    try:
        _execute(peers, ctx, p)
    except InvalidState as exc:  # e.g. the feed was unfrozen meanwhile: it fails, the block goes on
        ctx.emit("gov.failed", id=p.id, reason=exc.message)
        return replace(p, status="failed")
    ctx.emit("gov.executed", id=p.id, action=p.action, target=p.target)
    return replace(p, status="executed")


def begin_block(peers: Peers, ctx: Ctx) -> None:
    """Close votes that ended (tally) and execute passed proposals whose delay is over."""
    for _, item in due.take_due(ctx, DUE, ctx.block.time):
        p = keeper.find(ctx, int.from_bytes(item, "big"))
        if p is None:
            continue
        if p.status == "voting":
            p = _tally(ctx, p)
        elif p.status == "passed":
            p = _run(peers, ctx, p)
        keeper.put(ctx, p)


def module(others: Iterable[Module] = ()) -> Module:
    """The governance module of an App whose other modules are others: the parameters they
    declare are what setParams changes, the pausable ones what the guardian pauses."""
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, genesis_records=GENESIS,
               queries=queries.QUERIES, pure_hooks=True,
               params=Governed(PARAMS, DEFAULT_PARAMS, PARAM_UNITS, params, place=4))
    listed = [*others, m]
    peers = Peers(governed(listed), pausable(listed))
    m.sim_ops = simulation.sim_ops(peers.pausable)
    m.sim_block = simulation.each_block(peers.pausable)

    def propose(ctx: Ctx, sender: bytes, args: dict) -> None:
        _propose(peers, ctx, sender, args)

    def propose_change(ctx: Ctx, sender: bytes, args: dict) -> None:
        _propose_change(peers, ctx, sender, args)

    def tally_and_execute(ctx: Ctx) -> None:
        begin_block(peers, ctx)

    m.begin_block = tally_and_execute
    m.add_call(Call("propose", propose, {"action": Choice(ACTIONS), "target": Text(96),
                                          "account": Bytes(None, 20)}, cost=10_000,
                    doc="Bonded stakers: propose an action (unpause, unfreeze, grantRole, revokeRole)."))
    m.add_call(Call("proposeChange", propose_change, {"action": Choice(CHANGES), "target": Text(64),
                                                      "value": Text(4096)}, cost=20_000,
                    doc="Bonded stakers: propose setParams (target: module), setPolicy (target: feed class), "
                        "setOperators (target: oracle) or setValidator (target: validators); value as "
                        "docs/mechanism.md 'Governance' shows."))
    m.add_call(Call("vote", _vote, {"id": Int(1, (1 << 64) - 1), "support": Choice(("yes", "no"))}, cost=2_000,
                    doc="Vote with your bonded insurance stake, once per proposal."))
    m.add_call(Call("pause", _pause, {"module": Choice(peers.pausable)}, cost=2_000,
                    doc="Guardian: pause a module (the floor redemption stays open); only governance unpauses."))
    return m
