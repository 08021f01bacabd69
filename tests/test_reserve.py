"""The buyback reserve: an epoch budget, standing bids refreshed every block on eligible
tranches at price x (1 - discount), resale asks at price x (1 + premium), every outlay
counted against the budget; on a real chain with the devnet's funded reserve."""

from __future__ import annotations

import pytest

from rwachain.modules.bank import keeper as bank
from rwachain.modules.insurance import module as insurance
from rwachain.modules.market import keeper as market
from rwachain.modules.reserve import invariants as reserve_invariants
from rwachain.modules.reserve import module as reserve
from tests.mech import KEYS, WAD, events

SENIOR = "unit/p1/t0"
SELLER = KEYS[7]


@pytest.fixture
def d(d):
    d.repay_installment(4)  # senior units become eligible
    d.block()  # the next block refreshes the reserve's orders
    return d


def bids(d):
    return [o for o in market.orders_of(d.ctx, reserve.RESERVE) if o.side == "buy"]


def test_the_budget_is_a_share_of_the_holdings_and_backs_a_standing_bid(d):
    st = reserve.epoch_state(d.ctx)
    assert st.budget == reserve.holdings_value(d.ctx) * reserve.DEFAULT_PARAMS["budgetShare"] // WAD or st.used
    (bid,) = bids(d)
    ref = market.reference_price(d.ctx, SENIOR)
    assert bid.denom == SENIOR and bid.price == ref * (WAD - reserve.DEFAULT_PARAMS["discount"]) // WAD
    assert bid.price * bid.quantity <= st.budget - st.used  # (the reserve pays no fee)


def test_fills_count_against_the_budget_and_never_exceed_it(d):
    (bid,) = bids(d)
    held = bank.balance(d.ctx, SELLER.address, SENIOR)
    r = d.run(SELLER, "market", "place", {"denom": SENIOR, "side": "sell", "price": bid.price,
                                          "quantity": min(held, bid.quantity), "expiry": 0})
    assert r.code == 0, r.message
    fills = [f for f in events(r, "market.fill") if f["buyer"] == reserve.RESERVE]  # (after the demo bids above)
    assert fills
    st = reserve.epoch_state(d.ctx)
    assert st.used == sum(f["price"] * f["quantity"] + f["buyerFee"] for f in fills)
    assert st.used <= st.budget
    assert reserve_invariants.invariants(d.ctx) == []
    # the next block refreshes: a bid for what is left of the budget, and a resale ask above the price
    d.block()
    asks = [o for o in market.orders_of(d.ctx, reserve.RESERVE) if o.side == "sell"]
    ref = market.reference_price(d.ctx, SENIOR)
    assert asks and asks[0].price >= ref * (WAD + reserve.DEFAULT_PARAMS["premium"]) // WAD
    (bid2,) = bids(d)
    st = reserve.epoch_state(d.ctx)
    assert bid2.price * bid2.quantity <= st.budget - st.used


def test_a_direct_sale_paid_in_stable_or_native_counts_against_the_budget(d):
    from rwachain.modules.stable import vault

    q = reserve.quote_sale(d.ctx, SENIOR, 10, "stable")
    assert q.price == vault.unit_prices(d.ctx, SENIOR).buy * (WAD - reserve.params(d.ctx)["discount"]) // WAD
    used0 = reserve.epoch_state(d.ctx).used
    cash = bank.balance(d.ctx, SELLER.address, "rusd")
    r = d.run(SELLER, "reserve", "sell", {"unit": SENIOR, "quantity": 10, "minOut": q.out, "payIn": "stable"})
    assert r.code == 0, r.message
    e = events(r, "reserve.bought")[0]
    assert e["out"] == e["value"] == 10 * e["price"]
    assert bank.balance(d.ctx, SELLER.address, "rusd") == cash + e["out"]
    assert reserve.epoch_state(d.ctx).used == used0 + e["value"]
    used1 = used0 + e["value"]
    # paid in native tokens from the treasury, at the backing value
    b = reserve.backing(d.ctx)
    nat = bank.balance(d.ctx, SELLER.address, "rwa")
    treasury = bank.balance(d.ctx, reserve.TREASURY, "rwa")
    r = d.run(SELLER, "reserve", "sell", {"unit": SENIOR, "quantity": 10, "minOut": 0, "payIn": "native"})
    assert r.code == 0, r.message
    e = events(r, "reserve.bought")[0]
    assert e["out"] == e["value"] * WAD // e["backing"] and e["payIn"] == "native"
    assert abs(e["backing"] - b) * 1000 < b  # (the fee just paid moved it a little)
    assert bank.balance(d.ctx, SELLER.address, "rwa") == nat + e["out"] - r.fee
    assert bank.balance(d.ctx, reserve.TREASURY, "rwa") == treasury - e["out"]
    assert reserve.epoch_state(d.ctx).used == used1 + e["value"]


