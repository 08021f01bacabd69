"""The assets module: registration, verification, repayments, defaults, write-offs, recoveries.

Calls (the role each needs):
    register     originator   kind, principal, rate, schedule (generated or given), grace, docHash
    verify       verifier     id, grade (A..E); the verifier may not be the originator
    repay        servicer     id, amount (stable token, from the servicer to the asset's owner)
    markDefault  servicer     id
    writeOff     servicer     id (a defaulted asset)
    recover      servicer     id, amount (stable token; a defaulted or written-off asset)
Hooks: begin-block moves statuses along block time (overdue, defaulted); end-block
revalues the assets whose inputs changed (modules/assets/marks.py).
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.assets import genesis, keeper, marks, queries, schedule, simulation
from rwachain.modules.assets.invariants import invariants
from rwachain.modules.assets.records import Asset
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.args import AMOUNT, U64_MAX, Bytes, Choice, Int, Rows
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import BadSchedule, InvalidState, LimitExceeded, Unauthorized
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.roles import module as roles
from rwachain.modules.stable import module as stable
from rwachain.modules.valuation.queries import VALUATION_ASSET

NAME = "assets"
SCHEDULE_KINDS = ("bullet", "equal", "interest_only", "given")
ID = Int(1, U64_MAX)

REGISTER_ARGS = {
    "kind": Choice(keeper.KINDS),
    "principal": AMOUNT,
    "rate": Int(0, schedule.MAX_RATE),
    "schedule": Choice(SCHEDULE_KINDS),
    "start": Int(0, U64_MAX),
    "period": Int(0, U64_MAX),
    "count": Int(0, schedule.MAX_INSTALLMENTS),
    "installments": Rows(("due", "principal", "interest"), schedule.MAX_INSTALLMENTS),
    "grace": Int(1, U64_MAX),
    "docHash": Bytes(32),
}


def _stable_denom(ctx: Ctx) -> str:
    info = stable.info(ctx)
    if info is None:
        raise InvalidState("this chain has no stable token: repayments cannot be made")
    return info.denom


def build_schedule(args: dict) -> list[list[int]]:
    """The schedule rows [due, principal, interest, paid=0] of a register call's args."""
    try:
        if args["schedule"] == "given":
            if args["start"] or args["period"] or args["count"]:
                raise ValueError("a given schedule takes start, period and count as 0")
            rows = [tuple(r) for r in args["installments"]]
            schedule.check_given(args["principal"], rows)
        else:
            if args["installments"]:
                raise ValueError(f"a {args['schedule']} schedule is generated: installments must be empty")
            rows = schedule.generate(args["schedule"], args["principal"], args["rate"], args["start"],
                                     args["period"], args["count"])
    except ValueError as exc:
        raise BadSchedule(str(exc)) from None
    return [[d, p, i, 0] for d, p, i in rows]


def _register(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "originator", sender)
    prm = keeper.params(ctx)
    gmax = prm["graceMax"][args["kind"]]
    if args["grace"] > gmax:
        raise LimitExceeded(f"grace {args['grace']} s is above the {gmax} s maximum for {args['kind']}")
    sched = build_schedule(args)
    if len(sched) > prm["maxInstallments"]:
        raise BadSchedule(f"{len(sched)} installments; at most {prm['maxInstallments']}")
    if sched[0][0] <= ctx.block.time:
        raise BadSchedule(f"the first installment is due at {sched[0][0]}, not after the block time "
                          f"{ctx.block.time}")
    new = Asset(id=0, kind=args["kind"], originator=sender, owner=sender, principal=args["principal"],
                rate=args["rate"], grace=args["grace"], docHash=args["docHash"], status="registered", grade=None,
                verifier=None, registeredAt=ctx.block.time, verifiedAt=0, pool=None, repaid=0, recovered=0,
                payments=0, check=0)
    rec = keeper.create(ctx, new, sched)
    ctx.emit("assets.registered", id=rec.id, originator=sender, kind=args["kind"], principal=args["principal"],
             installments=len(sched), docHash=args["docHash"])


def _verify(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "verifier", sender)
    rec = keeper.get(ctx, args["id"])
    if rec.status != "registered":
        raise InvalidState(f"asset {rec.id} is {rec.status}; only a registered asset can be verified")
    if rec.originator == sender:
        raise Unauthorized("the originator of an asset cannot verify it")
    grade = feeds.grade_index(args["grade"])
    rec = replace(rec, grade=grade, verifier=sender, verifiedAt=ctx.block.time)
    oracle.create_feed(ctx, feeds.grade_feed(rec.id), grade, ctx.block.time)
    rec = keeper.set_status(ctx, rec, "verified", grade=args["grade"], verifier=sender)
    sched = keeper.schedule_of(ctx, rec.id)
    keeper.track(ctx, keeper.refresh(ctx, rec, sched), sched)


