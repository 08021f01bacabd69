"""The insurance fund's state: its keys, parameters, the fund and each staker's record,
bonded stake, pending rewards and the governance snapshots (the calls that change them
are modules/insurance/module.py's; the state keys are listed there)."""

from __future__ import annotations

from rwachain.modules.core import timelock
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.fixed import WAD
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
EMPTY_FUND = {"native": 0, "shares": 0, "bonded": 0, "era": 0, "slashes": 0, "snapshots": 0}


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def fund(ctx: Ctx) -> dict:
    return {**EMPTY_FUND, **(ctx.get_obj(FUND_KEY) or {})}


def _value(f: dict, shares: int) -> int:
    """Native value of shares, rounded down."""
    return shares * f["native"] // f["shares"] if f["shares"] else 0


def _stored(ctx: Ctx, addr: bytes) -> dict:
    rec = ctx.get_obj(STAKE + addr) or {"shares": 0, "snap": {}, "owed": {}}
    rec.setdefault("era", 0)
    rec.setdefault("held", None)  # (records from before slashes were tracked: all shares, below)
    rec.setdefault("gen", 0)
    rec.setdefault("since", 0)
    return rec


def record(ctx: Ctx, addr: bytes) -> dict:
    """addr's record as of now: an earlier era's shares are gone (nothing is written)."""
    rec, _, _ = _current(ctx, addr, fund(ctx))
    return rec


def _indexes(ctx: Ctx) -> dict[str, int]:
    return {k[len(INDEX):].decode(): ctx.get_int(k) for k, _ in ctx.iter_prefix(INDEX)}


def _settle(rec: dict, idx: dict[str, int]) -> None:
    """Move fee rewards accrued since the record's index snapshot (snap) into owed."""
    for d, i in idx.items():
        earned = rec["shares"] * (i - rec["snap"].get(d, 0)) // RAY
        if earned:
            rec["owed"][d] = rec["owed"].get(d, 0) + earned
        rec["snap"][d] = i


def _unbonding(ctx: Ctx, addr: bytes) -> list[tuple[int, int]]:
    return timelock.entries(ctx, UNBOND, addr)


def _claims_until(rec: dict, gen: int) -> dict[int, dict]:
    """The claims of rec's shares on the slashes from rec["gen"] up to gen (excluded)."""
    return {g: {"shares": rec["held"], "paid": 0} for g in range(rec["gen"], gen)} if rec["held"] else {}


def _current(ctx: Ctx, addr: bytes, f: dict) -> tuple[dict, dict[int, dict], bool]:
    """addr's record brought to the fund's era and slash count, without writing: (record,
    new claims on slashes, whether an earlier era's unbondings are to be cleared)."""
    rec = _stored(ctx, addr)
    if rec["held"] is None:
        rec["held"] = rec["shares"] + sum(sh for _, sh in _unbonding(ctx, addr))
    if rec["era"] == f["era"]:
        claims = _claims_until(rec, f["slashes"])
        rec["gen"] = f["slashes"]
        return rec, claims, False
    end = ctx.get_obj(ERA + _u64(rec["era"]))  # the era ended with a full slash
    _settle(rec, end["index"])
    claims = _claims_until(rec, end["slashes"])
    rec.update(shares=0, held=0, era=f["era"], gen=f["slashes"], snap=_indexes(ctx))
    return rec, claims, True


def _sync(ctx: Ctx, addr: bytes, f: dict) -> dict:
    """addr's record brought up to date and written: claims on the slashes its shares bore
    recorded, an earlier era's leftovers cleared, fee rewards settled."""
    before = _stored(ctx, addr)
    rec, claims, clear = _current(ctx, addr, f)
    for g, c in claims.items():
        ctx.set_obj(CLAIM + addr + _u64(g), c)
    if clear:  # an earlier era's unbondings are worth nothing
        for k, _ in list(ctx.iter_prefix(UNBOND + addr)):
            ctx.delete(k)
    if rec["shares"] != before["shares"]:
        _log_bonded(ctx, addr, before, f)
        rec["since"] = f["snapshots"]
    _settle(rec, _indexes(ctx))
    return rec


def stake_of(ctx: Ctx, addr: bytes) -> int:
    """Bonded stake of addr, native base units."""
    f = fund(ctx)
    return _value(f, record(ctx, addr)["shares"])


def total(ctx: Ctx) -> int:
    """All bonded stake, native base units."""
    f = fund(ctx)
    return _value(f, f["bonded"])


def _claims_of(ctx: Ctx, addr: bytes) -> list[tuple[int, dict]]:
    n = len(CLAIM) + 20
    return [(int.from_bytes(k[n:], "big"), ctx.get_obj(k)) for k, _ in ctx.iter_prefix(CLAIM + addr)]


def _recovery_due(ctx: Ctx, gen: int, claim: dict) -> tuple[dict, int]:
    """(the slash record, what claim is owed of its recoveries now)."""
    s = ctx.get_obj(SLASH + _u64(gen))
    return s, claim["shares"] * s["recovered"] // s["shares"] - claim["paid"]


def pending(ctx: Ctx, addr: bytes) -> dict[str, int]:
    """Rewards addr can claim now (fee share and cover recoveries), by denomination."""
    rec, claims, _ = _current(ctx, addr, fund(ctx))
    _settle(rec, _indexes(ctx))
    out = {d: a for d, a in rec["owed"].items() if a}
    due = sum(_recovery_due(ctx, g, c)[1] for g, c in [*_claims_of(ctx, addr), *claims.items()])
    if due:
        stable = tranches.stable_denom(ctx)
        out[stable] = out.get(stable, 0) + due
    return out


# ----- governance's snapshots -------------------------------------------------------------------
def _log_bonded(ctx: Ctx, addr: bytes, before: dict, f: dict) -> None:
    """Keep addr's bonded shares as they were for the snapshots taken since its last change."""
    if before["since"] < f["snapshots"]:
        ctx.set_obj(VOTES + addr + _u64(f["snapshots"]), {"shares": before["shares"], "era": before["era"]})


def snapshot(ctx: Ctx) -> int:
    """Take a snapshot of bonded stake now; its id (1, 2, ...)."""
    f = fund(ctx)
    f["snapshots"] += 1
    ctx.set_obj(SNAPSHOT + _u64(f["snapshots"]), {k: f[k] for k in ("native", "shares", "bonded", "era")})
    ctx.set_obj(FUND_KEY, f)
    return f["snapshots"]


def stake_at(ctx: Ctx, addr: bytes, sid: int) -> int:
    """addr's bonded stake (native base units) when snapshot sid was taken."""
    snap = ctx.get_obj(SNAPSHOT + _u64(sid))
    rec = _stored(ctx, addr)
    held = {"shares": rec["shares"], "era": rec["era"]}
    if sid <= rec["since"]:  # changed since: the first log entry at or after sid holds it
        n = len(VOTES) + 20
        held = next((ctx.get_obj(k) for k, _ in ctx.iter_prefix(VOTES + addr) if int.from_bytes(k[n:], "big") >= sid),
                    {"shares": 0, "era": -1})
    return _value(snap, held["shares"]) if held["era"] == snap["era"] else 0


def total_at(ctx: Ctx, sid: int) -> int:
    """All bonded stake (native base units) when snapshot sid was taken."""
    snap = ctx.get_obj(SNAPSHOT + _u64(sid))
    return _value(snap, snap["bonded"])


def _save(ctx: Ctx, addr: bytes, rec: dict, f: dict) -> None:
    ctx.set_obj(STAKE + addr, rec)
    ctx.set_obj(FUND_KEY, f)
