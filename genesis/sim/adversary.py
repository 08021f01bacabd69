"""Adversarial actors for the simulator: holders that try to break the mechanism's promises
(docs/simulation.md, "Adversarial actors").

Each attack builds the steps one actor would send in one block; some add a probe step, a
check the simulator makes on a throwaway copy of the state before the block (PROBES):
    boundary      a call with boundary arguments (ids 0, 2^64-1, 2^64, 10^20-1; amounts 1,
                  2^64-1, 2^128-1, 2^256; empty or oversized lists; rates up to 2^128-1;
                  a plain transfer to the account of a pool not created yet)
    exitLoop      exit units into the stable token, buy them back, redeem on the floor
                  (probe loop: the exit and the buy back together never gain stable tokens)
    splitExit     exit a holding in two parts (probe splitExit: the parts never pay more
                  than one exit of the total)
    floor         redeem stable tokens on the floor (probe floor: at a fresh CR >= 1 the
                  redemption pays what it burns, less rounding; it never burns for nothing)
    frontRun      sell to the reserve and exit while an oracle value is queued, and exit a
                  pool whose overdue asset nears its scheduled default
    lateStake     stake a large amount while an asset is in default (ahead of a recovery)
    buyGovernance sell units to the reserve for native tokens, stake them, propose a role
                  for oneself and vote for it, all in one block
    bigRedeem     ask a native redemption far above the per-epoch limit; cancel what is unfilled
    budgetDrain   sell units to the reserve directly and into its standing bid in one block
What must hold is what holds for every run: no exception out of a block, no handler fault,
every invariant after every block, and every probe.
Randomness comes only from the generator handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from rwachain.genesis.sim.steps import (
    NATIVE,
    ORIGINATOR,
    PROBE,
    STABLE,
    Step,
    actor_address,
    actor_keypair,
    weights_of,
)
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import accounts
from rwachain.modules.core.app import App, Receipt
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.governance import keeper as governance
from rwachain.modules.market import keeper as market
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches

U64 = 1 << 64
BIG_IDS = (0, 1, U64 - 1, U64, 10**20 - 1)
BIG_AMOUNTS = (1, U64 - 1, (1 << 128) - 1, 1 << 128, 1 << 256)

# Relative weights of the attacks ("attack.<name>"); 0 switches one off.
DEFAULT_ATTACKS: dict[str, float] = {
    "attack.boundary": 6, "attack.exitLoop": 3, "attack.splitExit": 3, "attack.floor": 3, "attack.frontRun": 2,
    "attack.lateStake": 1, "attack.buyGovernance": 1, "attack.bigRedeem": 1, "attack.budgetDrain": 2}


# ----- the attacks -----------------------------------------------------------------------------------
class Adversary:
    """Builds attack steps from the current state; `rate` is the chance of an attack per block."""

    def __init__(self, rng: Random, holders: int, weights: dict[str, float] | None = None, rate: float = 0.5):
        self.rng = rng
        self.actors = [f"holder{i}" for i in range(holders)] + ["dev7", "dev8"]
        self.names, self.weights = weights_of(DEFAULT_ATTACKS, weights, "attack")
        self.rate = rate

    def steps(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        if not self.names or self.rng.random() >= self.rate:
            return []
        name = self.rng.choices(self.names, self.weights)[0]
        return getattr(self, "_" + name.split(".", 1)[1])(block, now, ctx)

    # helpers
    def _holding(self, ctx: Ctx, eligible_only: bool = True) -> tuple[str, str, int] | None:
        """(actor, unit, quantity held) of a random actor holding units (eligible ones for the exit)."""
        actor = self.rng.choice(self.actors)
        held = []
        for d, q in sorted(bank.balances_of(ctx, actor_address(actor)).items()):
            if tranches.parse_denom(d) is None or q <= 0:
                continue
            if eligible_only and not _eligible(ctx, d):
                continue
            held.append((d, q))
        if not held:
            return None
        unit, q = self.rng.choice(held)
        return actor, unit, q

    def _boundary(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        r = self.rng
        actor = r.choice(self.actors)
        unit = f"unit/p{r.choice(BIG_IDS)}/t{r.choice((0, 1, 7, 9))}"
        qty = r.choice(BIG_AMOUNTS[:3])
        verified = assets.ids_by(ctx, assets.status_prefix("verified"), 0, 10) + [U64 - 1]
        par = sum(assets.outstanding_principal(assets.schedule_of(ctx, i)) for i in verified[:1]
                  if assets.find(ctx, i) is not None)
        menu: list[tuple[str, str, str, dict]] = [
            (actor, "market", "place", {"denom": unit, "side": r.choice(("buy", "sell")), "price": r.choice((1, U64 - 1)),
                                        "quantity": qty, "expiry": r.choice((0, 1, U64 - 1))}),
            (actor, "stable", "exit", {"unit": unit, "quantity": qty, "minOut": 0}),
            (actor, "stable", "buy", {"unit": unit, "quantity": qty, "maxIn": r.choice(BIG_AMOUNTS)}),
            (actor, "reserve", "sell", {"unit": unit, "quantity": qty, "minOut": 0,
                                        "payIn": r.choice(("stable", "native"))}),
            (ORIGINATOR, "tranches", "createPool", {
                "assets": [r.choice(verified)], "unitSize": r.choice((1, max(1, par), (1 << 128) - 1)),
                "tranches": r.choice(([], [[0, 0]], [[par, (1 << 128) - 1]], [[par, WAD]], [[par, 0]] * 9))}),
            (actor, "tranches", "claim", {"pool": r.choice(BIG_IDS), "tranche": r.choice((0, 7, 8))}),
            (actor, "market", "cancel", {"order": r.choice(BIG_IDS)}),
            (actor, "governance", "vote", {"id": r.choice(BIG_IDS), "support": "yes"}),
            (actor, "stable", "redeem", {"amount": r.choice(BIG_AMOUNTS)}),
            (actor, "insurance", "unbond", {"amount": r.choice(BIG_AMOUNTS)}),
            (actor, "reserve", "requestRedeem", {"amount": r.choice(BIG_AMOUNTS)}),
            (actor, "bank", "transfer", {"to": tranches.pool_account(ctx.get_int(tranches.NEXT) + r.randint(0, 3)),
                                         "denom": r.choice((STABLE, NATIVE)), "amount": 1}),
        ]
        who, module, call, args = r.choice(menu)
        return [Step(block, who, module, call, args)]

    def _exitLoop(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        held = self._holding(ctx)
        if held is None:
            return []
        actor, unit, have = held
        q = max(1, have // self.rng.choice((1, 2, 10)))
        loop = [("stable", "exit", {"unit": unit, "quantity": q, "minOut": 0}),
                ("stable", "buy", {"unit": unit, "quantity": q, "maxIn": (1 << 128) - 1})]
        out = [Step(block, actor, PROBE, "loop", {"unit": unit, "quantity": q})]
        out += [Step(block, actor, m, c, a) for m, c, a in loop]
        out.append(Step(block, actor, "stable", "redeem", {"amount": max(1, self.rng.randint(1, 10) * 10**6)}))
        return out

    def _splitExit(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        held = self._holding(ctx)
        if held is None or held[2] < 2:
            return []
        actor, unit, have = held
        total = self.rng.randint(2, have)
        first = self.rng.randint(1, total - 1)
        return [Step(block, actor, PROBE, "splitExit", {"unit": unit, "total": total, "first": first}),
                Step(block, actor, "stable", "exit", {"unit": unit, "quantity": first, "minOut": 0}),
                Step(block, actor, "stable", "exit", {"unit": unit, "quantity": total - first, "minOut": 0})]

    def _floor(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        actor = self.rng.choice(self.actors)
        have = bank.balance(ctx, actor_address(actor), STABLE)
        if have <= 0:
            return []
        amount = self.rng.choice((1, 10**4, 10**6, have // 10 or 1, have))
        return [Step(block, actor, PROBE, "floor", {"amount": amount}),
                Step(block, actor, "stable", "redeem", {"amount": amount})]

    def _frontRun(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        held = self._holding(ctx)
        if held is None:
            return []
        actor, unit, have = held
        queued = any(oracle.state_of(ctx, f).pending for f in oracle.list_feeds(ctx))
        pid, _ = tranches.parse_denom(unit)
        pool = tranches.find(ctx, pid)
        nearing = pool is not None and any(_nears_default(ctx, a, now) for a in pool.assets)
        if not queued and not nearing:
            return []
        half = max(1, have // 2)
        return [Step(block, actor, "reserve", "sell", {"unit": unit, "quantity": half, "minOut": 0, "payIn": "stable"}),
                Step(block, actor, "stable", "exit", {"unit": unit, "quantity": max(1, have - half), "minOut": 0})]

    def _lateStake(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        if not assets.ids_by(ctx, assets.status_prefix("defaulted"), 0, 1) + \
                assets.ids_by(ctx, assets.status_prefix("written_off"), 0, 1):
            return []
        actor = self.rng.choice(self.actors)
        have = bank.balance(ctx, actor_address(actor), NATIVE)
        if have < 2:
            return []
        return [Step(block, actor, "insurance", "stake", {"amount": have // 2}),
                Step(block, actor, "insurance", "claim", {})]

    def _buyGovernance(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        held = self._holding(ctx)
        actor = held[0] if held is not None else self.rng.choice(self.actors)
        out = []
        if held is not None:
            out.append(Step(block, actor, "reserve", "sell",
                            {"unit": held[1], "quantity": held[2], "minOut": 0, "payIn": "native"}))
        have = bank.balance(ctx, actor_address(actor), NATIVE)
        if have > 1:
            out.append(Step(block, actor, "insurance", "stake", {"amount": have - 1}))
        pid = governance.next_id(ctx)
        out += [Step(block, actor, "governance", "propose",
                     {"action": "grantRole", "target": "custodian", "account": actor_address(actor)}),
                Step(block, actor, "governance", "vote", {"id": pid, "support": "yes"})]
        return out

    def _budgetDrain(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        held = self._holding(ctx)
        if held is None:
            return []
        actor, unit, have = held
        bids = [o for o in market.orders_of(ctx, vault.RESERVE) if o.denom == unit and o.side == market.BUY]
        half = max(1, have // 2)
        out = [Step(block, actor, "reserve", "sell", {"unit": unit, "quantity": half, "minOut": 0, "payIn": "stable"})]
        if bids and have > half:
            out.append(Step(block, actor, "market", "place", {"denom": unit, "side": market.SELL, "price": bids[0].price,
                                                              "quantity": have - half, "expiry": 0}))
        return out

    def _bigRedeem(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        actor = self.rng.choice(self.actors)
        have = bank.balance(ctx, actor_address(actor), NATIVE)
        r = self.rng.random()
        if r < 0.4 and have > 0:
            return [Step(block, actor, "reserve", "requestRedeem", {"amount": have})]
        return [Step(block, actor, "reserve", "cancelRedeem", {})]


def _eligible(ctx: Ctx, unit: str) -> bool:
    try:
        return vault.eligible(ctx, unit)
    except InvalidTransaction:
        return False


def _nears_default(ctx: Ctx, asset_id: int, now: int) -> bool:
    """Whether an asset's oldest unpaid installment reaches due + grace within a day."""
    rec = assets.find(ctx, asset_id)
    if rec is None or rec.status not in ("pooled", "overdue"):
        return False
    due = assets.oldest_unpaid_due(assets.schedule_of(ctx, asset_id))
    return due is not None and 0 <= due + rec.grace - now <= 86_400