def _pay(ctx: Ctx, sender: bytes, args: dict, kind: str, allowed: tuple[str, ...]) -> None:
    roles.require(ctx, "servicer", sender)
    rec = keeper.get(ctx, args["id"])
    if rec.status not in allowed:
        raise InvalidState(f"asset {rec.id} is {rec.status}; {kind} needs one of {', '.join(allowed)}")
    sched = keeper.schedule_of(ctx, rec.id)
    owed = keeper.outstanding(sched)
    if args["amount"] > owed:
        raise InvalidState(f"amount {args['amount']} exceeds the outstanding {owed}")
    bank.transfer(ctx, sender, rec.owner, _stable_denom(ctx), args["amount"])
    rec = keeper.record_payment(ctx, rec, sched, kind, args["amount"])
    left = owed - args["amount"]
    ctx.emit(f"assets.{'repayment' if kind == 'repay' else 'recovery'}", id=rec.id, amount=args["amount"],
             outstanding=left, payer=sender, owner=rec.owner)
    if kind == "repay" and left == 0:
        rec = keeper.set_status(ctx, rec, "repaid")
    else:
        keeper.save(ctx, rec)
        if kind == "repay":
            rec = keeper.refresh(ctx, rec, sched)
    rec = keeper.track(ctx, rec, sched)
    keeper.notify_pool(ctx, rec, kind, args["amount"])


def _repay(ctx: Ctx, sender: bytes, args: dict) -> None:
    _pay(ctx, sender, args, "repay", ("verified", "pooled", "overdue"))


def _recover(ctx: Ctx, sender: bytes, args: dict) -> None:
    _pay(ctx, sender, args, "recover", ("defaulted", "written_off"))


def _mark_default(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "servicer", sender)
    rec = keeper.get(ctx, args["id"])
    if rec.status not in ("verified", "pooled", "overdue"):
        raise InvalidState(f"asset {rec.id} is {rec.status}; only a verified, pooled or overdue asset "
                           f"can be marked defaulted")
    rec = keeper.set_status(ctx, rec, "defaulted", reason="servicer")
    keeper.track(ctx, rec, keeper.schedule_of(ctx, rec.id))


def _write_off(ctx: Ctx, sender: bytes, args: dict) -> None:
    roles.require(ctx, "servicer", sender)
    rec = keeper.get(ctx, args["id"])
    if rec.status != "defaulted":
        raise InvalidState(f"asset {rec.id} is {rec.status}; only a defaulted asset can be written off")
    sched = keeper.schedule_of(ctx, rec.id)
    rec = keeper.set_status(ctx, rec, "written_off", outstanding=keeper.outstanding(sched))
    keeper.notify_pool(ctx, rec, "writeOff", keeper.outstanding_principal(sched))


def begin_block(ctx: Ctx) -> None:
    marks.revalue_overdue(ctx, keeper.on_time(ctx))


def end_block(ctx: Ctx) -> None:
    marks.revalue_dirty(ctx)


# ----- genesis: records as they are in state, so an export re-imports to the same root ----
def module() -> Module:
    m = Module(NAME, begin_block=begin_block, end_block=end_block, invariants=invariants,
               init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis, genesis_json=genesis.SECTION,
               queries=(*queries.QUERIES, VALUATION_ASSET), sim_ops=simulation.SIM_OPS, pure_hooks=True, pausable=1)
    m.add_call(Call("register", _register, REGISTER_ARGS, cost=5_000,
                    doc="Originator: register an asset with its schedule (generated or given)."))
    m.add_call(Call("verify", _verify, {"id": ID, "grade": Choice(feeds.GRADES)}, cost=3_000,
                    doc="Verifier: attest a registered asset and set its initial risk grade."))
    m.add_call(Call("repay", _repay, {"id": ID, "amount": AMOUNT}, cost=3_000,
                    doc="Servicer: pay stable tokens to the asset's owner, oldest installments first."))
    m.add_call(Call("markDefault", _mark_default, {"id": ID}, cost=2_000,
                    doc="Servicer: declare the asset defaulted."))
    m.add_call(Call("writeOff", _write_off, {"id": ID}, cost=2_000,
                    doc="Servicer: write a defaulted asset off (its value becomes 0)."))
    m.add_call(Call("recover", _recover, {"id": ID, "amount": AMOUNT}, cost=3_000,
                    doc="Servicer: pay a recovery on a defaulted or written-off asset to its owner."))
    return m
