"""Oracle state: the operator set, feed policies, feed values, queued moves.

State keys (canonical msgpack values; the records: modules/oracle/records.py):
    oracle/set              an OperatorSet: {"epoch": int, "operators": [[address 20B,
                            BLS pubkey 48B, PoP 96B], ...]}
    oracle/policy/<class>   a Policy (its fields: feeds.py)
    oracle/feed/<feed>      a FeedState, with its queued move (a PendingMove) or None
They are read and written here only, as those records.
Queued moves are indexed in the due-time index (module "oracle", item = feed id) and
applied by the begin-block hook when they come due. Every applied value marks the topic
feed/<feed> dirty (modules/core/dirty.py) for the revaluation at the end of the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from rwachain.modules.core import bls, dirty, due, verdicts
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import (
    BadReportSignature,
    FeedFrozen,
    FutureObservation,
    GradeJump,
    InvalidState,
    InvalidTransaction,
    NotFound,
    QuorumNotMet,
    ReportTooOld,
    RoundNotNewer,
    StaleFeed,
    WrongEpoch,
)
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle.records import FeedState, Operator, OperatorSet, PendingMove, Policy
from rwachain.modules.oracle.report import message, signers

SET = b"oracle/set"
POLICY = b"oracle/policy/"
FEED = b"oracle/feed/"
DUE = "oracle"
STALE_DUE = "oracle-stale"  # one entry per feed: the first second it is stale


@dataclass(frozen=True, slots=True)
class FeedValue:
    """A feed's value as consumers see it at the block time `now`."""

    feed: str
    value: int
    round: int
    observed_at: int
    stale: bool
    frozen: bool
    pending: int | None  # a queued value not yet applied


# ----- operator set and policies ------------------------------------------------------
def operator_set(ctx: Ctx) -> OperatorSet:
    return ctx.get_record(SET, OperatorSet, OperatorSet(0, ()))


def put_operator_set(ctx: Ctx, s: OperatorSet) -> None:
    """Store the operator set as it is (set_operators checks and numbers a new one)."""
    ctx.put_record(SET, s)


def set_operators(ctx: Ctx, operators: list[tuple[bytes, bytes, bytes]]) -> int:
    """Replace the set with [(address, pubkey, proof of possession)]; returns the new epoch.

    Every key must carry a valid proof of possession (a rogue-key defence) and appear once.
    """
    seen = set()
    for i, (addr, pk, pop) in enumerate(operators):
        if pk in seen or addr in seen:
            raise InvalidState(f"operators[{i}]: a key or address appears twice")
        seen.update((pk, addr))
        if not bls.verify_possession(pk, pop):
            raise InvalidState(f"operators[{i}]: the proof of possession does not verify")
    epoch = operator_set(ctx).epoch + 1
    put_operator_set(ctx, OperatorSet(epoch, tuple(Operator(a, pk, pop) for a, pk, pop in operators)))
    ctx.emit("oracle.operators", epoch=epoch, count=len(operators))
    return epoch


def find_policy(ctx: Ctx, cls: str) -> Policy | None:
    """The policy of feed class cls, or None."""
    return ctx.get_record(POLICY + cls.encode(), Policy)


def has_policy(ctx: Ctx, cls: str) -> bool:
    return ctx.get(POLICY + cls.encode()) is not None


def policy(ctx: Ctx, cls: str) -> Policy:
    """The policy of feed class cls; NotFound when it has none."""
    p = find_policy(ctx, cls)
    if p is None:
        raise NotFound(f"no policy for feed class {cls!r}")
    return p