# ----- probes ------------------------------------------------------------------------------------------
@dataclass
class ProbeEnv:
    """What a probe works with: the chain's app (its latest committed state), the time of
    the block the probe precedes, and the chain id to sign for."""

    app: App
    now: int
    chain_id: str

    def run(self, actor: str, calls: list[tuple[str, str, dict]]) -> tuple[list[Receipt], Ctx]:
        """Sign calls as actor with consecutive nonces and dry-run them (App.dry_run)."""
        key = actor_keypair(actor)
        n = accounts.nonce(self.app.reader(), key.address)
        raws = [sign_tx(key, chain=self.chain_id, nonce=n + i, fee=0, module=m, call=c, args=a)
                for i, (m, c, a) in enumerate(calls)]
        return self.app.dry_run(raws, self.now)

    def before(self) -> Ctx:
        """The state at the block's start (its begin-block hooks run), before any transaction."""
        return self.app.dry_run([], self.now)[1]


def _all_ok(receipts: list[Receipt]) -> bool:
    return all(r.code == 0 for r in receipts)


def probe_split_exit(env: ProbeEnv, actor: str, args: dict) -> list[str]:
    """Two exits of first and total - first units pay at most one exit of total."""
    unit, total, first = args["unit"], args["total"], args["first"]
    whole, after_whole = env.run(actor, [("stable", "exit", {"unit": unit, "quantity": total, "minOut": 0})])
    parts, after_parts = env.run(actor, [("stable", "exit", {"unit": unit, "quantity": first, "minOut": 0}),
                                         ("stable", "exit", {"unit": unit, "quantity": total - first, "minOut": 0})])
    if not (_all_ok(whole) and _all_ok(parts)):
        return []
    addr = actor_address(actor)
    one, two = bank.balance(after_whole, addr, STABLE), bank.balance(after_parts, addr, STABLE)
    if two > one:
        return [f"exiting {unit} as {first} + {total - first} units paid {two - one} more than one exit of {total}"]
    return []


