"""At a fixed oracle state and block time, no sequence of exits, purchases from the vault
and floor redemptions leaves the caller with more value than it started with (hypothesis
state machine on a real chain); supply of every token conserved but for the burns and
mints the calls report; CR as reported equals its definition."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from genesis import devnet
from modules.assets import keeper as assets
from modules.bank import keeper as bank
from modules.stable import vault
from node.chain import Chain
from tests.mech import KEYS, SERVICER, Driver

CALLER, OTHER = KEYS[7], KEYS[8]
SENIOR = "unit/p1/t0"


class ExitMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.dir = tempfile.mkdtemp(prefix="rwa-stable-")
        self.chain = Chain(self.dir, devnet.validator_key())
        self.chain.init_genesis(devnet.PATH)
        self.d = Driver(self.chain)
        s = assets.schedule_of(self.d.ctx, 4)
        self.d.run(SERVICER, "assets", "repay", {"id": 4, "amount": s[0][1] + s[0][2]})
        self.d.run(OTHER, "stable", "exit", {"unit": SENIOR, "quantity": 100, "minOut": 0}, dt=0)  # a vault to draw on
        self.price = vault.unit_prices(self.d.ctx, SENIOR)["current"]  # fixed: the time does not move
        self.start = self.value()

    def teardown(self):
        if hasattr(self, "chain"):
            self.chain.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def value(self) -> int:
        ctx = self.d.ctx
        return bank.balance(ctx, CALLER.address, "rusd") + bank.balance(ctx, CALLER.address, SENIOR) * self.price

    def run(self, call: str, args: dict):
        return self.d.run(CALLER, "stable", call, args, dt=0)

    @rule(q=st.integers(1, 120))
    def exit(self, q):
        self.run("exit", {"unit": SENIOR, "quantity": q, "minOut": 0})

    @rule(q=st.integers(1, 80))
    def buy(self, q):
        self.run("buy", {"unit": SENIOR, "quantity": q, "maxIn": 10**15})

    @rule(amount=st.integers(1, 10**11))
    def redeem(self, amount):
        self.run("redeem", {"amount": amount})

    @invariant()
    def never_better_off(self):
        if not hasattr(self, "d"):
            return
        assert self.value() <= self.start  # fees are in the native token: not counted
        ctx = self.d.ctx
        rec = ctx.get_obj(vault.CR)
        assert rec["cr"] == vault.collateral_ratio(ctx)["cr"]  # as reported = by definition
        assert sum(bank.balance(ctx, k.address, SENIOR) for k in KEYS) + bank.balance(ctx, vault.VAULT, SENIOR) \
            == bank.supply(ctx, SENIOR)
        bad = [p for m in self.chain.app.modules if m.invariants for p in m.invariants(ctx)]
        assert bad == []


TestExitMachine = ExitMachine.TestCase
TestExitMachine.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
