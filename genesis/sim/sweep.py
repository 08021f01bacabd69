"""Sweeps: many seeded Monte-Carlo runs of a simulation (genesis/sim/simulate.py with
genesis/sim/montecarlo.py) in which holders exit their tranche units, each run with its own
configuration (genesis/sim/sweep_config.py: any module parameter, any Monte-Carlo input, the
run's own fields), run in parallel processes, each finished run written to the sweep's
directory as it ends; the results tabulated one row per run (docs/simulation.md).

Every run starts from the simulation genesis with the configuration's parameters in
params/<module> (simulate.sim_genesis). Its first block repays the demo pool's first
installments, so the pool's senior units are eligible for the instant exit and for the
reserve's standing bids from the start (docs/mechanism.md, "Stable token").

Exits: each block, with probability sim.exitChance, a unit holder (dev7, dev8, the
originator dev1 or a holder) decides to sell a batch of units of one tranche; until it is
sold, each block it takes the best of the instant exit (stable.exit, at the quoted payout),
a direct sale to the reserve (reserve.sell, at the computed price x (1 - discount), within
what is left of its epoch budget) and the best bid on the book (often the reserve's
standing bid), net of fees.

Metrics of a run (prices relative to the unit's computed price at the moment of the exit,
wad: 10^18 = the full computed price):
    exitPriceMean, exitPriceWorst   mean and lowest realised price per unit of the exits (wad)
    timeToExitMean                  s from a holder's decision to its batch being sold
                                    (batches never sold by the end are not counted)
    reserveDepletion                the largest fall of the reserve's stable holdings (its
                                    buying power for standing bids) below its value after
                                    the first block, as a share of it (wad)
    lowestCR                        the lowest collateral ratio recorded at any block (wad)
    exits                           exit trades counted
    unsold                          batches still unsold at the end
    defaults, redemptions           assets marked defaulted; stable.redeem calls that succeeded
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import csv
import io
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random
from typing import Any

from rwachain.genesis.sim import simulate
from rwachain.genesis.sim import sweep_config as sc
from rwachain.genesis.sim.simulate import SERVICER, STABLE, Step, actor_address
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.app import BlockResult
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.registry import Module
from rwachain.modules.market import keeper as market
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import keeper as stable_keeper
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches

RUSD = 10**6
BATCH = (10, 150)  # units per batch
METRICS = {"exitPriceMean": "wad", "exitPriceWorst": "wad", "timeToExitMean": "s", "reserveDepletion": "wad",
           "lowestCR": "wad", "exits": "count", "unsold": "count", "defaults": "count", "redemptions": "count"}
# Random operations during a sweep: trading and claims, no pauses, freezes or stray reports.
SWEEP_WEIGHTS = {k: 0 for k in simulate.DEFAULT_WEIGHTS} | {
    "bank.distribute": 20, "market.place": 20, "market.cancel": 5, "tranches.claim": 5, "stable.buy": 3,
    "assets.register": 2, "assets.verify": 2, "tranches.createPool": 2, "insurance.stake": 2}


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

    def __init__(self, rng: Random, holders: int, outcome: Outcome, chance: float = 0.25):
        self.rng, self.chance = rng, chance
        self.sellers = ["dev7", "dev8", "dev1"] + [f"holder{i}" for i in range(holders)]
        self.open: list[Batch] = []
        self.outcome = outcome
        self.refs: dict[str, int] = {}

    def steps(self, block: int, now: int, ctx: Ctx) -> list[Step]:
        out: list[Step] = []
        if block == 1:
            out += self._first_repayments(block, ctx)
        if self.rng.random() < self.chance:
            self._decide(now, ctx)
        for b in self.open:
            step = self._attempt(block, now, ctx, b)
            if step is not None:
                out.append(step)
        return out

    def _first_repayments(self, block: int, ctx: Ctx) -> list[Step]:
        out = []
        for pid in tranches.ids(ctx, 0, 10):
            for aid in tranches.get(ctx, pid).assets:
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
            via_exit = vault.quote_exit(ctx, b.unit, left).out
        with contextlib.suppress(InvalidTransaction):
            q = reserve.quote_sale(ctx, b.unit, left, "stable")
            st = reserve.epoch_state(ctx)
            if q.value <= st.budget - st.used and q.out <= bank.balance(ctx, reserve.RESERVE, STABLE):
                via_reserve = q.out
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


# ----- one run -------------------------------------------------------------------------------------
def sim_config(seed: int, cfg: dict[str, Any], space: sc.Space = sc.CHAIN) -> simulate.SimConfig:
    """The simulation of a run: sweep trading, no adversary, no invariant checks; space: the
    paths of the App's modules (sweep_config.Space; default: the chain's)."""
    return simulate.SimConfig(seed=seed, blocks=cfg["sim.blocks"], block_time=cfg["sim.blockTime"],
                              holders=cfg["sim.holders"], weights=SWEEP_WEIGHTS, attack_rate=0.0,
                              montecarlo=sc.market_config(cfg), module_params=space.module_params(cfg))


def run(seed: int, cfg: dict[str, Any], record_series: bool = False,
        modules: Callable[[], list[Module]] | None = None) -> dict:
    """One seeded run of a configuration: {"metrics": {name: int or None}, "genesisHash",
    "stateRoot"}, and "series" (its per-block series document) when record_series. modules
    builds the App's module list (None: the chain's), whose parameters cfg sets."""
    listed = modules() if modules is not None else None
    outcome = Outcome()
    exits = Exits(Random(seed * 1_000_003 + 17), cfg["sim.holders"], outcome, cfg["sim.exitChance"])
    sim = sim_config(seed, cfg, sc.CHAIN if listed is None else sc.Space(listed))

    def on_block(block: int, now: int, steps: list[Step], res: BlockResult, ctx: Ctx) -> None:
        exits.observe(now, steps, res, ctx)
        held = bank.balance(ctx, reserve.RESERVE, vault.denom(ctx))
        if block == 1:
            outcome.start_reserve = held
        outcome.low_reserve = held if outcome.low_reserve is None else min(outcome.low_reserve, held)
        cr = stable_keeper.recorded_cr(ctx)
        if cr is not None:
            outcome.lowest_cr = cr if outcome.lowest_cr is None else min(outcome.lowest_cr, cr)

    res = simulate.run(sim, modules=None if listed is None else lambda: listed, on_block=on_block, extra=exits.steps,
                       check=False, record_series=record_series)
    p, t = outcome.prices, outcome.times
    ok = {k: per.get("ok", 0) for k, per in res.stats.items()}
    metrics = {"exitPriceMean": sum(p) // len(p) if p else None, "exitPriceWorst": min(p) if p else None,
               "timeToExitMean": sum(t) // len(t) if t else None, "reserveDepletion": outcome.depletion(),
               "lowestCR": outcome.lowest_cr, "exits": len(p), "unsold": len(exits.open),
               "defaults": ok.get("assets.markDefault", 0), "redemptions": ok.get("stable.redeem", 0)}
    out = {"metrics": metrics, "genesisHash": sc.genesis_hash(sim.genesis(listed)), "stateRoot": "0x" + res.state_root.hex()}
    return out | ({"series": res.series} if record_series else {})


def run_entry(entry: dict) -> dict:
    """A plan's run ({"run", "seed", "config"}) and its result, as the run file holds it (the
    function a worker process calls)."""
    return {"run": entry["run"], "seed": entry["seed"], "config": sc.config_to_json(entry["config"]),
            **run(entry["seed"], entry["config"])}


# ----- the sweep's directory -------------------------------------------------------------------------------
PLAN_FILE, RUNS_DIR, JSON_FILE, CSV_FILE = "plan.json", "runs", "sweep.json", "sweep.csv"


def write_atomic(path: str, text: str) -> None:
    """Write text to path whole or not at all: a temporary file, synced, renamed into place."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_file(directory: str, index: int) -> str:
    return os.path.join(directory, RUNS_DIR, f"{index:06d}.json")


