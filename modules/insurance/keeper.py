"""The insurance fund's state: its keys, parameters, the fund and each staker's record,
bonded stake, pending rewards, slashes and their claims, and the governance snapshots
(the calls that change them are modules/insurance/module.py's). The only code that reads
and writes insurance/ keys; the records' fields are modules/insurance/records.py's.

State keys (records.py names each map's record):
    insurance/fund                  Fund
    insurance/stake/<addr>          Stake
    insurance/index/<denom>         int  rewards per bonded share, ray (x 10^27)
    insurance/unbond/<addr><release 8B>  int  unbonding shares, released at that time
    insurance/slash/<gen 8B>        Slash
    insurance/cover/<pool account><gen 8B>  int  cover of that slash not yet recovered
    insurance/claim/<addr><gen 8B>  Claim  the account's part of a slash
    insurance/era/<era 8B>          EraEnd  at the end of an era
    insurance/snapshot/<id 8B>      Snapshot
    insurance/votes/<addr><id 8B>   Bonded  bonded shares held up to snapshot id
    params/insurance                {unbonding (s), feeShare (wad)}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rwachain.modules.core import timelock
from rwachain.modules.core.context import Ctx, record_of
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.fixed import WAD
from rwachain.modules.insurance.records import (
    NO_STAKE,
    Bonded,
    Claim,
    EraEnd,
    Fund,
    Slash,
    Snapshot,
    Stake,
    read_only,
)
from rwachain.modules.tranches import keeper as tranches

FUND = module_address("insurance")
FUND_KEY = b"insurance/fund"
STAKE = b"insurance/stake/"
INDEX = b"insurance/index/"
UNBOND = b"insurance/unbond/"
SLASH = b"insurance/slash/"
COVER = b"insurance/cover/"
CLAIM = b"insurance/claim/"
ERA = b"insurance/era/"
SNAPSHOT = b"insurance/snapshot/"
VOTES = b"insurance/votes/"
PARAMS = b"params/insurance"
RAY = 10**27
REMNANT = 10**6  # a slash that would leave less than 1/REMNANT of the fund's native takes all
DEFAULT_PARAMS = {"unbonding": 200 * 86_400,  # > 180 days of grace + a default window
                  "feeShare": WAD // 5}  # 20 % of fees to stakers, 80 % stay with the reserve
PARAM_UNITS = {"unbonding": "duration", "feeShare": "ratio"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""
EMPTY_FUND = Fund(0, 0, 0, 0, 0, 0)
NO_VOTES = Bonded(0, -1)
"""An account's bonded shares before its first change: none, in no era."""


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


# ----- the fund ---------------------------------------------------------------------------------
def fund(ctx: Ctx) -> Fund:
    return ctx.get_record(FUND_KEY, Fund, EMPTY_FUND)


def put_fund(ctx: Ctx, f: Fund) -> None:
    ctx.put_record(FUND_KEY, f)


def total(ctx: Ctx) -> int:
    """All bonded stake, native base units."""
    f = fund(ctx)
    return f.value(f.bonded)


def indexes(ctx: Ctx) -> dict[str, int]:
    """The reward index of every denomination (ray per bonded share)."""
    return {k[len(INDEX):].decode(): ctx.get_int(k) for k, _ in ctx.iter_prefix(INDEX)}


