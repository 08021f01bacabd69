"""The oracle's random operations for the seeded simulation (modules/core/simops.py):
quorum-signed reports that mostly move a feed within its step (some queue, a few leave
the hard bounds and freeze the feed, some lack quorum or are too old), and the
guardian's rejection of a queued move."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.oracle import feeds, keeper
from rwachain.modules.oracle.records import FeedState, Policy

GRADE_MAX = 4  # grades are 0..4 (A..E)
SHORT_OF_QUORUM = 2  # signers of a report drawn without quorum


def _value(rng, st: FeedState, p: Policy, cls: str) -> int:
    """The reported value: a grade one step away (rarely two); else within the step,
    beyond it (queued) two times in ten, above the hard bound (frozen) two in a hundred."""
    v = st.value
    step = p.stepAbs + p.stepRel * abs(st.windowValue) // WAD
    u = rng.unit()
    if cls == "grade":
        return max(0, min(GRADE_MAX, v + rng.choice((-1, 0, 1, 2 if u.below(1, 10) else 1))))
    if u.below(2, 100):
        return p.hi + 1  # outside the hard bounds: the feed freezes
    if u.below(20, 100):
        return max(p.lo, min(p.hi, v + rng.choice((-3, 3)) * max(1, step)))  # queued
    return max(p.lo, min(p.hi, v + rng.randint(-step, step)))


def draw_report(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A report step: feed, value, the indexes of the signing operators (a quorum 93 times
    in 100) and the observation's age (older than the policy allows 5 times in 100); the
    simulator signs it when the step runs (round, epoch, observation time, signature)."""
    feed = rng.choice(keeper.list_feeds(ctx))
    cls = feeds.class_of(feed)
    p = keeper.policy(ctx, cls)
    value = _value(rng, keeper.state_of(ctx, feed), p, cls)
    operators = actors.signers["operator"]
    signers = rng.sample(range(len(operators)), p.quorum if rng.chance(93, 100) else SHORT_OF_QUORUM)
    age = 0 if rng.chance(95, 100) else p.maxAge + 1
    return rng.choice(operators), {"feed": feed, "value": value, "signers": signers, "age": age}


def draw_reject(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """The guardian rejects a queued move (of the rate feed when none is queued: refused)."""
    pending = [f for f in keeper.list_feeds(ctx) if keeper.state_of(ctx, f).pending]
    feed = rng.choice(pending) if pending else "rate"
    return actors.signers["guardian"][0], {"feed": feed}


SIM_OPS = (SimOp("report", 16, draw_report, after="stable.burn"),
           SimOp("reject", 3, draw_reject, after="oracle.report"))