def start(directory: str, plan: dict) -> None:
    """A new sweep directory with its plan; SweepError when it already holds one."""
    os.makedirs(os.path.join(directory, RUNS_DIR), exist_ok=True)
    if os.path.exists(os.path.join(directory, PLAN_FILE)):
        raise sc.SweepError(f"{directory} already holds a sweep: continue it with --resume {directory}, "
                            f"or choose another --dir")
    write_atomic(os.path.join(directory, PLAN_FILE), json.dumps(sc.plan_to_json(plan), indent=1) + "\n")


def load_plan(directory: str) -> dict:
    path = os.path.join(directory, PLAN_FILE)
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as exc:
        raise sc.SweepError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise sc.SweepError(f"{path} is not valid JSON: {exc}") from None
    return sc.plan_from_json(raw, path)


def finished(directory: str, plan: dict) -> dict[int, dict]:
    """The runs of the plan already written to the directory (index -> result); a run file
    that does not match its planned run is an error (a directory of another sweep)."""
    out = {}
    for entry in plan["runs"]:
        path = run_file(directory, entry["run"])
        try:
            with open(path) as f:
                res = json.load(f)
        except FileNotFoundError:
            continue
        except ValueError as exc:
            raise sc.SweepError(f"{path} is not valid JSON: {exc}") from None
        if res.get("seed") != entry["seed"] or res.get("config") != sc.config_to_json(entry["config"]):
            raise sc.SweepError(f"{path} is not the run its plan describes")
        out[entry["run"]] = res
    return out