def set_policy(ctx: Ctx, cls: str, p: Policy) -> None:
    """Store class cls's policy (checked against feeds.POLICY_BOUNDS); a new maxAge moves
    the time each feed of the class goes stale."""
    problems = feeds.check_policy(cls, p.to_stored())
    if problems:
        raise InvalidState(f"policy {cls}: {problems[0]}")
    old = find_policy(ctx, cls)
    ctx.put_record(POLICY + cls.encode(), p)
    if old is not None and old.maxAge != p.maxAge:  # the feeds of the class go stale at another time
        for feed in list_feeds(ctx):
            if feeds.class_of(feed) == cls:
                st = state_of(ctx, feed)
                due.cancel(ctx, STALE_DUE, st.observedAt + old.maxAge + 1, feed.encode())
                _watch_staleness(ctx, feed, st.observedAt, p)


def _watch_staleness(ctx: Ctx, feed: str, observed_at: int, p: Policy) -> None:
    """Index the first second the feed will be stale, so its dependents are revalued then
    (and fail closed) rather than at their next daily mark."""
    at = observed_at + p.maxAge + 1
    if at > ctx.block.time:
        due.schedule(ctx, STALE_DUE, at, feed.encode())


def mark_newly_stale(ctx: Ctx) -> None:
    """Begin-block: feeds that went stale since the last block are marked changed."""
    for _, item in due.take_due(ctx, STALE_DUE, ctx.block.time):
        dirty.mark(ctx, b"feed/" + item)


# ----- feeds ---------------------------------------------------------------------------
def state_of(ctx: Ctx, feed: str) -> FeedState | None:
    """The feed's stored state, or None if the feed does not exist."""
    return ctx.get_record(FEED + feed.encode(), FeedState)


def _put(ctx: Ctx, feed: str, st: FeedState) -> None:
    ctx.put_record(FEED + feed.encode(), st)


