"""The buyback reserve, the treasury and the native token's backing.

At the first block of each epoch (block time // epoch) the budget is budgetShare of the
reserve's non-native holdings (stable tokens plus units at their pool-mark prices). At the
start of every block the reserve's orders are refreshed (an order already resting as wanted
stays untouched; the others are cancelled and placed anew): a standing bid on every eligible
tranche (modules/stable/vault.eligible) at its reference price x (1 - discount), sized so
that filling every bid, fees included, stays within what is left of the budget; and an ask
at the reference price x (1 + premium) for every unit it holds (resale). Every outlay
counts against the budget: fills of its bids (a hook of the market module) and direct
sales (`sell`), paid in the stable token or in native tokens from the treasury at the
backing value; so the reserve never spends beyond it (the module's invariant).

Native backing b = the reserve's non-native holdings / native in circulation (supply less
what the reserve and the treasury hold, plus the redemption queue). A holder hands native
tokens in (`requestRedeem`: they go to the treasury), and after the cool-down claims
(`redeemNative`) amount / circulation of every non-native reserve holding, less the fee
(it stays in the reserve), within a per-epoch limit on the native redeemed.

State keys: reserve/epoch {epoch, budget, used}; reserve/native {epoch, limit, used};
reserve/queued int; reserve/redeem/<addr><release 8B> int native amount;
params/reserve {budgetShare, discount, premium, redeemFee, redeemLimit (wad), epoch,
cooldown (s)}.
"""

from __future__ import annotations

from modules import timelock
from modules.args import AMOUNT, U64_MAX, Choice, Int
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import module_address
from modules.errors import InsufficientFunds, InvalidState, InvalidTransaction, LimitExceeded
from modules.market import keeper as market
from modules.records import Record, typed_genesis
from modules.registry import Call, Module
from modules.stable import vault
from modules.stable.module import UNIT
from modules.tranches import keeper as tranches
from state.overlay import Overlay

