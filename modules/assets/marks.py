"""Asset values from oracle feeds: the inputs of one asset, explanations, and the
end-of-block revaluation of exactly the assets whose inputs changed.

An asset of grade G is valued with the feeds rate, spread/G, intensity/G, lgd/G and its
grade from grade/<id> (modules/oracle/feeds.py); the formula is modules/valuation/dcf.py.
A block revalues an asset when its record changed (dirty topic asset/<id>), when its
grade feed moved, when a per-grade feed of its grade moved, and every valued asset when
the benchmark rate moved, and an asset whose mark is a day old (keeper.MARK_TTL, through
the due-time index). Nothing else is revalued (assets/mark/<id>: records.Mark, read with
keeper.mark); a pool's mark is the sum of its assets' marks (keeper.pool_mark).

Overdue assets move every second (the overdue ramp of modules/valuation/dcf.py), so a day
old mark would lag them: their marks are recomputed at the start of every block
(revalue_overdue; due index keeper.OVERDUE_MARK_DUE), at the block time, before anything is
priced. The work is one valuation per overdue asset per block, at most
keeper.MAX_OVERDUE_REMARKS of them (the oldest marks first), whatever the time gap; an asset
stays overdue for its grace at most.
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.assets import keeper
from rwachain.modules.assets.records import Asset
from rwachain.modules.core import dirty, due
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidState, StaleFeed
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.valuation import dcf

DCF_STATUS = {"verified": "performing", "pooled": "performing", "overdue": "performing",
              "defaulted": "defaulted", "written_off": "written_off", "repaid": "performing"}


def feeds_for(asset_id: int, grade: int) -> list[str]:
    g = feeds.GRADES[grade]
    return [feeds.grade_feed(asset_id), "rate", f"spread/{g}", f"intensity/{g}", f"lgd/{g}"]


def inputs(ctx: Ctx, rec: Asset, overrides: dict | None = None) -> tuple[dcf.Inputs, dict, list[str]]:
    """(inputs, sources {feed: {value, round, observedAt, stale, frozen}}, problems).

    problems lists the feeds that are missing, frozen or stale at the block time; an action
    priced by this asset must refuse when it is not empty. overrides {feed: value} replaces
    feed values (the queued values, for the protocol's side of a price).
    """
    if rec.grade is None:
        raise InvalidState(f"asset {rec.id} is not verified: it has no grade and no value")
    gfv = oracle.read(ctx, feeds.grade_feed(rec.id))
    grade = gfv.value if gfv is not None else rec.grade
    if overrides and feeds.grade_feed(rec.id) in overrides:
        grade = overrides[feeds.grade_feed(rec.id)]
    sources: dict = {}
    problems: list[str] = []
    vals = {}
    for feed in feeds_for(rec.id, grade):
        fv = oracle.read(ctx, feed)
        if fv is None:
            problems.append(f"{feed}: missing")
            vals[feed] = 0
            continue
        sources[feed] = {"value": fv.value, "round": fv.round, "observedAt": fv.observed_at,
                         "stale": fv.stale, "frozen": fv.frozen}
        if fv.frozen:
            problems.append(f"{feed}: frozen")
        elif fv.stale:
            problems.append(f"{feed}: stale (observed at {fv.observed_at})")
        vals[feed] = overrides.get(feed, fv.value) if overrides else fv.value
    g = feeds.GRADES[grade]
    try:
        inp = dcf.Inputs(rate=vals["rate"], spread=vals[f"spread/{g}"], intensity=vals[f"intensity/{g}"],
                         lgd=vals[f"lgd/{g}"], grace=rec.grace)
    except ValueError as exc:  # a feed value the formula cannot take (policy bounds allow it)
        raise InvalidState(f"asset {rec.id} cannot be valued: {exc}") from None
    return inp, sources, problems


def value_now(ctx: Ctx, rec: Asset, sched: list[list[int]] | None = None,
              overrides: dict | None = None) -> tuple[int, list[str]]:
    """(value in stable base units at the block time, problems)."""
    if rec.status == "written_off":
        return 0, []
    inp, _, problems = inputs(ctx, rec, overrides)
    if sched is None:
        sched = keeper.schedule_of(ctx, rec.id)
    v = dcf.value(keeper.unpaid(sched), ctx.block.time, DCF_STATUS[rec.status], inp)
    return v, problems


def pending_overrides(ctx: Ctx, rec: Asset) -> dict:
    """{feed: queued value} for the feeds of this asset that have a queued move."""
    if rec.grade is None:
        return {}
    out = {}
    gfv = oracle.read(ctx, feeds.grade_feed(rec.id))
    for feed in feeds_for(rec.id, gfv.value if gfv is not None else rec.grade):
        fv = oracle.read(ctx, feed)
        if fv is not None and fv.pending is not None:
            out[feed] = fv.pending
    return out


def fresh_value(ctx: Ctx, rec: Asset) -> int:
    """The value for an action priced by it: fails closed on a stale, frozen or missing feed."""
    v, problems = value_now(ctx, rec)
    if problems:
        raise StaleFeed(f"asset {rec.id} cannot be priced: {'; '.join(problems)}")
    return v


def explain(ctx: Ctx, rec: Asset) -> dict:
    """The value with every input, the oracle rounds used and each installment's terms."""
    inp, sources, problems = inputs(ctx, rec)
    sched = keeper.schedule_of(ctx, rec.id)
    out = dcf.explain(keeper.unpaid(sched), ctx.block.time, DCF_STATUS[rec.status], inp)
    out["assetStatus"] = rec.status
    gfv = oracle.read(ctx, feeds.grade_feed(rec.id))
    out["grade"] = feeds.GRADES[gfv.value if gfv is not None else rec.grade]
    out["feeds"] = sources
    out["problems"] = problems
    return out


def _sync_grade(ctx: Ctx, asset_id: int) -> None:
    """Mirror an applied grade feed into the record and the grade index."""
    rec = keeper.find(ctx, asset_id)
    fv = oracle.read(ctx, feeds.grade_feed(asset_id))
    if rec is None or fv is None or rec.grade == fv.value:
        return
    keeper.save(ctx, replace(rec, grade=fv.value), was=rec)
    ctx.emit("assets.graded", id=asset_id, grade=feeds.GRADES[fv.value], previous=feeds.GRADES[rec.grade])


def revalue_dirty(ctx: Ctx) -> int:
    """End-block: revalue the assets whose inputs changed in this block; returns how many."""
    ids: set[int] = set()
    grades: set[int] = set()
    every = False
    topics = dirty.take(ctx)
    for t in topics:
        if t.startswith(b"feed/"):
            feed = t[5:].decode()
            cls = feeds.class_of(feed)
            if feed == "rate":
                every = True
            elif cls in feeds.PER_GRADE:
                grades.add(feeds.grade_index(feed[-1]))
            elif cls == "grade":
                aid = int(feed[6:])
                _sync_grade(ctx, aid)
                ids.add(aid)
    for t in dirty.take(ctx):  # _sync_grade marks its asset again
        if t.startswith(b"asset/"):
            ids.add(int.from_bytes(t[6:14], "big"))
    for t in topics:
        if t.startswith(b"asset/"):
            ids.add(int.from_bytes(t[6:14], "big"))
    n = len(keeper.BY_GRADE)
    if every:
        for k, _ in ctx.iter_prefix(keeper.BY_GRADE):
            ids.add(int.from_bytes(k[n + 1:n + 9], "big"))
    else:
        for g in sorted(grades):
            for k, _ in ctx.iter_prefix(keeper.grade_prefix(g)):
                ids.add(int.from_bytes(k[n + 1:n + 9], "big"))
    for _, item in due.take_due(ctx, keeper.MARK_DUE, ctx.block.time):  # marks past their time to live
        ids.add(int.from_bytes(item, "big"))
    count = 0
    for aid in sorted(ids):
        rec = keeper.find(ctx, aid)
        if rec is None or rec.grade is None:
            continue
        remark(ctx, rec)
        count += 1
    if count:
        ctx.emit("assets.revalued", count=count)
    return count


def remark(ctx: Ctx, rec: Asset) -> None:
    """Value the asset at the block time and store the mark (and its pool's)."""
    try:
        v, problems = value_now(ctx, rec)
    except InvalidState as exc:  # never fail a block: the mark says it could not be valued
        v, problems = 0, [exc.message]
    keeper.write_mark(ctx, rec, v, bool(problems))


def revalue_overdue(ctx: Ctx, moved: list[int]) -> int:
    """Begin-block, after the status times (keeper.on_time, which returns `moved`): remark the
    assets whose status just changed and the overdue assets whose mark is due (one block
    old), at most keeper.MAX_OVERDUE_REMARKS of the latter, oldest first; how many. So a pool
    priced in this block carries its overdue assets on the ramp at this block's time."""
    ids = set(moved)
    for _, item in due.take_due(ctx, keeper.OVERDUE_MARK_DUE, ctx.block.time, keeper.MAX_OVERDUE_REMARKS):
        ids.add(int.from_bytes(item, "big"))
    count = 0
    for aid in sorted(ids):
        rec = keeper.find(ctx, aid)
        if rec is not None and rec.grade is not None:
            remark(ctx, rec)
            count += 1
    return count
