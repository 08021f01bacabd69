"""The insurance fund: native tokens staked as first-loss cover behind a pool's juniors.

Stake is held as shares of the fund's native pool, so a slash lowers every share alike,
bonded or unbonding. Bonded shares earn the stakers' share of all fees (feeShare of each
block's transaction and market fees, moved from the reserve at the end of the block) and
the recoveries that repay a cover, through a per-denomination index per bonded share.

Cover: when a write-off reaches a pool's senior tranches (the junior face is gone), the
fund pays the senior loss into the pool: it sells slashed native tokens to the reserve at
the native backing value b (modules/reserve.backing) and the reserve pays the stable
tokens into the pool, for the senior tranches only. The slashed native goes to the
treasury. Cover is limited by the fund's native at b and the reserve's stable balance.
Recoveries of a covered pool repay the fund first (modules/tranches).

State keys:
    insurance/fund                  {native, shares, bonded}  native base units held for
                                    stake; all shares; bonded shares
    insurance/stake/<addr>          {shares, snap {denom: index}, owed {denom: amount}}
    insurance/index/<denom>         int  rewards per bonded share, ray (x 10^27)
    insurance/unbond/<addr><release 8B>  int  unbonding shares, released at that time
    params/insurance                {unbonding (s), feeShare (wad)}
Unbonding lasts longer than the longest grace period plus the default window, so stake
cannot leave ahead of a loss it covers. Bonded stake (native value) is governance's voting
weight. Calls: stake {amount}, unbond {amount}, withdraw {}, claim {}.
"""

from __future__ import annotations

from modules import fees, timelock
from modules.args import AMOUNT
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import module_address
from modules.errors import InsufficientFunds, InvalidState, LimitExceeded
from modules.records import Record, typed_genesis
from modules.registry import Call, Module
from modules.reserve import module as reserve
from modules.tranches import keeper as tranches

