"""Attacks on the insurance fund and governance, on a real chain: staking late around a
recovery, a slash that empties the fund, and buying votes by bonding late."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import timelock
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidState, Unauthorized
from rwachain.modules.governance import module as gov
from rwachain.modules.insurance import invariants as insurance_invariants
from rwachain.modules.insurance import module as insurance
from rwachain.modules.reserve import module as reserve
from rwachain.modules.roles import module as roles
from rwachain.modules.tranches import keeper as tranches
from rwachain.state.overlay import Overlay
from tests.mech import KEYS, SERVICER, WAD, Driver, broken_invariants, events
from tests.test_tranches import make_pool

RWA = 10**6
EARLY, LEAVER, LATE, ATTACKER = KEYS[0], KEYS[2], KEYS[8], KEYS[3]  # none stakes in the devnet genesis
DEMO = [KEYS[i] for i in devnet.DEMO_STAKERS]


def no_broken_invariants(d) -> None:
    assert broken_invariants(d.chain) == []


def held_shares(ctx, key) -> int:
    """All of an account's fund shares, bonded and unbonding."""
    unbonding = sum(sh for _, sh in timelock.entries(ctx, insurance.UNBOND, key.address))
    return insurance.record(ctx, key.address).shares + unbonding


def claim_rusd(d, key) -> int:
    r = d.run(key, "insurance", "claim", {})
    assert r.code == 0, r.message
    return sum(e["amount"] for e in events(r, "insurance.claimed") if e["denom"] == "rusd")


# ----- flaw 13: a recovery repays the stakers who bore the slash --------------------------------
def test_flaw13_a_recovery_goes_to_the_stakers_who_bore_the_slash(d):
    d.block(d.tx(EARLY, "insurance", "stake", {"amount": 400_000 * RWA}),
            d.tx(LEAVER, "insurance", "stake", {"amount": 100_000 * RWA}))
    assert d.run(LEAVER, "insurance", "unbond", {"amount": 100_000 * RWA}).code == 0  # unbonding, still slashable
    pool = make_pool(d, senior_share=50)
    assert d.run(SERVICER, "assets", "markDefault", {"id": 3}).code == 0
    r = d.run(SERVICER, "assets", "writeOff", {"id": 3})
    assert events(r, "insurance.cover")[0]["paid"] > 0
    at_slash = {k.address: held_shares(d.ctx, k) for k in [EARLY, LEAVER, *DEMO]}
    shares_at_slash = insurance.fund(d.ctx).shares
    assert sum(at_slash.values()) == shares_at_slash
    # a late staker bonds far more than everyone else, right before the recovery arrives
    assert d.run(LATE, "insurance", "stake", {"amount": 900_000 * RWA}).code == 0
    owed = tranches.get(d.ctx, pool.id).coverOwed
    r = d.run(SERVICER, "assets", "recover", {"id": 3, "amount": owed})
    assert r.code == 0, r.message
    assert insurance.pending(d.ctx, LATE.address).get("rusd", 0) == 0
    assert claim_rusd(d, LATE) == 0  # nothing for the late staker (its fee share only)
    paid = 0
    for k in [EARLY, LEAVER, *DEMO]:
        expect = owed * at_slash[k.address] // shares_at_slash
        got = claim_rusd(d, k)
        assert expect - 1 <= got <= expect, k.address.hex()  # pro rata to the shares that bore the slash
        paid += got
    assert owed - len(at_slash) <= paid <= owed  # recovery paid out = recovery received (less dust)
    no_broken_invariants(d)


