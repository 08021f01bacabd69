"""The insurance fund: shares that a slash lowers alike (bonded and unbonding), the stakers'
fee share, cover of senior losses once the junior face is gone (slashed native sold to the
reserve at the backing value), recoveries that repay the fund first; on a real chain."""

from __future__ import annotations

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.insurance import module as insurance
from rwachain.modules.reserve import module as reserve
from rwachain.modules.tranches import keeper as tranches
from tests.mech import KEYS, SERVICER, WAD, broken_invariants, events
from tests.test_tranches import make_pool

RWA = 10**6
STAKER, LEAVER = KEYS[0], KEYS[2]  # (neither stakes in the devnet genesis)


def bonded_shares(d, key) -> int:
    return insurance.record(d.ctx, key.address).shares


def test_the_stakers_share_of_fees_is_claimable_pro_rata(d):
    f = insurance.fund(d.ctx)
    staker = KEYS[devnet.DEMO_STAKERS[0]]
    before = insurance.pending(d.ctx, staker.address).get("rwa", 0)
    fees_before = bank.balance(d.ctx, reserve.RESERVE, "rwa")
    txs = [d.tx(KEYS[1], "bank", "transfer", {"to": KEYS[2].address, "denom": "rwa", "amount": 5}) for _ in range(4)]
    result, receipts = d.block(*txs)
    paid = sum(r.fee for r in receipts)
    share = paid * insurance.params(d.ctx)["feeShare"] // WAD
    assert events(result, "insurance.fees") == [{"denom": "rwa", "amount": share}]
    assert bank.balance(d.ctx, reserve.RESERVE, "rwa") - fees_before == paid - share
    earned = insurance.pending(d.ctx, staker.address)["rwa"] - before
    expect = share * bonded_shares(d, staker) // f.bonded
    assert expect - 1 <= earned <= expect  # the index floors
    held = bank.balance(d.ctx, staker.address, "rwa")
    r = d.run(staker, "insurance", "claim", {})
    assert r.code == 0, r.message
    got = events(r, "insurance.claimed")[0]["amount"]
    assert bank.balance(d.ctx, staker.address, "rwa") == held + got - r.fee
    assert broken_invariants(d.chain) == []


def test_a_senior_loss_is_covered_and_slashing_reaches_unbonding_stake(d):
    d.block(d.tx(STAKER, "insurance", "stake", {"amount": 500_000 * RWA}),
            d.tx(LEAVER, "insurance", "stake", {"amount": 100_000 * RWA}))
    r = d.run(LEAVER, "insurance", "unbond", {"amount": 100_000 * RWA})
    assert r.code == 0, r.message
    pool = make_pool(d, senior_share=50)  # junior: 200,000 RUSD of face
    junior_face = pool.tranches[1].face
    f0 = insurance.fund(d.ctx)
    b = reserve.backing(d.ctx)
    assert d.run(SERVICER, "assets", "markDefault", {"id": 3}).code == 0
    r = d.run(SERVICER, "assets", "writeOff", {"id": 3})  # 250,000 RUSD of principal lost
    assert r.code == 0, r.message
    senior_loss = 250_000 * 10**6 - junior_face
    cover = events(r, "insurance.cover")[0]
    assert cover["need"] == senior_loss and cover["paid"] == senior_loss  # the fund is large enough
    assert cover["slashed"] == -(-senior_loss * WAD // cover["backing"]) and cover["backing"] >= b  # (+ fees)
    f1 = insurance.fund(d.ctx)
    assert f1.native == f0.native - cover["slashed"] and f1.shares == f0.shares
    p = tranches.get(d.ctx, pool.id)
    senior = p.tranches[0]
    assert senior.covered == senior_loss == senior.allocated and p.coverOwed == senior_loss
    assert bank.balance(d.ctx, p.account, "rusd") == senior_loss  # paid into the pool, for the seniors
    assert bank.balance(d.ctx, reserve.TREASURY, "rwa") == devnet.TREASURY_FUND + cover["slashed"]
    # the unbonding stake bore its share of the slash
    d.block(at=d.time + insurance.params(d.ctx)["unbonding"])
    r = d.run(LEAVER, "insurance", "withdraw", {})
    got = events(r, "insurance.withdrawn")[0]["amount"]
    assert got < 100_000 * RWA and got == events(r, "insurance.withdrawn")[0]["shares"] * f1.native // f1.shares
    assert broken_invariants(d.chain) == []


def test_recoveries_repay_the_fund_first(d):
    d.block(d.tx(STAKER, "insurance", "stake", {"amount": 500_000 * RWA}))
    pool = make_pool(d, senior_share=50)
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    d.run(SERVICER, "assets", "writeOff", {"id": 3})
    owed = tranches.get(d.ctx, pool.id).coverOwed
    assert owed > 0
    r = d.run(SERVICER, "assets", "recover", {"id": 3, "amount": owed + 1000})
    assert r.code == 0, r.message
    assert events(r, "tranches.coverRepaid")[0]["amount"] == owed
    p = tranches.get(d.ctx, pool.id)
    assert p.coverOwed == 0
    assert events(r, "tranches.waterfall")[0]["cash"] == 1000  # only the rest reaches the tranches
    earned = insurance.pending(d.ctx, STAKER.address)["rusd"]
    assert owed * bonded_shares(d, STAKER) // insurance.fund(d.ctx).bonded - 1 <= earned
    assert broken_invariants(d.chain) == []


def test_cover_is_limited_by_the_fund(d):
    pool = make_pool(d, senior_share=90)  # a 210,000 RUSD senior loss against 300,000 RWA of stake
    f0 = insurance.fund(d.ctx)
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    r = d.run(SERVICER, "assets", "writeOff", {"id": 3})
    cover = events(r, "insurance.cover")[0]
    assert cover["paid"] == f0.native * cover["backing"] // WAD < cover["need"]
    left = insurance.fund(d.ctx).native
    assert left * cover["backing"] // WAD == 0  # what is left is worth less than a base unit of stable
    assert tranches.get(d.ctx, pool.id).tranches[0].covered == cover["paid"]


def test_unbonding_is_longer_than_any_grace_plus_the_default_window():
    assert insurance.DEFAULT_PARAMS["unbonding"] > 180 * 86_400
