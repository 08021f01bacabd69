"""Asset records, schedules, payment history, indexes and the status machine.

State keys (canonical msgpack values; <id> is the asset id as 8 bytes big-endian):
    assets/next                   int    the next asset id (ids start at 1)
    assets/a/<id>                 map    the record (records.Asset)
    assets/s/<id>                 list   schedule rows [due s, principal, interest, paid]
    assets/h/<id><n 4B>           map    payment n (records.Payment)
    assets/o/<originator><id>     nil    index by originator
    assets/st/<status>\\x00<id>    nil    index by status
    assets/g/<grade 1B><id>       nil    index of valued assets by current grade (0..4 = A..E)
    assets/mark/<id>              map    the last revaluation (records.Mark)
    assets/poolmark/<pool 8B>     map    the sum of a pool's assets' marks (records.PoolMark)
Life cycle (MECHANISM.md, Assets): registered -> verified -> (pooled) -> repaid; or
overdue (an installment unpaid past its due time) -> defaulted (still unpaid at due +
grace, or the servicer says so) -> written_off, with recoveries. Overdue and default
follow block time through the due-time index (module "assets"): each tracked asset has
one entry, at the moment its status would next change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rwachain.modules.assets.records import NO_POOL_MARK, Asset, Mark, Payment, PoolMark
from rwachain.modules.core import dirty, due
from rwachain.modules.core.context import Ctx, record_of
from rwachain.modules.core.errors import InvalidState, NotFound

NEXT = b"assets/next"
REC = b"assets/a/"
SCHED = b"assets/s/"
HIST = b"assets/h/"
BY_ORIG = b"assets/o/"
BY_STATUS = b"assets/st/"
BY_GRADE = b"assets/g/"
MARK = b"assets/mark/"
POOL_MARK = b"assets/poolmark/"
MARK_TTL = 86_400  # s: a mark older than this is recomputed at the end of a block (due index "marks")
MARK_DUE = "marks"
OVERDUE_MARK_DUE = "marks-overdue"  # an overdue asset's mark: recomputed at the start of the next block
MAX_OVERDUE_REMARKS = 1_000  # overdue marks recomputed per block at most (the oldest first)
PARAMS = b"params/assets"
DUE = "assets"
_NIL = b"\xc0"

KINDS = ("receivable", "loan", "real_estate_income", "revenue_right", "electricity", "carbon_credit", "other")
STATUSES = ("registered", "verified", "pooled", "overdue", "defaulted", "written_off", "repaid")
PERFORMING = ("verified", "pooled")
VALUED = ("verified", "pooled", "overdue", "defaulted")  # carry a grade index entry
DAY = 86_400
DEFAULT_PARAMS = {"graceMax": {k: (90 if k == "receivable" else 180) * DAY for k in KINDS},
                  "maxInstallments": 360}
PARAM_UNITS = {"graceMax": {k: "duration" for k in KINDS}, "maxInstallments": "count"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""


POOL_EVENT = "assets.poolEvent"
"""Wiring slot (modules/core/wiring.py) for pooled assets: fn(ctx, asset, event, amount),
asset the records.Asset as stored after the event, event "repay" or "recover" (amount:
stable tokens now in the pool's account) or "writeOff" (amount: principal lost); offered
under the listening module's name."""


def notify_pool(ctx: Ctx, rec: Asset, event: str, amount: int) -> None:
    """Tell the modules listening on POOL_EVENT about a pooled asset's event."""
    if rec.pool is not None:
        for _, fn in ctx.wiring.each(POOL_EVENT):
            fn(ctx, rec, event, amount)


def outstanding_principal(sched: list[list[int]]) -> int:
    """Principal not yet repaid, base units (a payment covers an installment's interest first)."""
    return sum(p - max(0, paid - i) for _, p, i, paid in sched)


def idb(asset_id: int) -> bytes:
    return asset_id.to_bytes(8, "big")


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def get(ctx: Ctx, asset_id: int) -> Asset:
    rec = find(ctx, asset_id)
    if rec is None:
        raise NotFound(f"no asset {asset_id}")
    return rec


def find(ctx: Ctx, asset_id: int) -> Asset | None:
    return ctx.get_record(REC + idb(asset_id), Asset)


def each(ctx: Ctx) -> Iterator[Asset]:
    """Every asset, in id order."""
    for _, rec in ctx.iter_records(REC, Asset):
        yield rec


def schedule_of(ctx: Ctx, asset_id: int) -> list[list[int]]:
    return ctx.get_obj(SCHED + idb(asset_id), [])


def outstanding(sched: list[list[int]]) -> int:
    """Sum of unpaid installment amounts, base units."""
    return sum(p + i - paid for _, p, i, paid in sched)


def unpaid(sched: list[list[int]]) -> list[tuple[int, int]]:
    """(due time, unpaid amount) of every installment not fully paid, oldest first."""
    return [(d, p + i - paid) for d, p, i, paid in sched if paid < p + i]


def oldest_unpaid_due(sched: list[list[int]]) -> int | None:
    for d, p, i, paid in sched:
        if paid < p + i:
            return d
    return None


def history(ctx: Ctx, asset_id: int, skip: int = 0, limit: int | None = None) -> list[Payment]:
    """The asset's payments, oldest first: at most limit (None: all) after the first skip."""
    prefix = HIST + idb(asset_id)
    start = prefix + min(skip, (1 << 32) - 1).to_bytes(4, "big")  # numbered from 0, 4 bytes
    out = []
    for _, raw in ctx.iter_prefix_from(prefix, start):
        if len(out) == limit:
            break
        out.append(record_of(Payment, raw))
    return out


def ids_by(ctx: Ctx, prefix: bytes, after: int = 0, limit: int = 100) -> list[int]:
    """Asset ids under an index prefix, ascending, after a given id."""
    if after >= (1 << 64) - 1:
        return []
    out = []
    start = len(prefix)
    for k, _ in ctx.iter_prefix_from(prefix, prefix + idb(after + 1)):
        out.append(int.from_bytes(k[start:start + 8], "big"))
        if len(out) >= limit:
            break
    return out


def status_prefix(status: str) -> bytes:
    return BY_STATUS + status.encode() + b"\x00"


def grade_prefix(grade: int) -> bytes:
    return BY_GRADE + bytes([grade])


# ----- writes ---------------------------------------------------------------------------
def _store(ctx: Ctx, rec: Asset) -> None:
    ctx.put_record(REC + idb(rec.id), rec)


def create(ctx: Ctx, rec: Asset, sched: list[list[int]]) -> Asset:
    """Store a new record (its id given by the chain) and its schedule; the stored record."""
    asset_id = ctx.get_int(NEXT) or 1
    ctx.set_int(NEXT, asset_id + 1)
    rec = replace(rec, id=asset_id)
    ctx.set_obj(SCHED + idb(asset_id), sched)
    ctx.set(BY_ORIG + rec.originator + idb(asset_id), _NIL)
    ctx.set(status_prefix(rec.status) + idb(asset_id), _NIL)
    _store(ctx, rec)
    return rec


def restore(ctx: Ctx, rec: Asset, sched: list[list[int]], history: list[Payment]) -> None:
    """Store an asset as a genesis holds it: record, schedule, payment history, index
    entries and its status's due-time entry (at rec.check)."""
    b = idb(rec.id)
    _store(ctx, rec)
    ctx.set_obj(SCHED + b, sched)
    ctx.set(BY_ORIG + rec.originator + b, _NIL)
    ctx.set(status_prefix(rec.status) + b, _NIL)
    if rec.status in VALUED and rec.grade is not None:
        ctx.set(grade_prefix(rec.grade) + b, _NIL)
    for n, h in enumerate(history):
        ctx.put_record(HIST + b + n.to_bytes(4, "big"), h)
    if rec.check:
        due.schedule(ctx, DUE, rec.check, b)


def save(ctx: Ctx, rec: Asset, was: Asset | None = None) -> None:
    """Write the record and move its status and grade index entries from those of `was`
    (its stored version, when its status or grade changed)."""
    b = idb(rec.id)
    if was is not None and was.status != rec.status:
        ctx.delete(status_prefix(was.status) + b)
        ctx.set(status_prefix(rec.status) + b, _NIL)
    old_grade = was.grade if was is not None and was.grade is not None else rec.grade  # else rewritten below
    if old_grade is not None:
        ctx.delete(grade_prefix(old_grade) + b)
    if rec.status in VALUED and rec.grade is not None:
        ctx.set(grade_prefix(rec.grade) + b, _NIL)
    _store(ctx, rec)
    dirty.mark(ctx, b"asset/" + b)


def set_status(ctx: Ctx, rec: Asset, status: str, **attrs) -> Asset:
    """Move the asset to status, store it and emit assets.<status>; the new record."""
    new = replace(rec, status=status)
    save(ctx, new, was=rec)
    ctx.emit(f"assets.{status}", id=rec.id, previous=rec.status, **attrs)
    return new


def record_payment(ctx: Ctx, rec: Asset, sched: list[list[int]], kind: str, amount: int) -> Asset:
    """Apply amount to the oldest unpaid installments of sched (updated and stored), log it
    in the history and count it as repaid or recovered; the new record (not yet stored)."""
    left = amount
    for row in sched:
        if not left:
            break
        owed = row[1] + row[2] - row[3]
        take = owed if owed < left else left
        row[3] += take
        left -= take
    if left:
        raise InvalidState(f"amount {amount} exceeds the outstanding {amount - left}")
    b = idb(rec.id)
    ctx.set_obj(SCHED + b, sched)
    n = rec.payments
    ctx.put_record(HIST + b + n.to_bytes(4, "big"), Payment(kind, amount, ctx.block.time, ctx.block.height))
    if kind == "repay":
        return replace(rec, payments=n + 1, repaid=rec.repaid + amount)
    return replace(rec, payments=n + 1, recovered=rec.recovered + amount)


# ----- time: overdue and default ------------------------------------------------------------
def refresh(ctx: Ctx, rec: Asset, sched: list[list[int]]) -> Asset:
    """Move the status along block time: overdue past a due time, defaulted at due + grace,
    back to performing when nothing is past due. Emits an event per transition; the new
    record (stored when it moved)."""
    now = ctx.block.time
    d = oldest_unpaid_due(sched)
    if d is None:
        return rec
    back = "pooled" if rec.pool is not None else "verified"
    if rec.status in PERFORMING and now > d:
        rec = set_status(ctx, rec, "overdue", due=d)
    if rec.status == "overdue":
        if now >= d + rec.grace:
            rec = set_status(ctx, rec, "defaulted", reason="grace", due=d)
        elif now <= d:
            rec = set_status(ctx, rec, back, reason="cured")
    return rec


def next_check(rec: Asset, sched: list[list[int]]) -> int:
    """When the asset's status would next change by time alone (0: never): the second after
    its oldest unpaid due time while performing, that due time + grace while overdue."""
    d = oldest_unpaid_due(sched)
    if d is None:
        return 0
    if rec.status in PERFORMING:
        return d + 1
    if rec.status == "overdue":
        return d + rec.grace
    return 0


def track(ctx: Ctx, rec: Asset, sched: list[list[int]]) -> Asset:
    """Keep exactly one due-time entry, at next_check; the new record (stored when its
    check moved)."""
    nxt = next_check(rec, sched)
    if nxt != rec.check:
        if rec.check:
            due.cancel(ctx, DUE, rec.check, idb(rec.id))
        if nxt:
            due.schedule(ctx, DUE, nxt, idb(rec.id))
        rec = replace(rec, check=nxt)
        _store(ctx, rec)
    return rec


def on_time(ctx: Ctx) -> list[int]:
    """Begin-block: every asset whose next status time has come is refreshed and re-tracked;
    the ids of those whose status changed."""
    moved = []
    for _, item in due.take_due(ctx, DUE, ctx.block.time):
        rec = find(ctx, int.from_bytes(item, "big"))
        if rec is None:
            continue
        was = rec.status
        rec = replace(rec, check=0)
        sched = schedule_of(ctx, rec.id)
        rec = track(ctx, refresh(ctx, rec, sched), sched)
        _store(ctx, rec)
        if rec.status != was:
            moved.append(rec.id)
    return moved


def mark_due(status: str) -> str:
    """The due index of an asset's next mark: overdue assets move every second (the overdue
    ramp), so theirs is recomputed at the start of the next block; the others' after MARK_TTL."""
    return OVERDUE_MARK_DUE if status == "overdue" else MARK_DUE


def mark(ctx: Ctx, asset_id: int) -> Mark | None:
    """The asset's last revaluation (None: never valued)."""
    return ctx.get_record(MARK + idb(asset_id), Mark)


def write_mark(ctx: Ctx, rec: Asset, value: int, stale: bool) -> None:
    """Store an asset's mark at the block time, keep its pool's mark in step, and schedule the
    next recomputation (one due-time entry per asset): MARK_TTL later, or the next second for
    an overdue asset."""
    b = idb(rec.id)
    old = mark(ctx, rec.id)
    if old is not None and old.next:
        due.cancel(ctx, MARK_DUE, old.next, b)
        due.cancel(ctx, OVERDUE_MARK_DUE, old.next, b)
    nxt = 0
    if rec.status in VALUED:
        nxt = ctx.block.time + (1 if rec.status == "overdue" else MARK_TTL)
    new = Mark(value, ctx.block.time, stale, nxt)
    ctx.put_record(MARK + b, new)
    if nxt:
        due.schedule(ctx, mark_due(rec.status), nxt, b)
    if rec.pool is not None:
        _pool_mark_add(ctx, rec.pool, old, -1)
        _pool_mark_add(ctx, rec.pool, new, 1)


def restore_mark(ctx: Ctx, rec: Asset, m: Mark) -> None:
    """Store an asset's mark as a genesis holds it, with its next recomputation."""
    b = idb(rec.id)
    ctx.put_record(MARK + b, m)
    if m.next:
        due.schedule(ctx, mark_due(rec.status), m.next, b)


def _pool_mark_add(ctx: Ctx, pool: int, m: Mark | None, sign: int) -> None:
    if m is not None:
        set_pool_mark(ctx, pool, pool_mark(ctx, pool).plus(m, sign))


def pool_mark(ctx: Ctx, pool: int) -> PoolMark:
    """The sum of the pool's assets' marks and how many of them are stale."""
    return ctx.get_record(POOL_MARK + pool.to_bytes(8, "big"), PoolMark, NO_POOL_MARK)


def set_pool_mark(ctx: Ctx, pool: int, pm: PoolMark) -> None:
    ctx.put_record(POOL_MARK + pool.to_bytes(8, "big"), pm)


def pool_marks(ctx: Ctx) -> list[tuple[int, PoolMark]]:
    """(pool id, its mark) of every pool that has one, in id order."""
    n = len(POOL_MARK)
    return [(int.from_bytes(k[n:], "big"), pm) for k, pm in ctx.iter_records(POOL_MARK, PoolMark)]


def set_pool(ctx: Ctx, asset_id: int, pool: int | None, owner: bytes) -> None:
    """The tranches module moves an asset into (or out of) a pool: owner and status follow."""
    rec = get(ctx, asset_id)
    m = mark(ctx, asset_id)
    if rec.pool is not None:
        _pool_mark_add(ctx, rec.pool, m, -1)
    if pool is not None:
        _pool_mark_add(ctx, pool, m, 1)
    rec = replace(rec, pool=pool, owner=owner)
    if rec.status in PERFORMING:
        status = "pooled" if pool is not None else "verified"
        if status != rec.status:
            set_status(ctx, rec, status, pool=pool if pool is not None else 0)
            return
    save(ctx, rec)
