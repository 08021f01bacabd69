"""Parameter sweeps: a grid of module parameters (haircut slope, tranche ceiling, reserve
budget share, reserve discount), each run over many seeds of a Monte-Carlo simulation
(genesis/simulate.py with genesis/montecarlo.py) in which holders exit their tranche
units; the results tabulated.

Every run starts from the simulation genesis with the grid point's parameters written to
params/stable and params/reserve (simulate.sim_genesis). Its first block repays the demo
pool's first installments, so the pool's senior units are eligible for the instant exit
and for the reserve's standing bids from the start (docs/mechanism.md, "Stable token").

Exits: each block, with probability EXIT_CHANCE, a unit holder (dev7, dev8, the originator
dev1 or a holder) decides to sell a batch of units of one tranche; until it is sold, each
block it takes the best of the instant exit (stable.exit, at the quoted payout), a direct
sale to the reserve (reserve.sell, at the computed price x (1 - discount), within what is
left of its epoch budget) and the best bid on the book (often the reserve's standing bid),
net of fees.

Metrics per grid point, over all its seeds (prices relative to the unit's computed price
at the moment of the exit, wad: 10^18 = the full computed price):
    exitPriceMean, exitPriceWorst   mean and lowest realised price per unit of the exits
    timeToExitMean                  s from a holder's decision to its batch being sold
                                    (batches never sold by the end are not counted)
    reserveDepletion                the largest fall of the reserve's stable holdings (its
                                    buying power for standing bids) below the start, as a
                                    share of the start (wad), the worst seed
    lowestCR                        the lowest collateral ratio recorded at any block (wad)
    exits                           exit trades counted
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random

from genesis import montecarlo, simulate
from genesis.simulate import SERVICER, STABLE, Step, actor_address
from modules.app import BlockResult
from modules.assets import keeper as assets
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.errors import InvalidTransaction
from modules.market import keeper as market
from modules.reserve import module as reserve
from modules.stable import vault
from modules.tranches import keeper as tranches

WAD = 10**18
RUSD = 10**6
EXIT_CHANCE = 0.25  # per block: a holder decides to sell a batch
BATCH = (10, 150)  # units per batch
SWEEP_BLOCKS = 240  # 10 days of 1-hour blocks
PARAMS = ("hSlope", "trancheCeiling", "budgetShare", "discount")
METRICS = ("exitPriceMean", "exitPriceWorst", "timeToExitMean", "reserveDepletion", "lowestCR", "exits")
COLUMNS = [*PARAMS, "seeds", *METRICS]
# Random operations during a sweep: trading and claims, no pauses, freezes or stray reports.
SWEEP_WEIGHTS = {k: 0 for k in simulate.DEFAULT_WEIGHTS} | {
    "bank.distribute": 20, "market.place": 20, "market.cancel": 5, "tranches.claim": 5, "stable.buy": 3,
    "assets.register": 2, "assets.verify": 2, "tranches.createPool": 2, "insurance.stake": 2}


@dataclass(frozen=True)
class Point:
    """One grid point: hSlope (wad), tranche ceiling (base units), budgetShare and discount (wad)."""

    h_slope: int
    tranche_ceiling: int
    budget_share: int
    discount: int

    def row(self) -> list[int]:
        return [self.h_slope, self.tranche_ceiling, self.budget_share, self.discount]

    def module_params(self) -> dict[str, dict]:
        stable = dict(vault.DEFAULT_PARAMS)
        stable["hSlope"] = self.h_slope
        stable["ceilings"] = {**vault.DEFAULT_PARAMS["ceilings"], "tranche": self.tranche_ceiling}
        bad = vault.check_params(stable)
        if bad:
            raise ValueError(f"hSlope {self.h_slope}: {bad[0]}")
        if not 0 <= self.budget_share <= WAD:
            raise ValueError("budgetShare must be within [0, 1]")
        if not 0 <= self.discount < WAD:
            raise ValueError("discount must be within [0, 1)")
        res = {**reserve.DEFAULT_PARAMS, "budgetShare": self.budget_share, "discount": self.discount}
        return {"stable": stable, "reserve": res}


def grid(h_slopes: list[int], ceilings: list[int], budgets: list[int], discounts: list[int]) -> list[Point]:
    return [Point(*p) for p in itertools.product(h_slopes, ceilings, budgets, discounts)]


@dataclass
class Batch:
    holder: str
    unit: str
    quantity: int
    start: int
    sold: int = 0


@dataclass
class Outcome:
    """What one run measured."""

    prices: list[int] = field(default_factory=list)  # relative exit prices, wad
    times: list[int] = field(default_factory=list)  # s to sell a batch
    start_reserve: int = 0
    low_reserve: int | None = None
    lowest_cr: int | None = None

    def depletion(self) -> int:
        if not self.start_reserve or self.low_reserve is None:
            return 0
        return max(0, self.start_reserve - self.low_reserve) * WAD // self.start_reserve


class Exits:
    """The holders' exit decisions (steps) and what came of them (events)."""

    def __init__(self, rng: Random, holders: int, outcome: Outcome):
        self.rng = rng
        self.sellers = ["dev7", "dev8", "dev1"] + [f"holder{i}" for i in range(holders)]
        self.open: list[Batch] = []
        self.outcome = outcome
        self.refs: dict[str, int] = {}

    def steps(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        out: list[Step] = []
        if block == 1:
            out += self._first_repayments(block, ctx)
        if self.rng.random() < EXIT_CHANCE:
            self._decide(now, ctx)
        for b in self.open:
            step = self._attempt(block, now, ctx, b)
            if step is not None:
                out.append(step)
        return out

    def _first_repayments(self, block: int, ctx: Ctx) -> list[Step]:
        out = []
        for pid in tranches.ids(ctx, 0, 10):
            for aid in tranches.get(ctx, pid)["assets"]:
                row = assets.schedule_of(ctx, aid)[0]
                out.append(Step(block, SERVICER, "assets", "repay", {"id": aid, "amount": row[1] + row[2] - row[3]}))
        return out

    def _decide(self, now: int, ctx: Ctx) -> None:
        seller = self.rng.choice(self.sellers)
        busy = {(b.holder, b.unit) for b in self.open}
        held = [(d, q) for d, q in sorted(bank.balances_of(ctx, actor_address(seller)).items())
                if tranches.parse_denom(d) is not None and (seller, d) not in busy]
        if held:
            unit, have = self.rng.choice(held)
            self.open.append(Batch(seller, unit, min(have, self.rng.randint(*BATCH)), now))

    def _attempt(self, block: int, now: int, ctx: Ctx, b: Batch) -> Step | None:
        left = b.quantity - b.sold
        try:
            ref = market.reference_price(ctx, b.unit)
        except InvalidTransaction:
            return None  # stale or unknown: wait
        self.refs[b.unit] = ref
        via_exit = via_reserve = 0
        with contextlib.suppress(InvalidTransaction):
            via_exit = vault.quote_exit(ctx, b.unit, left)["out"]
        with contextlib.suppress(InvalidTransaction):
            q = reserve.quote_sale(ctx, b.unit, left, "stable")
            st = reserve.epoch_state(ctx)
            if q["value"] <= st["budget"] - st["used"] and q["out"] <= bank.balance(ctx, reserve.RESERVE, STABLE):
                via_reserve = q["out"]
        bids = market.depth(ctx, b.unit, market.BUY, 1)
        via_book, q_book = 0, 0
        if bids:
            price, q_book = bids[0]
            q_book = min(q_book, left)
            cost = price * q_book
            via_book = (cost - market.fee(cost, market.params(ctx)["takerFee"])) * left // q_book
        best = max(via_exit, via_reserve, via_book)
        if best <= 0:
            return None
        if best == via_exit:
            return Step(block, b.holder, "stable", "exit", {"unit": b.unit, "quantity": left, "minOut": 0})
        if best == via_reserve:
            return Step(block, b.holder, "reserve", "sell", {"unit": b.unit, "quantity": left, "minOut": 0,
                                                             "payIn": "stable"})
        return Step(block, b.holder, "market", "place", {"denom": b.unit, "side": market.SELL, "price": bids[0][0],
                                                         "quantity": q_book, "expiry": now + 1})

    def observe(self, now: int, steps: list[Step], res: BlockResult, ctx: Ctx) -> None:
        who = {(actor_address(b.holder), b.unit): b for b in self.open}
        for s, r in zip([s for s in steps if s.module != simulate.PROBE], res.receipts, strict=True):
            if r.code or (s.module, s.call) not in (("stable", "exit"), ("reserve", "sell"), ("market", "place")):
                continue
            for e in r.events:
                a = e["attrs"]
                if e["type"] == "stable.exit":
                    b = who.get((a["holder"], a["unit"]))
                    if b is not None:
                        b.sold += a["quantity"]
                        self.outcome.prices.append(a["out"] * WAD // (a["price"] * a["quantity"]))
                elif e["type"] == "reserve.bought":
                    b = who.get((a["seller"], a["unit"]))
                    ref = self.refs.get(a["unit"])
                    if b is not None and ref:
                        b.sold += a["quantity"]
                        self.outcome.prices.append(a["out"] * WAD // (ref * a["quantity"]))
                elif e["type"] == "market.fill":
                    b = who.get((a["seller"], a["denom"]))
                    ref = self.refs.get(a["denom"])
                    if b is not None and ref:
                        b.sold += a["quantity"]
                        net = a["price"] * a["quantity"] - a["sellerFee"]
                        self.outcome.prices.append(net * WAD // (ref * a["quantity"]))
        for b in [b for b in self.open if b.sold >= b.quantity]:
            self.open.remove(b)
            self.outcome.times.append(now - b.start)
        held = {(b.holder, b.unit): bank.balance(ctx, actor_address(b.holder), b.unit) for b in self.open}
        self.open = [b for b in self.open if held[(b.holder, b.unit)] > 0]  # moved away meanwhile


def run_point(point: Point, seed: int, blocks: int = SWEEP_BLOCKS, market_cfg: montecarlo.MarketConfig | None = None,
              holders: int = simulate.HOLDERS) -> Outcome:
    """One seeded run at a grid point; its measurements."""
    outcome = Outcome()
    exits = Exits(Random(seed * 1_000_003 + 17), holders, outcome)
    cfg = simulate.SimConfig(seed=seed, blocks=blocks, holders=holders, weights=SWEEP_WEIGHTS, attack_rate=0.0,
                             montecarlo=market_cfg or montecarlo.MarketConfig(), module_params=point.module_params())

    def on_block(block: int, now: int, steps: list[Step], res: BlockResult, ctx: Ctx) -> None:
        exits.observe(now, steps, res, ctx)
        held = bank.balance(ctx, reserve.RESERVE, vault.denom(ctx))
        if block == 1:
            outcome.start_reserve = held
        outcome.low_reserve = held if outcome.low_reserve is None else min(outcome.low_reserve, held)
        cr = (ctx.get_obj(vault.CR) or {}).get("cr")
        if cr is not None:
            outcome.lowest_cr = cr if outcome.lowest_cr is None else min(outcome.lowest_cr, cr)

    simulate.run(cfg, on_block=on_block, extra=exits.steps, check=False)
    return outcome


def summarize(point: Point, outcomes: list[Outcome]) -> list:
    """A table row: the point's parameters, the seed count, the metrics (None: no data)."""
    prices = [p for o in outcomes for p in o.prices]
    times = [t for o in outcomes for t in o.times]
    crs = [o.lowest_cr for o in outcomes if o.lowest_cr is not None]
    return [*point.row(), len(outcomes),
            sum(prices) // len(prices) if prices else None, min(prices) if prices else None,
            sum(times) // len(times) if times else None,
            max(o.depletion() for o in outcomes) if outcomes else None,
            min(crs) if crs else None, len(prices)]


def sweep(points: list[Point], seeds: list[int], blocks: int = SWEEP_BLOCKS,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Run every point over every seed: {"kind": "sweep", "columns", "parameters", "metrics",
    "rows", "blocks", "seedList"} (`rwad report` plots each metric against each parameter)."""
    rows = []
    total, done = len(points) * len(seeds), 0
    for point in points:
        outcomes = []
        for seed in seeds:
            outcomes.append(run_point(point, seed, blocks))
            done += 1
            if progress is not None:
                progress(done, total)
        rows.append(summarize(point, outcomes))
    return {"kind": "sweep", "columns": list(COLUMNS), "parameters": list(PARAMS), "metrics": list(METRICS),
            "rows": rows, "blocks": blocks, "seedList": list(seeds)}
