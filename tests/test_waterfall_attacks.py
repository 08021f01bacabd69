"""Attacks on a pool's waterfall through its losses: a write-off that writes the tranches down
by more than the pool is short (the over-collateral that excess interest built goes to the
junior residual while the senior takes the loss), and cash after a write-down that reaches
the junior residual while the senior's written-down face is still unpaid. On a real chain."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.insurance import module as insurance
from rwachain.modules.tranches import keeper, waterfall
from tests.mech import DAY, ORIGINATOR, SERVICER, WAD, DevnetMachine, broken_invariants, events

RUSD = 10**6
UNIT = 100 * RUSD
SENIOR_FACE = 300_000 * RUSD  # over assets 1 (loan, 100,000) and 3 (revenue right, 250,000): par 350,000
SENIOR_RATE = 5 * WAD // 100


def collateral(d, pool) -> int:
    """Outstanding principal of the pool's assets not written off, base units."""
    return sum(assets.outstanding_principal(assets.schedule_of(d.ctx, a)) for a in pool.assets
               if assets.get(d.ctx, a).status != "written_off")


def pool_with_excess_spread(d, months=6) -> dict:
    """Assets 1 and 3 pooled, senior 300,000 RUSD at 5 %, junior 50,000; asset 3 pays its 10 %
    interest for `months` months while the loan (asset 1) pays nothing. The excess interest
    pays the senior's face down faster than the assets' principal: the pool is over-collateralized."""
    r = d.run(ORIGINATOR, "tranches", "createPool",
              {"assets": [1, 3], "tranches": [[SENIOR_FACE, SENIOR_RATE], [50_000 * RUSD, 0]], "unitSize": UNIT})
    assert r.code == 0, r.message
    pid = events(r, "tranches.created")[0]["pool"]
    for row in assets.schedule_of(d.ctx, 3)[:months]:
        r = d.run(SERVICER, "assets", "repay", {"id": 3, "amount": row[1] + row[2]}, at=row[0] - 10)
        assert r.code == 0, r.message
    return keeper.get(d.ctx, pid)


def write_off_loan(d, pool) -> dict:
    """Default and write off asset 1 (100,000 RUSD of principal, nothing repaid); its receipt."""
    if assets.get(d.ctx, 1).status != "defaulted":
        assert d.run(SERVICER, "assets", "markDefault", {"id": 1}).code == 0
    r = d.run(SERVICER, "assets", "writeOff", {"id": 1})
    assert r.code == 0, r.message
    return r


def test_waterfall_a_write_off_writes_down_only_what_the_pool_is_short(d):
    pool = pool_with_excess_spread(d)
    faces = sum(t.outstanding for t in pool.tranches)
    held = collateral(d, pool)
    spread = held - faces  # excess interest that paid the senior's face: over-collateral
    assert spread > 4_000 * RUSD
    lost = assets.outstanding_principal(assets.schedule_of(d.ctx, 1))
    assert lost == 100_000 * RUSD
    r = write_off_loan(d, pool)
    p = keeper.get(d.ctx, pool.id)
    downs = [int(x) for x in events(r, "tranches.writeDown")[0]["writeDowns"].split(",")]
    # the pool still holds asset 3's 250,000 of principal against faces of 350,000 - spread:
    # it is short 100,000 - spread, and that is the write-down, junior first
    assert sum(downs) == faces - collateral(d, p) == lost - spread
    assert downs == [lost - spread - 50_000 * RUSD, 50_000 * RUSD]
    assert sum(t.outstanding for t in p.tranches) == collateral(d, p) == 250_000 * RUSD
    assert broken_invariants(d.chain) == []


def test_waterfall_later_cash_restores_the_seniors_written_down_face_before_the_junior_residual(d):
    pool = pool_with_excess_spread(d)
    write_off_loan(d, pool)
    p = keeper.get(d.ctx, pool.id)
    senior, junior = p.tranches
    short = senior.writtenDown - senior.covered  # the senior's loss the fund did not cover
    assert short > 0 and junior.outstanding == 0
    junior_before = junior.allocated
    senior_before = senior.allocated
    owed = assets.outstanding(assets.schedule_of(d.ctx, 3))  # 250,000 + 18 months of interest
    r = d.run(SERVICER, "assets", "repay", {"id": 3, "amount": owed}, dt=1)
    assert r.code == 0, r.message
    p = keeper.get(d.ctx, pool.id)
    senior, junior = p.tranches
    claim = senior.allocated - senior_before  # its interest, its outstanding face, its unpaid loss
    assert claim >= 250_000 * RUSD + short
    assert senior.writtenDown == senior.covered  # made whole, net of the fund's cover
    back = sum(e["amount"] for e in events(r, "tranches.coverRepaid"))
    assert junior.allocated - junior_before + back == owed - claim  # only what is left goes on
    assert p.status == "closed"
    assert bank.balance(d.ctx, p.account, "rusd") == p.unallocated + sum(
        t.allocated - t.claimed for t in p.tranches)
    assert broken_invariants(d.chain) == []


