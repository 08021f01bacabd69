"""Solvency properties of the stable token with prices that move and with CR below 1.

- With a spread feed moving by its maximum step per window (the senior of an impaired pool
  priced by it), no sequence of exits, purchases,
  floor redemptions and sales to the reserve beats holding still by more than the caller's
  position (its whole wealth in units) times the price moves it saw (hypothesis state
  machine, steered by target() towards the largest profit).
- With CR below 1, the order in which holders redeem changes what each gets by at most one
  base unit per earlier redemption (the floors of the pro-rata shares).
"""

from __future__ import annotations

import io
import itertools
import json

import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rwachain.genesis import devnet
from rwachain.genesis.loader import export_genesis
from rwachain.genesis.localchain import LocalChain
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.market import keeper as market
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import vault
from tests.mech import KEYS, ORIGINATOR, WAD, DevnetMachine, Driver, broken_invariants

CALLER, OTHER = KEYS[7], KEYS[8]
SENIOR = "unit/p2/t0"  # an exposed senior: pool 2 (assets 1 and 3), 97 % of par, impaired below
FEED = "spread/C"  # the worst grade of pool 2's assets prices it
STEP = devnet.POLICIES["spread"]["stepAbs"]
WINDOW = devnet.POLICIES["spread"]["window"]