NAME = "insurance"
FUND = module_address("insurance")
FUND_KEY = b"insurance/fund"
STAKE = b"insurance/stake/"
INDEX = b"insurance/index/"
UNBOND = b"insurance/unbond/"
PARAMS = b"params/insurance"
WAD = 10**18
RAY = 10**27
DEFAULT_PARAMS = {"unbonding": 200 * 86_400,  # > 180 days of grace + a default window
                  "feeShare": WAD // 5}  # 20 % of fees to stakers, 80 % stay with the reserve


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def fund(ctx: Ctx) -> dict:
    return ctx.get_obj(FUND_KEY) or {"native": 0, "shares": 0, "bonded": 0}


def _value(f: dict, shares: int) -> int:
    """Native value of shares, rounded down."""
    return shares * f["native"] // f["shares"] if f["shares"] else 0


def record(ctx: Ctx, addr: bytes) -> dict:
    return ctx.get_obj(STAKE + addr) or {"shares": 0, "snap": {}, "owed": {}}


def stake_of(ctx: Ctx, addr: bytes) -> int:
    """Bonded stake of addr, native base units (its voting weight)."""
    return _value(fund(ctx), record(ctx, addr)["shares"])


def total(ctx: Ctx) -> int:
    """All bonded stake, native base units."""
    f = fund(ctx)
    return _value(f, f["bonded"])


def _indexes(ctx: Ctx) -> dict[str, int]:
    return {k[len(INDEX):].decode(): ctx.get_int(k) for k, _ in ctx.iter_prefix(INDEX)}


def _settle(rec: dict, idx: dict[str, int]) -> None:
    """Move rewards accrued since the last snapshot into owed."""
    for d, i in idx.items():
        earned = rec["shares"] * (i - rec["snap"].get(d, 0)) // RAY
        if earned:
            rec["owed"][d] = rec["owed"].get(d, 0) + earned
        rec["snap"][d] = i


def pending(ctx: Ctx, addr: bytes) -> dict[str, int]:
    """Rewards addr can claim now, by denomination."""
    rec = record(ctx, addr)
    _settle(rec, _indexes(ctx))
    return {d: a for d, a in rec["owed"].items() if a}


def _stake(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = fund(ctx)
    amount = args["amount"]
    if f["shares"] and not f["native"]:
        raise InvalidState("the fund's stake was slashed to zero: it takes no new stake")
    shares = amount if not f["shares"] else amount * f["shares"] // f["native"]
    if not shares:
        raise LimitExceeded("the amount buys no share of the fund")
    bank.transfer(ctx, sender, FUND, bank.native_denom(ctx), amount)
    rec = record(ctx, sender)
    _settle(rec, _indexes(ctx))
    rec["shares"] += shares
    f["native"] += amount
    f["shares"] += shares
    f["bonded"] += shares
    ctx.set_obj(STAKE + sender, rec)
    ctx.set_obj(FUND_KEY, f)
    ctx.emit("insurance.staked", staker=sender, amount=amount, shares=shares)


def _unbond(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = fund(ctx)
    rec = record(ctx, sender)
    have = _value(f, rec["shares"])
    if args["amount"] > have:
        raise InsufficientFunds(f"bonded stake is {have}, unbonding {args['amount']}")
    # the shares worth at least amount (rounded up), all of them for the whole stake
    shares = rec["shares"] if args["amount"] == have else -(-args["amount"] * f["shares"] // f["native"])
    shares = min(shares, rec["shares"])
    _settle(rec, _indexes(ctx))
    rec["shares"] -= shares
    f["bonded"] -= shares
    release = ctx.block.time + params(ctx)["unbonding"]
    timelock.add(ctx, UNBOND, sender, release, shares)
    ctx.set_obj(STAKE + sender, rec)
    ctx.set_obj(FUND_KEY, f)
    ctx.emit("insurance.unbonding", staker=sender, amount=args["amount"], shares=shares, release=release)


def _withdraw(ctx: Ctx, sender: bytes, args: dict) -> None:
    shares = timelock.take_matured(ctx, UNBOND, sender, ctx.block.time)
    if shares is None:
        raise InvalidState("no unbonding stake has matured")
    f = fund(ctx)
    amount = _value(f, shares)
    f["native"] -= amount
    f["shares"] -= shares
    ctx.set_obj(FUND_KEY, f)
    if amount:
        bank.transfer(ctx, FUND, sender, bank.native_denom(ctx), amount)
    ctx.emit("insurance.withdrawn", staker=sender, amount=amount, shares=shares)


def _claim(ctx: Ctx, sender: bytes, args: dict) -> None:
    rec = record(ctx, sender)
    _settle(rec, _indexes(ctx))
    paid = {d: a for d, a in rec["owed"].items() if a}
    if not paid:
        raise InvalidState("no rewards to claim")
    rec["owed"] = {}
    ctx.set_obj(STAKE + sender, rec)
    for d, a in sorted(paid.items()):
        bank.transfer(ctx, FUND, sender, d, a)
        ctx.emit("insurance.claimed", staker=sender, denom=d, amount=a)


def _reward(ctx: Ctx, denom: str, amount: int) -> bool:
    """Add amount (already in the fund) to the bonded shares' index; False if none is bonded."""
    f = fund(ctx)
    if not f["bonded"]:
        return False
    key = INDEX + denom.encode()
    ctx.set_int(key, ctx.get_int(key) + amount * RAY // f["bonded"])
    return True


def end_block(ctx: Ctx) -> None:
    """Move the stakers' share of the block's fees from the reserve to the fund."""
    collected = fees.take(ctx)
    if not collected or not fund(ctx)["bonded"]:
        return
    share = params(ctx)["feeShare"]
    for d, amount in sorted(collected.items()):
        part = min(amount * share // WAD, bank.balance(ctx, reserve.RESERVE, d))
        if part:
            bank.transfer(ctx, reserve.RESERVE, FUND, d, part)
            _reward(ctx, d, part)
            ctx.emit("insurance.fees", denom=d, amount=part)


# ----- cover and its repayment (the tranches module calls these) ------------------------------
def cover(ctx: Ctx, pool_id: int, need: int) -> int:
    """Pay up to need stable base units into pool_id's account for its senior losses:
    slashed native sold to the reserve at the backing value. Returns what was paid."""
    f = fund(ctx)
    b = reserve.backing(ctx)
    stable = tranches.stable_denom(ctx)
    if not b or not f["native"]:
        ctx.emit("insurance.cover", pool=pool_id, need=need, paid=0, slashed=0, backing=b)
        return 0
    pay = min(need, f["native"] * b // WAD, bank.balance(ctx, reserve.RESERVE, stable))
    slashed = min(f["native"], -(-pay * WAD // b))
    if pay:
        f["native"] -= slashed
        ctx.set_obj(FUND_KEY, f)
        bank.transfer(ctx, FUND, reserve.TREASURY, bank.native_denom(ctx), slashed)
        bank.transfer(ctx, reserve.RESERVE, tranches.pool_account(pool_id), stable, pay)
    ctx.emit("insurance.cover", pool=pool_id, need=need, paid=pay, slashed=slashed if pay else 0, backing=b)
    return pay


def repaid(ctx: Ctx, source: bytes, amount: int) -> None:
    """A recovery repays a cover: the stable tokens go to the fund, earned by bonded stake
    (to the reserve when nothing is bonded)."""
    stable = tranches.stable_denom(ctx)
    to = FUND if fund(ctx)["bonded"] else reserve.RESERVE
    bank.transfer(ctx, source, to, stable, amount)
    if to == FUND:
        _reward(ctx, stable, amount)
    ctx.emit("insurance.repaid", amount=amount, to=to)


# ----- genesis and invariants -------------------------------------------------------------------
GENESIS = (
    Record("fund", FUND_KEY, value={"native": "int", "shares": "int", "bonded": "int"}),
    Record("stakes", STAKE, (("address", "addr"),), {"shares": "int", "snap": ("map", "int"), "owed": ("map", "int")}),
    Record("indexes", INDEX, (("denom", "str"),), "int", field="index"),
    Record("unbonding", UNBOND, (("address", "addr"), ("release", "u64")), "int", field="shares"),
)
"""The typed genesis section (modules/records.py): every insurance/ record."""
init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"insurance/",))


def invariants(ctx: Ctx) -> list[str]:
    f = fund(ctx)
    idx = _indexes(ctx)
    bonded, owed = 0, {}
    for k, _ in ctx.iter_prefix(STAKE):
        rec = ctx.get_obj(k)
        bonded += rec["shares"]
        _settle(rec, idx)
        for d, a in rec["owed"].items():
            owed[d] = owed.get(d, 0) + a
    unbonding = timelock.total(ctx, UNBOND)
    out = []
    if bonded != f["bonded"]:
        out.append(f"insurance: bonded shares sum to {bonded}, the fund says {f['bonded']}")
    if bonded + unbonding != f["shares"]:
        out.append(f"insurance: bonded {bonded} + unbonding {unbonding} shares != {f['shares']}")
    g = ctx.get_obj(b"chain/genesis")
    if g is not None:
        owed[g["nativeDenom"]] = owed.get(g["nativeDenom"], 0) + f["native"]
    for d, need in owed.items():
        if bank.balance(ctx, FUND, d) < need:
            out.append(f"insurance: the fund holds less {d} than its stake and rewards owed ({need})")
    return out


def module() -> Module:
    tranches.set_insurer(cover, repaid)
    m = Module(NAME, end_block=end_block, init_genesis=init_genesis, export_genesis=export_genesis,
               invariants=invariants)
    m.add_call(Call("stake", _stake, {"amount": AMOUNT}, cost=2_000,
                    doc="Stake native tokens into the insurance fund (voting weight in governance)."))
    m.add_call(Call("unbond", _unbond, {"amount": AMOUNT}, cost=2_000,
                    doc="Start unbonding stake (native amount); it stays in the fund (slashable) until it matures."))
    m.add_call(Call("withdraw", _withdraw, {}, cost=2_000, doc="Take back matured unbonding stake."))
    m.add_call(Call("claim", _claim, {}, cost=2_000, doc="Take the fee share and cover repayments earned."))
    return m