def worker_context() -> multiprocessing.context.BaseContext:
    """How the worker processes start. A process with one thread forks them: they begin with
    everything it imported, at no cost. A process with other threads (LevelDB's compaction
    thread, a server's) must not fork, since a lock one of them held would stay held in the
    child forever: its workers fork from a server process that has this module (and with it
    the simulation) loaded and no other thread (about 0.2-0.5 s to start it)."""
    try:
        alone = len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: the threads cannot be counted
        alone = False
    if alone:
        return multiprocessing.get_context("fork")
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload([__name__])
    return mp


def longest_first(entries: list[dict]) -> list[dict]:
    """Runs in the order the workers take them: the most blocks first (plan order among
    equals), so that a plan's last long runs do not end alone while the other workers wait."""
    return sorted(entries, key=lambda e: -e["config"]["sim.blocks"])


def in_workers(fn: Callable[[Any], dict], jobs: list, workers: int) -> Iterator[tuple[int, dict]]:
    """(index, fn(jobs[index])) of every job, as each ends, from `workers` processes started
    by worker_context(), which take the jobs in list order; the jobs not yet begun are
    cancelled when one fails or the caller stops (an interrupt, an error of its own)."""
    with futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=worker_context()) as pool:
        pending = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
        try:
            for fut in futures.as_completed(pending):
                yield pending[fut], fut.result()
        finally:
            for fut in pending:
                fut.cancel()


def execute(directory: str, plan: dict, workers: int = 1,
            progress: Callable[[int, int], None] | None = None,
            runner: Callable[[dict], dict] = run_entry) -> list[dict]:
    """Run the plan's runs not yet in the directory, `workers` processes at once (1: in this
    process), each written to runs/<index>.json as it ends; every run's result, in plan order.
    runner: run_entry, or a module-level wrapper of it (a benchmark's timing)."""
    os.makedirs(os.path.join(directory, RUNS_DIR), exist_ok=True)
    done = finished(directory, plan)
    todo = [e for e in plan["runs"] if e["run"] not in done]
    total = len(plan["runs"])

    def record(res: dict) -> None:
        write_atomic(run_file(directory, res["run"]), json.dumps(res, indent=1) + "\n")
        done[res["run"]] = res
        if progress is not None:
            progress(len(done), total)

    if progress is not None:
        progress(len(done), total)
    if workers <= 1 or len(todo) <= 1:
        for entry in todo:
            record(runner(entry))
    else:
        for _, res in in_workers(runner, longest_first(todo), workers):
            record(res)
    return [done[e["run"]] for e in plan["runs"]]


