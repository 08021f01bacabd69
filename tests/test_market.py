"""The order book of a tranche unit: matching at the maker's price with price-time
priority, partial fills, fees to the reserve, cancel, expiry, the band guard, on a real chain."""

from __future__ import annotations

import pytest

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import NotFound
from rwachain.modules.insurance import module as insurance
from rwachain.modules.market import keeper as market
from tests.mech import DAY, KEYS, ORIGINATOR, Driver, events
from tests.test_tranches import make_pool

BUYER, OTHER = KEYS[7], KEYS[8]
RESERVE = module_address("reserve")


@pytest.fixture
def m(devnet_chain):
    d = Driver(devnet_chain)
    pool = make_pool(d)
    d.denom = pool.tranches[0].denom
    d.ref = market.reference_price(d.ctx, d.denom)
    # OTHER gets senior units to sell too
    d.run(ORIGINATOR, "bank", "transfer", {"to": OTHER.address, "denom": d.denom, "amount": 100})
    return d


def place(d, key, side, price, qty, expiry=0):
    return d.run(key, "market", "place", {"denom": d.denom, "side": side, "price": price, "quantity": qty,
                                          "expiry": expiry})


def totals(d):
    ctx = d.ctx
    return bank.supply(ctx, d.denom), bank.supply(ctx, "rusd")


def test_a_crossing_buy_fills_at_the_makers_price_and_pays_fees_to_the_reserve(m):
    ask = m.ref
    r = place(m, ORIGINATOR, "sell", ask, 10)
    assert r.code == 0, r.message
    oid = events(r, "market.placed")[0]["order"]
    before = {k: (bank.balance(m.ctx, k.address, m.denom), bank.balance(m.ctx, k.address, "rusd"))
              for k in (ORIGINATOR, BUYER)}
    res_before = bank.balance(m.ctx, RESERVE, "rusd")
    sup = totals(m)
    r = place(m, BUYER, "buy", ask + ask // 20, 4)  # willing to pay more: fills at the ask
    assert r.code == 0, r.message
    f = events(r, "market.fill")[0]
    assert f["price"] == ask and f["quantity"] == 4 and f["maker"] == oid
    cost = ask * 4
    assert f["buyerFee"] == -(-cost * 20 // 10_000) and f["sellerFee"] == -(-cost * 10 // 10_000)
    ctx = m.ctx
    assert bank.balance(ctx, BUYER.address, m.denom) == before[BUYER][0] + 4
    assert bank.balance(ctx, BUYER.address, "rusd") == before[BUYER][1] - cost - f["buyerFee"]
    assert bank.balance(ctx, ORIGINATOR.address, "rusd") == before[ORIGINATOR][1] + cost - f["sellerFee"]
    fees = bank.balance(ctx, RESERVE, "rusd") - res_before
    paid = f["buyerFee"] + f["sellerFee"]
    assert fees == paid - paid * insurance.params(ctx)["feeShare"] // 10**18  # the stakers' share goes to the fund
    assert totals(m) == sup  # both tokens conserved
    assert market.get(ctx, oid).filled == 4  # partial: 6 left on the book
    assert market.depth(ctx, m.denom, "sell") == [(ask, 6)]


def test_price_time_priority(m):
    p = m.ref
    a = events(place(m, OTHER, "sell", p, 5), "market.placed")[0]["order"]
    b = events(place(m, ORIGINATOR, "sell", p, 5), "market.placed")[0]["order"]
    c = events(place(m, ORIGINATOR, "sell", p - 1, 5), "market.placed")[0]["order"]
    r = place(m, BUYER, "buy", p, 12)
    fills = [(f["maker"], f["quantity"], f["price"]) for f in events(r, "market.fill")]
    assert fills == [(c, 5, p - 1), (a, 5, p), (b, 2, p)]  # best price, then the earlier order
    assert market.best(m.ctx, m.denom, "sell") == p and market.best(m.ctx, m.denom, "buy") is None


def test_resting_bids_and_asks_never_cross(m):
    p = m.ref
    place(m, BUYER, "buy", p - 2, 3)
    place(m, OTHER, "sell", p + 2, 3)
    assert market.best(m.ctx, m.denom, "buy") < market.best(m.ctx, m.denom, "sell")
    r = place(m, OTHER, "sell", p - 2, 5)  # crosses the bid: fills 3, rests 2 at p - 2
    assert sum(f["quantity"] for f in events(r, "market.fill")) == 3
    assert market.best(m.ctx, m.denom, "buy") is None and market.best(m.ctx, m.denom, "sell") == p - 2


def test_cancel_only_by_the_owner_and_expiry(m):
    oid = events(place(m, BUYER, "buy", m.ref, 2), "market.placed")[0]["order"]
    r = m.run(OTHER, "market", "cancel", {"order": oid})
    assert r.error == "unauthorized"
    r = m.run(BUYER, "market", "cancel", {"order": oid})
    assert r.code == 0 and market.depth(m.ctx, m.denom, "buy") == []
    expiry = m.time + 1 + DAY  # the order's block is at m.time + 1
    oid = events(place(m, BUYER, "buy", m.ref, 2, expiry=expiry), "market.placed")[0]["order"]
    m.block(at=expiry - 1)
    assert market.get(m.ctx, oid)
    result, _ = m.block(at=expiry)
    assert events(result, "market.cancelled")[0]["reason"] == "expired"
    with pytest.raises(NotFound):
        market.get(m.ctx, oid)


def test_the_band_and_the_minimum_price_guard_the_book(m):
    hi = m.ref + m.ref // 10 + 1
    r = place(m, BUYER, "buy", hi, 1)
    assert r.error == "limit_exceeded" and "band" in r.message
    assert place(m, BUYER, "buy", m.ref + m.ref // 10, 1).code == 0


def test_an_unfunded_maker_is_cancelled_when_it_would_fill(m):
    oid = events(place(m, OTHER, "sell", m.ref, 100), "market.placed")[0]["order"]
    m.run(OTHER, "bank", "transfer", {"to": ORIGINATOR.address, "denom": m.denom, "amount": 100})
    r = place(m, BUYER, "buy", m.ref, 10)
    assert events(r, "market.cancelled") == [{"order": oid, "owner": OTHER.address, "reason": "unfunded"}]
    assert not events(r, "market.fill") and market.best(m.ctx, m.denom, "buy") == m.ref


def test_self_trade_is_refused(m):
    place(m, OTHER, "sell", m.ref, 5)
    r = place(m, OTHER, "buy", m.ref, 5)
    assert r.error == "invalid_state" and "your own order" in r.message