def test_waterfall_cash_past_the_seniors_repays_the_funds_cover_before_the_junior_residual(d):
    pool = pool_with_excess_spread(d)
    write_off_loan(d, pool)
    p = keeper.get(d.ctx, pool.id)
    cover = p.coverOwed
    assert cover == p.tranches[0].covered > 0  # the fund paid part of the senior's loss
    junior_before = p.tranches[1].allocated
    fund_before = bank.balance(d.ctx, insurance.FUND, "rusd")
    owed = assets.outstanding(assets.schedule_of(d.ctx, 3))
    r = d.run(SERVICER, "assets", "repay", {"id": 3, "amount": owed}, dt=1)  # a repayment, not a recovery
    assert r.code == 0, r.message
    p = keeper.get(d.ctx, pool.id)
    senior, junior = p.tranches
    assert senior.outstanding == senior.interest == waterfall.unpaid_loss(senior) == 0
    left = owed - sum(int(x) for x in events(r, "tranches.waterfall")[0]["allocated"].split(",")[:-1])
    back = min(left, cover)  # what the seniors leave repays the fund's cover, then the junior
    assert 0 < left < cover and back == left
    assert events(r, "tranches.coverRepaid")[0]["amount"] == back and p.coverOwed == cover - back
    assert bank.balance(d.ctx, insurance.FUND, "rusd") == fund_before + back
    assert junior.allocated == junior_before  # nothing for the junior while the fund is owed
    assert p.cashReceived == sum(t.allocated for t in p.tranches) + p.unallocated
    assert broken_invariants(d.chain) == []


def test_waterfall_the_seniors_unpaid_loss_comes_before_the_junior_in_its_value(d):
    pool = pool_with_excess_spread(d)
    write_off_loan(d, pool)
    p = keeper.get(d.ctx, pool.id)
    senior = p.tranches[0]
    short = senior.writtenDown - senior.covered
    claim = waterfall.claims(p, d.time)[0]
    assert claim >= senior.outstanding + short and senior.outstanding == 250_000 * RUSD
    # the senior's face, interest and unpaid loss, then the fund's cover, then the junior
    assert waterfall.tranche_values(p, claim + p.coverOwed + 7, d.time) == [claim, 7]
    assert waterfall.tranche_values(p, claim + 7, d.time) == [claim, 0]
    assert waterfall.tranche_values(p, 240_000 * RUSD, d.time) == [240_000 * RUSD, 0]


class WaterfallMachine(DevnetMachine, RuleBasedStateMachine):
    """Any sequence of repayments, defaults, write-offs and recoveries across a two-asset pool
    (the loan and the revenue right): the write-downs never exceed the principal lost, the
    junior gets no cash while a senior claim (interest, face, unpaid loss) is open, and the
    pool's account holds exactly its ledger's unclaimed cash."""

    @initialize(senior_pct=st.integers(50, 99), rate_pct=st.integers(0, 15))
    def setup(self, senior_pct, rate_pct):
        self.open_devnet("rwa-waterfall-")
        par = 350_000 * RUSD
        senior = par * senior_pct // 100 // UNIT * UNIT
        r = self.d.run(ORIGINATOR, "tranches", "createPool",
                       {"assets": [1, 3], "tranches": [[senior, rate_pct * WAD // 100], [par - senior, 0]],
                        "unitSize": UNIT})
        assert r.code == 0, r.message
        self.pid = events(r, "tranches.created")[0]["pool"]
        self.lost = self.written = 0

    def _call(self, call: str, args: dict):
        junior = keeper.get(self.d.ctx, self.pid).tranches[-1].allocated
        r = self.d.run(SERVICER, "assets", call, args)
        assert r.code == 0, r.message
        for w in events(r, "tranches.writeDown"):
            self.lost += w["loss"]
            self.written += sum(int(x) for x in w["writeDowns"].split(","))
        p = keeper.get(self.d.ctx, self.pid)
        if p.tranches[-1].allocated > junior:  # the junior was paid: every senior claim is closed
            assert p.coverOwed == 0  # and the fund's cover repaid
            for t in p.tranches[:-1]:
                assert t.outstanding == t.interest == waterfall.unpaid_loss(t) == 0

    @rule(aid=st.sampled_from([1, 3]), share=st.integers(1, 100), days=st.integers(0, 60))
    def pay(self, aid, share, days):
        self.d.block(dt=days * DAY + 1)  # statuses follow block time first
        rec = assets.get(self.d.ctx, aid)
        owed = assets.outstanding(assets.schedule_of(self.d.ctx, aid))
        if owed == 0 or rec.status == "repaid":
            return
        call = "repay" if rec.status in ("pooled", "overdue") else "recover"
        self._call(call, {"id": aid, "amount": max(1, owed * share // 100)})

    @rule(aid=st.sampled_from([1, 3]))
    def default_and_write_off(self, aid):
        if assets.get(self.d.ctx, aid).status in ("pooled", "overdue"):
            self._call("markDefault", {"id": aid})
        if assets.get(self.d.ctx, aid).status == "defaulted":
            self._call("writeOff", {"id": aid})

    @rule(days=st.integers(1, 90))
    def wait(self, days):
        self.d.block(dt=days * DAY)

    @invariant()
    def conserved(self):
        if not hasattr(self, "d"):
            return
        assert self.written <= self.lost
        p = keeper.get(self.d.ctx, self.pid)
        assert keeper.check_pool(self.d.ctx, p) == []  # the account holds the ledger's unclaimed cash
        for t in p.tranches[:-1]:
            assert 0 <= t.covered <= t.writtenDown
        assert broken_invariants(self.chain) == []


TestWaterfallMachine = pytest.mark.slow(WaterfallMachine.TestCase)
TestWaterfallMachine.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)
