"""`rwad simulate` and `rwad sweep`: random simulation with shrinking, and parameter sweeps
over Monte-Carlo runs (genesis/sim/simulate.py, genesis/sim/shrink.py, genesis/sim/sweep.py).

    rwad simulate --seed N --blocks M       random operations, every invariant after every
                                            block; on a failure: the seed and a shrunk,
                                            replayable list of steps (exit code 1)
    rwad simulate --replay FILE             replay a list of steps (exit code 1 if it fails)
    rwad simulate ... --series FILE         also write the per-block series (rwad report)
    rwad sweep --vary PATH=SPEC ... --seeds N
                                            runs over any parameter paths and seeds, in
                                            parallel processes: exit prices, time to exit,
                                            reserve depletion, lowest CR; --resume DIR,
                                            --replay-run FILE RUN
Both run in process on temporary chains (no node needed); --json prints JSON documents.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from decimal import Decimal
from typing import TextIO

from rwachain.modules.core.fixed import WAD


class SimCliError(Exception):
    """A user error of these commands (rwad prints it as one line and exits 1)."""


# ----- parsers -------------------------------------------------------------------------------------
def add_parsers(sub, run) -> None:
    """Add `simulate` and `sweep` to the rwad parser; run(args) carries them out (it calls
    args.sim_func(args) and turns SimCliError into rwad's one-line error)."""
    from rwachain.genesis.sim import adversary, simulate

    p = sub.add_parser("simulate", help="seeded random operations with invariants after every block; shrinks failures",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=textwrap.fill(
                           "Run weighted random operations of every module on an in-process chain (the devnet "
                           "genesis without fees, plus funded holders), checking every module's invariants and "
                           "the chain-wide ones after every block. A Monte-Carlo driver reports a mean-reverting "
                           "rate path and intensities to the oracle and makes the servicer pay or default "
                           "(one-factor Gaussian copula). On a failure it prints the seed and a shrunk list of "
                           "steps that reproduces it, and exits 1.", 78),
                       epilog="operations and their default weights:\n" + textwrap.fill(
                           ", ".join(f"{k}={v}" for k, v in simulate.DEFAULT_WEIGHTS.items()), 78,
                           initial_indent="  ", subsequent_indent="  ") +
                       "\nattacks of the adversarial actors and their default weights:\n" + textwrap.fill(
                           ", ".join(f"{k}={v}" for k, v in adversary.DEFAULT_ATTACKS.items()), 78,
                           initial_indent="  ", subsequent_indent="  ") +
                       "\nchain-wide checks: " + ", ".join(simulate.CHAIN_CHECKS) + "\nsee docs/simulation.md")
    p.add_argument("--seed", type=_uint, default=0, help="random seed (default 0)")
    p.add_argument("--blocks", type=_positive, default=1000, help="blocks to run (default 1000)")
    p.add_argument("--block-time", type=_positive, default=simulate.BLOCK_TIME,
                   help=f"seconds between blocks (default {simulate.BLOCK_TIME})")
    p.add_argument("--ops", type=_uint, default=simulate.OPS_PER_BLOCK,
                   help=f"random operations per block, at most (uniform 0..N; default {simulate.OPS_PER_BLOCK})")
    p.add_argument("--holders", type=_uint, default=simulate.HOLDERS,
                   help=f"funded holder accounts (default {simulate.HOLDERS})")
    p.add_argument("--weights", metavar="JSON", help='operation weights to change, e.g. \'{"governance.pause": 0}\'')
    p.add_argument("--attack-rate", type=_fraction, default=0.5, metavar="P",
                   help="the chance of an adversary's attack in a block, 0..1 (default 0.5; 0: no adversary)")
    p.add_argument("--no-montecarlo", action="store_true", help="no rate path, intensities or servicer driver")
    p.add_argument("--skip-check", action="append", default=[], metavar="NAME",
                   help="leave out a chain-wide check (repeatable): " + ", ".join(simulate.CHAIN_CHECKS))
    p.add_argument("--no-shrink", action="store_true", help="report a failure without shrinking it")
    p.add_argument("--shrink-tries", type=_positive, default=400, help="replays the shrinker may use (default 400)")
    p.add_argument("--shrink-seconds", type=_positive, default=300, help="seconds the shrinker may use (default 300)")
    p.add_argument("--replay", metavar="FILE", help="replay steps from FILE (a steps document or this command's "
                                                    "--json output) instead of generating them; '-': stdin")
    p.add_argument("--out", metavar="FILE", help="also write the (shrunk) failing steps to FILE as JSON")
    p.add_argument("--progress", action="store_true", help="show progress on stderr (default: only on a terminal)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")

    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="a module parameter or Monte-Carlo input for this run (repeatable), as for rwad sweep: "
                        "e.g. params.reserve.discount=0.05, mc.outageFor=2d (rwad sweep --paths lists them)")
    p.add_argument("--series", metavar="FILE", help="write the per-block metrics as a series document to FILE "
                                                    "(rwad report renders it; docs/outputs.md)")
    p.set_defaults(func=run, sim_func=cmd_simulate)

    p = sub.add_parser("sweep", help="many seeded Monte-Carlo runs over any parameters, in parallel: exit prices, "
                                     "time to exit, reserve, CR",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=textwrap.fill(
                           "Run seeded Monte-Carlo simulations in which holders exit tranche units (instant exit, "
                           "the reserve or the best bid), one per combination of the varied values and seed, in "
                           "parallel processes, and tabulate per run the mean and worst exit price relative to "
                           "the computed unit price, the mean time to exit, the reserve's depletion, the lowest "
                           "collateral ratio and counts. Every finished run is written to the sweep's directory "
                           "as it ends; --resume DIR continues an interrupted sweep. Results: DIR/sweep.json "
                           "(rwad report renders it) and DIR/sweep.csv, with units and every run's exact "
                           "configuration.", 78),
                       epilog="values: wad as 0.03 or 3%, base amounts in whole tokens, durations as 3600, 90m, "
                              "6h or 30d;\nspecifications: a list a,b,c, a grid lo:hi:step, random draws "
                              "uniform(lo,hi)xN\nexamples:\n"
                              "  rwad sweep --vary params.reserve.discount=0.02:0.06:0.01 --seeds 4\n"
                              "  rwad sweep --vary mc.rho='uniform(0.1,0.5)x8' --set mc.outageFor=2d --workers 2\n"
                              "see docs/simulation.md")
    p.add_argument("--vary", action="append", default=[], metavar="PATH=SPEC",
                   help="a path and its values (repeatable): params.<module>.<key>[.<entry>], mc.<input>, sim.<field>")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="a fixed value (repeatable)")
    p.add_argument("--h-slope", metavar="LIST", help="shorthand for --vary params.stable.hSlope=LIST")
    p.add_argument("--tranche-ceiling", metavar="LIST", help="shorthand for --vary params.stable.ceilings.tranche=LIST "
                                                             "(RUSD)")
    p.add_argument("--budget", metavar="LIST", help="shorthand for --vary params.reserve.budgetShare=LIST")
    p.add_argument("--discount", metavar="LIST", help="shorthand for --vary params.reserve.discount=LIST")
    p.add_argument("--seeds", type=_positive, default=4, help="seeds 1..N per point (default 4)")
    p.add_argument("--seed-list", metavar="LIST", help="the seeds, e.g. 3,7,11 (instead of --seeds)")
    p.add_argument("--blocks", type=_positive, help="blocks per run, 1 h each (default 240; sim.blocks)")
    p.add_argument("--draw-seed", type=_uint, default=0, help="seed of the uniform(...)xN draws (default 0)")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="parallel processes (default: the CPU count); results do not depend on it")
    p.add_argument("--dir", metavar="DIR", help="the sweep's directory: plan, one file per finished run, results "
                                                "(default: sweep-<UTC time> here)")
    p.add_argument("--resume", metavar="DIR", help="continue the sweep in DIR: runs already finished are kept, the "
                                                   "others run; the same results as an uninterrupted sweep")
    p.add_argument("--replay-run", nargs=2, metavar=("FILE", "RUN"),
                   help="run one run of a sweep's results again (its JSON, CSV or directory; RUN: the run column) "
                        "and compare it with what was recorded")
    p.add_argument("--series", metavar="FILE", help="with --replay-run: write the run's per-block series to FILE")
    p.add_argument("--paths", action="store_true", help="list every path with its unit and default, and exit")
    p.add_argument("--out", metavar="FILE", help="also write the JSON document to FILE")
    p.add_argument("--progress", action="store_true", help="show progress on stderr (default: only on a terminal)")
    p.add_argument("--json", action="store_true", help="print the sweep document as JSON instead of a table")
    p.set_defaults(func=run, sim_func=cmd_sweep)


