"""The buyback reserve under attack: one budget for every outlay, standing orders priced
from queued oracle moves and from marks revalued in the same block, the discount within
the market band, no fee paid to itself, a native redemption queue that fills in part
and can be cancelled, and a cap on the treasury's native payouts. Each test is named
after the flaw it guards against; every one checks that value is conserved."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.genesis.sim.simulate import check_invariants
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.crypto import module_address
from rwachain.modules.governance import module as gov
from rwachain.modules.insurance import module as insurance
from rwachain.modules.market import keeper as market
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.reserve import invariants as reserve_invariants
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import vault
from tests.mech import KEYS, ORIGINATOR, SERVICER, WAD, Driver, devnet_chain_at, events
from tests.test_tranches import make_pool

SENIOR = "unit/p1/t0"
SELLER = KEYS[7]
FUND = module_address("insurance")
EVERYONE = [k.address for k in KEYS] + [reserve.RESERVE, FUND]  # where the stable tokens and units of a trade go


@pytest.fixture
def d(d):
    d.repay_installment(4)  # senior units become eligible
    d.block()  # the next block places the reserve's orders
    return d


def orders(d, side):
    return [o for o in market.orders_of(d.ctx, reserve.RESERVE) if o.side == side]


def holdings(d, accounts, denom):
    return sum(bank.balance(d.ctx, a, denom) for a in accounts)


def assert_sound(d):
    """Every module's invariant and the chain-wide checks hold (supply = sum of balances, ...)."""
    assert check_invariants(d.chain.app) == []


def sell_into(d, key, price, quantity):
    return d.tx(key, "market", "place", {"denom": SENIOR, "side": "sell", "price": price, "quantity": quantity,
                                         "expiry": 0})


