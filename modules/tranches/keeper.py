"""Pools and their tranches: creation, the ledger, payouts through the per-unit index.

State keys (canonical msgpack values; <pid> is the pool id as 8 bytes big-endian):
    tranches/next                 int   the next pool id (ids start at 1)
    tranches/pool/<pid>           map   the pool: a Pool with its Tranches, senior first
                                        (modules/tranches/records.py lists their fields)
    tranches/ckpt/<denom>\\x00<holder>  int  the holder's index checkpoint (ray)
    tranches/owed/<denom>\\x00<holder>  int  settled and not yet claimed, in RAY x base units
                                        (exact: nothing is rounded until a claim pays)
    tranches/live/<denom>         nil   the units above the junior of active pools that have
                                        had a scheduled repayment (what the reserve bids on;
                                        kept in step by the keeper, so no hook scans pools)
A tranche's units are the bank denomination unit/p<pid>/t<k> (t0 the senior). A holder's
payout is units x (index - checkpoint), in RAY x base units: settled (added to owed) before
its balance changes and on claim, so a repayment touches the pool record only, whatever the
number of holders. A claim pays floor(owed / RAY) and keeps the remainder, so exactly
allocated x RAY = claimed x RAY + sum of holders' owed (settled or not) + carry. The retention (min(junior face, 5 % of par), in junior units) is held by the
pool's account and counted as the originator's for payouts; it is released to the
originator when the pool closes (every asset repaid or written off). Units held by module
accounts (vault, reserve, treasury, insurance fund) are paid what they earn in the block the
cash is allocated (collect_for_modules), so nothing stays owed to them.
Pools are read and written as records (get, find, put): a function that changes a pool takes
the record and returns the new one, and the caller stores it.
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets.records import Asset
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.args import U64_MAX, U64_TEXT
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import InvalidState, NotFound
from rwachain.modules.core.fixed import RAY
from rwachain.modules.stable import keeper as stable
from rwachain.modules.tranches import waterfall
from rwachain.modules.tranches.records import Pool, Tranche

NEXT = b"tranches/next"
POOL = b"tranches/pool/"
CKPT = b"tranches/ckpt/"
OWED = b"tranches/owed/"
LIVE = b"tranches/live/"
UNIT_PREFIX = "unit/p"
MAX_TRANCHES = 8
UNIT_PATTERN = rf"^unit/p{U64_TEXT}/t[0-{MAX_TRANCHES - 1}]$"
"""A unit denomination as a call argument: a pool id below 2^64 and a tranche index
below MAX_TRANCHES, both canonical decimal."""
RETENTION_PER_MILLE = 50  # 5 % of par, at most the junior face


def pid_b(pool_id: int) -> bytes:
    return pool_id.to_bytes(8, "big")


def denom_of(pool_id: int, k: int) -> str:
    return f"{UNIT_PREFIX}{pool_id}/t{k}"


def parse_denom(denom: str) -> tuple[int, int] | None:
    """(pool id, tranche index) of a unit denomination, or None (also for a pool id that
    is not canonical or not below 2^64: no pool can have it)."""
    if not denom.startswith(UNIT_PREFIX):
        return None
    try:
        p, t = denom[len(UNIT_PREFIX):].split("/t")
        pid, k = int(p), int(t)
    except ValueError:
        return None
    if pid > U64_MAX or denom != denom_of(pid, k):
        return None
    return pid, k


def pool_account(pool_id: int) -> bytes:
    return module_address(f"pool/{pool_id}")


def get(ctx: Ctx, pool_id: int) -> Pool:
    """The pool, or NotFound."""
    p = find(ctx, pool_id)
    if p is None:
        raise NotFound(f"no pool {pool_id}")
    return p


def find(ctx: Ctx, pool_id: int) -> Pool | None:
    """The pool, or None."""
    return ctx.get_record(POOL + pid_b(pool_id), Pool)


def put(ctx: Ctx, pool: Pool) -> None:
    """Store the pool under its id."""
    ctx.put_record(POOL + pid_b(pool.id), pool)


def ids(ctx: Ctx, after: int = 0, limit: int = 100) -> list[int]:
    if after >= (1 << 64) - 1:
        return []
    out = []
    n = len(POOL)
    for k, _ in ctx.iter_prefix_from(POOL, POOL + pid_b(after + 1)):
        out.append(int.from_bytes(k[n:], "big"))
        if len(out) >= limit:
            break
    return out


# ----- creation -------------------------------------------------------------------------------
def create(ctx: Ctx, originator: bytes, asset_ids: list[int], specs: list[tuple[int, int]], unit_size: int) -> int:
    """A pool of the originator's verified assets with tranches [(face, rate)] senior first."""
    if len(set(asset_ids)) != len(asset_ids):
        raise InvalidState("an asset is listed twice")
    par = 0
    for aid in asset_ids:
        rec = assets.get(ctx, aid)
        if rec.originator != originator:
            raise InvalidState(f"asset {aid} belongs to another originator")
        if rec.status != "verified":
            raise InvalidState(f"asset {aid} is {rec.status}; only verified assets enter a pool")
        par += assets.outstanding_principal(assets.schedule_of(ctx, aid))
    if par == 0:
        raise InvalidState("the assets' outstanding principal (par) is 0: nothing to pool")
    faces = [f for f, _ in specs]
    if sum(faces) != par:
        raise InvalidState(f"tranche faces sum to {sum(faces)}; the assets' outstanding principal (par) is {par}")
    for k, f in enumerate(faces):
        if f == 0 or f % unit_size:
            raise InvalidState(f"tranche {k}: face {f} is not a positive multiple of the unit size {unit_size}")
    pool_id = ctx.get_int(NEXT) or 1
    ctx.set_int(NEXT, pool_id + 1)
    acct = pool_account(pool_id)
    bank.register_module_account(ctx, acct, f"pool/{pool_id}")
    junior_face = faces[-1]
    retention = min(junior_face, par * RETENTION_PER_MILLE // 1000)
    retained_units = -(-retention // unit_size)
    tranches = []
    for k, (face, rate) in enumerate(specs):
        denom = denom_of(pool_id, k)
        bank.register_denom(ctx, denom, f"P{pool_id}T{k}", 0, "unit")
        tranches.append(Tranche(denom=denom, face=face, outstanding=face, rate=rate, interest=0,
                                units=face // unit_size, retained=retained_units if k == len(specs) - 1 else 0,
                                allocated=0, claimed=0, index=0, carry=0, writtenDown=0, covered=0))
    now = ctx.block.time
    put(ctx, Pool(id=pool_id, par=par, unitSize=unit_size, cashReceived=0, unallocated=0, repayments=0, coverOwed=0,
                  createdAt=now, lastAccrual=now, originator=originator, account=acct, assets=tuple(asset_ids),
                  status="active", tranches=tuple(tranches)))
    for t in tranches:
        if t.units - t.retained:
            bank.mint(ctx, originator, t.denom, t.units - t.retained)
        if t.retained:
            bank.mint(ctx, acct, t.denom, t.retained)
    for aid in asset_ids:
        assets.set_pool(ctx, aid, pool_id, acct)
    ctx.emit("tranches.created", pool=pool_id, originator=originator, par=par, tranches=len(specs),
             assets=len(asset_ids), retainedUnits=retained_units)
    return pool_id


# ----- payouts ----------------------------------------------------------------------------------
def _payout_key(t: Tranche, holder: bytes) -> bytes:
    """The suffix of the holder's checkpoint and owed keys for tranche t."""
    return t.denom.encode() + b"\x00" + holder


def _holder_units(ctx: Ctx, pool: Pool, k: int, holder: bytes) -> int:
    t = pool.tranches[k]
    units = bank.balance(ctx, holder, t.denom)
    if holder == pool.originator:
        units += t.retained
    return units


def settle(ctx: Ctx, pool: Pool, k: int, holder: bytes) -> int:
    """Add the holder's accrued payout of tranche k to owed; returns owed (RAY x base units)."""
    t = pool.tranches[k]
    key = _payout_key(t, holder)
    if holder == pool.account:  # the retention counts as the originator's
        return 0
    ckpt = ctx.get_int(CKPT + key)
    owed = ctx.get_int(OWED + key)
    if t.index != ckpt:
        owed += _holder_units(ctx, pool, k, holder) * (t.index - ckpt)
        ctx.set_int(CKPT + key, t.index)
        ctx.set_int(OWED + key, owed)
    return owed


def owed_ray(ctx: Ctx, pool: Pool, k: int, holder: bytes) -> int:
    """What tranche k owes the holder, settled or not, in RAY x base units (exact)."""
    t = pool.tranches[k]
    key = _payout_key(t, holder)
    if holder == pool.account:
        return 0
    ckpt = ctx.get_int(CKPT + key)
    return ctx.get_int(OWED + key) + _holder_units(ctx, pool, k, holder) * (t.index - ckpt)


def claimable(ctx: Ctx, pool: Pool, k: int, holder: bytes) -> int:
    """Stable base units the holder can claim now (owed, floored)."""
    return owed_ray(ctx, pool, k, holder) // RAY


def _pay_out(ctx: Ctx, pool: Pool, k: int, holder: bytes) -> tuple[Pool, int]:
    """Settle and pay the holder what tranche k owes it (floored; the remainder stays owed),
    in the stable token from the pool's account. Returns the pool with the payment claimed
    (the caller stores it) and the payment."""
    owed = settle(ctx, pool, k, holder)
    pay = owed // RAY
    if pay:
        t = pool.tranches[k]
        ctx.set_int(OWED + _payout_key(t, holder), owed - pay * RAY)
        pool = pool.with_tranche(k, replace(t, claimed=t.claimed + pay))
        bank.transfer(ctx, pool.account, holder, _stable(ctx), pay)
    return pool, pay


def claim(ctx: Ctx, pool_id: int, k: int, holder: bytes) -> int:
    """Pay the holder what tranche k owes it, in the stable token from the pool's account."""
    pool = get(ctx, pool_id)
    if not 0 <= k < len(pool.tranches):
        raise NotFound(f"pool {pool_id} has no tranche {k}")
    pool, pay = _pay_out(ctx, pool, k, holder)
    if pay:
        put(ctx, pool)
    return pay


def module_holders(ctx: Ctx) -> list[bytes]:
    """The module accounts of the App (its wiring): they collect their payouts at allocation."""
    return [module_address(n) for n in ctx.wiring.accounts]


def collect_for_modules(ctx: Ctx, pool: Pool) -> Pool:
    """Pay the module accounts (vault, reserve, treasury, insurance fund) what the pool's
    units earn them, in the block the cash is allocated: at most 4 accounts per tranche,
    whatever the number of holders. Returns the pool with what they claimed (the caller
    stores it)."""
    for k, t in enumerate(pool.tranches):
        for holder in module_holders(ctx):
            if bank.balance(ctx, holder, t.denom) or ctx.get_int(OWED + _payout_key(t, holder)) >= RAY:
                pool, paid = _pay_out(ctx, pool, k, holder)
                if paid:
                    ctx.emit("tranches.collected", pool=pool.id, tranche=k, holder=holder, amount=paid)
    return pool


def module_owed(ctx: Ctx, pool: Pool) -> int:
    """Stable base units the pool owes module accounts and has not paid (0 after every block)."""
    return sum(claimable(ctx, pool, k, h) for k in range(len(pool.tranches)) for h in module_holders(ctx))


def is_live(pool: Pool) -> bool:
    """Whether the pool's units above the junior are live: it is active and has had a
    scheduled repayment."""
    return pool.status == "active" and pool.repayments > 0


def index_live(ctx: Ctx, pool: Pool) -> None:
    """Keep the live-unit index in step with the pool's status and repayments."""
    live = is_live(pool)
    for t in pool.tranches[:-1]:
        if live:
            ctx.set(LIVE + t.denom.encode(), b"\xc0")
        else:
            ctx.delete(LIVE + t.denom.encode())


def live_units(ctx: Ctx) -> list[str]:
    """Units above the junior of active pools with a scheduled repayment, in key order."""
    return [k[len(LIVE):].decode() for k, _ in ctx.iter_prefix(LIVE)]


def _stable(ctx: Ctx) -> str:
    return stable.info(ctx).denom


stable_denom = _stable

# Wiring slots (modules/core/wiring.py) the tranches module needs; the insurance fund offers them.
COVER = "tranches.cover"
"""cover(ctx, pool_id, need) -> paid: pays up to need of a senior loss into the pool's account."""
COVER_REPAID = "tranches.coverRepaid"
"""repaid(ctx, source, amount): a recovery in the pool's account (source) repays the covers."""


def on_units_move(ctx: Ctx, denom: str, holders: list[bytes]) -> None:
    """Bank hook: settle each holder's payout before its unit balance changes."""
    pk = parse_denom(denom)
    if pk is None:
        return
    pool = find(ctx, pk[0])
    if pool is None:  # units being minted at creation: nothing accrued yet
        return
    for h in holders:
        settle(ctx, pool, pk[1], h)


# ----- cash and losses from the pool's assets ----------------------------------------------
def on_asset_event(ctx: Ctx, rec: Asset, event: str, amount: int) -> None:
    """Assets hook: a pooled asset's repayment or recovery runs the waterfall (a recovery
    repays the fund's cover first; what the seniors leave repays it before the junior); a
    write-off writes down what the pool is short (at most the principal lost), junior first."""
    pool = waterfall.accrue(get(ctx, rec.pool), ctx.block.time)
    if event in ("repay", "recover"):
        pool = _take_cash(ctx, pool, rec.id, event, amount)
    elif event == "writeOff":
        pool = _write_off(ctx, pool, rec.id, amount)
    pool = collect_for_modules(ctx, pool)
    put(ctx, pool)
    _maybe_close(ctx, pool)


def _take_cash(ctx: Ctx, pool: Pool, asset_id: int, event: str, amount: int) -> Pool:
    """A repayment or recovery of amount (stable base units, in the pool's account) run
    through the waterfall; returns the new pool."""
    if event == "recover":  # recoveries repay the insurance fund first
        pool, back = _repay_cover(ctx, pool, asset_id, amount)
        amount -= back
    else:  # a scheduled repayment: the pool's non-junior units become eligible
        pool = replace(pool, repayments=pool.repayments + 1)
        if pool.repayments == 1:
            index_live(ctx, pool)
    cash = pool.unallocated + amount
    pool, split = waterfall.distribute(replace(pool, unallocated=0), cash, pool.coverOwed)
    ctx.emit("tranches.waterfall", pool=pool.id, asset=asset_id, cash=cash,
             allocated=",".join(str(x) for x in split))
    back = cash - sum(split)  # what the seniors leave repays the fund's cover before the junior
    pool = replace(pool, cashReceived=pool.cashReceived + amount - back)
    return _repay_cover(ctx, pool, asset_id, back)[0]


def _write_off(ctx: Ctx, pool: Pool, asset_id: int, amount: int) -> Pool:
    """A write-off of amount principal: the shortfall written down junior first, and what
    reaches the seniors covered by the insurance fund as far as it pays; returns the new pool."""
    pool, downs = waterfall.write_down(pool, waterfall.shortfall(pool, amount, collateral(ctx, pool)))
    ctx.emit("tranches.writeDown", pool=pool.id, asset=asset_id, loss=amount,
             writeDowns=",".join(str(x) for x in downs))
    senior = sum(downs[:-1])
    cover = ctx.wiring.get(COVER)
    if senior and cover is not None:  # the junior face is gone: the insurance fund covers the seniors
        paid = cover(ctx, pool.id, senior)
        if paid:
            pool, split = waterfall.cover(pool, downs, paid)
            pool = replace(pool, cashReceived=pool.cashReceived + paid, coverOwed=pool.coverOwed + paid)
            ctx.emit("tranches.covered", pool=pool.id, asset=asset_id, paid=paid,
                     allocated=",".join(str(x) for x in split))
    return pool


def collateral(ctx: Ctx, pool: Pool) -> int:
    """What backs the faces, base units: the outstanding principal of the pool's assets that are
    not written off, plus its cash not yet allocated."""
    held = pool.unallocated
    for aid in pool.assets:
        if assets.get(ctx, aid).status != "written_off":
            held += assets.outstanding_principal(assets.schedule_of(ctx, aid))
    return held


def _repay_cover(ctx: Ctx, pool: Pool, asset_id: int, amount: int) -> tuple[Pool, int]:
    """Pay up to amount (stable base units in the pool's account) to the insurance fund
    against the cover the pool owes it; returns the new pool and what was paid."""
    back = min(amount, pool.coverOwed)
    if back:
        pool = replace(pool, coverOwed=pool.coverOwed - back)
        ctx.wiring.get(COVER_REPAID)(ctx, pool.account, back)
        ctx.emit("tranches.coverRepaid", pool=pool.id, asset=asset_id, amount=back)
    return pool, back


def _maybe_close(ctx: Ctx, pool: Pool) -> None:
    """Close a stored active pool once every asset is repaid or written off: the retention
    goes to the originator."""
    if pool.status != "active":
        return
    for aid in pool.assets:
        if assets.get(ctx, aid).status not in ("repaid", "written_off"):
            return
    junior = pool.junior
    t = pool.tranches[junior]
    settle(ctx, pool, junior, pool.originator)
    pool = replace(pool.with_tranche(junior, replace(t, retained=0)), status="closed")
    put(ctx, pool)
    index_live(ctx, pool)
    if t.retained:
        bank.transfer(ctx, pool.account, pool.originator, t.denom, t.retained)
    ctx.emit("tranches.closed", pool=pool.id, released=t.retained)


# ----- invariants ---------------------------------------------------------------------------------
def check_pool(ctx: Ctx, pool: Pool) -> list[str]:
    """received = allocated + unallocated; the pool's account holds exactly what is not yet
    claimed (unallocated + allocated - claimed, stable base units: value in = value out +
    value held); per tranche, allocated covers claimed plus what holders can claim (the index
    floors: at most one base unit per holder stays behind); nothing claimable is left owed
    to a module account."""
    out = []
    alloc = sum(t.allocated for t in pool.tranches)
    if pool.cashReceived != alloc + pool.unallocated:
        out.append(f"pool {pool.id}: received {pool.cashReceived} != allocated {alloc} + unallocated "
                   f"{pool.unallocated}")
    held = bank.balance(ctx, pool.account, _stable(ctx))
    unclaimed = pool.unallocated + sum(t.allocated - t.claimed for t in pool.tranches)
    if held != unclaimed:
        out.append(f"pool {pool.id}: its account holds {held}, the ledger's unclaimed cash is {unclaimed}")
    for k, t in enumerate(pool.tranches):
        if t.index * t.units + t.carry != t.allocated * RAY:
            out.append(f"pool {pool.id} tranche {k}: the index does not account for the allocated cash")
    stranded = module_owed(ctx, pool)
    if stranded:
        out.append(f"pool {pool.id}: {stranded} owed to module accounts and not collected")
    return out
