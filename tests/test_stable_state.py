"""At a fixed oracle state and block time, no sequence of exits, purchases from the vault,
floor redemptions, direct sales to the reserve (paid in stable or native) and purchases of
the reserve's resale asks leaves the caller with more value than it started with
(hypothesis state machine on a real chain); the supply of every token equals the sum of its
balances; CR as reported equals its definition; the reserve never spends beyond its budget."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rwachain.modules.bank import keeper as bank
from rwachain.modules.market import keeper as market
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import vault
from tests.mech import KEYS, DevnetMachine, broken_invariants

CALLER, OTHER = KEYS[7], KEYS[8]
SENIOR = "unit/p1/t0"


class ExitMachine(DevnetMachine, RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.open_devnet("rwa-stable-")
        self.d.repay_installment(4)
        self.d.run(OTHER, "stable", "exit", {"unit": SENIOR, "quantity": 100, "minOut": 0}, dt=0)  # a vault to draw on
        for o in market.orders_of(self.d.ctx, CALLER.address):  # its demo orders would block its resale purchases
            self.d.run(CALLER, "market", "cancel", {"order": o.id}, dt=0)
        self.price = vault.unit_prices(self.d.ctx, SENIOR).current  # fixed: the time does not move
        self.backing = reserve.backing(self.d.ctx)  # native counted at the backing value at the start
        self.start = self.value()

    def value(self) -> int:
        ctx = self.d.ctx
        return (bank.balance(ctx, CALLER.address, "rusd") + bank.balance(ctx, CALLER.address, SENIOR) * self.price
                + bank.balance(ctx, CALLER.address, "rwa") * self.backing // 10**18)

    def run(self, call: str, args: dict, module: str = "stable"):
        return self.d.run(CALLER, module, call, args, dt=0)

    @rule(q=st.integers(1, 120))
    def exit(self, q):
        self.run("exit", {"unit": SENIOR, "quantity": q, "minOut": 0})

    @rule(q=st.integers(1, 80))
    def buy(self, q):
        self.run("buy", {"unit": SENIOR, "quantity": q, "maxIn": 10**15})

    @rule(amount=st.integers(1, 10**11))
    def redeem(self, amount):
        self.run("redeem", {"amount": amount})

    @rule(q=st.integers(1, 60), pay_in=st.sampled_from(["stable", "native"]))
    def sell_to_reserve(self, q, pay_in):
        self.run("sell", {"unit": SENIOR, "quantity": q, "minOut": 0, "payIn": pay_in}, module="reserve")

    @rule(q=st.integers(1, 60))
    def buy_resale(self, q):
        asks = [o for o in market.orders_of(self.d.ctx, reserve.RESERVE) if o.side == "sell"]
        if asks:
            r = self.run("place", {"denom": SENIOR, "side": "buy", "price": asks[0].price, "quantity": q,
                                   "expiry": 0}, module="market")
            assert r.code == 0 or r.error in ("insufficient_funds", "limit_exceeded"), r.message

    @invariant()
    def never_better_off(self):
        if not hasattr(self, "d"):
            return
        assert self.value() <= self.start  # (fees, paid in native, count against the caller)
        ctx = self.d.ctx
        rec = ctx.get_obj(vault.CR)
        assert rec["cr"] == vault.collateral_ratio(ctx).cr  # as reported = by definition
        holders = [k.address for k in KEYS] + vault.protocol_accounts(ctx)  # (vault, reserve, treasury, fund, pools)
        for denom in (SENIOR, "rusd", "rwa"):  # the supply of every token is the sum of its balances
            assert sum(bank.balance(ctx, a, denom) for a in holders) == bank.supply(ctx, denom), denom
        st_ = reserve.epoch_state(ctx)
        assert st_.used <= st_.budget
        bad = broken_invariants(self.chain, ctx)
        assert bad == []


TestExitMachine = pytest.mark.slow(ExitMachine.TestCase)
TestExitMachine.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