NAME = "reserve"
RESERVE = module_address("reserve")
TREASURY = module_address("treasury")
QUEUED = b"reserve/queued"
EPOCH = b"reserve/epoch"
PARAMS = b"params/reserve"
WAD = 10**18
DEFAULT_PARAMS = {"budgetShare": WAD // 10, "discount": 3 * WAD // 100, "premium": 2 * WAD // 100, "epoch": 86_400,
                  "redeemFee": 5 * WAD // 1000, "cooldown": 7 * 86_400, "redeemLimit": 5 * WAD // 100}
REDEEM = b"reserve/redeem/"
NATIVE_EPOCH = b"reserve/native"


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


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


def _eligible_units(ctx: Ctx) -> list[str]:
    """Eligible units, from the tranches module's index of live units (never a scan of pools)."""
    return [u for u in tranches.live_units(ctx) if vault.eligible(ctx, u)]


def begin_block(ctx: Ctx) -> None:
    if ctx.get(vault.CUSTODIAN) is None:
        return
    prm = params(ctx)
    st = epoch_state(ctx)
    e = ctx.block.time // prm["epoch"]
    if st["epoch"] != e:
        st = {"epoch": e, "budget": holdings_value(ctx) * prm["budgetShare"] // WAD, "used": 0}
        ctx.set_obj(EPOCH, st)
        ctx.emit("reserve.epoch", epoch=e, budget=st["budget"])
    stable = vault.denom(ctx)
    targets = _targets(ctx, prm, st, stable)
    # orders already resting as wanted stay (no writes); the others are cancelled and placed anew
    kept = set()
    for o in market.orders_of(ctx, RESERVE):
        t = (o["denom"], o["side"], o["price"], o["quantity"] - o["filled"])
        if t in targets and t not in kept:
            kept.add(t)
        else:
            market.cancel(ctx, RESERVE, o["id"])
    for t in targets:
        if t not in kept:
            _try_place(ctx, t[0], t[1], t[2], t[3], stable)


def _targets(ctx: Ctx, prm: dict, st: dict, stable: str) -> list[tuple[str, str, int, int]]:
    """The reserve's wanted orders (unit, side, price, quantity): a bid on every eligible unit
    within the budget left, an ask on every unit it holds."""
    out = []
    fee = market.params(ctx)["takerFee"]
    units = _eligible_units(ctx)
    left = st["budget"] - st["used"]
    for u in units:
        try:
            ref = market.reference_price(ctx, u)
        except InvalidTransaction:
            continue  # stale or missing: no standing bid (fail closed)
        bid = ref * (WAD - prm["discount"]) // WAD
        share = min(left // len(units), bank.balance(ctx, RESERVE, stable))
        qty = share * market.BPS // (bid * (market.BPS + fee)) if bid else 0
        if qty:
            out.append((u, market.BUY, bid, qty))
    for u, q in bank.balances_under(ctx, RESERVE, tranches.UNIT_PREFIX).items():  # not its fee balances
        if tranches.parse_denom(u) is None or not q:
            continue
        try:
            ask = -(-market.reference_price(ctx, u) * (WAD + prm["premium"]) // WAD)
        except InvalidTransaction:
            continue
        out.append((u, market.SELL, ask, q))
    return out


def _try_place(ctx: Ctx, unit: str, side: str, price: int, qty: int, stable: str) -> None:
    """Place a reserve order on an overlay of its own: a refusal leaves nothing behind."""
    sub = Ctx(Overlay(ctx.state), ctx.block)
    try:
        market.place(sub, RESERVE, unit, side, price, qty, 0, RESERVE, stable)
    except InvalidTransaction:
        return
    sub.state.merge_into_parent()
    ctx.events.extend(sub.events)


def on_fill(ctx: Ctx, fill: dict) -> None:
    """Market hook: a fill of a reserve bid is an outlay against the epoch budget."""
    if fill["buyer"] == RESERVE:
        st = epoch_state(ctx)
        st["used"] += fill["cost"] + fill["buyerFee"]
        ctx.set_obj(EPOCH, st)


def _spend(ctx: Ctx, value: int) -> None:
    """Count a direct outlay against the epoch's budget; refuses beyond it."""
    st = epoch_state(ctx)
    left = st["budget"] - st["used"]
    if value > left:
        raise LimitExceeded(f"the reserve's budget has {left} left this epoch; this purchase costs {value}")
    st["used"] += value
    ctx.set_obj(EPOCH, st)


def quote_sale(ctx: Ctx, unit: str, quantity: int, pay_in: str) -> dict:
    """What a direct sale of quantity units to the reserve pays now: {price (per unit, the
    lower of the current and queued valuations x (1 - discount)), value (stable base units),
    out (in pay_in: stable, or native at the backing value), backing}."""
    if not vault.eligible(ctx, unit):
        raise InvalidState(f"{unit} is not eligible: the reserve buys eligible units only")
    price = vault.unit_prices(ctx, unit)["buy"] * (WAD - params(ctx)["discount"]) // WAD
    value = price * quantity
    b = backing(ctx)
    if pay_in == "native":
        if not b:
            raise InvalidState("the native token has no backing value: the reserve cannot pay in it")
        out = value * WAD // b
    else:
        out = value
    return {"price": price, "value": value, "out": out, "backing": b}


def _sell(ctx: Ctx, sender: bytes, args: dict) -> None:
    unit, q, pay_in = args["unit"], args["quantity"], args["payIn"]
    quote = quote_sale(ctx, unit, q, pay_in)
    if quote["out"] == 0:
        raise LimitExceeded("the sale would pay out zero")
    if quote["out"] < args["minOut"]:
        raise LimitExceeded(f"the sale pays {quote['out']}, below the minimum {args['minOut']}")
    payer, denom = (TREASURY, bank.native_denom(ctx)) if pay_in == "native" else (RESERVE, vault.denom(ctx))
    if bank.balance(ctx, payer, denom) < quote["out"]:
        raise InsufficientFunds(f"the {'treasury' if payer == TREASURY else 'reserve'} holds less than "
                                f"{quote['out']} {denom}")
    _spend(ctx, quote["value"])
    bank.transfer(ctx, sender, RESERVE, unit, q)
    bank.transfer(ctx, payer, sender, denom, quote["out"])
    ctx.emit("reserve.bought", seller=sender, unit=unit, quantity=q, price=quote["price"], value=quote["value"],
             payIn=pay_in, out=quote["out"], backing=quote["backing"])


# ----- native redemption ----------------------------------------------------------------------
def _request_redeem(ctx: Ctx, sender: bytes, args: dict) -> None:
    release = ctx.block.time + params(ctx)["cooldown"]
    bank.transfer(ctx, sender, TREASURY, bank.native_denom(ctx), args["amount"])
    timelock.add(ctx, REDEEM, sender, release, args["amount"])
    ctx.set_int(QUEUED, ctx.get_int(QUEUED) + args["amount"])
    ctx.emit("reserve.redeemRequested", holder=sender, amount=args["amount"], release=release)


def native_epoch(ctx: Ctx) -> dict:
    """This epoch's native redemption limit and use (the limit is set at its first claim)."""
    e = ctx.block.time // params(ctx)["epoch"]
    st = ctx.get_obj(NATIVE_EPOCH)
    if st is None or st["epoch"] != e:
        st = {"epoch": e, "limit": native_circulating(ctx) * params(ctx)["redeemLimit"] // WAD, "used": 0}
    return st


def basket_slice(ctx: Ctx, amount: int) -> dict[str, tuple[int, int]]:
    """{denom: (paid, fee)}: amount native's share of each non-native reserve holding."""
    circ = native_circulating(ctx)
    fee = params(ctx)["redeemFee"]
    out = {}
    nat = bank.native_denom(ctx)
    for d, bal in bank.balances_of(ctx, RESERVE).items():
        if d == nat or not bal:
            continue
        share = bal * amount // circ
        f = -(-share * fee // WAD)
        if share - f > 0:
            out[d] = (share - f, f)
    return out


def _redeem_native(ctx: Ctx, sender: bytes, args: dict) -> None:
    amount = timelock.take_matured(ctx, REDEEM, sender, ctx.block.time)  # a refusal below undoes it
    if not amount:
        raise InvalidState("no native redemption has finished its cool-down")
    st = native_epoch(ctx)
    if st["used"] + amount > st["limit"]:
        raise LimitExceeded(f"native redemptions this epoch: {st['used']} of {st['limit']}; "
                            f"{amount} more does not fit (try the next epoch)")
    paid = basket_slice(ctx, amount)
    st["used"] += amount
    ctx.set_obj(NATIVE_EPOCH, st)
    ctx.set_int(QUEUED, ctx.get_int(QUEUED) - amount)
    for d, (p, _) in sorted(paid.items()):
        bank.transfer(ctx, RESERVE, sender, d, p)
    ctx.emit("reserve.redeemed", holder=sender, amount=amount,
             paid=",".join(f"{p}{d}" for d, (p, _) in sorted(paid.items())))


def invariants(ctx: Ctx) -> list[str]:
    st = epoch_state(ctx)
    return [f"reserve: spent {st['used']} of a budget of {st['budget']}"] if st["used"] > st["budget"] else []


GENESIS = (
    Record("epoch", EPOCH, value={"epoch": "int", "budget": "int", "used": "int"}),
    Record("native", NATIVE_EPOCH, value={"epoch": "int", "limit": "int", "used": "int"}),
    Record("queued", QUEUED, value="int"),
    Record("redemptions", REDEEM, (("address", "addr"), ("release", "u64")), "int", field="amount"),
)
"""The typed genesis section (modules/records.py): every reserve/ record."""
init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"reserve/",))


def module() -> Module:
    market.on_fill(NAME, on_fill)
    m = Module(NAME, begin_block=begin_block, invariants=invariants, init_genesis=init_genesis,
               export_genesis=export_genesis)
    m.queries["budget"] = epoch_state
    m.add_call(Call("sell", _sell, {"unit": UNIT, "quantity": Int(1, U64_MAX), "minOut": Int(0, WAD**3),
                                    "payIn": Choice(("stable", "native"))}, cost=20_000,
                    doc="Sell eligible units to the reserve at the computed price x (1 - discount), paid in the "
                        "stable token or in native tokens from the treasury at the backing value; within the "
                        "epoch's budget."))
    m.add_call(Call("requestRedeem", _request_redeem, {"amount": AMOUNT}, cost=2_000,
                    doc="Hand native tokens in for redemption; claimable after the cool-down."))
    m.add_call(Call("redeemNative", _redeem_native, {}, cost=10_000,
                    doc="Claim cooled-down redemptions: a share of every non-native reserve holding, less "
                        "the fee, within the epoch's limit."))
    return m
