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
State keys:
    gov/next, gov/prop/<id 8B>  {id, proposer, action, target, account, start, end, yes, no,
                                 status (voting, passed, rejected, executed, failed), executeAt,
                                 snapshot (the insurance fund's snapshot of bonded stake)}
    gov/vote/<id 8B><addr>      the weight the account voted with
    gov/val/<ed25519 key 32B>   a validator's power (modules/governance/validators.py)
    pause/<module>              set by the guardian's pause; only governance removes it
    params/governance           {votingPeriod, executionDelay (s), quorum (wad of bonded stake)}
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
from dataclasses import dataclass

from rwachain.modules.core import due
from rwachain.modules.core.args import Bytes, Choice, Int, Text
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidState, NotFound, Unauthorized
from rwachain.modules.core.governed import Governed, governed, pausable
from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.governance import changes, validators
from rwachain.modules.governance.keeper import DEFAULT_PARAMS, PARAM_UNITS, PARAMS, WAD, params  # noqa: F401
from rwachain.modules.insurance import module as insurance
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.roles import module as roles

NAME = "governance"
NEXT = b"gov/next"
PROP = b"gov/prop/"
VOTE = b"gov/vote/"
PAUSE = b"pause/"
DUE = "gov"
ACTIONS = ("unpause", "unfreeze", "grantRole", "revokeRole")
CHANGES = ("setParams", "setPolicy", "setOperators", "setValidator")
# The floor redemption is never blocked; staking stays open so that governance, voted by
# bonded stake, can always gather the votes to lift a pause (a paused insurance module with
# nothing bonded would otherwise be paused for good).
UNPAUSABLE_CALLS = {("stable", "redeem"), ("insurance", "stake")}


def is_paused(ctx: Ctx, module: str, call: str) -> bool:
    return (module, call) not in UNPAUSABLE_CALLS and ctx.get(PAUSE + module.encode()) is not None


def get(ctx: Ctx, pid: int) -> dict:
    p = ctx.get_obj(PROP + pid.to_bytes(8, "big"))
    if p is None:
        raise NotFound(f"no proposal {pid}")
    return p


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
    pid = ctx.get_int(NEXT) or 1
    ctx.set_int(NEXT, pid + 1)
    end = ctx.block.time + params(ctx)["votingPeriod"]
    p = {
        "id": pid, "proposer": sender, "action": action, "target": target, "account": account, "value": value,
        "start": ctx.block.time, "end": end, "yes": 0, "no": 0, "status": "voting", "executeAt": 0,
        "snapshot": insurance.snapshot(ctx)}
    ctx.set_obj(PROP + pid.to_bytes(8, "big"), p)
    due.schedule(ctx, DUE, end, pid.to_bytes(8, "big"))
    ctx.emit("gov.proposed", id=pid, proposer=sender, action=action, target=target, end=end,
             snapshot=p["snapshot"])


def _vote(ctx: Ctx, sender: bytes, args: dict) -> None:
    p = get(ctx, args["id"])
    if p["status"] != "voting" or ctx.block.time >= p["end"]:
        raise InvalidState(f"proposal {p['id']} is not open for votes")
    key = VOTE + args["id"].to_bytes(8, "big") + sender
    if ctx.get(key) is not None:
        raise InvalidState("this account has voted on this proposal")
    weight = _weight(ctx, p, sender)
    if weight == 0:
        raise Unauthorized("only insurance stake bonded when the proposal was made votes on it")
    ctx.set_int(key, weight)
    p["yes" if args["support"] == "yes" else "no"] += weight
    ctx.set_obj(PROP + args["id"].to_bytes(8, "big"), p)
    ctx.emit("gov.voted", id=p["id"], voter=sender, support=args["support"], weight=weight)


def _weight(ctx: Ctx, p: dict, addr: bytes) -> int:
    """addr's voting power on p: its stake bonded at p's snapshot (native base units; a
    proposal imported from before snapshots: its bonded stake now)."""
    return insurance.stake_at(ctx, addr, p["snapshot"]) if "snapshot" in p else insurance.stake_of(ctx, addr)


def _bonded(ctx: Ctx, p: dict) -> int:
    """All stake bonded at p's snapshot, native base units (the quorum's base)."""
    return insurance.total_at(ctx, p["snapshot"]) if "snapshot" in p else insurance.total(ctx)


def _pause(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "guardian", sender)
    ctx.set(PAUSE + args["module"].encode(), b"\xc3")
    ctx.emit("gov.paused", module=args["module"], guardian=sender)


def _execute(peers: Peers, ctx: Ctx, p: dict) -> None:
    a, t = p["action"], p["target"]
    if a == "unpause":
        ctx.delete(PAUSE + t.encode())
    elif a == "unfreeze":
        oracle.unfreeze(ctx, t)
    elif a == "grantRole":
        roles.grant(ctx, t, p["account"])
    elif a == "revokeRole":
        roles.revoke(ctx, t, p["account"])
    else:
        changes.apply(ctx, a, t, p["value"], peers.governed)


def begin_block(peers: Peers, ctx: Ctx) -> None:
    """Close votes that ended (tally) and execute passed proposals whose delay is over."""
    for _, item in due.take_due(ctx, DUE, ctx.block.time):
        p = ctx.get_obj(PROP + item)
        if p is None:
            continue
        if p["status"] == "voting":
            cast = p["yes"] + p["no"]
            quorum = _bonded(ctx, p) * params(ctx)["quorum"] // WAD
            if cast >= quorum and cast > 0 and p["yes"] > p["no"]:
                p["status"], p["executeAt"] = "passed", p["end"] + params(ctx)["executionDelay"]
                due.schedule(ctx, DUE, p["executeAt"], item)
            else:
                p["status"] = "rejected"
            ctx.emit("gov.tallied", id=p["id"], status=p["status"], yes=p["yes"], no=p["no"], quorum=quorum)
        elif p["status"] == "passed":
            try:
                _execute(peers, ctx, p)
                p["status"] = "executed"
            except InvalidState as exc:  # e.g. the feed was unfrozen meanwhile: it fails, the block goes on
                p["status"] = "failed"
                ctx.emit("gov.failed", id=p["id"], reason=exc.message)
            else:
                ctx.emit("gov.executed", id=p["id"], action=p["action"], target=p["target"])
        ctx.set_obj(PROP + item, p)


STATUSES = ("voting", "passed", "rejected", "executed", "failed")
GENESIS = (
    Record("next", NEXT, value="int"),
    Record("proposals", PROP, (("id", "u64"),), {
        "id": "int", "proposer": "addr", "action": ("enum", ACTIONS + CHANGES), "target": "str", "account": "bytes",
        "value": "str", "start": "int", "end": "int", "yes": "int", "no": "int", "status": ("enum", STATUSES),
        "executeAt": "int", "snapshot": "int"}),
    Record("votes", VOTE, (("id", "u64"), ("voter", "addr")), "int", field="weight"),
    Record("paused", PAUSE, (("module", "str"),), "true", field="paused"),
    Record("validators", validators.VAL, (("pubkey", "bytes"),), "int", field="power"),
)
"""The typed genesis section (modules/core/records.py): proposals, votes, pauses, the
validator set (a genesis names it in its top-level "validators"; genesis/loader.py)."""


def _derive_due(ctx: Ctx, section: dict) -> None:
    """A proposal's due-time entry follows from its status: the end of its vote while voting,
    its execution time once passed."""
    for p in section.get("proposals", []):
        when = {"voting": p["end"], "passed": p["executeAt"]}.get(p["status"])
        if when:
            due.schedule(ctx, DUE, when, p["id"].to_bytes(8, "big"))


init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"gov/", PAUSE), derive=_derive_due)


def module(others: Iterable[Module] = ()) -> Module:
    """The governance module of an App whose other modules are others: the parameters they
    declare are what setParams changes, the pausable ones what the guardian pauses."""
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, genesis_records=GENESIS,
               pure_hooks=True, params=Governed(PARAMS, DEFAULT_PARAMS, PARAM_UNITS, params, place=4))
    listed = [*others, m]
    peers = Peers(governed(listed), pausable(listed))

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
