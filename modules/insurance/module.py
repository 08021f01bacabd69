"""The insurance fund: native tokens staked as first-loss cover (first part: staking).

State keys:
    insurance/stake/<addr>                 int  bonded stake, native base units
    insurance/total                        int  all bonded stake
    insurance/unbond/<addr><release 8B>    int  unbonding stake, released at that time
    params/insurance                       {unbonding (s)}
Staked and unbonding tokens sit in the fund's module account; unbonding lasts longer than
the longest grace period plus the default window, so stake cannot leave ahead of a loss it
covered. Calls: stake {amount}, unbond {amount}, withdraw {} (matured unbondings).
Bonded stake is the voting weight of governance (modules/governance).
"""

from __future__ import annotations

from modules.args import AMOUNT
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import module_address
from modules.errors import InsufficientFunds, InvalidState
from modules.registry import Call, Module

NAME = "insurance"
FUND = module_address("insurance")
STAKE = b"insurance/stake/"
TOTAL = b"insurance/total"
UNBOND = b"insurance/unbond/"
PARAMS = b"params/insurance"
DEFAULT_PARAMS = {"unbonding": 200 * 86_400}  # > 180 days of grace + a default window


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def stake_of(ctx: Ctx, addr: bytes) -> int:
    return ctx.get_int(STAKE + addr)


def total(ctx: Ctx) -> int:
    return ctx.get_int(TOTAL)


def _native(ctx: Ctx) -> str:
    return ctx.get_obj(b"chain/genesis")["nativeDenom"]


def _stake(ctx: Ctx, sender: bytes, args: dict) -> None:
    bank.transfer(ctx, sender, FUND, _native(ctx), args["amount"])
    ctx.set_int(STAKE + sender, stake_of(ctx, sender) + args["amount"])
    ctx.set_int(TOTAL, total(ctx) + args["amount"])
    ctx.emit("insurance.staked", staker=sender, amount=args["amount"])


def _unbond(ctx: Ctx, sender: bytes, args: dict) -> None:
    have = stake_of(ctx, sender)
    if args["amount"] > have:
        raise InsufficientFunds(f"bonded stake is {have}, unbonding {args['amount']}")
    release = ctx.block.time + params(ctx)["unbonding"]
    key = UNBOND + sender + release.to_bytes(8, "big")
    ctx.set_int(STAKE + sender, have - args["amount"])
    ctx.set_int(TOTAL, total(ctx) - args["amount"])
    ctx.set_int(key, ctx.get_int(key) + args["amount"])
    ctx.emit("insurance.unbonding", staker=sender, amount=args["amount"], release=release)


def _withdraw(ctx: Ctx, sender: bytes, args: dict) -> None:
    n = len(UNBOND) + 20
    due = [(k, ctx.get_int(k)) for k, _ in ctx.iter_prefix(UNBOND + sender)
           if int.from_bytes(k[n:], "big") <= ctx.block.time]
    if not due:
        raise InvalidState("no unbonding stake has matured")
    for k, _ in due:
        ctx.delete(k)
    amount = sum(a for _, a in due)
    bank.transfer(ctx, FUND, sender, _native(ctx), amount)
    ctx.emit("insurance.withdrawn", staker=sender, amount=amount)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {raw: [[key, value]]}: the module's records as an export wrote them."""
    for k, v in section.get("raw", []):
        ctx.set(k, v)


def export_genesis(ctx: Ctx) -> dict:
    raw = [[k, v] for k, v in ctx.iter_prefix(b"insurance/")]
    return {"raw": raw} if raw else {}


def invariants(ctx: Ctx) -> list[str]:
    bonded = sum(ctx.get_int(k) for k, _ in ctx.iter_prefix(STAKE))
    unb = sum(ctx.get_int(k) for k, _ in ctx.iter_prefix(UNBOND))
    out = []
    if bonded != total(ctx):
        out.append(f"insurance: stakes sum to {bonded}, total says {total(ctx)}")
    g = ctx.get_obj(b"chain/genesis")
    if g is not None and bank.balance(ctx, FUND, g["nativeDenom"]) < bonded + unb:
        out.append("insurance: the fund holds less than bonded plus unbonding stake")
    return out


def module() -> Module:
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis, invariants=invariants)
    m.add_call(Call("stake", _stake, {"amount": AMOUNT}, cost=2_000,
                    doc="Stake native tokens into the insurance fund (voting weight in governance)."))
    m.add_call(Call("unbond", _unbond, {"amount": AMOUNT}, cost=2_000,
                    doc="Start unbonding stake; it stays in the fund (slashable) until it matures."))
    m.add_call(Call("withdraw", _withdraw, {}, cost=2_000, doc="Take back matured unbonding stake."))
    return m
