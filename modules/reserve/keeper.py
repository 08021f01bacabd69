"""The reserve's state: its keys and parameters, the holdings and the native backing, the
epoch's budget, a direct sale's quote, the treasury's payout cap and the redemption
queue as read (the calls and hooks that change them are modules/reserve/module.py's;
the state keys are listed there)."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.fixed import WAD
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


def epoch_state(ctx: Ctx) -> dict:
    return ctx.get_obj(EPOCH) or {"epoch": -1, "budget": 0, "used": 0}


def quote_sale(ctx: Ctx, unit: str, quantity: int, pay_in: str) -> dict:
    """What a direct sale of quantity units to the reserve pays now: {price (per unit, the
    lower of the current and queued valuations x (1 - discount)), value (stable base units),
    out (in pay_in: stable, or native at the backing value), backing}."""
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
    return {"price": price, "value": value, "out": out, "backing": b}


def treasury_epoch(ctx: Ctx) -> dict:
    """This epoch's cap on the treasury's native payouts and their use (the cap is set at the
    epoch's first payout: nativePayoutShare of the native in circulation)."""
    prm = params(ctx)
    e = ctx.block.time // prm["epoch"]
    st = ctx.get_obj(TREASURY_EPOCH)
    if st is None or st["epoch"] != e:
        st = {"epoch": e, "cap": native_circulating(ctx) * prm["nativePayoutShare"] // WAD, "used": 0}
    return st


def redemptions(ctx: Ctx, holder: bytes) -> list[dict]:
    """The holder's queued redemptions, oldest first: {id, amount, filled, release}."""
    n = len(HOLDER) + 20
    out = []
    for k, _ in ctx.iter_prefix(HOLDER + holder):
        e = ctx.get_obj(QUEUE + k[n:])
        out.append({"id": int.from_bytes(k[n:], "big"), "amount": e["amount"], "filled": e["filled"],
                    "release": e["release"]})
    return out


def native_epoch(ctx: Ctx) -> dict:
    """This epoch's native redemption limit and use (the limit is set at its first fill)."""
    e = ctx.block.time // params(ctx)["epoch"]
    st = ctx.get_obj(NATIVE_EPOCH)
    if st is None or st["epoch"] != e:
        st = {"epoch": e, "limit": native_circulating(ctx) * params(ctx)["redeemLimit"] // WAD, "used": 0}
    return st
