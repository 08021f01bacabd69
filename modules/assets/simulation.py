"""The assets' random operations for the seeded simulation (modules/core/simops.py): the
originator registers assets (one time in twenty a holder without the role tries), the
verifier grades them (one in twenty by the originator: refused), the servicer repays,
marks defaults, writes off and recovers."""

from __future__ import annotations

from rwachain.modules.assets import keeper
from rwachain.modules.assets.records import Asset
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.oracle import feeds

DAY = 86_400  # s
STABLE_UNIT = 10**6  # base units of one stable token (6 decimals)
ASSETS_READ = 40  # assets of each status read per draw
ASSET_KINDS = ("receivable", "loan", "revenue_right", "electricity", "other")
SCHEDULES = ("equal", "bullet", "interest_only")


def _pick(rng, ctx: Ctx, *statuses: str) -> Asset | None:
    """A random asset among the first ASSETS_READ of each status; None if there is none."""
    ids = [i for s in statuses for i in keeper.ids_by(ctx, keeper.status_prefix(s), 0, ASSETS_READ)]
    return keeper.get(ctx, rng.choice(ids)) if ids else None


def draw_register(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """1,000..50,000 stable tokens at 4..16 % a year, paid monthly from now."""
    actor = actors.signers["originator"][0] if rng.chance(95, 100) else rng.choice(actors.signers["holder"])
    kind = rng.choice(ASSET_KINDS)
    sched = rng.choice(SCHEDULES)
    count = rng.randint(1, 12) if sched != "bullet" else rng.randint(1, 6)
    return actor, {
        "kind": kind, "principal": rng.randint(1, 50) * 1_000 * STABLE_UNIT,
        "rate": rng.randint(40, 160) * WAD // 1000, "schedule": sched, "start": ctx.block.time,
        "period": 30 * DAY, "count": count, "installments": [], "grace": rng.choice((15, 30, 60)) * DAY,
        "docHash": rng.randbytes(32)}


def draw_verify(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    a = _pick(rng, ctx, "registered")
    if a is None:
        return None
    actor = actors.signers["verifier"][0] if rng.chance(95, 100) else actors.signers["originator"][0]
    return actor, {"id": a.id, "grade": rng.choice(feeds.GRADES)}


def draw_repay(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    a = _pick(rng, ctx, "verified", "pooled", "overdue")
    if a is None:
        return None
    owed = keeper.outstanding(keeper.schedule_of(ctx, a.id))
    return actors.signers["servicer"][0], {"id": a.id, "amount": rng.amount(owed)}


def draw_mark_default(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    a = _pick(rng, ctx, "verified", "pooled", "overdue")
    return None if a is None else (actors.signers["servicer"][0], {"id": a.id})


def draw_write_off(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    a = _pick(rng, ctx, "defaulted")
    return None if a is None else (actors.signers["servicer"][0], {"id": a.id})


def draw_recover(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    a = _pick(rng, ctx, "defaulted", "written_off")
    if a is None:
        return None
    owed = keeper.outstanding(keeper.schedule_of(ctx, a.id))
    return actors.signers["servicer"][0], {"id": a.id, "amount": rng.amount(owed // 3)}


SIM_OPS = (SimOp("register", 2, draw_register, after="bank.distribute"),
           SimOp("verify", 4, draw_verify, after="assets.register"),
           SimOp("repay", 16, draw_repay, after="assets.verify"),
           SimOp("markDefault", 3, draw_mark_default, after="assets.repay"),
           SimOp("writeOff", 4, draw_write_off, after="assets.markDefault"),
           SimOp("recover", 4, draw_recover, after="assets.writeOff"))