def probe_loop(env: ProbeEnv, actor: str, args: dict) -> list[str]:
    """An exit and the purchase of the same units back never gain stable tokens."""
    unit, q = args["unit"], args["quantity"]
    receipts, after = env.run(actor, [("stable", "exit", {"unit": unit, "quantity": q, "minOut": 0}),
                                      ("stable", "buy", {"unit": unit, "quantity": q, "maxIn": (1 << 128) - 1})])
    if not _all_ok(receipts):
        return []
    addr = actor_address(actor)
    gain = bank.balance(after, addr, STABLE) - bank.balance(env.before(), addr, STABLE)
    return [f"exiting {q} units of {unit} and buying them back gained {gain} stable base units"] if gain > 0 else []


def probe_floor(env: ProbeEnv, actor: str, args: dict) -> list[str]:
    """The floor never burns for nothing; at a fresh CR >= 1 it pays (units at the protocol's
    sell prices, plus stable tokens from the vault) what it burns, less at most one unit of
    each holding paid (rounding). Burned is the fall of the stable supply."""
    amount = args["amount"]
    receipts, after = env.run(actor, [("stable", "redeem", {"amount": amount})])
    if not _all_ok(receipts):
        return []
    before = env.before()
    addr = actor_address(actor)
    burned = bank.supply(before, STABLE) - bank.supply(after, STABLE)
    stable_paid = bank.balance(after, addr, STABLE) - bank.balance(before, addr, STABLE) + burned
    got = {d: q - bank.balance(before, addr, d) for d, q in bank.balances_of(after, addr).items()
           if tranches.parse_denom(d) is not None}
    got = {d: q for d, q in got.items() if q > 0}
    if burned > 0 and not got and stable_paid <= 0:
        return [f"the floor burned {burned} stable base units and paid nothing"]
    c = vault.collateral_ratio(before)
    if not c.fresh or c.cr is None or c.cr < WAD:
        return []
    try:
        prices = {d: vault.unit_prices(before, d).sell for d in got}
    except InvalidTransaction:
        return []
    value = sum(prices[d] * q for d, q in got.items()) + stable_paid
    if burned > value + sum(prices.values()):
        return [f"at CR {c.cr * 100 // WAD} % the floor burned {burned} and paid {value} (units at sell prices "
                f"and stable tokens)"]
    return []


PROBES: dict[str, Callable[[ProbeEnv, str, dict], list[str]]] = {
    "splitExit": probe_split_exit, "loop": probe_loop, "floor": probe_floor}
