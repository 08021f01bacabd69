"""The mechanism study: a standard set of stresses, each run under four mechanism variants
on the same genesis, pools and assets, and what each part of the mechanism buys the
holders who want out, at what cost to the reserve, the insurance stakers and the stable
token's holders (docs/study.md).

A run is a Monte-Carlo simulation (genesis/sim/simulate.py's runner, genesis/sim/montecarlo.py's
rate path, credit factor and servicer, genesis/sim/sweep.py's holders' exits) of the devnet
demo pool with random trading; an hour after the stress every unit holder tries to sell a
batch (the exit wave) and a small holder tries to sell its SMALL_UNITS senior units.

Stresses (at the stress block):
    rate        the benchmark rate jumps from 4.5 % to 10.5 % and its path reverts to 10.5 %
    defaults    demo asset 4 (300,000 RUSD, grade B, 60 % of the pool) is marked defaulted
                and recovers 1 - LGD after the recovery delay, then is written off; the
                credit factor jumps 2.5 standard deviations (default intensities x3)
    run         the custodian's attested reserve is reported at 90 % of the circulating
                stable supply (CR below 1); every stable holder redeems 5 % of its RUSD at
                the floor in each of the next 12 blocks
    oracle      no oracle report for `outage` seconds, from a day (the benchmark rate's maximum
                age) before the stress block: at the exit wave the rate is stale, so every
                priced action fails closed until reports resume
    depletion   the reserve starts with a tenth of its funds (100,000 RUSD) and native
                holders queue 30 % of their RWA for redemption against its basket
Variants (genesis parameters, docs/study.md):
    book        order book only: every exit ceiling 1 base unit (each exit is over one),
                the reserve's budget share 0 (no bids, no direct purchases), no stake
    reserve     + the buyback reserve (its default parameters)
    exit        + the instant exit into the stable token (the default ceilings)
    insured     + insurance: the devnet's 300,000 RWA of stake in the fund

The variants of a stress run on the same seeds, so they see the same random draws as long
as their states allow (common random numbers). Runs are independent processes; a result
depends on its (seed, stress, variant) only, whatever the workers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from random import Random

from rwachain.genesis.sim import montecarlo, simulate, sweep
from rwachain.genesis.sim.simulate import (
    CUSTODIAN,
    NATIVE,
    ORIGINATOR,
    SERVICER,
    STABLE,
    Step,
    actor_address,
)
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.app import BlockResult
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address, module_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import WAD
from rwachain.modules.market import keeper as market
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import keeper as stable_keeper
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches

RUSD = 10**6
HOUR, DAY = 3_600, 86_400
STRESSES = ("rate", "defaults", "run", "oracle", "depletion")
VARIANTS = ("book", "reserve", "exit", "insured")
POOL = 1  # the devnet demo pool (assets 4 and 5, 500,000 RUSD of par)
SENIOR, JUNIOR = "unit/p1/t0", "unit/p1/t1"
SMALL_UNITS = 5  # the small holder's senior units (about 500 RUSD)
WAVE_MAX = 150  # units per tranche a holder tries to sell in the exit wave
SHOCK_RATE = 0.105
OUTAGE_LEAD = DAY  # the oracle outage starts this long before the stress block
DEFAULTED_ASSET = 4
CREDIT_SHOCK = 2.5  # standard deviations of the credit factor
RUN_ATTESTED = 90  # per cent of the circulating stable supply
RUN_SHARE, RUN_BLOCKS = 5, 12  # per cent of its RUSD each stable holder redeems, in each of that many blocks
DEPLETED_FUND = 100_000 * RUSD
REDEEM_SHARE = 30  # per cent of their RWA native holders queue for redemption
# Random trading during a study: as a sweep's, without new assets or pools (the same pools
# in every run) and without new stake (insurance is a variant).
WEIGHTS = sweep.SWEEP_WEIGHTS | {"assets.register": 0, "assets.verify": 0, "tranches.createPool": 0,
                                 "insurance.stake": 0}
METRICS = ("exits", "exitPriceMean", "exitPriceWorst", "unsoldShare", "smallExitHours", "smallExitDone", "reserveUse",
           "reserveDepletion", "crMin", "crEnd", "seniorLoss", "juniorLoss", "holdersLoss", "reserveLoss",
           "stakersLoss", "stableHoldersLoss")
COLUMNS = ("stress", "variant", "seed", "seeds", *METRICS)
# units of the metrics (CSV header and report): RUSD amounts, fractions (1 = 100 %), hours
UNITS = {"exits": "count", "exitPriceMean": "fraction of fair value", "exitPriceWorst": "fraction of fair value",
         "unsoldShare": "fraction",
         "smallExitHours": "hours", "smallExitDone": "fraction of seeds", "reserveUse": "RUSD", "reserveDepletion": "fraction",
         "crMin": "ratio", "crEnd": "ratio", "seniorLoss": "RUSD", "juniorLoss": "RUSD", "holdersLoss": "RUSD",
         "reserveLoss": "RUSD", "stakersLoss": "RUSD", "stableHoldersLoss": "RUSD"}


@dataclass(frozen=True)
class StudyConfig:
    """The study's size: the first seed and the number of seeds (seed, seed + 1, ...), blocks
    per run (1 h each), the stress block, the oracle outage's length and the recovery delay
    after a default (s), funded holders."""

    seed: int = 1
    seeds: int = 3
    blocks: int = 336  # 14 days
    stress_at: int = 48  # day 2
    outage: int = 3 * DAY
    recovery_delay: int = 7 * DAY
    holders: int = simulate.HOLDERS

    def to_json(self) -> dict:
        return {"seed": self.seed, "seeds": self.seeds, "blocks": self.blocks, "stressAt": self.stress_at, "outage": self.outage,
                "recoveryDelay": self.recovery_delay, "holders": self.holders, "blockTime": simulate.BLOCK_TIME}


STANDARD = StudyConfig()
QUICK = StudyConfig(seeds=2, blocks=60, stress_at=30, outage=DAY + 12 * HOUR, recovery_delay=DAY, holders=4)


# ----- variants and stresses as genesis ---------------------------------------------------------
def variant_params(variant: str) -> dict[str, dict]:
    """The module parameters of a variant (params/stable, params/reserve)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    stable = dict(vault.DEFAULT_PARAMS)
    res = dict(reserve.DEFAULT_PARAMS)
    if variant in ("book", "reserve"):
        stable["ceilings"] = {k: 1 for k in vault.DEFAULT_PARAMS["ceilings"]}
    if variant == "book":
        res["budgetShare"] = 0
    return {"stable": stable, "reserve": res}


