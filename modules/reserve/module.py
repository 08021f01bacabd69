"""The buyback reserve, the treasury and the native token's backing.

At the first block of each epoch (block time // epoch) the budget is budgetShare of the
reserve's non-native holdings (stable tokens plus units at their pool-mark prices). At the
start of every block the assets whose inputs changed are revalued (so no order is priced
from a lagging mark), then the reserve's orders are refreshed (an order already resting as
wanted stays untouched; the others are cancelled and placed anew): a standing bid on every
eligible tranche (modules/stable/vault.eligible) at min(current, queued) x (1 - discount),
sized so that filling every bid stays within what is left of the budget; and an ask at
max(current, queued) x (1 + premium) for every unit it holds (resale). Every outlay counts
against one budget counter: fills of its bids (a hook of the market module, which cuts a
fill to what is left) and direct sales (`sell`), paid in the stable token or in native
tokens from the treasury at the backing value; so the reserve never spends beyond it (the
module's invariant). The treasury's native payouts have a cap of their own per epoch:
nativePayoutShare of the native in circulation, set at the epoch's first payout. The
reserve pays no market fee (it would pay itself).

Native backing b = the reserve's non-native holdings / native in circulation (supply less
what the reserve and the treasury hold, plus the unfilled redemption queue). A holder hands
native tokens in (`requestRedeem`: they go to the treasury and join the end of the queue).
At the start of every block the queue fills first in first out, entries past their
cool-down, within the per-epoch limit (redeemLimit of the circulation at the epoch's first
fill), at most QUEUE_STEPS entries a block: a fill of n native pays n / circulation of every
non-native reserve holding, less the fee (it stays in the reserve); an entry larger than
what is left fills in part and stays at the head. `cancelRedeem` gives back what is unfilled.

State keys: modules/reserve/keeper.py (the only code that reads and writes them); the
records' fields: modules/reserve/records.py.
"""

from __future__ import annotations

from dataclasses import replace

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import dirty
from rwachain.modules.core.args import AMOUNT, U64_MAX, Choice, Int
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import (
    InsufficientFunds,
    InvalidState,
    InvalidTransaction,
    LimitExceeded,
)
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.core.wiring import Offer
from rwachain.modules.market import keeper as market
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.reserve import genesis, invariants, keeper, queries, simulation
from rwachain.modules.reserve.keeper import (  # noqa: F401 (the module's names for its state too)
    CANCEL_STEPS,
    DEFAULT_PARAMS,
    EPOCH,
    HOLDER,
    NATIVE_EPOCH,
    NEXT,
    PARAM_UNITS,
    PARAMS,
    QUEUE,
    QUEUE_STEPS,
    QUEUED,
    RESERVE,
    TREASURY,
    TREASURY_EPOCH,
    backing,
    epoch_state,
    holdings_value,
    native_circulating,
    native_epoch,
    params,
    quote_sale,
    redemptions,
    treasury_epoch,
)
from rwachain.modules.reserve.records import Budget
from rwachain.modules.stable import vault
from rwachain.modules.stable.module import UNIT
from rwachain.modules.tranches import keeper as tranches

NAME = "reserve"


def _eligible_units(ctx: Ctx) -> list[str]:
    """Eligible units, from the tranches module's index of live units (never a scan of pools)."""
    return [u for u in tranches.live_units(ctx) if vault.eligible(ctx, u)]