def create_feed(ctx: Ctx, feed: str, value: int, observed_at: int) -> None:
    """Declare a feed with its first value (genesis, or an asset's verification for its grade)."""
    if not feeds.is_feed(feed):
        raise InvalidState(f"{feed!r} is not a feed id")
    p = policy(ctx, feeds.class_of(feed))
    if not p.lo <= value <= p.hi:
        raise InvalidState(f"{feed}: initial value {value} is outside [{p.lo}, {p.hi}]")
    _put(ctx, feed, FeedState(value, 0, observed_at, ctx.block.time, ctx.block.time // p.window, value, False, None))
    dirty.mark(ctx, b"feed/" + feed.encode())
    _watch_staleness(ctx, feed, observed_at, p)


def restore_feed(ctx: Ctx, feed: str, st: FeedState) -> None:
    """Declare a feed with the whole state an export gave it (genesis), its queued move
    indexed again."""
    create_feed(ctx, feed, st.value, st.observedAt)
    _put(ctx, feed, st)
    if st.pending is not None:
        due.schedule(ctx, DUE, st.pending.activatesAt, feed.encode())


def read(ctx: Ctx, feed: str) -> FeedValue | None:
    """The feed's value at the context's block time, or None if the feed does not exist."""
    st = state_of(ctx, feed)
    if st is None:
        return None
    p = policy(ctx, feeds.class_of(feed))
    stale = ctx.block.time - st.observedAt > p.maxAge
    pend = st.pending.value if st.pending else None
    return FeedValue(feed, st.value, st.round, st.observedAt, stale, st.frozen, pend)


def fresh(ctx: Ctx, feed: str) -> FeedValue:
    """The feed's value for an action priced by it: fails closed when missing, frozen or stale."""
    fv = read(ctx, feed)
    if fv is None:
        raise NotFound(f"feed {feed} does not exist")
    if fv.frozen:
        raise FeedFrozen(f"feed {feed} is frozen (a report left its bounds); governance must unfreeze it")
    if fv.stale:
        raise StaleFeed(f"feed {feed} is stale: observed at {fv.observed_at}, block time {ctx.block.time}")
    return fv


# ----- reports --------------------------------------------------------------------------
def check_report(ctx: Ctx, chain_id: str, args: dict) -> tuple[FeedState, Policy]:
    """Every check of a report that does not depend on the block time; (feed state, policy).

    Run at admission (against the latest state) and again in the block; the BLS check is
    done once per distinct (keys, message, signature) and its verdict remembered in the
    App's signature cache (modules/core/verdicts.py).
    """
    st, p, pks, msg = _report_terms(ctx, chain_id, args)
    if not verdicts.fast_aggregate_verify(ctx, pks, msg, args["signature"]):
        raise BadReportSignature("the aggregate signature does not verify for these signers and this report")
    return st, p


def signature_job(ctx: Ctx, chain_id: str, args: dict) -> tuple[list[bytes], bytes, bytes] | None:
    """(signers' keys, message, signature) of a report that passes every other check, else None:
    what a node may verify elsewhere (another process) and then note in the App's signature
    cache (App.note_signature_job)."""
    try:
        _, _, pks, msg = _report_terms(ctx, chain_id, args)
    except InvalidTransaction:
        return None
    return pks, msg, args["signature"]


def _report_terms(ctx: Ctx, chain_id: str, args: dict) -> tuple[FeedState, Policy, list[bytes], bytes]:
    """The checks before the signature's: (feed state, policy, signers' keys, message)."""
    feed = args["feed"]
    st = state_of(ctx, feed)
    if st is None:
        raise NotFound(f"feed {feed} does not exist")
    if st.frozen:
        raise FeedFrozen(f"feed {feed} is frozen and refuses reports until governance unfreezes it")
    ops = operator_set(ctx)
    if args["epoch"] != ops.epoch:
        raise WrongEpoch(f"the report is signed for operator set epoch {args['epoch']}; the set is at "
                         f"epoch {ops.epoch}")
    if args["round"] <= st.last_round:
        raise RoundNotNewer(f"round {args['round']} is not after round {st.last_round} of {feed}")
    p = policy(ctx, feeds.class_of(feed))
    v = args["value"]
    if feeds.class_of(feed) == "grade" and p.lo <= v <= p.hi and abs(v - st.value) > 1:
        raise GradeJump(f"{feed}: grade {feeds.GRADES[st.value]} to {feeds.GRADES[v]} moves more than one notch")
    members = ops.operators
    try:
        idx = signers(args["signers"], len(members))
    except ValueError as exc:
        raise BadReportSignature(f"signers: {exc}") from None
    if len(idx) < p.quorum:
        raise QuorumNotMet(f"{len(idx)} signer(s); {feed} needs a quorum of {p.quorum}")
    pks = [members[i].pubkey for i in idx]
    msg = message(chain_id, args["epoch"], feed, args["value"], args["observedAt"], args["round"])
    return st, p, pks, msg


def apply_report(ctx: Ctx, chain_id: str, args: dict) -> str:
    """Apply a checked report at the block time; returns what happened:
    "applied", "queued" or "frozen". Raises a typed error for a refused report."""
    st, p = check_report(ctx, chain_id, args)
    feed, value, now = args["feed"], args["value"], ctx.block.time
    if args["observedAt"] > now:
        raise FutureObservation(f"observedAt {args['observedAt']} is later than the block time {now}")
    if now - args["observedAt"] > p.maxAge:
        raise ReportTooOld(f"observed at {args['observedAt']}, older than the {p.maxAge} s "
                           f"maximum age at block time {now}")
    if not p.lo <= value <= p.hi:
        _put(ctx, feed, replace(_drop_pending(ctx, feed, st), frozen=True, round=args["round"]))
        ctx.emit("oracle.frozen", feed=feed, value=value, round=args["round"], lo=p.lo, hi=p.hi)
        return "frozen"
    if feeds.class_of(feed) == "grade":  # one notch at most (check_report): no step window
        _apply(ctx, feed, st, value, args["round"], args["observedAt"], p)
        return "applied"
    wid = now // p.window
    if st.windowId != wid:
        st = replace(st, windowId=wid, windowValue=st.value)
    allowed = p.stepAbs + p.stepRel * st.windowValue // feeds.WAD
    if abs(value - st.windowValue) > allowed:
        at = now + p.delay
        st = replace(_drop_pending(ctx, feed, st), pending=PendingMove(value, args["round"], args["observedAt"], at))
        due.schedule(ctx, DUE, at, feed.encode())
        _put(ctx, feed, st)
        ctx.emit("oracle.queued", feed=feed, value=value, round=args["round"], activatesAt=at,
                 windowValue=st.windowValue)
        return "queued"
    if st.pending is not None:
        ctx.emit("oracle.superseded", feed=feed, value=st.pending.value, round=st.pending.round)
        st = _drop_pending(ctx, feed, st)
    _apply(ctx, feed, st, value, args["round"], args["observedAt"], p)
    return "applied"


def _apply(ctx: Ctx, feed: str, st: FeedState, value: int, round_: int, observed_at: int, p: Policy,
           queued: bool = False) -> None:
    due.cancel(ctx, STALE_DUE, st.observedAt + p.maxAge + 1, feed.encode())
    _watch_staleness(ctx, feed, observed_at, p)
    _put(ctx, feed, replace(st, value=value, round=round_, observedAt=observed_at, updatedAt=ctx.block.time))
    dirty.mark(ctx, b"feed/" + feed.encode())
    ctx.emit("oracle.applied", feed=feed, value=value, round=round_, observedAt=observed_at, queued=queued)


def any_pending(ctx: Ctx) -> bool:
    """Whether some feed has a queued move (every one is in the due-time index)."""
    return due.any_scheduled(ctx, DUE)


def _drop_pending(ctx: Ctx, feed: str, st: FeedState) -> FeedState:
    """st without its queued move, whose due entry is cancelled."""
    if st.pending is None:
        return st
    due.cancel(ctx, DUE, st.pending.activatesAt, feed.encode())
    return replace(st, pending=None)


def reject_pending(ctx: Ctx, feed: str) -> None:
    """The guardian's veto of a queued move."""
    st = state_of(ctx, feed)
    if st is None:
        raise NotFound(f"feed {feed} does not exist")
    if st.pending is None:
        raise InvalidState(f"feed {feed} has no queued value to reject")
    _put(ctx, feed, _drop_pending(ctx, feed, st))
    ctx.emit("oracle.rejected", feed=feed, value=st.pending.value, round=st.pending.round)


def apply_due(ctx: Ctx) -> None:
    """Begin-block: queued moves whose delay has passed take effect at the block time.

    The step window restarts at the applied value, so the next step is measured from it.
    """
    now = ctx.block.time
    for _, item in due.take_due(ctx, DUE, now):
        feed = item.decode()
        st = state_of(ctx, feed)
        pend = st.pending if st is not None else None
        if pend is None or pend.activatesAt > now:
            continue
        p = policy(ctx, feeds.class_of(feed))
        st = replace(st, pending=None, windowId=now // p.window, windowValue=pend.value)
        _apply(ctx, feed, st, pend.value, pend.round, pend.observedAt, p, queued=True)


def unfreeze(ctx: Ctx, feed: str) -> None:
    """Governance's unfreeze (the governance module calls it); the value is unchanged."""
    st = state_of(ctx, feed)
    if st is None or not st.frozen:
        raise InvalidState(f"feed {feed} is not frozen")
    _put(ctx, feed, replace(st, frozen=False))
    ctx.emit("oracle.unfrozen", feed=feed)


def list_feeds(ctx: Ctx, prefix: str = "") -> list[str]:
    return list(feeds_after(ctx, prefix, ""))


def feeds_after(ctx: Ctx, prefix: str, after: str) -> Iterator[str]:
    """Feed ids starting with prefix and sorting after `after` ("": from the first), in order."""
    n = len(FEED)
    start = FEED + after.encode() + b"\x00" if after else FEED
    return (k[n:].decode() for k, _ in ctx.iter_prefix_from(FEED + prefix.encode(), start))