def reward(ctx: Ctx, denom: str, amount: int) -> bool:
    """Add amount (already in the fund) to the bonded shares' index; False if none is bonded."""
    f = fund(ctx)
    if not f.bonded:
        return False
    key = INDEX + denom.encode()
    ctx.set_int(key, ctx.get_int(key) + amount * RAY // f.bonded)
    return True


# ----- a staker's record ------------------------------------------------------------------------
def stored(ctx: Ctx, addr: bytes) -> Stake:
    """addr's record as stored (NO_STAKE if none): not brought to the fund's era or slashes."""
    return ctx.get_record(STAKE + addr, Stake, NO_STAKE)


def put_stake(ctx: Ctx, addr: bytes, rec: Stake) -> None:
    ctx.put_record(STAKE + addr, rec)


def stakers(ctx: Ctx) -> Iterator[bytes]:
    """Every account with a record, in key order."""
    for k, _ in ctx.iter_prefix(STAKE):
        yield k[len(STAKE):]


def record(ctx: Ctx, addr: bytes) -> Stake:
    """addr's record as of now: an earlier era's shares are gone (nothing is written)."""
    rec, _, _ = current(ctx, addr, fund(ctx))
    return rec


def settle(rec: Stake, idx: dict[str, int]) -> Stake:
    """rec with the fee rewards accrued since its index snapshot (snap) moved into owed."""
    snap, owed = dict(rec.snap), dict(rec.owed)
    for d, i in idx.items():
        earned = rec.shares * (i - snap.get(d, 0)) // RAY
        if earned:
            owed[d] = owed.get(d, 0) + earned
        snap[d] = i
    return replace(rec, snap=read_only(snap), owed=read_only(owed))


def unbonding(ctx: Ctx, addr: bytes) -> list[tuple[int, int]]:
    """addr's unbonding shares: (release time, shares), in release order."""
    return timelock.entries(ctx, UNBOND, addr)


def _claims_until(rec: Stake, gen: int) -> dict[int, Claim]:
    """The claims of rec's shares on the slashes from rec.gen up to gen (excluded)."""
    return {g: Claim(rec.held, 0) for g in range(rec.gen, gen)} if rec.held else {}


def current(ctx: Ctx, addr: bytes, f: Fund) -> tuple[Stake, dict[int, Claim], bool]:
    """addr's record brought to the fund's era and slash count, without writing: (record,
    new claims on slashes, whether an earlier era's unbondings are to be cleared)."""
    rec = stored(ctx, addr)
    if rec.held is None:
        rec = replace(rec, held=rec.shares + sum(sh for _, sh in unbonding(ctx, addr)))
    if rec.era == f.era:
        return replace(rec, gen=f.slashes), _claims_until(rec, f.slashes), False
    end = ctx.get_record(ERA + _u64(rec.era), EraEnd)  # the era ended with a full slash
    rec = settle(rec, end.index)
    claims = _claims_until(rec, end.slashes)
    return replace(rec, shares=0, held=0, era=f.era, gen=f.slashes, snap=read_only(indexes(ctx))), claims, True


def sync(ctx: Ctx, addr: bytes, f: Fund) -> Stake:
    """addr's record brought up to date (not written): claims on the slashes its shares bore
    recorded, an earlier era's leftovers cleared, fee rewards settled."""
    before = stored(ctx, addr)
    rec, claims, clear = current(ctx, addr, f)
    for g, c in claims.items():
        put_claim(ctx, addr, g, c)
    if clear:  # an earlier era's unbondings are worth nothing
        for k, _ in list(ctx.iter_prefix(UNBOND + addr)):
            ctx.delete(k)
    if rec.shares != before.shares:
        _log_bonded(ctx, addr, before, f)
        rec = replace(rec, since=f.snapshots)
    return settle(rec, indexes(ctx))


def rebond(ctx: Ctx, addr: bytes, rec: Stake, f: Fund, bonded: int, held: int = 0) -> Stake:
    """rec with bonded more bonded shares and held more shares in all (negative: fewer);
    its bonded shares until now are kept for the snapshots taken since its last change."""
    _log_bonded(ctx, addr, rec, f)
    return replace(rec, shares=rec.shares + bonded, held=rec.held + held, since=f.snapshots)


def save(ctx: Ctx, addr: bytes, rec: Stake, f: Fund) -> None:
    """Write addr's record and the fund."""
    put_stake(ctx, addr, rec)
    put_fund(ctx, f)


def stake_of(ctx: Ctx, addr: bytes) -> int:
    """Bonded stake of addr, native base units."""
    return fund(ctx).value(record(ctx, addr).shares)


def pending(ctx: Ctx, addr: bytes) -> dict[str, int]:
    """Rewards addr can claim now (fee share and cover recoveries), by denomination."""
    rec, claims, _ = current(ctx, addr, fund(ctx))
    rec = settle(rec, indexes(ctx))
    out = {d: a for d, a in rec.owed.items() if a}
    due = sum(recovery_due(ctx, g, c)[1] for g, c in [*claims_of(ctx, addr), *claims.items()])
    if due:
        stable = tranches.stable_denom(ctx)
        out[stable] = out.get(stable, 0) + due
    return out


# ----- slashes, covers and claims ---------------------------------------------------------------
def slash(ctx: Ctx, gen: int) -> Slash:
    return Slash.from_stored(ctx.get_obj(SLASH + _u64(gen)))


def put_slash(ctx: Ctx, gen: int, s: Slash) -> None:
    ctx.put_record(SLASH + _u64(gen), s)


def slashes(ctx: Ctx) -> Iterator[tuple[int, Slash]]:
    """(gen, slash) of every slash, oldest first."""
    for k, s in ctx.iter_records(SLASH, Slash):
        yield int.from_bytes(k[len(SLASH):], "big"), s


def end_era(ctx: Ctx, f: Fund) -> None:
    """Keep the reward indexes and the slash count at the end of f's era."""
    ctx.put_record(ERA + _u64(f.era), EraEnd(read_only(indexes(ctx)), f.slashes))


def covers_of(ctx: Ctx, account: bytes) -> Iterator[tuple[int, int]]:
    """(gen, cover not yet recovered) of each slash that covered the pool whose account this
    is, oldest first (each read when reached: the caller may stop early and write as it goes)."""
    n = len(COVER) + 20
    for k, _ in list(ctx.iter_prefix(COVER + account)):
        yield int.from_bytes(k[n:], "big"), ctx.get_int(k)


def set_cover(ctx: Ctx, account: bytes, gen: int, amount: int) -> None:
    """Cover of slash gen not yet recovered (stable base units; 0 removes it)."""
    ctx.set_int(COVER + account + _u64(gen), amount)


def claims_of(ctx: Ctx, addr: bytes) -> list[tuple[int, Claim]]:
    """(gen, claim) of addr's recorded claims, oldest first."""
    n = len(CLAIM) + 20
    return [(int.from_bytes(k[n:], "big"), c) for k, c in ctx.iter_records(CLAIM + addr, Claim)]


def put_claim(ctx: Ctx, addr: bytes, gen: int, c: Claim) -> None:
    ctx.put_record(CLAIM + addr + _u64(gen), c)


def delete_claim(ctx: Ctx, addr: bytes, gen: int) -> None:
    ctx.delete(CLAIM + addr + _u64(gen))


def recovery_due(ctx: Ctx, gen: int, claim: Claim) -> tuple[Slash, int]:
    """(the slash record, what claim is owed of its recoveries now, stable base units)."""
    s = slash(ctx, gen)
    return s, claim.shares * s.recovered // s.shares - claim.paid


# ----- governance's snapshots -------------------------------------------------------------------
def _log_bonded(ctx: Ctx, addr: bytes, before: Stake, f: Fund) -> None:
    """Keep addr's bonded shares as they were for the snapshots taken since its last change."""
    if before.since < f.snapshots:
        ctx.put_record(VOTES + addr + _u64(f.snapshots), Bonded(before.shares, before.era))


def snapshot(ctx: Ctx) -> int:
    """Take a snapshot of bonded stake now; its id (1, 2, ...)."""
    f = fund(ctx)
    f = replace(f, snapshots=f.snapshots + 1)
    ctx.put_record(SNAPSHOT + _u64(f.snapshots), f.snapshot())
    put_fund(ctx, f)
    return f.snapshots


def _snapshot_at(ctx: Ctx, sid: int) -> Snapshot:
    return ctx.get_record(SNAPSHOT + _u64(sid), Snapshot)


def stake_at(ctx: Ctx, addr: bytes, sid: int) -> int:
    """addr's bonded stake (native base units) when snapshot sid was taken."""
    snap = _snapshot_at(ctx, sid)
    rec = stored(ctx, addr)
    held = Bonded(rec.shares, rec.era)
    if sid <= rec.since:  # changed since: the first log entry at or after sid holds it
        n = len(VOTES) + 20
        held = next((record_of(Bonded, v) for k, v in ctx.iter_prefix(VOTES + addr)
                     if int.from_bytes(k[n:], "big") >= sid), NO_VOTES)
    return snap.value(held.shares) if held.era == snap.era else 0


def total_at(ctx: Ctx, sid: int) -> int:
    """All bonded stake (native base units) when snapshot sid was taken."""
    snap = _snapshot_at(ctx, sid)
    return snap.value(snap.bonded)