def test_flaw13_recoveries_of_two_slashes_go_to_each_slashs_stakers(d):
    """Two pools covered at different times by different staker sets: each recovery repays
    its own slash's stakers."""
    d.block(d.tx(EARLY, "insurance", "stake", {"amount": 400_000 * RWA}))
    p1 = make_pool(d, ids=(3,), senior_share=10)  # a 25,000 RUSD senior loss
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    d.run(SERVICER, "assets", "writeOff", {"id": 3})
    owed1 = tranches.get(d.ctx, p1.id).coverOwed
    shares1 = insurance.fund(d.ctx).shares
    early1 = held_shares(d.ctx, EARLY)
    assert d.run(LATE, "insurance", "stake", {"amount": 400_000 * RWA}).code == 0
    p2 = make_pool(d, ids=(2,), senior_share=50)  # a 25,000 RUSD senior loss
    d.run(SERVICER, "assets", "markDefault", {"id": 2})
    d.run(SERVICER, "assets", "writeOff", {"id": 2})
    owed2 = tranches.get(d.ctx, p2.id).coverOwed
    shares2 = insurance.fund(d.ctx).shares
    assert d.run(SERVICER, "assets", "recover", {"id": 2, "amount": owed2}).code == 0
    assert d.run(SERVICER, "assets", "recover", {"id": 3, "amount": owed1}).code == 0
    late = claim_rusd(d, LATE)
    expect_late = owed2 * held_shares(d.ctx, LATE) // shares2
    assert expect_late - 1 <= late <= expect_late  # only the second slash's recovery
    early = claim_rusd(d, EARLY)
    expect_early = owed1 * early1 // shares1 + owed2 * early1 // shares2
    assert expect_early - 2 <= early <= expect_early
    no_broken_invariants(d)