def begin_block(ctx: Ctx) -> None:
    """Fill the redemption queue; revalue what changed; then the epoch's budget and the orders."""
    fill_queue(ctx)
    if ctx.get(vault.CUSTODIAN) is None:
        return
    marks.revalue_dirty(ctx)  # this block's changes so far (status moves, queued feeds applied)
    prm = params(ctx)
    st = epoch_state(ctx)
    e = ctx.block.time // prm["epoch"]
    if st.epoch != e:
        st = Budget(e, holdings_value(ctx) * prm["budgetShare"] // WAD, 0)
        keeper.put_epoch_state(ctx, st)
        ctx.emit("reserve.epoch", epoch=e, budget=st.budget)
    stable = vault.denom(ctx)
    targets = _targets(ctx, prm, st, stable)
    # orders already resting as wanted stay (no writes); the others are cancelled and placed anew
    kept = set()
    for o in market.orders_of(ctx, RESERVE):
        t = (o.denom, o.side, o.price, o.unfilled)
        if t in targets and t not in kept:
            kept.add(t)
        else:
            market.cancel(ctx, RESERVE, o.id)
    for t in targets:
        if t not in kept:
            _try_place(ctx, t[0], t[1], t[2], t[3], stable)


def _targets(ctx: Ctx, prm: dict, st: Budget, stable: str) -> list[tuple[str, str, int, int]]:
    """The reserve's wanted orders (unit, side, price, quantity): a bid on every eligible unit
    within the budget left, an ask on every unit it holds."""
    out = []
    units = _eligible_units(ctx)
    left = st.left
    queued = oracle.any_pending(ctx)
    for u in units:
        try:
            bid = _side_price(ctx, u, queued)[0] * (WAD - prm["discount"]) // WAD
        except InvalidTransaction:
            continue  # stale or missing: no standing bid (fail closed)
        share = min(left // len(units), bank.balance(ctx, RESERVE, stable))
        qty = share // bid if bid else 0  # (the reserve pays no fee)
        if qty:
            out.append((u, market.BUY, bid, qty))
    for u, q in bank.balances_under(ctx, RESERVE, tranches.UNIT_PREFIX).items():  # not its fee balances
        if tranches.parse_denom(u) is None or not q:
            continue
        try:
            ask = -(-_side_price(ctx, u, queued)[1] * (WAD + prm["premium"]) // WAD)
        except InvalidTransaction:
            continue
        out.append((u, market.SELL, ask, q))
    return out


def _side_price(ctx: Ctx, unit: str, queued: bool) -> tuple[int, int]:
    """(what the reserve bids from, what it asks from) per unit: the reference price from this
    block's marks, and while an oracle move is queued the lower (bid) and the higher (ask) of
    it and the valuation at the queued values. Raises on a stale or missing feed."""
    ref = market.reference_price(ctx, unit)
    if not queued:
        return ref, ref
    p = vault.unit_prices(ctx, unit)
    return min(ref, p.buy), max(ref, p.sell)


def repriced_since(ctx: Ctx, unit: str) -> bool:
    """Whether an input of the unit's pool changed in this block after the reserve priced its
    orders (its begin-block took every dirty mark before): an asset of the pool, or a feed
    that values one. Its resting orders on the unit then wait for the next block's prices."""
    pk = tranches.parse_denom(unit)
    pool = tranches.find(ctx, pk[0]) if pk else None
    if pool is None:
        return False
    for aid in pool.assets:
        if dirty.is_marked(ctx, b"asset/" + aid.to_bytes(8, "big")):
            return True
        grade = assets.get(ctx, aid).grade
        if grade is not None and any(dirty.is_marked(ctx, b"feed/" + f.encode()) for f in marks.feeds_for(aid, grade)):
            return True
    return False


def _try_place(ctx: Ctx, unit: str, side: str, price: int, qty: int, stable: str) -> None:
    """Place a reserve order on an overlay of its own: a refusal leaves nothing behind."""
    sub = ctx.nested()
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
        keeper.put_epoch_state(ctx, replace(st, used=st.used + fill["cost"] + fill["buyerFee"]))


def budget_left(ctx: Ctx) -> int:
    """Stable base units the reserve may still spend this epoch (its market hook's limit)."""
    return max(0, epoch_state(ctx).left)


def _spend(ctx: Ctx, value: int) -> None:
    """Count a direct outlay against the epoch's budget; refuses beyond it."""
    st = epoch_state(ctx)
    if value > st.left:
        raise LimitExceeded(f"the reserve's budget has {st.left} left this epoch; this purchase costs {value}")
    keeper.put_epoch_state(ctx, replace(st, used=st.used + value))


def _sell(ctx: Ctx, sender: bytes, args: dict) -> None:
    unit, q, pay_in = args["unit"], args["quantity"], args["payIn"]
    quote = quote_sale(ctx, unit, q, pay_in)
    if quote.out == 0:
        raise LimitExceeded("the sale would pay out zero")
    if quote.out < args["minOut"]:
        raise LimitExceeded(f"the sale pays {quote.out}, below the minimum {args['minOut']}")
    payer, denom = (TREASURY, bank.native_denom(ctx)) if pay_in == "native" else (RESERVE, vault.denom(ctx))
    if bank.balance(ctx, payer, denom) < quote.out:
        raise InsufficientFunds(f"the {'treasury' if payer == TREASURY else 'reserve'} holds less than "
                                f"{quote.out} {denom}")
    _spend(ctx, quote.value)
    if pay_in == "native":
        _pay_native(ctx, quote.out)
    bank.transfer(ctx, sender, RESERVE, unit, q)
    bank.transfer(ctx, payer, sender, denom, quote.out)
    ctx.emit("reserve.bought", seller=sender, unit=unit, quantity=q, price=quote.price, value=quote.value,
             payIn=pay_in, out=quote.out, backing=quote.backing)


def _pay_native(ctx: Ctx, amount: int) -> None:
    """Count a native payout from the treasury against its cap; refuses beyond it."""
    st = treasury_epoch(ctx)
    if st.used + amount > st.cap:
        raise LimitExceeded(f"the treasury's native payouts this epoch: {st.used} of a cap of {st.cap}; "
                            f"{amount} more does not fit")
    keeper.put_treasury_epoch(ctx, replace(st, used=st.used + amount))


# ----- native redemption: a first-in-first-out queue ----------------------------------------------
def _request_redeem(ctx: Ctx, sender: bytes, args: dict) -> None:
    release = ctx.block.time + params(ctx)["cooldown"]
    bank.transfer(ctx, sender, TREASURY, bank.native_denom(ctx), args["amount"])
    rid = keeper.enqueue(ctx, sender, args["amount"], release)
    ctx.emit("reserve.redeemRequested", holder=sender, amount=args["amount"], release=release, id=rid)


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


def fill_queue(ctx: Ctx) -> None:
    """Begin-block: fill the queue's head, first in first out, entries past their cool-down,
    within the epoch's limit; at most QUEUE_STEPS entries. A fill that cannot be made leaves
    nothing behind and stops the queue for this block (its holder may cancel)."""
    for rid in keeper.queue_head(ctx, QUEUE_STEPS):
        sub = ctx.nested()
        try:
            if not _fill_entry(sub, rid):
                return  # the head waits, and everything behind it
        except InvalidTransaction:
            return
        sub.state.merge_into_parent()
        ctx.events.extend(sub.events)


def _fill_entry(ctx: Ctx, rid: int) -> bool:
    """Fill the queue entry rid as far as the epoch's limit allows; False if it cannot
    fill now (cooling down, or the limit is used up). A fill whose share of every holding
    rounds to nothing is not made: the entry's unfilled native goes back to its holder."""
    e = keeper.redemption(ctx, rid)
    st = native_epoch(ctx)
    take = min(e.unfilled, st.limit - st.used)
    if e.release > ctx.block.time or take <= 0:
        return False
    paid = basket_slice(ctx, take)
    if not paid:  # its share of every holding rounds to nothing: the native goes back, unfilled
        left = e.unfilled
        keeper.remove_redemption(ctx, e)
        keeper.add_queued(ctx, -left)
        bank.transfer(ctx, TREASURY, e.holder, bank.native_denom(ctx), left)
        ctx.emit("reserve.redeemReturned", holder=e.holder, id=rid, amount=left)
        return True
    keeper.put_native_epoch(ctx, replace(st, used=st.used + take))
    keeper.add_queued(ctx, -take)
    e = replace(e, filled=e.filled + take)
    if not e.unfilled:
        keeper.remove_redemption(ctx, e)
    else:
        keeper.put_redemption(ctx, e)
    for d, (p, _) in sorted(paid.items()):
        bank.transfer(ctx, RESERVE, e.holder, d, p)
    ctx.emit("reserve.redeemed", holder=e.holder, id=rid, amount=take, left=e.unfilled,
             paid=",".join(f"{p}{d}" for d, (p, _) in sorted(paid.items())))
    return True


def _cancel_redeem(ctx: Ctx, sender: bytes, args: dict) -> None:
    """Give back the unfilled part of the sender's queued redemptions (at most CANCEL_STEPS)."""
    rids = keeper.holder_queue(ctx, sender, CANCEL_STEPS)
    if not rids:
        raise InvalidState("no queued native redemption to cancel")
    back = 0
    for rid in rids:
        e = keeper.redemption(ctx, rid)
        back += e.unfilled
        keeper.remove_redemption(ctx, e)
    keeper.add_queued(ctx, -back)
    bank.transfer(ctx, TREASURY, sender, bank.native_denom(ctx), back)
    ctx.emit("reserve.redeemCancelled", holder=sender, amount=back, entries=len(rids))


def module() -> Module:
    offers = (Offer(market.FILL, on_fill, key=NAME), Offer(market.BUY_LIMIT, budget_left, key=RESERVE),
              Offer(market.GUARD, repriced_since, key=RESERVE))
    m = Module(NAME, begin_block=begin_block, invariants=invariants.invariants,
               init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis,
               genesis_records=genesis.GENESIS, offers=offers, queries=queries.QUERIES, sim_ops=simulation.SIM_OPS,
               pure_hooks=True, params=Governed(PARAMS, DEFAULT_PARAMS, PARAM_UNITS, params, place=1),
               accounts=(("reserve", 0), ("treasury", 3)))
    m.add_call(Call("sell", _sell, {"unit": UNIT, "quantity": Int(1, U64_MAX), "minOut": Int(0, WAD**3),
                                    "payIn": Choice(("stable", "native"))}, cost=20_000,
                    doc="Sell eligible units to the reserve at the computed price x (1 - discount), paid in the "
                        "stable token or in native tokens from the treasury at the backing value; within the "
                        "epoch's budget."))
    m.add_call(Call("requestRedeem", _request_redeem, {"amount": AMOUNT}, cost=2_000,
                    doc="Hand native tokens in for redemption: they join the queue, which fills first in first "
                        "out after the cool-down, within the epoch's limit, paying a share of every non-native "
                        "reserve holding less the fee."))
    m.add_call(Call("cancelRedeem", _cancel_redeem, {}, cost=10_000,
                    doc="Take back the unfilled part of the sender's queued native redemptions."))
    return m
