"""The buyback reserve: an epoch budget, standing bids refreshed every block on eligible
tranches at price x (1 - discount), resale asks at price x (1 + premium), every outlay
counted against the budget; on a real chain with the devnet's funded reserve."""

from __future__ import annotations

import pytest

from modules.assets import keeper as assets
from modules.bank import keeper as bank
from modules.market import keeper as market
from modules.reserve import module as reserve
from tests.mech import KEYS, SERVICER, WAD, Driver, events

SENIOR = "unit/p1/t0"
SELLER = KEYS[7]


@pytest.fixture
def d(devnet_chain):
    d = Driver(devnet_chain)
    s = assets.schedule_of(d.ctx, 4)
    d.run(SERVICER, "assets", "repay", {"id": 4, "amount": s[0][1] + s[0][2]})  # senior units become eligible
    d.block()  # the next block refreshes the reserve's orders
    return d


def bids(d):
    return [o for o in market.orders_of(d.ctx, reserve.RESERVE) if o["side"] == "buy"]


def test_the_budget_is_a_share_of_the_holdings_and_backs_a_standing_bid(d):
    st = reserve.epoch_state(d.ctx)
    assert st["budget"] == reserve.holdings_value(d.ctx) * reserve.DEFAULT_PARAMS["budgetShare"] // WAD or st["used"]
    (bid,) = bids(d)
    ref = market.reference_price(d.ctx, SENIOR)
    assert bid["denom"] == SENIOR and bid["price"] == ref * (WAD - reserve.DEFAULT_PARAMS["discount"]) // WAD
    fee = market.params(d.ctx)["takerFee"]
    assert bid["price"] * bid["quantity"] * (10_000 + fee) // 10_000 <= st["budget"] - st["used"]


def test_fills_count_against_the_budget_and_never_exceed_it(d):
    (bid,) = bids(d)
    held = bank.balance(d.ctx, SELLER.address, SENIOR)
    r = d.run(SELLER, "market", "place", {"denom": SENIOR, "side": "sell", "price": bid["price"],
                                          "quantity": min(held, bid["quantity"]), "expiry": 0})
    assert r.code == 0, r.message
    fills = [f for f in events(r, "market.fill") if f["buyer"] == reserve.RESERVE]  # (after the demo bids above)
    assert fills
    st = reserve.epoch_state(d.ctx)
    assert st["used"] == sum(f["price"] * f["quantity"] + f["buyerFee"] for f in fills)
    assert st["used"] <= st["budget"]
    assert reserve.invariants(d.ctx) == []
    # the next block refreshes: a bid for what is left of the budget, and a resale ask above the price
    d.block()
    asks = [o for o in market.orders_of(d.ctx, reserve.RESERVE) if o["side"] == "sell"]
    ref = market.reference_price(d.ctx, SENIOR)
    assert asks and asks[0]["price"] >= ref * (WAD + reserve.DEFAULT_PARAMS["premium"]) // WAD
    (bid2,) = bids(d)
    fee = market.params(d.ctx)["takerFee"]
    st = reserve.epoch_state(d.ctx)
    assert bid2["price"] * bid2["quantity"] * (10_000 + fee) // 10_000 <= st["budget"] - st["used"]