STAKERS = [EARLY, LEAVER, LATE, ATTACKER, *DEMO]
OPS = st.one_of(
    st.tuples(st.just("stake"), st.sampled_from(STAKERS[:4]), st.integers(1, 100_000 * RWA)),
    st.tuples(st.just("unbond"), st.sampled_from(STAKERS), st.integers(1, 100)),
    st.tuples(st.just("withdraw"), st.sampled_from(STAKERS), st.just(0)),
    st.tuples(st.just("slash"), st.just(None), st.integers(1, 100)),  # per cent of the fund's worth
    st.tuples(st.just("recover"), st.just(None), st.integers(1, 20_000 * RWA)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(OPS, min_size=3, max_size=12))
# A withdrawal refused (its era ended) after a recovery: its writes must not count.
@example(ops=[("unbond", DEMO[0], 1), ("slash", None, 100), ("recover", None, 3), ("withdraw", DEMO[0], 0)])
def test_flaw13_every_recovery_follows_the_shares_its_slash_hit(devnet_chain, ops):
    """Stakes, unbondings, withdrawals, slashes and recoveries in any order: each account
    collects floor(h_g x R_g / S_g) of every slash g (h_g its bonded and unbonding shares at
    the slash), nothing of a slash before its stake; paid out <= received."""
    d = Driver(devnet_chain)
    ov, block = Overlay(d.chain.store), d.ctx.block
    now = block.time
    slashes: list[tuple[dict, int]] = []  # (shares of each account at the slash, all shares)
    owed: list[int] = []  # what each slash's cover is owed
    recovered: list[int] = []
    pool = tranches.pool_account(1)
    for op, who, x in ops:
        now += 86_400
        ctx = d.chain.app.context(ov, type(block)(block.height, now, b""))
        if op == "stake":
            insurance._stake(ctx, who.address, {"amount": x})
        elif op == "unbond" and insurance.stake_of(ctx, who.address):
            insurance._unbond(ctx, who.address, {"amount": max(1, insurance.stake_of(ctx, who.address) * x // 100)})
        elif op == "withdraw":
            # As a transaction: on its own overlay, kept only if the handler does not refuse
            # (App._deliver drops a refused handler's writes).
            tx = Overlay(ov)
            later = d.chain.app.context(tx, type(block)(block.height, now + insurance.params(ctx)["unbonding"], b""))
            if any(t <= later.block.time for t, _ in timelock.entries(ctx, insurance.UNBOND, who.address)):
                try:
                    insurance._withdraw(later, who.address, {})
                    tx.merge_into_parent()
                except InvalidState:  # unbondings of an era that ended (an emptied fund) are worth nothing
                    assert insurance.stored(ctx, who.address).era < insurance.fund(ctx).era
                now = later.block.time
        elif op == "slash":
            at = {k.address: held_shares(ctx, k) for k in STAKERS}
            f, b = insurance.fund(ctx), reserve.backing(ctx)
            paid = insurance.cover(ctx, 1, f.native * b // WAD * x // 100)
            if paid:
                slashes.append((at, f.shares))
                owed.append(paid)
                recovered.append(0)
        elif op == "recover" and sum(owed) - sum(recovered):
            amount = min(x, sum(owed) - sum(recovered))
            insurance.repaid(ctx, pool, amount)
            for g in range(len(owed)):  # oldest cover first
                take = min(amount, owed[g] - recovered[g])
                recovered[g] += take
                amount -= take
    ctx = d.chain.app.context(ov, type(block)(block.height, now, b""))
    for k in STAKERS:
        expect = sum(at[k.address] * recovered[g] // shares for g, (at, shares) in enumerate(slashes))
        got = insurance.pending(ctx, k.address).get("rusd", 0) - _fee_rusd(ctx, k)
        assert got == expect, (k.address.hex(), got, expect)
    assert insurance_invariants.invariants(ctx) == []


def _fee_rusd(ctx, key) -> int:
    """The stable fee share an account has earned (no market fee is paid here: 0)."""
    rec = insurance.record(ctx, key.address)
    return rec.owed.get("rusd", 0)


# ----- flaw 14: an emptied fund reopens ---------------------------------------------------------
def _writer(d) -> Ctx:
    return d.chain.app.context(Overlay(d.chain.store), d.ctx.block)


def _exact_native(d) -> tuple[Ctx, int]:
    """A writable context in which a cover of the fund's whole worth slashes it to exactly
    zero (the stake topped up by a few base units until native * b leaves no remainder that
    rounding could keep), and that cover's need."""
    for extra in range(1, 200):
        ctx = _writer(d)
        d.handle(ctx, "insurance", "stake", LATE.address, {"amount": 1_000 * RWA + extra})
        f, b = insurance.fund(ctx), reserve.backing(ctx)
        need = f.native * b // WAD
        if -(-need * WAD // b) == f.native:
            return ctx, need
    raise AssertionError("no exact slash found")


def _reopens(d, ctx: Ctx) -> None:
    """After a full slash: new stake gets shares at par, it proposes and votes, and the
    stake it bonded is what it can take back."""
    f = insurance.fund(ctx)
    assert f.native == 0 and f.shares == 0 and f.bonded == 0
    for k in DEMO:
        assert insurance.stake_of(ctx, k.address) == 0
    d.handle(ctx, "insurance", "stake", ATTACKER.address, {"amount": 5_000 * RWA})
    assert insurance.record(ctx, ATTACKER.address).shares == 5_000 * RWA  # fresh shares at par
    assert insurance.stake_of(ctx, ATTACKER.address) == 5_000 * RWA == insurance.total(ctx)
    d.handle(ctx, "governance", "propose", ATTACKER.address, {"action": "unpause", "target": "market", "account": b""})
    pid = ctx.get_int(gov.NEXT) - 1
    d.handle(ctx, "governance", "vote", ATTACKER.address, {"id": pid, "support": "yes"})
    assert gov.get(ctx, pid).yes == 5_000 * RWA
    with pytest.raises(Unauthorized):  # the old stakers hold nothing and cannot vote
        d.handle(ctx, "governance", "vote", DEMO[0].address, {"id": pid, "support": "yes"})


def test_flaw14_an_exact_full_slash_leaves_a_fund_that_reopens(d):
    pool = make_pool(d, senior_share=50)
    ctx, need = _exact_native(d)
    paid = insurance.cover(ctx, pool.id, need)
    assert paid == need
    _reopens(d, ctx)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.just(WAD), st.just(WAD - 1), st.integers(0, WAD)))
def test_flaw14_any_slash_fraction_leaves_the_fund_usable(devnet_chain, fraction):
    d = Driver(devnet_chain)  # each example on its own overlay of the same committed state
    ctx = _writer(d)
    f0, b = insurance.fund(ctx), reserve.backing(ctx)
    worth = f0.native * b // WAD
    paid = insurance.cover(ctx, 1, worth * fraction // WAD)
    f = insurance.fund(ctx)
    assert paid == worth * fraction // WAD
    assert bank.balance(ctx, insurance.FUND, "rwa") >= f.native
    if f.native:
        assert f.native * 10**6 >= f0.native  # no remnant below a millionth: the share price stays sane
        value = insurance.stake_of(ctx, DEMO[0].address)
        assert value * 3 <= f.native <= value * 3 + 3
        before = f.shares
        d.handle(ctx, "insurance", "stake", ATTACKER.address, {"amount": 1_000 * RWA})
        got = insurance.stake_of(ctx, ATTACKER.address)
        assert 1_000 * RWA - 10**6 <= got <= 1_000 * RWA
        assert insurance.fund(ctx).shares - before <= 1_000 * RWA * 10**6
    else:
        _reopens(d, ctx)
    assert [p for p in insurance_invariants.invariants(ctx)] == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.just(WAD), st.integers(WAD - WAD // 10**5, WAD), st.integers(0, WAD)), min_size=2,
                max_size=4))
def test_flaw14_a_slash_takes_its_cover_and_at_most_a_millionth_more(devnet_chain, fractions):
    """Successive slashes, new stake between them: each takes ceil(paid / b), or all of a
    fund it leaves under a millionth; an emptied fund takes stake at par again."""
    d = Driver(devnet_chain)
    ctx = _writer(d)
    for fraction in fractions:
        f0, b = insurance.fund(ctx), reserve.backing(ctx)
        paid = insurance.cover(ctx, 1, f0.native * b // WAD * fraction // WAD)
        taken = f0.native - insurance.fund(ctx).native
        exact = min(f0.native, -(-paid * WAD // b)) if paid else 0
        assert taken == exact or (taken == f0.native and (f0.native - exact) * 10**6 < f0.native)
        before = insurance.stake_of(ctx, ATTACKER.address)
        d.handle(ctx, "insurance", "stake", ATTACKER.address, {"amount": 1_000 * RWA})
        assert 1_000 * RWA - RWA <= insurance.stake_of(ctx, ATTACKER.address) - before <= 1_000 * RWA
    assert [p for p in insurance_invariants.invariants(ctx)] == []


def test_flaw14_a_full_slash_through_a_write_off_reopens_staking_and_governance(d):
    make_pool(d, senior_share=90)  # a senior loss larger than the whole fund
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    r = d.run(SERVICER, "assets", "writeOff", {"id": 3})
    assert events(r, "insurance.cover")[0]["paid"] > 0
    assert insurance.fund(d.ctx).native == 0
    r = d.run(ATTACKER, "insurance", "stake", {"amount": 2_000 * RWA})
    assert r.code == 0, r.message
    assert insurance.record(d.ctx, ATTACKER.address).shares == 2_000 * RWA
    r = d.run(ATTACKER, "governance", "propose", {"action": "unpause", "target": "market", "account": b""})
    assert r.code == 0, r.message
    pid = events(r, "gov.proposed")[0]["id"]
    assert d.run(ATTACKER, "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    assert d.run(DEMO[0], "governance", "vote", {"id": pid, "support": "yes"}).error == "unauthorized"
    # the old stakers unbond nothing and withdraw nothing; their records are clean
    assert d.run(DEMO[0], "insurance", "unbond", {"amount": 1}).error == "insufficient_funds"
    no_broken_invariants(d)


# ----- flaw 15: voting power is the stake bonded at the proposal's snapshot --------------------
def test_flaw15_stake_bonded_after_the_proposal_does_not_vote(d):
    d.block(d.tx(EARLY, "insurance", "stake", {"amount": 1_000 * RWA}))
    r = d.run(EARLY, "governance", "propose", {"action": "grantRole", "target": "verifier",
                                               "account": ATTACKER.address})
    pid = events(r, "gov.proposed")[0]["id"]
    end = gov.get(d.ctx, pid).end
    # the last block of the vote: the attacker bonds more than all stake and votes
    d.block(at=end - 2)
    r1, r2 = d.block(d.tx(ATTACKER, "insurance", "stake", {"amount": 900_000 * RWA}),
                     d.tx(ATTACKER, "governance", "vote", {"id": pid, "support": "yes"}), at=end - 1)[1]
    assert r1.code == 0, r1.message
    assert r2.error == "unauthorized", r2.message
    assert gov.get(d.ctx, pid).yes == 0
    d.block(at=end)
    assert gov.get(d.ctx, pid).status == "rejected"
    assert not roles.has_role(d.ctx, "verifier", ATTACKER.address)


def test_flaw15_weight_and_quorum_are_taken_at_the_snapshot(d):
    d.block(d.tx(EARLY, "insurance", "stake", {"amount": 1_000 * RWA}),
            d.tx(LEAVER, "insurance", "stake", {"amount": 3_000 * RWA}))
    total0 = insurance.total(d.ctx)
    r = d.run(EARLY, "governance", "propose", {"action": "unpause", "target": "market", "account": b""})
    pid = events(r, "gov.proposed")[0]["id"]
    # after the snapshot: EARLY adds stake (not counted), LEAVER unbonds (still counted)
    assert d.run(EARLY, "insurance", "stake", {"amount": 9_000 * RWA}).code == 0
    assert d.run(LEAVER, "insurance", "unbond", {"amount": 3_000 * RWA}).code == 0
    assert d.run(EARLY, "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    assert d.run(LEAVER, "governance", "vote", {"id": pid, "support": "no"}).code == 0
    p = gov.get(d.ctx, pid)
    assert (p.yes, p.no) == (1_000 * RWA, 3_000 * RWA)
    result, _ = d.block(at=p.end)
    tally = next(e for e in events(result, "gov.tallied") if e["id"] == pid)
    assert tally["quorum"] == total0 * gov.params(d.ctx)["quorum"] // WAD and tally["status"] == "rejected"
    no_broken_invariants(d)


SNAP_OPS = st.one_of(
    st.tuples(st.just("stake"), st.sampled_from(STAKERS[:4]), st.integers(1, 100_000 * RWA)),
    st.tuples(st.just("unbond"), st.sampled_from(STAKERS), st.integers(1, 100)),
    st.tuples(st.just("snapshot"), st.just(None), st.just(0)),
    st.tuples(st.just("slash"), st.just(None), st.integers(1, 100)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SNAP_OPS, min_size=2, max_size=14))
def test_flaw15_a_snapshot_keeps_every_accounts_bonded_stake_of_its_moment(devnet_chain, ops):
    """Whatever stakes, unbondings and slashes (an emptying one too) follow, stake_at and
    total_at of a snapshot give the bonded stake of its moment."""
    d = Driver(devnet_chain)
    ctx = _writer(d)
    seen: dict[int, tuple[dict, int]] = {}
    for op, who, x in ops:
        if op == "stake":
            d.handle(ctx, "insurance", "stake", who.address, {"amount": x})
        elif op == "unbond" and insurance.stake_of(ctx, who.address):
            d.handle(ctx, "insurance", "unbond", who.address, {"amount": max(1, insurance.stake_of(ctx, who.address) * x // 100)})
        elif op == "snapshot":
            sid = insurance.snapshot(ctx)
            seen[sid] = ({k.address: insurance.stake_of(ctx, k.address) for k in STAKERS}, insurance.total(ctx))
        elif op == "slash":
            f, b = insurance.fund(ctx), reserve.backing(ctx)
            insurance.cover(ctx, 1, f.native * b // WAD * x // 100)
    for sid, (stakes, total) in seen.items():
        assert {a: insurance.stake_at(ctx, a, sid) for a in stakes} == stakes
        assert insurance.total_at(ctx, sid) == total