def _uint(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return v


def _positive(text: str) -> int:
    v = _uint(text)
    if v == 0:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return v


# ----- progress ---------------------------------------------------------------------------------
class Progress:
    """Progress on stderr: one line rewritten in place on a terminal, else a line at most
    every PERIOD seconds (and the last one); silent unless enabled."""

    PERIOD = 2.0

    def __init__(self, enabled: bool, label: str, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last = -self.PERIOD
        self.shown = False

    @staticmethod
    def wanted(flag: bool) -> bool:
        return flag or sys.stderr.isatty()

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if not self.enabled:
            return
        secs = time.monotonic() - self.started
        if not self.tty and done < total and secs - self.last < self.PERIOD:
            return
        self.last = secs
        line = f"{self.label}: {done}/{total} {what}({100 * done // max(1, total)} %) {secs:.1f} s"
        if self.tty:
            self.stream.write(f"\r{line}  ")
            self.shown = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.enabled:
            self.end()
            self.stream.write(f"{self.label}: {text}\n")
            self.stream.flush()

    def end(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


# ----- simulate ----------------------------------------------------------------------------------
def _weights(text: str | None) -> tuple[dict[str, float] | None, dict[str, float] | None]:
    """(operation weights, attack weights) from --weights' JSON: keys "attack.<name>" go to
    the adversary (genesis/sim/adversary.py), the others to the random operations."""
    from rwachain.genesis.sim import adversary, simulate

    if text is None:
        return None, None
    try:
        w = json.loads(text)
    except ValueError as exc:
        raise SimCliError(f"--weights is not valid JSON: {exc}") from None
    if type(w) is not dict or any(type(v) not in (int, float) or not 0 <= v < float("inf") for v in w.values()):
        raise SimCliError('--weights: a JSON object of operation to non-negative number, e.g. {"bank.transfer": 5}')
    unknown = sorted(set(w) - set(simulate.DEFAULT_WEIGHTS) - set(adversary.DEFAULT_ATTACKS))
    if unknown:
        raise SimCliError(f"--weights: unknown operation {unknown[0]!r} (see rwad simulate --help)")
    attacks = {k: v for k, v in w.items() if k in adversary.DEFAULT_ATTACKS}
    return {k: v for k, v in w.items() if k not in attacks} or None, attacks or None


def _settings(items: list[str], modules=None):
    """(module parameters or None, MarketConfig) from simulate's --set PATH=VALUE: params.*
    and mc.* paths of rwad sweep (the module parameters only when one of them is set), the
    parameters those of modules (the App's module list; None: the chain's)."""
    from rwachain.genesis.sim import sweep_config as sc

    space = sc.CHAIN if modules is None else sc.Space(modules)
    cfg = space.defaults()
    sets = _assignments(items, "--set")
    try:
        for path, value in sets:
            if path.startswith("sim."):
                raise SimCliError(f"--set: {path}: give the run's own settings as options (--blocks, --holders, ...)")
            space.check_path(path, cfg)
            cfg[path] = space.parse_value(path, value)
        space.check(cfg)
    except sc.SweepError as exc:
        raise SimCliError(f"--set: {exc}") from None
    params = space.module_params(cfg) if any(p.startswith("params.") for p, _ in sets) else None
    return params, sc.market_config(cfg)


def _read_steps(path: str) -> tuple[list, dict]:
    """(steps, settings) from a steps document, a --json output, or a bare list of steps."""
    from rwachain.genesis.sim import simulate

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path) as f:
                text = f.read()
        doc = json.loads(text)
    except OSError as exc:
        raise SimCliError(f"--replay: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SimCliError(f"--replay: {path} is not valid JSON: {exc}") from None
    if type(doc) is dict and doc.get("kind") == "simulate":
        doc = doc.get("shrunk") or doc.get("failing") or {}
    settings = doc if type(doc) is dict else {}
    steps = settings.get("steps") if settings else doc
    try:
        return simulate.steps_from_json(steps), settings
    except ValueError as exc:
        raise SimCliError(f"--replay: {exc}") from None


def steps_document(steps: list, cfg) -> dict:
    """Replayable steps with the settings they need: {"kind": "steps", holders, blockTime,
    skipChecks, steps}."""
    from rwachain.genesis.sim import simulate

    return {"kind": "steps", "holders": cfg.holders, "blockTime": cfg.block_time,
            "skipChecks": list(cfg.skip_checks), "steps": simulate.steps_to_json(steps)}


def cmd_simulate(args, out: TextIO | None = None, modules=None) -> int:
    """Run (or replay) a simulation and report it; 1 if an invariant broke. modules builds
    the module list instead of the chain's own (a test's planted bug)."""
    from rwachain.genesis.sim import simulate
    from rwachain.genesis.sim.shrink import shrink

    out = out or sys.stdout
    unknown = [c for c in args.skip_check if c not in simulate.CHAIN_CHECKS]
    if unknown:
        raise SimCliError(f"--skip-check: no check named {unknown[0]!r} ({', '.join(simulate.CHAIN_CHECKS)})")
    weights, attacks = _weights(args.weights)
    listed = modules() if modules is not None else None  # the App's modules: their parameters
    params, market = _settings(args.set, listed)
    cfg = simulate.SimConfig(seed=args.seed, blocks=args.blocks, block_time=args.block_time, ops_per_block=args.ops,
                             holders=args.holders, weights=weights, attacks=attacks, attack_rate=args.attack_rate,
                             montecarlo=None if args.no_montecarlo else market, module_params=params,
                             skip_checks=tuple(args.skip_check))
    prog = Progress(Progress.wanted(args.progress), "simulate")
    if args.replay:
        return _replay(args, cfg, out, modules, listed)
    result = simulate.run(cfg, modules=modules, progress=lambda d, n: prog(d, n, "blocks "),
                          record_series=bool(args.series))
    prog.end()
    if args.series:
        _write(args.series, result.series)
    refused = sum(n for per in result.stats.values() for k, n in per.items() if k != "ok")
    doc = {"kind": "simulate", "seed": cfg.seed, "blocks": cfg.blocks, "blocksRun": result.blocks,
           "blockTime": cfg.block_time, "holders": cfg.holders, "skipChecks": list(cfg.skip_checks),
           "ok": result.failure is None, "steps": len(result.steps), "refused": refused,
           "elapsed": round(result.elapsed, 3), "stateRoot": "0x" + result.state_root.hex(),
           "outcomes": result.stats, "failure": None, "shrunk": None, "reproduces": None}
    if result.failure is not None:
        f = result.failure
        doc["failure"] = f.to_json()
        failing = [s for s in result.steps if s.block <= f.block]
        if args.no_shrink:
            doc["failing"] = steps_document(failing, cfg)
        else:
            def replay(candidate):
                return simulate.replay(candidate, cfg.genesis(listed), block_time=cfg.block_time,
                                       modules=modules, skip=cfg.skip_checks)

            prog.note(f"failure at block {f.block} ({f.key}); shrinking {len(failing)} steps")
            sr = shrink(failing, replay, f.key, tries=args.shrink_tries, seconds=args.shrink_seconds,
                        progress=lambda phase, n: prog.note(f"{phase}: {n} steps"))
            again = replay(sr.steps)
            doc["shrunk"] = steps_document(sr.steps, cfg)
            doc["shrinkReplays"] = sr.tries
            doc["reproduces"] = again is not None and again.key == f.key
        if args.out:
            _write(args.out, doc["shrunk"] or doc["failing"])
    if args.json:
        out.write(json.dumps(doc, indent=1) + "\n")
    else:
        _simulate_text(doc, out)
    return 0 if result.failure is None else 1


def _replay(args, cfg, out: TextIO, modules=None, listed=None) -> int:
    """Replay --replay's steps on cfg's genesis; modules builds the App's module list (None:
    the chain's), listed is that list (whose parameters the genesis sets)."""
    from rwachain.genesis.sim import simulate

    steps, settings = _read_steps(args.replay)
    cfg.holders = settings.get("holders", cfg.holders)
    cfg.block_time = settings.get("blockTime", cfg.block_time)
    cfg.skip_checks = tuple(settings.get("skipChecks", cfg.skip_checks))
    started = time.monotonic()
    f = simulate.replay(steps, cfg.genesis(listed), block_time=cfg.block_time, modules=modules, skip=cfg.skip_checks)
    doc = {"kind": "replay", "steps": len(steps), "ok": f is None, "failure": None if f is None else f.to_json(),
           "elapsed": round(time.monotonic() - started, 3)}
    if args.json:
        out.write(json.dumps(doc, indent=1) + "\n")
    elif f is None:
        out.write(f"replayed {len(steps)} step(s): every invariant held\n")
    else:
        out.write(f"replayed {len(steps)} step(s): FAILED at block {f.block} ({f.key})\n")
        for m in f.messages:
            out.write(f"  {m}\n")
    return 0 if f is None else 1


def _simulate_text(doc: dict, out: TextIO) -> None:
    ok_count = doc["steps"] - doc["refused"]
    head = (f"seed {doc['seed']}: {doc['blocksRun']} of {doc['blocks']} blocks, {doc['steps']} steps "
            f"({ok_count} ok, {doc['refused']} refused cleanly) in {doc['elapsed']:.1f} s")
    if doc["ok"]:
        out.write(f"{head}; every invariant held\nstate root {doc['stateRoot']}\n")
        return
    f = doc["failure"]
    out.write(f"{head}\nFAILED at block {f['block']} (time {f['time']}): {f['key']}\n")
    for m in f["messages"]:
        out.write(f"  {m}\n")
    steps = doc["shrunk"] or doc["failing"]
    if doc["shrunk"] is not None:
        out.write(f"shrunk to {len(steps['steps'])} step(s) in {doc['shrinkReplays']} replays; the shrunk steps "
                  f"{'fail the same way again' if doc['reproduces'] else 'did NOT fail again'}. "
                  f"Replay with: rwad simulate --replay FILE\n")
    else:
        out.write(f"{len(steps['steps'])} step(s) up to the failure (not shrunk)\n")
    out.write(json.dumps(steps, indent=1) + "\n")


# ----- sweep ---------------------------------------------------------------------------------------
SHORTHANDS = {"h_slope": "params.stable.hSlope", "tranche_ceiling": "params.stable.ceilings.tranche",
              "budget": "params.reserve.budgetShare", "discount": "params.reserve.discount"}


def _assignments(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        path, eq, value = item.partition("=")
        if not eq or not path.strip() or not value.strip():
            raise SimCliError(f"{flag}: expected PATH=VALUE, got {item!r}")
        out.append((path.strip(), value.strip()))
    return out


def _seeds(args) -> list[int]:
    if args.seed_list is None:
        return list(range(1, args.seeds + 1))
    parts = [p.strip() for p in args.seed_list.split(",")]
    if not all(p.isdigit() for p in parts):
        raise SimCliError(f"--seed-list: expected non-negative integers separated by commas, got {args.seed_list!r}")
    return list(dict.fromkeys(int(p) for p in parts))


def cmd_sweep(args, out: TextIO | None = None) -> int:
    from rwachain.genesis.sim import sweep
    from rwachain.genesis.sim.sweep_config import SweepError

    out = out or sys.stdout
    try:
        if args.paths:
            out.write(paths_table())
            return 0
        if args.replay_run:
            return _replay_run(args, out)
        directory, plan = _sweep_plan(args)
        prog = Progress(Progress.wanted(args.progress), "sweep")
        prog.note(f"{len(plan['runs'])} runs in {directory}, {min(args.workers, len(plan['runs']))} worker(s)")
        try:
            results = sweep.execute(directory, plan, args.workers, progress=lambda d, n: prog(d, n, "runs "))
        except KeyboardInterrupt:
            prog.end()
            sys.stderr.write(f"rwad: interrupted; the finished runs are kept: continue with "
                             f"rwad sweep --resume {directory}\n")
            return 130
        prog.end()
        doc = sweep.document(plan, results)
        paths = sweep.write_results(directory, doc)
    except SweepError as exc:
        raise SimCliError(str(exc)) from None
    except OSError as exc:
        raise SimCliError(f"{exc.filename or 'the sweep directory'}: {exc.strerror}") from None
    if args.out:
        _write(args.out, doc)
    if args.json:
        out.write(json.dumps(doc, indent=1) + "\n")
    else:
        out.write(sweep_table(doc))
        out.write(f"results: {paths[0]} and {paths[1]} (rwad report {paths[0]} --out report.html)\n")
    return 0


def _sweep_plan(args) -> tuple[str, dict]:
    """(directory, plan): a new sweep's, or the one --resume continues."""
    from rwachain.genesis.sim import sweep
    from rwachain.genesis.sim import sweep_config as sc

    vary = _assignments(args.vary, "--vary")
    vary += [(path, getattr(args, name)) for name, path in SHORTHANDS.items() if getattr(args, name) is not None]
    fixed = _assignments(args.set, "--set")
    if args.blocks is not None:
        fixed.append(("sim.blocks", str(args.blocks)))
    if args.resume:
        if vary or fixed or args.seed_list or args.dir:
            raise SimCliError("--resume continues the plan in its directory: leave out --vary, --set, --blocks, "
                              "--seed-list and --dir")
        return args.resume, sweep.load_plan(args.resume)
    plan = sc.plan(vary, fixed, _seeds(args), args.draw_seed)
    directory = args.dir or time.strftime("sweep-%Y%m%d-%H%M%S", time.gmtime())
    sweep.start(directory, plan)
    return directory, plan


def _replay_run(args, out: TextIO) -> int:
    """Run one recorded run again; 0 when its metrics, genesis hash and state root match."""
    from rwachain.genesis.sim import sweep

    path, index = args.replay_run
    if not index.isdigit():
        raise SimCliError(f"--replay-run: RUN must be a run number, got {index!r}")
    rec = sweep.recorded_run(path, int(index))
    res = sweep.run(rec["seed"], rec["config"], record_series=bool(args.series))
    if args.series:
        _write(args.series, res["series"])
    differ = [k for k in ("genesisHash", "stateRoot") if res[k] != rec[k]]
    differ += [m for m in sweep.METRICS if res["metrics"][m] != rec["metrics"][m]]
    if args.json:
        out.write(json.dumps({"kind": "sweep-replay", "run": rec["run"], "seed": rec["seed"], "identical": not differ,
                              "differ": differ, "recorded": {k: rec[k] for k in ("metrics", "genesisHash", "stateRoot")},
                              "replayed": {k: res[k] for k in ("metrics", "genesisHash", "stateRoot")}}, indent=1)
                  + "\n")
    elif differ:
        out.write(f"run {rec['run']} (seed {rec['seed']}): replayed; DIFFERS from the record in {', '.join(differ)}\n")
    else:
        out.write(f"run {rec['run']} (seed {rec['seed']}): replayed; metrics, genesis hash and state root identical "
                  f"to the record\nstate root {res['stateRoot']}\n")
    return 1 if differ else 0


def paths_table() -> str:
    """Every sweepable path with its unit and default (in the form --vary and --set read)."""
    from rwachain.genesis.sim import sweep_config as sc

    rows = [(p, sc.unit_of(p), sc.human(p, v)) for p, v in sc.defaults().items()]
    w = [max(len(r[i]) for r in rows) for i in range(2)]
    return "".join(f"{p.ljust(w[0])}  {u.ljust(w[1])}  {d}\n" for p, u, d in rows)


def _pct(v: int | str | None) -> str:
    return "-" if v is None else f"{Decimal(int(v)) * 100 / WAD:.2f} %"


def sweep_table(doc: dict) -> str:
    """The sweep as a text table: one line per run, varied values as given (wad as fractions,
    amounts in whole tokens), prices and shares as percentages, times in hours."""
    from rwachain.genesis.sim import sweep_config as sc

    varied = doc["columns"][2:len(doc["columns"]) - len(doc["metrics"])]
    heads = ["run", "seed", *varied, "exit mean", "exit worst", "time to exit", "reserve used", "lowest CR", "exits",
             "unsold"]
    rows = []
    for r in doc["rows"]:
        v = dict(zip(doc["columns"], r, strict=True))
        t = v["timeToExitMean"]
        rows.append([str(v["run"]), str(v["seed"]), *(sc.human(p, int(v[p]) if isinstance(v[p], str) else v[p])
                                                      for p in varied),
                     _pct(v["exitPriceMean"]), _pct(v["exitPriceWorst"]), "-" if t is None else f"{t / 3600:.1f} h",
                     _pct(v["reserveDepletion"]), _pct(v["lowestCR"]), str(v["exits"]), str(v["unsold"])])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("(exit prices relative to the computed unit price; reserve used: the largest fall of its stable "
                 "holdings)")
    return "\n".join(lines) + "\n"


def _write(path: str, doc: dict) -> None:
    try:
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    except OSError as exc:
        raise SimCliError(f"--out: cannot write {path}: {exc.strerror}") from None