def exposed_senior(d: Driver) -> None:
    """Pool 2 of demo assets 1 and 3 with a 97 % senior, eligible after a repayment, held by
    the caller and another holder, and a spread three steps up: its value sits below the
    senior's claim, so the senior unit price moves with the spread."""
    ids = [1, 3]
    par = sum(assets.outstanding_principal(assets.schedule_of(d.ctx, i)) for i in ids)
    senior = par * 97 // 100 // UNIT * UNIT
    r = d.run(ORIGINATOR, "tranches", "createPool",
              {"assets": ids, "tranches": [[senior, 5 * WAD // 100], [par - senior, 0]], "unitSize": UNIT})
    assert r.code == 0, r.message
    assert d.repay_installment(1).code == 0
    d.block(d.tx(ORIGINATOR, "bank", "transfer", {"to": CALLER.address, "denom": SENIOR, "amount": 1500}),
            d.tx(ORIGINATOR, "bank", "transfer", {"to": OTHER.address, "denom": SENIOR, "amount": 500}))
    for _ in range(3):
        v = d.ctx.get_obj(b"oracle/feed/" + FEED.encode())["value"]
        d.block(d.report(FEED, v + STEP), at=d.time + WINDOW)


class MovingPrices(DevnetMachine, RuleBasedStateMachine):
    """The caller trades while the spread moves one maximum step per window."""

    @initialize()
    def setup(self):
        self.open_devnet("rwa-moves-")
        exposed_senior(self.d)
        self.d.run(OTHER, "stable", "exit", {"unit": SENIOR, "quantity": 100, "minOut": 0}, dt=0)
        for o in market.orders_of(self.d.ctx, CALLER.address):
            self.d.run(CALLER, "market", "cancel", {"order": o.id}, dt=0)
        self.b0 = reserve.backing(self.d.ctx)
        self.p = self.price()
        ctx = self.d.ctx
        self.units0 = bank.balance(ctx, CALLER.address, SENIOR)
        self.cash0 = self.cash()
        self.wealth_units = self.units0 + self.cash0 // self.p  # its whole position, in units
        self.bound = 0  # sum over price moves of position x |move|
        self.moves = 0
        self.best = -1.0  # the largest profit seen, over the position's value (steers the search)

    def teardown(self):
        if hasattr(self, "chain"):
            target(self.best, label="profit over the position's value")
        super().teardown()

    def price(self) -> int:
        return vault.unit_prices(self.d.ctx, SENIOR).current

    def cash(self) -> int:
        ctx = self.d.ctx
        return bank.balance(ctx, CALLER.address, "rusd") + bank.balance(ctx, CALLER.address, "rwa") * self.b0 // WAD

    def profit(self) -> int:
        """What trading earned over holding the starting position, both at today's price."""
        units = bank.balance(self.d.ctx, CALLER.address, SENIOR)
        return (self.cash() - self.cash0) + (units - self.units0) * self.p

    def run(self, module: str, call: str, args: dict):
        return self.d.run(CALLER, module, call, args, dt=0)

    @rule(q=st.integers(1, 200))
    def exit(self, q):
        self.run("stable", "exit", {"unit": SENIOR, "quantity": q, "minOut": 0})

    @rule(q=st.integers(1, 100))
    def buy(self, q):
        self.run("stable", "buy", {"unit": SENIOR, "quantity": q, "maxIn": 10**15})

    @rule(amount=st.integers(10**6, 10**11))
    def redeem(self, amount):
        self.run("stable", "redeem", {"amount": amount})

    @rule(q=st.integers(1, 100), pay_in=st.sampled_from(["stable", "native"]))
    def sell_to_reserve(self, q, pay_in):
        self.run("reserve", "sell", {"unit": SENIOR, "quantity": q, "minOut": 0, "payIn": pay_in})

    @rule(up=st.booleans())
    def move(self, up):
        if self.moves >= 12:  # (the other feeds stay fresh)
            return
        v = self.d.ctx.get_obj(b"oracle/feed/" + FEED.encode())["value"]
        new = v + STEP if up else max(0, v - STEP)
        self.d.block(self.d.report(FEED, new), at=self.d.time + WINDOW)
        p = self.price()
        self.bound += self.wealth_units * abs(p - self.p)
        self.p = p
        self.moves += 1

    @invariant()
    def profit_is_bounded_by_the_moves(self):
        if not hasattr(self, "d"):
            return
        profit = self.profit()
        self.best = max(self.best, profit / max(1, self.wealth_units * self.p))
        assert profit <= self.bound, (profit, self.bound)
        bad = broken_invariants(self.chain)
        assert bad == []


TestMovingPrices = pytest.mark.slow(MovingPrices.TestCase)
TestMovingPrices.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)


# ----- CR below 1: the order of redemptions ------------------------------------------------------
UNIT = 100 * 10**6
DEMO_SENIOR = "unit/p1/t0"


def test_the_exposed_senior_moves_with_the_spread(devnet_chain):
    d = Driver(devnet_chain)
    exposed_senior(d)
    p0 = vault.unit_prices(d.ctx, SENIOR).current
    v = d.ctx.get_obj(b"oracle/feed/" + FEED.encode())["value"]
    d.block(d.report(FEED, v + STEP), at=d.time + WINDOW)
    p1 = vault.unit_prices(d.ctx, SENIOR).current
    assert p1 * 1000 < p0 * 995  # one step of the spread moves it by more than 0.5 %


@pytest.fixture(scope="module")
def under_collateralized(tmp_path_factory):
    """The devnet after dev 7 and 8 exited 800 senior units into the vault, exported with its
    custodian's proof of reserve reported at 4,000,000 RUSD: CR about 0.4."""
    with LocalChain(devnet.PATH) as c:
        t = c.time
        s = assets.schedule_of(c.reader(), 4)
        res = c.produce([c.tx(KEYS[3], "assets", "repay", {"id": 4, "amount": s[0][1] + s[0][2]}, fee=10**6),
                         c.tx(KEYS[7], "stable", "exit", {"unit": DEMO_SENIOR, "quantity": 500, "minOut": 0}, fee=10**6),
                         c.tx(KEYS[8], "stable", "exit", {"unit": DEMO_SENIOR, "quantity": 300, "minOut": 0}, fee=10**6)],
                        t)
        assert [r.code for r in res.receipts] == [0, 0, 0], [r.message for r in res.receipts]
        out = io.StringIO()
        export_genesis(c.app, out)
    doc = json.loads(out.getvalue())
    for f in doc["oracle"]["feeds"]:
        if f["id"] == f"reserve/{KEYS[4].address_text}":
            f["value"] = str(4_000_000 * 10**6)
    # the recorded CR no longer matches its definition (a genesis must meet the block
    # invariants): leave it out, the first block records it
    doc["stable"]["state"].pop("cr")
    path = tmp_path_factory.mktemp("cr") / "genesis.json"
    path.write_text(json.dumps(doc))
    with LocalChain(str(path)) as c:
        assert vault.collateral_ratio(c.reader()).cr < WAD
    return str(path)


def _redeem_in_order(path: str, order: list[tuple[int, int]]) -> dict[int, int]:
    """Each (dev key, amount) redeems in turn, one per block; the units each got."""
    got = {}
    with LocalChain(path) as c:
        for i, amount in order:
            res = c.produce([c.tx(KEYS[i], "stable", "redeem", {"amount": amount}, fee=10**6)], c.time)
            r = res.receipts[0]
            assert r.code == 0, r.message
            e = [e["attrs"] for e in r.events if e["type"] == "stable.redeemed"][0]
            assert e["stale"] is False
            got[i] = int(e["units"].split(":")[1]) if e["units"] else 0
    return got


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(amounts=st.lists(st.integers(10**11, 9 * 10**11), min_size=3, max_size=3),
       perm=st.permutations([0, 1, 2]))
def test_with_cr_below_one_the_order_of_redemptions_barely_matters(under_collateralized, amounts, perm):
    holders = [1, 2, 3]
    base = _redeem_in_order(under_collateralized, list(zip(holders, amounts, strict=True)))
    other = [(holders[k], amounts[k]) for k in perm]
    moved = _redeem_in_order(under_collateralized, other)
    for pos, (i, _) in enumerate(other):
        assert abs(moved[i] - base[i]) <= max(pos, holders.index(i)), (i, base, moved)
    assert all(v > 0 for v in base.values())


def test_the_pro_rata_share_below_one_is_by_quantity(under_collateralized):
    with LocalChain(under_collateralized) as c:
        ctx = c.reader()
        q = vault.quote_redeem(ctx, 10**12)
        held = bank.balance(ctx, vault.VAULT, DEMO_SENIOR)
        assert q.terms.mode == "proRata" and q.paid[DEMO_SENIOR] == held * 10**12 // q.terms.circulating


def test_every_permutation_of_three_equal_redemptions_pays_within_one_unit(under_collateralized):
    results = [_redeem_in_order(under_collateralized, [(i, 5 * 10**11) for i in order])
               for order in itertools.permutations([1, 2, 3])]
    for i in (1, 2, 3):
        got = [r[i] for r in results]
        assert max(got) - min(got) <= 2


def test_below_one_a_custodian_burn_pays_out_pro_rata_and_exits_stop(under_collateralized):
    custodian = KEYS[4]
    with LocalChain(under_collateralized) as c:
        cr = vault.collateral_ratio(c.reader()).cr
        res = c.produce([c.tx(custodian, "stable", "burn", {"amount": 10**9}, fee=10**6),
                         c.tx(KEYS[8], "stable", "exit", {"unit": DEMO_SENIOR, "quantity": 1, "minOut": 0},
                              fee=10**6)], c.time)
        burn, mint = res.receipts  # (an exit mints against units)
        assert burn.code == 0, burn.message
        payout = [e["attrs"] for e in burn.events if e["type"] == "stable.burned"][0]["offchainPayout"]
        assert cr < WAD
        after = vault.collateral_ratio(c.reader()).cr  # the ratio once the burn is done
        assert payout == 10**9 * after // WAD < 10**9
        assert mint.error == "limit_exceeded" and "minting stops" in mint.message
