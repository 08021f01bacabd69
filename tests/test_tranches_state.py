"""A hypothesis state machine over a real chain with one pool: random repayments,
defaults, write-offs, recoveries, unit transfers, claims, orders and time, with the pool's
ledger and the books' invariants checked after every block."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import RAY
from rwachain.modules.market import keeper as market
from rwachain.modules.tranches import keeper
from tests.mech import DAY, KEYS, ORIGINATOR, SERVICER, WAD, DevnetMachine, broken_invariants

HOLDERS = [ORIGINATOR, KEYS[7], KEYS[8]]
UNIT = 10**9  # 1,000 RUSD


class PoolMachine(DevnetMachine, RuleBasedStateMachine):
    @initialize(senior_pct=st.integers(50, 95), rate_pct=st.integers(0, 20))
    def setup(self, senior_pct, rate_pct):
        self.open_devnet("rwa-pool-")
        par = sum(assets.outstanding_principal(assets.schedule_of(self.d.ctx, i)) for i in (1, 2, 3))
        senior = par * senior_pct // 100 // UNIT * UNIT
        r = self.d.run(ORIGINATOR, "tranches", "createPool",
                       {"assets": [1, 2, 3], "tranches": [[senior, rate_pct * WAD // 100], [par - senior, 0]],
                        "unitSize": UNIT})
        assert r.code == 0, r.message
        self.pool_id = next(e["attrs"]["pool"] for e in r.events if e["type"] == "tranches.created")
        self.rusd = bank.supply(self.d.ctx, "rusd")

    @property
    def pool(self):
        return keeper.get(self.d.ctx, self.pool_id)

    @rule(aid=st.sampled_from([1, 2, 3]), share=st.integers(1, 100), days=st.integers(0, 40))
    def repay(self, aid, share, days):
        rec = assets.get(self.d.ctx, aid)
        owed = assets.outstanding(assets.schedule_of(self.d.ctx, aid))
        call = "repay" if rec.status in ("pooled", "overdue") else "recover"
        if owed == 0 or rec.status == "repaid":
            return
        self.d.run(SERVICER, "assets", call, {"id": aid, "amount": max(1, owed * share // 100)}, dt=days * DAY + 1)

    @rule(aid=st.sampled_from([1, 2, 3]))
    def default_and_write_off(self, aid):
        rec = assets.get(self.d.ctx, aid)
        if rec.status in ("pooled", "overdue"):
            self.d.run(SERVICER, "assets", "markDefault", {"id": aid})
        if assets.get(self.d.ctx, aid).status == "defaulted":
            self.d.run(SERVICER, "assets", "writeOff", {"id": aid})

    @rule(k=st.integers(0, 1), a=st.integers(0, 2), b=st.integers(0, 2), share=st.integers(1, 100))
    def transfer_units(self, k, a, b, share):
        denom = self.pool.tranches[k].denom
        have = bank.balance(self.d.ctx, HOLDERS[a].address, denom)
        if have and a != b:
            r = self.d.run(HOLDERS[a], "bank", "transfer",
                           {"to": HOLDERS[b].address, "denom": denom, "amount": max(1, have * share // 100)})
            assert r.code == 0, r.message

    @rule(k=st.integers(0, 1), h=st.integers(0, 2))
    def claim(self, k, h):
        before = keeper.claimable(self.d.ctx, self.pool, k, HOLDERS[h].address)
        r = self.d.run(HOLDERS[h], "tranches", "claim", {"pool": self.pool_id, "tranche": k})
        assert r.code == 0, r.message
        paid = next(e["attrs"]["amount"] for e in r.events if e["type"] == "tranches.claimed")
        assert paid == before

    @rule(k=st.integers(0, 1), h=st.integers(0, 2), buy=st.booleans(), off=st.integers(-9, 9),
          qty=st.integers(1, 40))
    def place_order(self, k, h, buy, off, qty):
        denom = self.pool.tranches[k].denom
        try:
            ref = market.reference_price(self.d.ctx, denom)
        except InvalidTransaction:
            return
        self._place(k, h, buy, ref + ref * off // 100, qty)

    @rule(k=st.integers(0, 1), seller=st.integers(0, 2), buyer=st.integers(0, 2), n=st.integers(2, 4))
    def ladder_and_sweep(self, k, seller, buyer, n):
        """Asks at rising prices (the same price twice), then one buy across all of them."""
        if seller == buyer:
            return
        denom = self.pool.tranches[k].denom
        try:
            ref = market.reference_price(self.d.ctx, denom)
        except InvalidTransaction:
            return
        for i in range(n):
            self._place(k, seller, False, ref + ref * min(i, n - 2) // 100, 2)
        self._place(k, buyer, True, ref + ref * 5 // 100, 2 * n + 1)

    def _place(self, k, h, buy, price, qty):
        denom = self.pool.tranches[k].denom
        r = self.d.run(HOLDERS[h], "market", "place", {"denom": denom, "side": "buy" if buy else "sell",
                                                       "price": max(1, price), "quantity": qty, "expiry": 0})
        fills = [e["attrs"] for e in r.events if e["type"] == "market.fill"]
        keys = [(f["price"] if buy else -f["price"], f["maker"]) for f in fills]
        assert keys == sorted(keys)  # price-time priority
        assert all((f["price"] <= price) if buy else (f["price"] >= price) for f in fills)
        return fills

    @rule(h=st.integers(0, 2))
    def cancel_order(self, h):
        mine = market.orders_of(self.d.ctx, HOLDERS[h].address)
        if mine:
            r = self.d.run(HOLDERS[h], "market", "cancel", {"order": mine[0].id})
            assert r.code == 0, r.message

    @rule(days=st.integers(1, 90))
    def wait(self, days):
        self.d.block(dt=days * DAY)

    @invariant()
    def ledger_balances(self):
        if not hasattr(self, "d"):
            return
        ctx = self.d.ctx
        pool = self.pool
        assert keeper.check_pool(ctx, pool) == []
        claimed = 0
        for k, t in enumerate(pool.tranches):
            # units conserved: the bank's supply is what the tranche issued, all of it held
            assert bank.supply(ctx, t.denom) == t.units
            held = sum(bank.balance(ctx, h.address, t.denom) for h in HOLDERS)
            assert held + bank.balance(ctx, pool.account, t.denom) == t.units
            # allocated = claimed + claimable, exactly (in RAY x base units; carry < one unit's share)
            owed = sum(keeper.owed_ray(ctx, pool, k, h.address) for h in HOLDERS)
            assert t.allocated * RAY == t.claimed * RAY + owed + t.carry, k
            # so no holder can claim more than its share: the floors sum to at most what is owed
            assert sum(keeper.claimable(ctx, pool, k, h.address) for h in HOLDERS) <= t.allocated - t.claimed
            claimed += t.claimed
        assert bank.balance(ctx, pool.account, "rusd") == pool.cashReceived - claimed
        assert bank.supply(ctx, "rusd") == self.rusd  # fills, fees and payouts move, never mint
        senior, junior = pool.tranches
        if senior.writtenDown:
            assert junior.outstanding == 0  # junior first
        bad = broken_invariants(self.chain, ctx)
        assert bad == []


TestPoolMachine = pytest.mark.slow(PoolMachine.TestCase)
TestPoolMachine.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
