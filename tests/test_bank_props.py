"""Bank conservation as a hypothesis state machine (modules/bank/keeper.py).

Random transfers, mints and burns run through modules.bank.keeper on a Ctx over an
Overlay over a real LevelDB Store; some steps are sized to exceed the balance and must
raise InsufficientFunds and write nothing. Blocks are committed to the Store at random
points, and transaction scopes (a child Overlay) are either merged or dropped. After
every step: the bank module's invariants hold (balances sum to supply for every denom,
no non-positive stored balance), and every balance and supply equals a plain dict model,
read both through the block overlay and (after a commit) straight from the Store.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from rwachain.modules.bank import keeper
from rwachain.modules.bank.module import invariants
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.errors import InsufficientFunds
from rwachain.state.overlay import Overlay
from rwachain.state.store import Store

ADDRS = [bytes([i]) * 20 for i in range(1, 5)] + [bytes(20), b"\xff" * 20]
DENOMS = ["rwa", "rusd", "unit/p1/senior"]
BLOCK = BlockInfo(1, 0, b"")

addrs = st.sampled_from(ADDRS)
denoms = st.sampled_from(DENOMS)
amounts = st.one_of(st.integers(1, 1000), st.integers(1, 2**64 + 5), st.integers(1, 2**130))


class BankMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(prefix="rwa-bank-")
        self.store = Store(os.path.join(self._dir.name, "state.ldb"))
        self.block = Overlay(self.store)
        self.bal: dict[tuple[bytes, str], int] = {}
        self.supply: dict[str, int] = {}
        self.failures = 0

    def teardown(self):
        self.store.close()
        self._dir.cleanup()

    @property
    def ctx(self) -> Ctx:
        return Ctx(self.block, BLOCK)

    def _b(self, a: bytes, d: str) -> int:
        return self.bal.get((a, d), 0)

    def _add(self, a: bytes, d: str, n: int) -> None:
        self.bal[(a, d)] = self._b(a, d) + n

    # ----- rules ---------------------------------------------------------------------
    @initialize(a=addrs, d=denoms, n=amounts)
    def genesis_mint(self, a, d, n):
        keeper.mint(self.ctx, a, d, n)
        self._add(a, d, n)
        self.supply[d] = self.supply.get(d, 0) + n

    @rule(a=addrs, d=denoms, n=amounts)
    def mint(self, a, d, n):
        keeper.mint(self.ctx, a, d, n)
        self._add(a, d, n)
        self.supply[d] = self.supply.get(d, 0) + n

    @rule(src=addrs, dst=addrs, d=denoms, frac=st.fractions(0, 1))
    def transfer_within_balance(self, src, dst, d, frac):
        n = int(self._b(src, d) * frac)
        keeper.transfer(self.ctx, src, dst, d, n)
        self._add(src, d, -n)
        self._add(dst, d, n)

    @rule(src=addrs, dst=addrs, d=denoms)
    def transfer_everything(self, src, dst, d):
        n = self._b(src, d)
        keeper.transfer(self.ctx, src, dst, d, n)
        self._add(src, d, -n)
        self._add(dst, d, n)

    @rule(src=addrs, dst=addrs, d=denoms, extra=amounts)
    def transfer_too_much(self, src, dst, d, extra):
        self._refused(lambda: keeper.transfer(self.ctx, src, dst, d, self._b(src, d) + extra))

    @rule(a=addrs, d=denoms, frac=st.fractions(0, 1))
    def burn_within_balance(self, a, d, frac):
        n = int(self._b(a, d) * frac)
        keeper.burn(self.ctx, a, d, n)
        self._add(a, d, -n)
        self.supply[d] = self.supply.get(d, 0) - n

    @rule(a=addrs, d=denoms, extra=amounts)
    def burn_too_much(self, a, d, extra):
        self._refused(lambda: keeper.burn(self.ctx, a, d, self._b(a, d) + extra))

    def _refused(self, op) -> None:
        before = dict(self.block.writes)
        with pytest.raises(InsufficientFunds):
            op()
        assert self.block.writes == before  # nothing changed
        self.failures += 1

    @rule(steps=st.lists(st.tuples(st.sampled_from(["transfer", "mint", "burn", "fail"]),
                                   addrs, addrs, denoms, amounts), min_size=1, max_size=5),
          keep=st.booleans())
    def tx_scope(self, steps, keep):
        """Several operations on a child overlay, then merged (success) or dropped (failure)."""
        tx = Overlay(self.block)
        tctx = Ctx(tx, BLOCK)
        bal = dict(self.bal)
        sup = dict(self.supply)
        for kind, a, b, d, n in steps:
            have = bal.get((a, d), 0)
            if kind == "mint":
                keeper.mint(tctx, a, d, n)
                bal[(a, d)] = have + n
                sup[d] = sup.get(d, 0) + n
            elif kind == "transfer":
                n = min(n, have)
                keeper.transfer(tctx, a, b, d, n)
                bal[(a, d)] = have - n
                bal[(b, d)] = bal.get((b, d), 0) + n
            elif kind == "burn":
                n = min(n, have)
                keeper.burn(tctx, a, d, n)
                bal[(a, d)] = have - n
                sup[d] = sup.get(d, 0) - n
            else:
                before = dict(tx.writes)
                with pytest.raises(InsufficientFunds):
                    keeper.transfer(tctx, a, b, d, have + n)
                assert tx.writes == before
            assert invariants(tctx) == []
        # the block scope does not see the child's writes until merged
        for (a, d), v in self.bal.items():
            assert keeper.balance(self.ctx, a, d) == v
        if keep:
            tx.merge_into_parent()
            self.bal, self.supply = bal, sup

    @rule()
    def commit_block(self):
        version = 1 if self.store.version is None else self.store.version + 1
        self.store.commit(self.store.prepare(version, self.block.writes))
        self.block = Overlay(self.store)
        # straight from the store (no overlay): same balances, invariants hold
        direct = Ctx(self.store, BLOCK)
        assert invariants(direct) == []
        for (a, d), v in self.bal.items():
            assert keeper.balance(direct, a, d) == v

    @rule()
    def abandon_block(self):
        """Drop the uncommitted block: state returns to the last commit."""
        self.block = Overlay(self.store)
        direct = Ctx(self.store, BLOCK)
        self.bal = {}
        self.supply = {}
        for a in ADDRS:
            for d in DENOMS:
                v = keeper.balance(direct, a, d)
                if v:
                    self.bal[(a, d)] = v
        for d in DENOMS:
            s = keeper.supply(direct, d)
            if s:
                self.supply[d] = s

    # ----- invariants ------------------------------------------------------------------
    @invariant()
    def conservation(self):
        assert invariants(self.ctx) == []

    @invariant()
    def matches_model(self):
        ctx = self.ctx
        for a in ADDRS:
            for d in DENOMS:
                got = keeper.balance(ctx, a, d)
                assert got == self._b(a, d)
                assert got >= 0
        for d in DENOMS:
            assert keeper.supply(ctx, d) == self.supply.get(d, 0)
            assert self.supply.get(d, 0) == sum(v for (_, dd), v in self.bal.items() if dd == d)
        # balances_of lists exactly the non-zero balances
        for a in ADDRS:
            expect = {d: v for (aa, d), v in self.bal.items() if aa == a and v}
            assert keeper.balances_of(ctx, a) == expect


BankMachine.TestCase.settings = settings(BankMachine.TestCase.settings, stateful_step_count=30)
TestBankConservation = pytest.mark.slow(BankMachine.TestCase)


def test_failed_transfer_and_burn_change_nothing(tmp_path):
    store = Store(str(tmp_path / "s"))
    try:
        block = Overlay(store)
        ctx = Ctx(block, BLOCK)
        a, b = ADDRS[0], ADDRS[1]
        keeper.mint(ctx, a, "rwa", 10)
        before = dict(block.writes)
        with pytest.raises(InsufficientFunds):
            keeper.transfer(ctx, a, b, "rwa", 11)
        with pytest.raises(InsufficientFunds):
            keeper.transfer(ctx, a, a, "rwa", 11)  # to self: still refused when short
        with pytest.raises(InsufficientFunds):
            keeper.burn(ctx, a, "rwa", 11)
        with pytest.raises(InsufficientFunds):
            keeper.transfer(ctx, b, a, "rwa", 1)  # absent balance is 0
        assert block.writes == before
        keeper.transfer(ctx, a, a, "rwa", 10)  # to self: no change
        assert block.writes == before
        keeper.transfer(ctx, a, b, "rwa", 10)  # all of it: the sender's key is deleted
        assert block.writes[keeper.bal_key(a, "rwa")] is None
        assert keeper.balances_of(ctx, a) == {}
        assert invariants(ctx) == []
    finally:
        store.close()