# ----- documents --------------------------------------------------------------------------------------------
def document(plan: dict, results: list[dict]) -> dict:
    """The sweep document (docs/outputs.md): one row per run, the columns run, seed, the
    varied paths and the metrics, with their units; "runs" holds every run's exact
    configuration, genesis hash and final state root (`rwad sweep --replay-run`)."""
    varied = list(plan["varied"])
    cols = ["run", "seed", *varied, *METRICS]
    units = {"run": "index", "seed": "seed", **{p: sc.unit_of(p) for p in varied}, **METRICS}
    rows = []
    for entry, res in zip(plan["runs"], results, strict=True):
        cfg = sc.config_to_json(entry["config"])
        rows.append([entry["run"], entry["seed"], *(cfg[p] for p in varied),
                     *(_cell(res["metrics"][m]) for m in METRICS)])
    return {"kind": "sweep", "version": 2, "columns": cols, "parameters": varied or ["seed"],
            "metrics": list(METRICS), "units": units, "decimals": 6, "rows": rows,
            "specs": plan["specs"], "fixed": plan["fixed"], "seedList": plan["seedList"], "drawSeed": plan["drawSeed"],
            "runs": [{"run": r["run"], "seed": r["seed"], "config": r["config"], "genesisHash": r["genesisHash"],
                      "stateRoot": r["stateRoot"]} for r in results]}


def _cell(v: int | None) -> int | str | None:
    """A metric as documents carry it: wad-sized integers as decimal strings."""
    return str(v) if v is not None and abs(v) >= 1 << 53 else v


def csv_text(doc: dict) -> str:
    """The sweep as CSV: the document's columns, then every other configuration path,
    genesisHash and stateRoot; each header says its unit ("name [unit]"); null is empty."""
    rest = [p for p in sc.defaults() if p not in doc["columns"]]
    units = doc["units"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([f"{c} [{units[c]}]" for c in doc["columns"]] + [f"{p} [{sc.unit_of(p)}]" for p in rest]
               + ["genesisHash [sha256]", "stateRoot [hex]"])
    for row, r in zip(doc["rows"], doc["runs"], strict=True):
        w.writerow(["" if v is None else v for v in row] + [r["config"][p] for p in rest]
                   + [r["genesisHash"], r["stateRoot"]])
    return out.getvalue()


def write_results(directory: str, doc: dict) -> tuple[str, str]:
    """sweep.json and sweep.csv in the directory; their paths."""
    j, c = os.path.join(directory, JSON_FILE), os.path.join(directory, CSV_FILE)
    write_atomic(j, json.dumps(doc, indent=1) + "\n")
    write_atomic(c, csv_text(doc))
    return j, c


# ----- replaying one run ----------------------------------------------------------------------------------------
def recorded_run(path: str, index: int) -> dict:
    """Run `index` of a sweep's results ({"run", "seed", "config", "metrics", "genesisHash",
    "stateRoot"}) from its JSON document, its CSV, or its directory."""
    if os.path.isdir(path):
        path = os.path.join(path, JSON_FILE)
    try:
        with open(path, newline="") as f:
            text = f.read()
    except OSError as exc:
        raise sc.SweepError(f"cannot read {path}: {exc.strerror}") from None
    if path.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(text)))
        heads = [h.rsplit(" [", 1)[0] for h in rows[0]] if rows else []
        found = [dict(zip(heads, r, strict=True)) for r in rows[1:] if r and r[0] == str(index)]
        if not found:
            raise sc.SweepError(f"{path}: no run {index}")
        v = found[0]
        cfg = sc.config_from_json({p: v[p] for p in sc.defaults() if p in v}, f"{path}: run {index}")
        metrics = {m: None if v[m] == "" else int(v[m]) for m in METRICS}
        return {"run": index, "seed": int(v["seed"]), "config": cfg, "metrics": metrics,
                "genesisHash": v["genesisHash"], "stateRoot": v["stateRoot"]}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise sc.SweepError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "sweep" or "runs" not in doc:
        raise sc.SweepError(f"{path}: not a sweep document with runs (rwad sweep writes one)")
    runs = [r for r in doc["runs"] if r.get("run") == index]
    if not runs:
        raise sc.SweepError(f"{path}: no run {index} (runs 0..{len(doc['runs']) - 1})")
    r = runs[0]
    row = next(x for x in doc["rows"] if x[0] == index)
    metrics = {m: None if row[doc["columns"].index(m)] is None else int(row[doc["columns"].index(m)])
               for m in METRICS}
    return {"run": index, "seed": r["seed"], "config": sc.config_from_json(r["config"], f"{path}: run {index}"),
            "metrics": metrics, "genesisHash": r["genesisHash"], "stateRoot": r["stateRoot"]}
