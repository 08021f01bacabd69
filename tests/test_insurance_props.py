"""The insurance fund's share accounting under random stakes, unbondings, withdrawals,
claims and fee-paying blocks (hypothesis state machine on a real chain): the native pool is
exactly what was staked less what was withdrawn (and slashed); no staker takes out more
than it put in; rewards paid never exceed the fee share moved to the fund."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.insurance import module as insurance
from tests.mech import KEYS, DevnetMachine, broken_invariants, events

STAKERS = [KEYS[0], KEYS[2], KEYS[3]]  # (none stakes in the devnet genesis)
RWA = 10**6
UNBONDING = insurance.DEFAULT_PARAMS["unbonding"]


class FundMachine(DevnetMachine, RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.open_devnet("rwa-fund-")
        f = insurance.fund(self.d.ctx)
        self.native0 = f.native  # the devnet stakers' pool
        self.put = {k.address: 0 for k in STAKERS}
        self.took = {k.address: 0 for k in STAKERS}
        self.fees_in = 0  # native fee share moved to the fund
        self.claimed = 0

    def _run(self, key, call, args, dt=60):
        result, receipts = self.d.block(self.d.tx(key, "insurance", call, args), dt=dt)
        self.fees_in += sum(e["amount"] for e in events(result, "insurance.fees") if e["denom"] == "rwa")
        return receipts[0]

    @rule(who=st.sampled_from(STAKERS), amount=st.integers(1, 50_000 * RWA))
    def stake(self, who, amount):
        r = self._run(who, "stake", {"amount": amount})
        if r.code == 0:
            self.put[who.address] += amount

    @rule(who=st.sampled_from(STAKERS), part=st.integers(1, 100))
    def unbond(self, who, part):
        have = insurance.stake_of(self.d.ctx, who.address)
        if have:
            r = self._run(who, "unbond", {"amount": max(1, have * part // 100)})
            assert r.code == 0, r.message

    @rule(who=st.sampled_from(STAKERS), wait=st.booleans())
    def withdraw(self, who, wait):
        r = self._run(who, "withdraw", {}, dt=UNBONDING if wait else 60)
        if r.code == 0:
            self.took[who.address] += events(r, "insurance.withdrawn")[0]["amount"]
        else:
            assert r.error == "invalid_state"  # nothing matured

    @rule(who=st.sampled_from(STAKERS + [KEYS[devnet.DEMO_STAKERS[0]]]))
    def claim(self, who):
        r = self._run(who, "claim", {})
        self.claimed += sum(e["amount"] for e in events(r, "insurance.claimed") if e["denom"] == "rwa")

    @invariant()
    def accounts_balance(self):
        if not hasattr(self, "d"):
            return
        ctx = self.d.ctx
        f = insurance.fund(ctx)
        assert f.native == self.native0 + sum(self.put.values()) - sum(self.took.values())
        assert self.claimed <= self.fees_in
        assert bank.balance(ctx, insurance.FUND, "rwa") == f.native + self.fees_in - self.claimed
        for k in STAKERS:
            a = k.address
            unbonding = sum(ctx.get_int(key) for key, _ in ctx.iter_prefix(insurance.UNBOND + a))
            value = (insurance.record(ctx, a).shares + unbonding) * f.native // f.shares if f.shares else 0
            assert self.took[a] + value <= self.put[a], a.hex()  # rounding never favours the staker
        assert broken_invariants(self.chain, ctx) == []


TestFundMachine = pytest.mark.slow(FundMachine.TestCase)
TestFundMachine.settings = settings(max_examples=20, stateful_step_count=14, deadline=None)