def study_genesis(stress: str, variant: str, holders: int) -> dict:
    """The simulation genesis with the variant's parameters; without the insured variant
    the fund's stake goes back to its stakers; the depletion stress cuts the reserve's fund."""
    if stress not in STRESSES:
        raise ValueError(f"unknown stress {stress!r} (known: {', '.join(STRESSES)})")
    doc = simulate.sim_genesis(holders, variant_params(variant))
    if variant != "insured":
        _unstake(doc)
    if stress == "depletion":
        res = encode_address(module_address("reserve"))
        for a in doc["accounts"]:
            if a["address"] == res:
                a["balances"][STABLE] = str(DEPLETED_FUND)
    return doc


def _unstake(doc: dict) -> None:
    """No insurance: the fund's native goes back to its stakers (by their shares)."""
    ins = doc["insurance"]
    fund = ins["fund"]
    native, shares = int(fund["native"]), int(fund["shares"])
    back = {s["address"]: int(s["shares"]) * native // shares for s in ins["stakes"]}
    fund_addr = encode_address(module_address("insurance"))
    for a in doc["accounts"]:
        if a["address"] in back:
            a["balances"][NATIVE] = str(int(a["balances"].get(NATIVE, "0")) + back[a["address"]])
        elif a["address"] == fund_addr:
            a["balances"][NATIVE] = str(int(a["balances"][NATIVE]) - sum(back.values()))
    fund.update({"native": "0", "shares": "0", "bonded": "0"})
    ins["stakes"] = []
    for s in ins.get("snapshots", []):
        s.update({"native": "0", "shares": "0", "bonded": "0"})


# ----- one run --------------------------------------------------------------------------------
class Driver:
    """The steps of one run beyond the random operations: the market model's reports and
    servicer, the stress, the exit wave, the small holder, the holders' exits (sweep.Exits)."""

    def __init__(self, cfg: StudyConfig, stress: str):
        self.cfg, self.stress = cfg, stress
        self.outcome = sweep.Outcome()
        self.exits = sweep.Exits(Random(cfg.seed * 1_000_003 + 17), cfg.holders, self.outcome)
        mc = montecarlo.MarketConfig(recovery_delay=cfg.recovery_delay)
        self.model = montecarlo.MarketModel(Random(cfg.seed * 7_919 + 5), mc, simulate.BLOCK_TIME)
        self.small = f"holder{cfg.holders}"  # funded by nobody but the originator's transfer
        self.small_batch: sweep.Batch | None = None
        self.attested: int | None = None  # the run stress's reported reserve
        self.t0 = 0  # the genesis time

    def steps(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        out = self._model(block, now, ctx)
        if block == 1:
            out.append(Step(block, ORIGINATOR, "bank", "transfer",
                            {"to": actor_address(self.small), "denom": SENIOR, "amount": SMALL_UNITS}))
        if block == self.cfg.stress_at:
            out += self._stress(block, now, ctx)
        if block == self.cfg.stress_at + 1:  # the holders react an hour later, on the stressed prices
            self._wave(now, ctx)
        if self.stress == "run" and self.cfg.stress_at < block <= self.cfg.stress_at + RUN_BLOCKS:
            out += self._redeem(block, ctx)
        return out + self.exits.steps(block, now, ctx)

    def _model(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        steps = self.model.steps(block, now, ctx)
        s0 = self.cfg.stress_at
        quiet = self.t0 + s0 * simulate.BLOCK_TIME - OUTAGE_LEAD
        if self.stress == "oracle" and quiet <= now < quiet + self.cfg.outage:
            return [s for s in steps if s.module != "oracle"]
        if self.attested is not None:
            steps = [Step(s.block, s.actor, s.module, s.call, {**s.args, "value": self.attested})
                     if s.module == "oracle" and s.args["feed"].startswith("reserve/") else s for s in steps]
        return steps

    def _stress(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        out: list[Step] = []
        if self.stress == "rate":
            self.model.rate.r = self.model.rate.theta = SHOCK_RATE
            self.model.next_rate = now + self.model.cfg.rate_every
            out.append(self._report(block, "rate", montecarlo.to_wad(SHOCK_RATE)))
        elif self.stress == "defaults":
            self.model.factor = CREDIT_SHOCK
            self.model.next_credit = now  # intensities reported at once (the next block)
            self.model.recoveries[DEFAULTED_ASSET] = now + self.cfg.recovery_delay
            out.append(Step(block, SERVICER, "assets", "markDefault", {"id": DEFAULTED_ASSET}))
        elif self.stress == "run":
            self.attested = vault.circulating(ctx) * RUN_ATTESTED // 100
            out.append(self._report(block, _feed_of(CUSTODIAN), self.attested))
        elif self.stress == "depletion":
            for a in self._stable_holders():
                have = bank.balance(ctx, actor_address(a), NATIVE) * REDEEM_SHARE // 100
                if have:
                    out.append(Step(block, a, "reserve", "requestRedeem", {"amount": have}))
        return out

    def _report(self, block: int, feed: str, value: int) -> Step:
        return Step(block, "dev6", "oracle", "report", {"feed": feed, "value": value, "signers": [0, 1, 2], "age": 0})

    def _stable_holders(self) -> list[str]:
        return ["dev0", "dev2", "dev5", "dev6", "dev7", "dev8", "dev9"] + [f"holder{i}" for i in range(self.cfg.holders)]

    def _redeem(self, block: int, ctx: Ctx) -> list[Step]:
        out = []
        for a in self._stable_holders():
            amount = bank.balance(ctx, actor_address(a), STABLE) * RUN_SHARE // 100
            if amount:
                out.append(Step(block, a, "stable", "redeem", {"amount": amount}))
        return out

    def _wave(self, now: int, ctx: Ctx) -> None:
        """Every unit holder tries to sell up to WAVE_MAX units of each tranche it holds; the
        small holder its SMALL_UNITS senior units."""
        busy = {(b.holder, b.unit) for b in self.exits.open}
        for seller in self.exits.sellers:
            for unit, have in sorted(bank.balances_of(ctx, actor_address(seller)).items()):
                if tranches.parse_denom(unit) is not None and (seller, unit) not in busy:
                    self.exits.open.append(sweep.Batch(seller, unit, min(have, WAVE_MAX), now))
        self.small_batch = sweep.Batch(self.small, SENIOR, SMALL_UNITS, now)
        self.exits.open.append(self.small_batch)


def _feed_of(actor: str) -> str:
    """An actor's proof-of-reserve feed id."""
    return "reserve/" + encode_address(actor_address(actor))


@dataclass
class Ledger:
    """What a run measures besides sweep.Outcome: per-block CR and reserve paths, the
    reserve's spending per epoch, the parties' losses."""

    cr: list[float]
    reserve_stable: list[float]
    epochs: dict[int, int]
    start: dict
    shortfall: int = 0  # RUSD base units holders gave up selling to the protocol below fair value
    covered: int = 0  # cover paid by the insurance fund (stable base units)
    cover_back: int = 0  # recoveries repaid to the fund
    small_done: int | None = None
    sold: list[float] | None = None  # exit prices from the stress on, fractions of fair value
    tried: dict | None = None  # the batches holders decided to sell from the stress on, by id
    prices: dict | None = None


def _prices(ctx: Ctx, last: dict[str, int]) -> dict[str, int]:
    """The reference price of every unit of the demo pool now, or its last fresh one (last
    is updated)."""
    for t in tranches.get(ctx, POOL).tranches:
        with contextlib.suppress(InvalidTransaction):
            last[t.denom] = market.reference_price(ctx, t.denom)
    return last


def _tranche_state(ctx: Ctx, last: dict[str, int]) -> dict:
    """Per tranche of the demo pool: units, price (the last fresh one if stale), allocated
    cash, and the units held outside the protocol's accounts."""
    pool = tranches.get(ctx, POOL)
    out = {}
    protocol = set(vault.protocol_accounts(ctx))
    _prices(ctx, last)
    for t in pool.tranches:
        d = t.denom
        inside = sum(bank.balance(ctx, a, d) for a in protocol)
        out[d] = {"units": t.units, "price": last.get(d, 0), "allocated": t.allocated,
                  "outside": t.units - inside}
    return out


def _sale(e: dict) -> tuple[bytes, str, int, int] | None:
    """(seller, unit, quantity, stable received) of a sale event: an instant exit, a direct
    sale to the reserve, a fill on the book (net of the seller's fee); else None."""
    a, kind = e["attrs"], e["type"]
    if kind == "stable.exit":
        return a["holder"], a["unit"], a["quantity"], a["out"]
    if kind == "reserve.bought":
        return a["seller"], a["unit"], a["quantity"], a["out"]
    if kind == "market.fill":
        return a["seller"], a["denom"], a["quantity"], a["price"] * a["quantity"] - a["sellerFee"]
    return None


def _book_block(led: Ledger, selling: set[tuple[bytes, str]], res: BlockResult, fair: dict[str, int]) -> None:
    """Add a block's events to the ledger. Exit prices: the sales of the holders trying to
    sell (`selling`, (address, unit)), each against the unit's fair value `fair` (its
    reference price at the end of the block: a default, a write-off or a payout earlier in
    the block is in it). Shortfall: what any holder gave up selling to the protocol (the
    vault, the reserve, the reserve's bids) below that value. Covers and their repayments."""
    rsv = reserve.RESERVE
    for r in res.receipts:
        if r.code:
            continue
        for e in r.events:
            sale = _sale(e)
            if sale is None or not fair.get(sale[1]):
                continue
            seller, unit, q, got = sale
            value = fair[unit] * q
            if (seller, unit) in selling and led.sold is not None:
                led.sold.append(got / value)
            if e["type"] != "market.fill" or e["attrs"]["buyer"] == rsv:
                led.shortfall += max(0, value - got)
    for e in res.events + [e for r in res.receipts if not r.code for e in r.events]:
        a, kind = e["attrs"], e["type"]
        if kind == "insurance.cover":
            led.covered += a["paid"]
        elif kind == "insurance.repaid" and a["to"] != rsv and "slash" in a:
            led.cover_back += a["amount"]


def run_cell(cfg: StudyConfig, stress: str, variant: str) -> dict:
    """One stress under one variant: {"stress", "variant", "seed", metrics..., "crPath",
    "reservePath"} (amounts in RUSD, fractions, hours; paths one value per block)."""
    drv = Driver(cfg, stress)
    doc = study_genesis(stress, variant, cfg.holders)
    drv.t0 = doc["genesisTime"]
    last: dict[str, int] = {}
    led = Ledger([], [], {}, {}, tried={})
    sim = simulate.SimConfig(seed=cfg.seed, blocks=cfg.blocks, holders=cfg.holders, weights=WEIGHTS,
                             montecarlo=None, attack_rate=0)
    sim.genesis = lambda modules=None: doc  # the study's genesis (of the chain's modules), not the plain one

    def on_block(block: int, now: int, steps: list[Step], res: BlockResult, ctx: Ctx) -> None:
        if drv.small_batch is not None and led.sold is None:
            led.sold = []  # exit prices count from the exit wave on
        if drv.small_batch is not None:  # before observe() drops the batches sold in this block
            led.tried.update((id(b), b) for b in drv.exits.open if b.start >= drv.small_batch.start)
        selling = {(actor_address(b.holder), b.unit) for b in drv.exits.open}
        drv.exits.observe(now, steps, res, ctx)
        _book_block(led, selling, res, _prices(ctx, last))
        b = drv.small_batch
        if b is not None and led.small_done is None and b not in drv.exits.open and b.sold >= b.quantity:
            led.small_done = now - b.start
        held = bank.balance(ctx, reserve.RESERVE, STABLE)
        st = reserve.epoch_state(ctx)
        led.epochs[st.epoch] = max(led.epochs.get(st.epoch, 0), st.used)
        led.cr.append((stable_keeper.recorded_cr(ctx) or 0) / WAD)
        led.reserve_stable.append(held / RUSD)
        if block == 1:
            drv.outcome.start_reserve = held
            led.start = {"tranches": _tranche_state(ctx, last), "reserve": reserve.holdings_value(ctx)}
        low = drv.outcome.low_reserve
        drv.outcome.low_reserve = held if low is None else min(low, held)
        if block == cfg.blocks:
            led.prices = {"tranches": _tranche_state(ctx, last), "reserve": reserve.holdings_value(ctx),
                          "cr": vault.collateral_ratio(ctx)}

    simulate.run(sim, on_block=on_block, extra=drv.steps, check=False)
    return {"stress": stress, "variant": variant, "seed": cfg.seed, **_metrics(cfg, drv, led),
            "crPath": led.cr, "reservePath": led.reserve_stable}


def _metrics(cfg: StudyConfig, drv: Driver, led: Ledger) -> dict:
    prices = led.sold or []
    start, end = led.start["tranches"], led.prices["tranches"]
    loss = {}
    holders = led.shortfall
    for d, s in start.items():
        e = end[d]
        # the fall of the tranche's value (units at the computed price) net of the cash paid to it
        loss[d] = s["units"] * s["price"] - e["units"] * e["price"] - (e["allocated"] - s["allocated"])
        holders += max(0, loss[d]) * e["outside"] // max(1, e["units"])
    tried = list(led.tried.values())
    asked = sum(b.quantity for b in tried)
    crs = [c for c in led.cr if c > 0]
    cr = led.prices["cr"]
    unbacked = max(0, cr.circulating - cr.backing) if cr.circulating else 0
    small = led.small_done if led.small_done is not None else cfg.blocks * simulate.BLOCK_TIME - (
        drv.small_batch.start - drv.t0 if drv.small_batch else 0)
    return {
        "exits": len(prices),
        "exitPriceMean": sum(prices) / len(prices) if prices else 0.0,
        "exitPriceWorst": min(prices) if prices else 0.0,
        "unsoldShare": sum(b.quantity - min(b.quantity, b.sold) for b in tried) / asked if asked else 0.0,
        "smallExitHours": small / HOUR,
        "smallExitDone": int(led.small_done is not None),
        "reserveUse": sum(led.epochs.values()) / RUSD,
        "reserveDepletion": drv.outcome.depletion() / WAD,
        "crMin": min(crs) if crs else 0.0,
        "crEnd": crs[-1] if crs else 0.0,
        "seniorLoss": loss[SENIOR] / RUSD,
        "juniorLoss": loss[JUNIOR] / RUSD,
        "holdersLoss": holders / RUSD,
        "reserveLoss": (led.start["reserve"] - led.prices["reserve"]) / RUSD,
        "stakersLoss": (led.covered - led.cover_back) / RUSD,
        "stableHoldersLoss": unbacked / RUSD,
    }


# ----- the study ------------------------------------------------------------------------------
def cells() -> list[tuple[str, str]]:
    return [(s, v) for s in STRESSES for v in VARIANTS]


def _run_cell(args: tuple[StudyConfig, str, str]) -> dict:
    """run_cell in a worker, with the CPU seconds it took ("cpu": not part of the results)."""
    started = time.process_time()
    out = run_cell(*args)
    return {**out, "cpu": time.process_time() - started}


def study(cfg: StudyConfig = STANDARD, workers: int = 2,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Every (stress, variant) over cfg.seeds seeds, the runs in `workers` processes
    (sweep.in_workers; 1: in this process): {"kind": "study", "config", "stresses", "variants",
    "columns", "units", "rows" (one dict per stress and variant, in cells() order: the
    metrics over its seeds (combine), with the first seed's per-block crPath and
    reservePath)}, and the runs' CPU seconds ("cpuSeconds"). A row depends on the
    configuration only, not on the workers."""
    seeds = [cfg.seed + k for k in range(cfg.seeds)]
    todo = [(replace(cfg, seed=seed), s, v) for s, v in cells() for seed in seeds]
    runs: list[dict | None] = [None] * len(todo)
    if workers <= 1:
        for i, job in enumerate(todo):
            runs[i] = _run_cell(job)
            if progress is not None:
                progress(i + 1, len(todo))
    else:
        for n, (i, res) in enumerate(sweep.in_workers(_run_cell, todo, workers), 1):
            runs[i] = res
            if progress is not None:
                progress(n, len(todo))
    n = len(seeds)
    rows = [combine(runs[i * n:(i + 1) * n]) for i in range(len(cells()))]
    return {"kind": "study", "config": cfg.to_json(), "stresses": list(STRESSES), "variants": list(VARIANTS),
            "columns": list(COLUMNS), "units": UNITS, "rows": rows, "cpuSeconds": sum(r["cpu"] for r in runs)}


def combine(runs: list[dict]) -> dict:
    """One row from the runs of a stress and variant over its seeds: exits summed; the mean
    exit price over all exits; the worst exit price, the lowest CR and the deepest depletion
    over the seeds; everything else the mean over the seeds; the paths of the first seed."""
    first, n = runs[0], len(runs)
    out = {"stress": first["stress"], "variant": first["variant"], "seed": first["seed"], "seeds": n}
    exits = sum(r["exits"] for r in runs)
    sold = [r for r in runs if r["exits"]]
    for m in METRICS:
        out[m] = sum(r[m] for r in runs) / n
    out["exits"] = exits
    out["exitPriceMean"] = sum(r["exitPriceMean"] * r["exits"] for r in runs) / exits if exits else 0.0
    out["exitPriceWorst"] = min(r["exitPriceWorst"] for r in sold) if sold else 0.0
    out["crMin"] = min(r["crMin"] for r in runs)
    out["reserveDepletion"] = max(r["reserveDepletion"] for r in runs)
    return {**out, "crPath": first["crPath"], "reservePath": first["reservePath"]}


def csv_text(doc: dict) -> str:
    """The study's table as CSV: one row per run, the columns of COLUMNS (units in docs/study.md)."""
    lines = [",".join(doc["columns"])]
    for r in doc["rows"]:
        lines.append(",".join(_cell(r[c]) for c in doc["columns"]))
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.6f}"
    return str(v)