# ----- flaw 9: one budget for every outlay ------------------------------------------------------
def test_flaw09_a_direct_sale_and_a_bid_fill_in_one_block_stay_within_one_budget(d):
    (bid,) = orders(d, "buy")
    st = reserve.epoch_state(d.ctx)
    left = st.budget - st.used
    price = reserve.quote_sale(d.ctx, SENIOR, 1, "stable").price
    direct = left * 9 // 10 // price  # nine tenths of the budget in a direct sale
    parties = EVERYONE
    rusd0, units0 = holdings(d, parties, "rusd"), holdings(d, parties, SENIOR)
    _, (r1, r2) = d.block(
        d.tx(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": direct, "minOut": 0, "payIn": "stable"}),
        sell_into(d, ORIGINATOR, bid.price, bid.quantity))  # then the whole standing bid
    assert r1.code == 0 and r2.code == 0, (r1.message, r2.message)
    st = reserve.epoch_state(d.ctx)
    fills = [f for f in events(r2, "market.fill") if f["buyer"] == reserve.RESERVE]
    spent = events(r1, "reserve.bought")[0]["value"] + sum(f["price"] * f["quantity"] + f["buyerFee"] for f in fills)
    assert st.used == spent <= st.budget  # the fill was cut to what the sale left
    assert st.budget - st.used < bid.price  # ... and used the rest, to the last whole unit
    assert sum(f["quantity"] for f in fills) < bid.quantity
    assert reserve_invariants.invariants(d.ctx) == []
    assert (holdings(d, parties, "rusd"), holdings(d, parties, SENIOR)) == (rusd0, units0)  # conserved
    assert_sound(d)
    # later blocks of the epoch bid for nothing: the budget is spent
    d.block()
    assert all(o.price * (o.quantity - o.filled) <= st.budget - st.used for o in orders(d, "buy"))


# ----- flaw 10: standing orders price queued oracle moves ---------------------------------------
@pytest.fixture
def thin(d):
    """A pool of the demo assets 1..3 with a junior of 1 %: its senior units move with the
    pool's value. One scheduled repayment makes them eligible; returns the senior unit."""
    pool = make_pool(d, senior_share=99, rate=0)
    assert d.repay_installment(1).code == 0
    d.block()
    return pool.tranches[0].denom


def queue_rate(d, delta):
    rate = oracle.state_of(d.ctx, "rate").value
    _, (r,) = d.block(d.report("rate", rate + delta))
    assert r.code == 0 and events(r, "oracle.queued"), r.message
    d.block()  # the next block refreshes the reserve's orders


def reserve_order(d, unit, side):
    (o,) = [o for o in orders(d, side) if o.denom == unit]
    return o


def test_flaw10_standing_bids_and_resale_asks_price_queued_oracle_moves(d, thin):
    bid = reserve_order(d, thin, "buy")
    r = d.run(ORIGINATOR, "market", "place", {"denom": thin, "side": "sell", "price": bid.price, "quantity": 50,
                                              "expiry": 0})
    assert r.code == 0, r.message  # the reserve now holds units: it offers them for resale
    prm = reserve.params(d.ctx)
    queue_rate(d, 5 * 10**16)  # a rate rise, queued: the units will soon be worth less
    p = vault.unit_prices(d.ctx, thin)
    assert p.queued is not None and p.queued < p.current
    bid = reserve_order(d, thin, "buy")
    assert bid.price <= p.buy * (WAD - prm["discount"]) // WAD  # a seller cannot front-run the move
    d.block(at=d.time + oracle.policy(d.ctx, "rate").delay)  # it applies
    queue_rate(d, -3 * 10**16)  # a fall, queued: the units will soon be worth more
    p = vault.unit_prices(d.ctx, thin)
    assert p.queued is not None and p.queued > p.current
    ask = reserve_order(d, thin, "sell")
    assert ask.price >= p.sell * (WAD + prm["premium"]) // WAD  # a buyer cannot front-run it
    assert_sound(d)


# ----- flaw 11: standing bids from marks revalued in the same block -----------------------------
def refresh_feeds(d):
    """Report every feed again at its value, so nothing is stale (one block)."""
    n = len(oracle.FEED)
    feeds = [(k[n:].decode(), oracle.state_of(d.ctx, k[n:].decode()).value) for k, _ in
             d.ctx.iter_prefix(oracle.FEED)]
    _, receipts = d.block(*[d.report(f, v) for f, v in feeds])
    assert all(r.code == 0 for r in receipts), [r.message for r in receipts if r.code]


def test_flaw11_the_standing_bid_is_priced_from_marks_revalued_before_it(d, thin):
    """Through grace an overdue asset's value ramps down second by second: the standing bid
    of a block is priced from the mark at that block's time, never from an older mark."""
    rec = assets.get(d.ctx, 1)
    due, *_ = assets.schedule_of(d.ctx, 1)[1]  # asset 1's second installment stays unpaid
    d.block(at=due + 10)
    refresh_feeds(d)
    d.block()
    before = reserve_order(d, thin, "buy")
    d.block(at=due + rec.grace * 3 // 4 - 10)
    refresh_feeds(d)
    d.block()
    assert assets.get(d.ctx, 1).status == "overdue"
    worth = vault.unit_prices(d.ctx, thin).buy
    assert worth < before.price  # the ramp took the units below the earlier bid
    discount = reserve.params(d.ctx)["discount"]
    assert all(b.price <= worth * (WAD - discount) // WAD for b in orders(d, "buy") if b.denom == thin)
    assert_sound(d)


def test_flaw11_a_queued_move_that_applies_at_the_block_start_prices_that_blocks_bid(d, thin):
    """A rate rise queued, then applied by the oracle's begin-block: the standing bid of that
    very block is priced from marks revalued after it, not from the marks of the block before."""
    rate = oracle.state_of(d.ctx, "rate").value
    queue_rate(d, 5 * 10**16)
    st = oracle.state_of(d.ctx, "rate")
    assert st.pending is not None
    d.block(at=st.pending.activatesAt)
    assert oracle.state_of(d.ctx, "rate").value > rate and not oracle.state_of(d.ctx, "rate").pending
    worth = vault.unit_prices(d.ctx, thin).buy
    discount = reserve.params(d.ctx)["discount"]
    bids = [b for b in orders(d, "buy") if b.denom == thin]
    assert bids and all(b.price <= worth * (WAD - discount) // WAD for b in bids), (bids, worth)
    assert_sound(d)


# ----- flaw 12: the discount within the band; no fee paid to itself -----------------------------
def stake_and_propose(d, value, target="reserve"):
    return d.run(KEYS[0], "governance", "proposeChange", {"action": "setParams", "target": target, "value": value})


def test_flaw12_a_discount_above_the_market_band_is_refused(d):
    assert d.run(KEYS[0], "insurance", "stake", {"amount": 10**12 // 2}).code == 0
    before = reserve.params(d.ctx), d.ctx.get_int(gov.NEXT)
    band = market.params(d.ctx)["band"]
    r = stake_and_propose(d, f"discount={band + 1}")
    assert r.error == "invalid_state" and "band" in r.message, r.message
    r = stake_and_propose(d, f"band={reserve.params(d.ctx)['discount'] - 1}", target="market")
    assert r.error == "invalid_state" and "discount" in r.message, r.message
    assert (reserve.params(d.ctx), d.ctx.get_int(gov.NEXT)) == before
    # two changes, each valid alone: the later one fails when it executes
    r1 = stake_and_propose(d, f"discount={band * 8 // 10}")
    r2 = stake_and_propose(d, f"band={band // 2}", target="market")
    assert r1.code == 0 and r2.code == 0, (r1.message, r2.message)
    ids = [events(r, "gov.proposed")[0]["id"] for r in (r1, r2)]
    _, votes = d.block(*[d.tx(KEYS[0], "governance", "vote", {"id": i, "support": "yes"}) for i in ids])
    assert all(v.code == 0 for v in votes)
    end = max(gov.get(d.ctx, i).end for i in ids)
    d.block(at=end)
    result, _ = d.block(at=end + gov.params(d.ctx)["executionDelay"])
    assert [gov.get(d.ctx, i).status for i in ids] == ["executed", "failed"]
    assert reserve.params(d.ctx)["discount"] <= market.params(d.ctx)["band"]
    refresh_feeds(d)
    d.block()
    assert orders(d, "buy")  # the standing bid is still there
    assert_sound(d)


def test_flaw12_the_reserve_pays_no_market_fee_to_itself(d):
    bid = reserve_order(d, SENIOR, "buy")
    parties = EVERYONE
    rusd0 = holdings(d, parties, "rusd")
    fund0 = bank.balance(d.ctx, FUND, "rusd")
    held = bank.balance(d.ctx, SELLER.address, SENIOR)
    r = d.run(SELLER, "market", "place", {"denom": SENIOR, "side": "sell", "price": bid.price, "quantity": held,
                                          "expiry": 0})
    assert r.code == 0, r.message
    fills = events(r, "market.fill")
    mine = [f for f in fills if f["buyer"] == reserve.RESERVE]
    assert mine and all(f["buyerFee"] == 0 and f["sellerFee"] > 0 for f in mine)
    share = sum(f["buyerFee"] + f["sellerFee"] for f in fills) * insurance.params(d.ctx)["feeShare"] // WAD
    assert bank.balance(d.ctx, FUND, "rusd") == fund0 + share  # stakers earn on the fees others paid only
    assert reserve.epoch_state(d.ctx).used == sum(f["price"] * f["quantity"] for f in mine)
    assert holdings(d, parties, "rusd") == rusd0
    assert_sound(d)


# ----- flaw 16: the native redemption queue fills in part, first in first out, and cancels -------
def test_flaw16_a_redemption_above_the_epoch_limit_fills_in_part_each_epoch(d):
    first, second = KEYS[3], KEYS[5]
    prm = reserve.params(d.ctx)
    limit = reserve.native_circulating(d.ctx) * prm["redeemLimit"] // WAD
    big, small = limit * 19 // 10, limit // 10
    native0 = bank.supply(d.ctx, "rwa")
    _, rs = d.block(d.tx(first, "reserve", "requestRedeem", {"amount": big}),
                    d.tx(second, "reserve", "requestRedeem", {"amount": small}))
    assert all(r.code == 0 for r in rs), [r.message for r in rs]
    cash = {k.address: bank.balance(d.ctx, k.address, "rusd") for k in (first, second)}
    start = d.time + prm["cooldown"]
    d.block(at=start)
    d.block()
    st = reserve.native_epoch(d.ctx)
    assert 0 < st.used == st.limit  # the epoch's limit is filled, no more
    assert bank.balance(d.ctx, first.address, "rusd") > cash[first.address]  # the first holder is paid in part
    left = sum(e.unfilled for e in reserve.redemptions(d.ctx, first.address))
    assert 0 < left < big  # ... and still queued for the rest
    assert bank.balance(d.ctx, second.address, "rusd") == cash[second.address]  # first in, first out
    # the first holder cancels what is unfilled: the native comes back
    nat = bank.balance(d.ctx, first.address, "rwa")
    r = d.run(first, "reserve", "cancelRedeem", {})
    assert r.code == 0, r.message
    assert bank.balance(d.ctx, first.address, "rwa") == nat + left - r.fee
    assert reserve.redemptions(d.ctx, first.address) == []
    d.block(at=d.time + prm["epoch"])
    d.block()
    assert bank.balance(d.ctx, second.address, "rusd") > cash[second.address]  # the next in line is served
    assert reserve.redemptions(d.ctx, second.address) == [] and d.ctx.get_int(reserve.QUEUED) == 0
    assert bank.supply(d.ctx, "rwa") == native0  # native is handed in, never burnt or minted
    assert d.run(first, "reserve", "cancelRedeem", {}).error == "invalid_state"  # nothing left to cancel
    assert_sound(d)


# ----- flaw 15 (the treasury's half): native payouts have a cap of their own -------------------
def test_flaw15_treasury_native_cap(d):
    prm = reserve.params(d.ctx)
    cap = reserve.native_circulating(d.ctx) * prm["nativePayoutShare"] // WAD
    q = reserve.quote_sale(d.ctx, SENIOR, 1, "native")
    over = cap // q.out + 1  # one unit more than the cap pays for
    st = reserve.epoch_state(d.ctx)
    assert over * q.value < st.budget - st.used  # the budget alone would allow it
    treasury = bank.balance(d.ctx, reserve.TREASURY, "rwa")
    r = d.run(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": over, "minOut": 0, "payIn": "native"})
    assert r.error == "limit_exceeded" and "native" in r.message, r.message
    assert bank.balance(d.ctx, reserve.TREASURY, "rwa") == treasury
    r = d.run(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": over - 2, "minOut": 0, "payIn": "native"})
    assert r.code == 0, r.message
    out = events(r, "reserve.bought")[0]["out"]
    assert out <= cap and bank.balance(d.ctx, reserve.TREASURY, "rwa") == treasury - out
    r = d.run(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": 2, "minOut": 0, "payIn": "native"})
    assert r.error == "limit_exceeded"  # what is left of the cap is less than two units' worth
    r = d.run(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": 2, "minOut": 0, "payIn": "stable"})
    assert r.code == 0, r.message  # paid in the stable token, the budget still buys
    assert_sound(d)


# ----- a property: whatever the order of outlays, one budget and one cap hold --------------------
ACTIONS = st.lists(st.tuples(st.sampled_from(["stable", "native", "fill", "redeem", "cancel"]),
                             st.integers(1, 1200), st.booleans()), min_size=1, max_size=8)


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(actions=ACTIONS)
def test_any_mix_of_sales_fills_and_redemptions_stays_within_the_budget_and_the_cap(actions):
    with tempfile.TemporaryDirectory() as tmp:
        chain = devnet_chain_at(os.path.join(tmp, "chain"))
        try:
            d = Driver(chain)
            d.repay_installment(4)
            d.block()
            supply0 = {n: bank.supply(d.ctx, n) for n in ("rusd", "rwa", SENIOR)}
            txs = []
            for kind, q, next_block in actions:
                if kind in ("stable", "native"):
                    txs.append(d.tx(ORIGINATOR, "reserve", "sell", {"unit": SENIOR, "quantity": min(q, 900),
                                                                    "minOut": 0, "payIn": kind}))
                elif kind == "fill":
                    bid = [o for o in orders(d, "buy") if o.denom == SENIOR]
                    if bid:
                        txs.append(sell_into(d, ORIGINATOR, bid[0].price, min(q, 900)))
                elif kind == "redeem":
                    txs.append(d.tx(KEYS[3], "reserve", "requestRedeem", {"amount": q * 10**9}))
                else:
                    txs.append(d.tx(KEYS[3], "reserve", "cancelRedeem", {}))
                if next_block:
                    d.block(*txs, dt=43_200)  # half a day: epochs and cool-downs pass too
                    txs = []
                    assert_sound(d)
            d.block(*txs)
            assert_sound(d)
            st_ = reserve.epoch_state(d.ctx)
            assert st_.used <= st_.budget
            assert {n: bank.supply(d.ctx, n) for n in supply0} == supply0  # nothing minted or burnt
        finally:
            chain.close()


def test_flaw11_a_bid_priced_before_a_default_in_the_same_block_does_not_fill(d, thin):
    bid = reserve_order(d, thin, "buy")
    units0 = bank.balance(d.ctx, reserve.RESERVE, thin)
    rusd0 = holdings(d, EVERYONE, "rusd")
    # the servicer marks asset 2 defaulted; a seller placed right behind it in the block
    # tries to sell at the bid priced from the marks before the default
    _, (r1, r2) = d.block(d.tx(SERVICER, "assets", "markDefault", {"id": 2}),
                          d.tx(ORIGINATOR, "market", "place", {"denom": thin, "side": "sell", "price": bid.price,
                                                               "quantity": 50, "expiry": 0}))
    assert r1.code == 0 and r2.code == 0, (r1.message, r2.message)
    assert not [f for f in events(r2, "market.fill") if f["buyer"] == reserve.RESERVE]
    assert [c for c in events(r2, "market.cancelled") if c["order"] == bid.id and c["reason"] == "repricing"]
    assert bank.balance(d.ctx, reserve.RESERVE, thin) == units0 and holdings(d, EVERYONE, "rusd") == rusd0
    worth = vault.unit_prices(d.ctx, thin).buy
    assert worth < bid.price  # the default took the units below the old bid
    d.block()  # the next block bids again, from the revalued marks
    assert reserve_order(d, thin, "buy").price <= worth * (WAD - reserve.params(d.ctx)["discount"]) // WAD
    assert_sound(d)


def test_a_native_redemption_whose_slice_pays_nothing_gives_the_native_back(d):
    """A redemption so small that its share of every basket holding rounds to nothing is not
    filled for nothing: when its turn comes the native goes back to its holder (value in =
    value out + value held), and the queue goes on."""
    holder = KEYS[3]
    tiny = 1  # one base unit of native: its share of any holding floors to 0
    assert reserve.basket_slice(d.ctx, tiny) == {}
    nat0, supply0 = bank.balance(d.ctx, holder.address, "rwa"), bank.supply(d.ctx, "rwa")
    r = d.run(holder, "reserve", "requestRedeem", {"amount": tiny})
    assert r.code == 0, r.message
    d.block(at=d.time + reserve.params(d.ctx)["cooldown"])
    d.block()
    assert reserve.redemptions(d.ctx, holder.address) == [] and d.ctx.get_int(reserve.QUEUED) == 0
    assert bank.balance(d.ctx, holder.address, "rwa") == nat0 - r.fee  # the native came back
    assert bank.supply(d.ctx, "rwa") == supply0
    assert_sound(d)