def test_direct_sale_refusals_change_nothing(d):
    st = reserve.epoch_state(d.ctx)
    left = st.budget - st.used
    price = reserve.quote_sale(d.ctx, SENIOR, 1, "stable").price
    cases = [({"unit": "unit/p1/t1", "quantity": 1}, "invalid_state"),  # the junior is not eligible
             ({"unit": SENIOR, "quantity": 1, "minOut": 10**18}, "limit_exceeded"),
             ({"unit": SENIOR, "quantity": left // price + 1}, "limit_exceeded"),  # beyond the budget
             ({"unit": SENIOR, "quantity": 10**6}, "insufficient_funds")]  # more than the reserve holds
    for args, error in cases:
        def holdings():  # (the reserve's native grows by the fees paid)
            return {k: v for k, v in bank.balances_of(d.ctx, reserve.RESERVE).items() if k != "rwa"}

        before = (holdings(), reserve.epoch_state(d.ctx), bank.balances_of(d.ctx, reserve.TREASURY))
        r = d.run(SELLER, "reserve", "sell", {"minOut": 0, "payIn": "stable", **args})
        assert r.error == error, (args, r.message)
        assert (holdings(), reserve.epoch_state(d.ctx), bank.balances_of(d.ctx, reserve.TREASURY)) == before


def test_native_redemption_after_the_cool_down_pays_a_share_of_the_basket(d):
    holder = KEYS[3]
    circ = reserve.native_circulating(d.ctx)
    b = reserve.backing(d.ctx)
    amount = 1000 * 10**6
    r = d.run(holder, "reserve", "requestRedeem", {"amount": amount})
    assert r.code == 0, r.message
    kept = r.fee - r.fee * insurance.params(d.ctx)["feeShare"] // WAD  # the reserve keeps its share of the fee
    assert reserve.native_circulating(d.ctx) == circ - kept  # the queue still circulates
    assert reserve.backing(d.ctx) >= b  # handing in does not move the backing (fees only raise it)
    (entry,) = reserve.redemptions(d.ctx, holder.address)
    assert entry.amount == amount and entry.filled == 0
    d.block(at=entry.release - 1)
    assert reserve.redemptions(d.ctx, holder.address) == [entry]  # cooling down
    basket = bank.balances_of(d.ctx, reserve.RESERVE)
    circ = reserve.native_circulating(d.ctx)
    b = reserve.backing(d.ctx)
    cash = bank.balance(d.ctx, holder.address, "rusd")
    result, _ = d.block(at=entry.release)  # the queue fills at the start of the block
    (e,) = events(result, "reserve.redeemed")
    assert e["amount"] == amount and e["left"] == 0
    share = basket["rusd"] * amount // circ
    fee = -(-share * reserve.params(d.ctx)["redeemFee"] // WAD)
    assert bank.balance(d.ctx, holder.address, "rusd") == cash + share - fee
    assert reserve.backing(d.ctx) >= b  # the fee stays: the others' backing does not fall
    assert reserve.redemptions(d.ctx, holder.address) == [] and d.ctx.get_int(reserve.QUEUED) == 0


def test_native_redemptions_stop_at_the_epoch_limit(d):
    holder = KEYS[3]
    limit = reserve.native_circulating(d.ctx) * reserve.params(d.ctx)["redeemLimit"] // WAD
    assert limit < 1_000_000 * 10**6 - 10**6
    d.run(holder, "reserve", "requestRedeem", {"amount": limit + 1})
    d.block(at=d.time + reserve.params(d.ctx)["cooldown"])
    st = reserve.native_epoch(d.ctx)
    (entry,) = reserve.redemptions(d.ctx, holder.address)
    assert st.used == st.limit == entry.filled and entry.amount - entry.filled >= 1  # the rest waits
