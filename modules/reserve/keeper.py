"""The reserve's state: its keys and parameters, the holdings and the native backing, the
epoch's budget, a direct sale's quote, the treasury's payout cap and the redemption
queue (the calls and hooks that change them are modules/reserve/module.py's). The only
code that reads and writes reserve/ keys; the records' fields are modules/reserve/records.py's.

State keys (records.py names each map's record):
    reserve/epoch                   Budget
    reserve/native                  RedeemLimit
    reserve/treasury                PayoutCap
    reserve/queued                  int  native unfilled in the queue
    reserve/next                    int  the next redemption's id
    reserve/rq/<id 8B>              Redemption
    reserve/rqh/<holder 20B><id 8B>  true  the holder's index of the queue
    params/reserve                  {budgetShare, discount, premium, redeemFee, redeemLimit,
                                     nativePayoutShare (wad), epoch, cooldown (s)}
"""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.fixed import WAD
from rwachain.modules.reserve.records import Budget, PayoutCap, Quote, RedeemLimit, Redemption
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches

RESERVE = module_address("reserve")
TREASURY = module_address("treasury")
QUEUED = b"reserve/queued"
EPOCH = b"reserve/epoch"
PARAMS = b"params/reserve"
DEFAULT_PARAMS = {"budgetShare": WAD // 10, "discount": 3 * WAD // 100, "premium": 2 * WAD // 100, "epoch": 86_400,
                  "redeemFee": 5 * WAD // 1000, "cooldown": 7 * 86_400, "redeemLimit": 5 * WAD // 100,
                  "nativePayoutShare": WAD // 1000}
PARAM_UNITS = {"budgetShare": "ratio", "discount": "ratio", "premium": "ratio", "epoch": "duration",
               "redeemFee": "ratio", "cooldown": "duration", "redeemLimit": "ratio", "nativePayoutShare": "ratio"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""
NATIVE_EPOCH = b"reserve/native"
TREASURY_EPOCH = b"reserve/treasury"
NEXT = b"reserve/next"
QUEUE = b"reserve/rq/"
HOLDER = b"reserve/rqh/"
QUEUE_STEPS = 8  # queue entries one block fills at most (bounds a block's work)
CANCEL_STEPS = 64  # entries one cancelRedeem gives back at most (bounds a transaction's work)
NO_BUDGET = Budget(-1, 0, 0)
"""The budget before the first epoch's."""


def params(ctx: Ctx) -> dict:
    """The stored parameters over the defaults (a parameter added later takes its default)."""
    return {**DEFAULT_PARAMS, **(ctx.get_obj(PARAMS) or {})}


def holdings_value(ctx: Ctx) -> int:
    """Non-native holdings: stable tokens plus tranche units at their pool-mark prices."""
    total = 0
    d = vault.denom(ctx)
    for denom, q in bank.balances_of(ctx, RESERVE).items():
        if denom == d:
            total += q
        elif tranches.parse_denom(denom) is not None:
            total += vault.mark_price(ctx, denom)[0] * q
    return total


def native_circulating(ctx: Ctx) -> int:
    """Native supply minus what the reserve and the treasury hold, plus what waits in the
    redemption queue (still owed its share of the basket)."""
    n = bank.native_denom(ctx)
    held = bank.balance(ctx, RESERVE, n) + bank.balance(ctx, TREASURY, n)
    return bank.supply(ctx, n) - held + ctx.get_int(QUEUED)


def backing(ctx: Ctx) -> int:
    """Native backing b (wad stable base units per native base unit): the reserve's
    non-native holdings over the native in circulation; 0 when nothing circulates."""
    circ = native_circulating(ctx)
    return holdings_value(ctx) * WAD // circ if circ > 0 else 0


def epoch_state(ctx: Ctx) -> Budget:
    """The buyback budget as stored (NO_BUDGET before the first; begin-block starts each epoch's)."""
    return ctx.get_record(EPOCH, Budget, NO_BUDGET)


def put_epoch_state(ctx: Ctx, st: Budget) -> None:
    ctx.put_record(EPOCH, st)


def quote_sale(ctx: Ctx, unit: str, quantity: int, pay_in: str) -> Quote:
    """What a direct sale of quantity units to the reserve pays now: price (per unit, the
    lower of the current and queued valuations x (1 - discount)), value (stable base units),
    out (in pay_in: stable, or native at the backing value), backing."""
    if not vault.eligible(ctx, unit):
        raise InvalidState(f"{unit} is not eligible: the reserve buys eligible units only")
    price = vault.unit_prices(ctx, unit).buy * (WAD - params(ctx)["discount"]) // WAD
    value = price * quantity
    b = backing(ctx)
    if pay_in == "native":
        if not b:
            raise InvalidState("the native token has no backing value: the reserve cannot pay in it")
        out = value * WAD // b
    else:
        out = value
    return Quote(price, value, out, b)


def treasury_epoch(ctx: Ctx) -> PayoutCap:
    """This epoch's cap on the treasury's native payouts and their use (the cap is set at the
    epoch's first payout: nativePayoutShare of the native in circulation)."""
    prm = params(ctx)
    e = ctx.block.time // prm["epoch"]
    st = stored_payouts(ctx)
    if st is None or st.epoch != e:
        st = PayoutCap(e, native_circulating(ctx) * prm["nativePayoutShare"] // WAD, 0)
    return st


def stored_payouts(ctx: Ctx) -> PayoutCap | None:
    """The treasury's payout cap as stored (of its last payout's epoch), None before any."""
    return ctx.get_record(TREASURY_EPOCH, PayoutCap)


def put_treasury_epoch(ctx: Ctx, st: PayoutCap) -> None:
    ctx.put_record(TREASURY_EPOCH, st)


def native_epoch(ctx: Ctx) -> RedeemLimit:
    """This epoch's native redemption limit and use (the limit is set at its first fill)."""
    e = ctx.block.time // params(ctx)["epoch"]
    st = ctx.get_record(NATIVE_EPOCH, RedeemLimit)
    if st is None or st.epoch != e:
        st = RedeemLimit(e, native_circulating(ctx) * params(ctx)["redeemLimit"] // WAD, 0)
    return st


def put_native_epoch(ctx: Ctx, st: RedeemLimit) -> None:
    ctx.put_record(NATIVE_EPOCH, st)


# ----- the redemption queue ---------------------------------------------------------------------
def _id_b(rid: int) -> bytes:
    return rid.to_bytes(8, "big")


def redemption(ctx: Ctx, rid: int) -> Redemption:
    return Redemption.from_stored(rid, ctx.get_obj(QUEUE + _id_b(rid)))


def redemptions(ctx: Ctx, holder: bytes) -> list[Redemption]:
    """The holder's queued redemptions, oldest first."""
    return [redemption(ctx, rid) for rid in holder_queue(ctx, holder)]


def queue_head(ctx: Ctx, n: int) -> list[int]:
    """The ids of the queue's first n entries (fewer if it is shorter), oldest first."""
    out = []
    for k, _ in ctx.iter_prefix(QUEUE):
        out.append(int.from_bytes(k[len(QUEUE):], "big"))
        if len(out) == n:
            break
    return out


def holder_queue(ctx: Ctx, holder: bytes, n: int | None = None) -> list[int]:
    """The ids of the holder's first n queued redemptions (all if n is None), oldest first."""
    m = len(HOLDER) + 20
    out = []
    for k, _ in ctx.iter_prefix(HOLDER + holder):
        out.append(int.from_bytes(k[m:], "big"))
        if len(out) == n:
            break
    return out


def queued(ctx: Ctx) -> int:
    """Native unfilled in the queue, native base units."""
    return ctx.get_int(QUEUED)


def add_queued(ctx: Ctx, amount: int) -> None:
    """Count amount more native (negative: less) as unfilled in the queue."""
    ctx.set_int(QUEUED, ctx.get_int(QUEUED) + amount)


def enqueue(ctx: Ctx, holder: bytes, amount: int, release: int) -> int:
    """Put a redemption of amount native at the end of the queue (and count it); its id."""
    rid = ctx.get_int(NEXT)
    ctx.set_int(NEXT, rid + 1)
    put_redemption(ctx, Redemption(rid, holder, amount, 0, release))
    ctx.set_obj(HOLDER + holder + _id_b(rid), True)
    add_queued(ctx, amount)
    return rid


def put_redemption(ctx: Ctx, e: Redemption) -> None:
    ctx.put_record(QUEUE + _id_b(e.id), e)


def remove_redemption(ctx: Ctx, e: Redemption) -> None:
    """Take e off the queue and its holder's index (the queued count is the caller's)."""
    ctx.delete(QUEUE + _id_b(e.id))
    ctx.delete(HOLDER + e.holder + _id_b(e.id))
