"""The insurance fund: native tokens staked as first-loss cover behind a pool's juniors.

Stake is held as shares of the fund's native pool, so a slash lowers every share alike,
bonded or unbonding. Bonded shares earn the stakers' share of all fees (feeShare of each
block's transaction and market fees, moved from the reserve at the end of the block)
through a per-denomination index per bonded share.

Cover: when a write-off reaches a pool's senior tranches (the junior face is gone), the
fund pays the senior loss into the pool: it sells slashed native tokens to the reserve at
the native backing value b (modules/reserve.backing) and the reserve pays the stable
tokens into the pool, for the senior tranches only. The slashed native goes to the
treasury. Cover is limited by the fund's native at b and the reserve's stable balance.
Recoveries of a covered pool repay the fund first, and so does any cash the senior
tranches leave before the junior gets it (modules/tranches).

Each cover is a slash with its own record: the fund's shares at that moment and what the
cover paid. Recoveries of a covered pool repay the fund first (modules/tranches), oldest
cover of that pool first, and a slash's recoveries belong to the shares it hit: a staker
holding h of the S shares (bonded and unbonding) at the slash is owed h / S of them,
whoever stakes later. An account's shares at each slash are known without a scan of the
stakers: its record says how many shares it holds and since which slash (gen); when they
change, each slash since then becomes a claim of the account (insurance/claim/).

A slash that would leave the fund less than 1/REMNANT of its native takes the rest as
well (so no slash leaves a remnant that prices shares absurdly): the fund is then empty and
reopens in a new era, in which new
stake gets shares at par; records and unbondings of an earlier era hold nothing (they are
cleared when their account next acts), their fees and recoveries up to the end of the
era stay theirs.

Governance weighs votes by bonded stake at a snapshot (snapshot(), stake_at, total_at):
the fund's native, shares, bonded shares and era when the snapshot is taken, and per
account the bonded shares it held then, from its change log (insurance/votes/).

State keys: modules/insurance/keeper.py (the only code that reads and writes them); the
records' fields: modules/insurance/records.py.
Unbonding lasts longer than the longest grace period plus the default window, so stake
cannot leave ahead of a loss it covers. Calls: stake {amount}, unbond {amount},
withdraw {}, claim {}.
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import fees, timelock
from rwachain.modules.core.args import AMOUNT
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InsufficientFunds, InvalidState, LimitExceeded
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.core.wiring import Offer
from rwachain.modules.insurance import genesis, invariants, keeper, queries, simulation
from rwachain.modules.insurance.keeper import (  # noqa: F401 (the module's names for its state too)
    CLAIM,
    COVER,
    DEFAULT_PARAMS,
    ERA,
    FUND,
    FUND_KEY,
    INDEX,
    PARAM_UNITS,
    PARAMS,
    REMNANT,
    SLASH,
    SNAPSHOT,
    STAKE,
    UNBOND,
    VOTES,
    fund,
    params,
    pending,
    record,
    snapshot,
    stake_at,
    stake_of,
    stored,
    total,
    total_at,
)
from rwachain.modules.insurance.records import NO_STAKE, Fund, Slash
from rwachain.modules.reserve import module as reserve
from rwachain.modules.tranches import keeper as tranches

NAME = "insurance"
# ----- calls --------------------------------------------------------------------------------------


def _stake(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = keeper.fund(ctx)
    amount = args["amount"]
    shares = amount if not f.shares else amount * f.shares // f.native
    if not shares:
        raise LimitExceeded("the amount buys no share of the fund")
    bank.transfer(ctx, sender, FUND, bank.native_denom(ctx), amount)
    rec = keeper.rebond(ctx, sender, keeper.sync(ctx, sender, f), f, shares, held=shares)
    f = replace(f, native=f.native + amount, shares=f.shares + shares, bonded=f.bonded + shares)
    keeper.save(ctx, sender, rec, f)
    ctx.emit("insurance.staked", staker=sender, amount=amount, shares=shares)


def _unbond(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = keeper.fund(ctx)
    rec = keeper.sync(ctx, sender, f)
    have = f.value(rec.shares)
    if args["amount"] > have:
        raise InsufficientFunds(f"bonded stake is {have}, unbonding {args['amount']}")
    # the shares worth at least amount (rounded up), all of them for the whole stake
    shares = rec.shares if args["amount"] == have else -(-args["amount"] * f.shares // f.native)
    shares = min(shares, rec.shares)
    rec = keeper.rebond(ctx, sender, rec, f, -shares)
    f = replace(f, bonded=f.bonded - shares)
    release = ctx.block.time + keeper.params(ctx)["unbonding"]
    timelock.add(ctx, UNBOND, sender, release, shares)
    keeper.save(ctx, sender, rec, f)
    ctx.emit("insurance.unbonding", staker=sender, amount=args["amount"], shares=shares, release=release)


def _withdraw(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = keeper.fund(ctx)
    rec = keeper.sync(ctx, sender, f)
    shares = timelock.take_matured(ctx, UNBOND, sender, ctx.block.time)
    if shares is None:
        raise InvalidState("no unbonding stake has matured")
    amount = f.value(shares)
    f = replace(f, native=f.native - amount, shares=f.shares - shares)
    keeper.save(ctx, sender, replace(rec, held=rec.held - shares), f)
    if amount:
        bank.transfer(ctx, FUND, sender, bank.native_denom(ctx), amount)
    ctx.emit("insurance.withdrawn", staker=sender, amount=amount, shares=shares)


def _collect_recoveries(ctx: Ctx, addr: bytes) -> int:
    """Pay addr's claims their recoveries' due (stable base units) in the records; claims on
    slashes repaid in full are removed once paid."""
    total_due = 0
    for g, c in keeper.claims_of(ctx, addr):
        s, due = keeper.recovery_due(ctx, g, c)
        if due:
            s = replace(s, paid=s.paid + due)
            keeper.put_slash(ctx, g, s)
            total_due += due
        if s.recovered >= s.covered:
            keeper.delete_claim(ctx, addr, g)
        elif due:
            keeper.put_claim(ctx, addr, g, replace(c, paid=c.paid + due))
    return total_due


def _claim(ctx: Ctx, sender: bytes, args: dict) -> None:
    f = keeper.fund(ctx)
    rec = keeper.sync(ctx, sender, f)
    paid = {d: a for d, a in rec.owed.items() if a}
    recovered = _collect_recoveries(ctx, sender)
    if recovered:
        stable = tranches.stable_denom(ctx)
        paid[stable] = paid.get(stable, 0) + recovered
    if not paid:
        raise InvalidState("no rewards to claim")
    keeper.save(ctx, sender, replace(rec, owed=NO_STAKE.owed), f)
    for d, a in sorted(paid.items()):
        bank.transfer(ctx, FUND, sender, d, a)
        ctx.emit("insurance.claimed", staker=sender, denom=d, amount=a)


def end_block(ctx: Ctx) -> None:
    """Move the stakers' share of the block's fees from the reserve to the fund."""
    collected = fees.take(ctx)
    if not collected or not keeper.fund(ctx).bonded:
        return
    share = keeper.params(ctx)["feeShare"]
    for d, amount in sorted(collected.items()):
        part = min(amount * share // WAD, bank.balance(ctx, reserve.RESERVE, d))
        if part:
            bank.transfer(ctx, reserve.RESERVE, FUND, d, part)
            keeper.reward(ctx, d, part)
            ctx.emit("insurance.fees", denom=d, amount=part)


# ----- cover and its repayment (the tranches module calls these) ------------------------------
def _slash(ctx: Ctx, f: Fund, pool_id: int, slashed: int, paid: int) -> int:
    """Take slashed native (all of it if less than 1/REMNANT would remain) for a cover that
    paid paid; record the slash and write the fund; returns the native taken."""
    if (f.native - slashed) * REMNANT < f.native:
        slashed = f.native
    gen = f.slashes
    account = tranches.pool_account(pool_id)
    keeper.put_slash(ctx, gen, Slash(account, f.shares, slashed, paid, 0, 0))
    keeper.set_cover(ctx, account, gen, paid)
    f = replace(f, slashes=gen + 1, native=f.native - slashed)
    if not f.native:  # emptied: an era ends, the fund reopens at par
        keeper.end_era(ctx, f)
        f = replace(f, shares=0, bonded=0, era=f.era + 1)
        ctx.emit("insurance.emptied", era=f.era)
    keeper.put_fund(ctx, f)
    return slashed


def cover(ctx: Ctx, pool_id: int, need: int) -> int:
    """Pay up to need stable base units into pool_id's account for its senior losses:
    slashed native sold to the reserve at the backing value. Returns what was paid."""
    f = keeper.fund(ctx)
    b = reserve.backing(ctx)
    stable = tranches.stable_denom(ctx)
    if not b or not f.native:
        ctx.emit("insurance.cover", pool=pool_id, need=need, paid=0, slashed=0, backing=b)
        return 0
    pay = min(need, f.native * b // WAD, bank.balance(ctx, reserve.RESERVE, stable))
    slashed = 0
    if pay:
        slashed = _slash(ctx, f, pool_id, min(f.native, -(-pay * WAD // b)), pay)
        bank.transfer(ctx, FUND, reserve.TREASURY, bank.native_denom(ctx), slashed)
        bank.transfer(ctx, reserve.RESERVE, tranches.pool_account(pool_id), stable, pay)
    ctx.emit("insurance.cover", pool=pool_id, need=need, paid=pay, slashed=slashed, backing=b)
    return pay


def repaid(ctx: Ctx, source: bytes, amount: int) -> None:
    """A recovery (or cash the seniors leave) repays covers of the pool whose account is source, oldest first: the
    stable tokens go to the fund, owed to the shares each slash hit (what no recorded cover
    of the pool is owed goes to the reserve)."""
    stable = tranches.stable_denom(ctx)
    left = amount
    for gen, owed in keeper.covers_of(ctx, source):
        if not left:
            break
        take = min(left, owed)
        keeper.set_cover(ctx, source, gen, owed - take)
        s = keeper.slash(ctx, gen)
        keeper.put_slash(ctx, gen, replace(s, recovered=s.recovered + take))
        left -= take
        ctx.emit("insurance.repaid", slash=gen, amount=take, to=FUND)
    if amount - left:
        bank.transfer(ctx, source, FUND, stable, amount - left)
    if left:
        bank.transfer(ctx, source, reserve.RESERVE, stable, left)
        ctx.emit("insurance.repaid", amount=left, to=reserve.RESERVE)


def module() -> Module:
    m = Module(NAME, end_block=end_block, init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis,
               genesis_records=genesis.GENESIS, invariants=invariants.invariants, pure_hooks=True,
               queries=queries.QUERIES, sim_ops=simulation.SIM_OPS,
               offers=(Offer(tranches.COVER, cover), Offer(tranches.COVER_REPAID, repaid)), pausable=6,
               params=Governed(PARAMS, DEFAULT_PARAMS, PARAM_UNITS, keeper.params, place=3),
               accounts=(("insurance", 2),))
    m.add_call(Call("stake", _stake, {"amount": AMOUNT}, cost=2_000,
                    doc="Stake native tokens into the insurance fund (voting weight in governance)."))
    m.add_call(Call("unbond", _unbond, {"amount": AMOUNT}, cost=2_000,
                    doc="Start unbonding stake (native amount); it stays in the fund (slashable) until it matures."))
    m.add_call(Call("withdraw", _withdraw, {}, cost=2_000, doc="Take back matured unbonding stake."))
    m.add_call(Call("claim", _claim, {}, cost=2_000, doc="Take the fee share and cover repayments earned."))
    return m
