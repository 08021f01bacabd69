"""`rwad simulate` and `rwad sweep`: random simulation with shrinking, and parameter sweeps
over Monte-Carlo runs (genesis/simulate.py, genesis/shrink.py, genesis/sweep.py).

    rwad simulate --seed N --blocks M       random operations, every invariant after every
                                            block; on a failure: the seed and a shrunk,
                                            replayable list of steps (exit code 1)
    rwad simulate --replay FILE             replay a list of steps (exit code 1 if it fails)
    rwad sweep --h-slope ... --seeds N      a grid of parameters over N seeds: exit prices,
                                            time to exit, reserve depletion, lowest CR
Both run in process on a temporary chain (no node needed); --json prints JSON documents.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from decimal import Decimal, InvalidOperation
from typing import TextIO

WAD = 10**18
RUSD = 10**6


class SimCliError(Exception):
    """A user error of these commands (rwad prints it as one line and exits 1)."""


# ----- parsers -------------------------------------------------------------------------------------
def add_parsers(sub, run) -> None:
    """Add `simulate` and `sweep` to the rwad parser; run(args) carries them out (it calls
    args.sim_func(args) and turns SimCliError into rwad's one-line error)."""
    from genesis import adversary, simulate

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
    p.set_defaults(func=run, sim_func=cmd_simulate)

    p = sub.add_parser("sweep", help="a grid of parameters over many seeds: exit prices, time to exit, reserve, CR",
                       description="For every combination of the listed parameter values, run SEEDS Monte-Carlo "
                                   "simulations in which holders exit tranche units (instant exit or the best "
                                   "bid), and tabulate the mean and worst exit price relative to the computed "
                                   "unit price, the mean time to exit, the reserve's depletion and the lowest "
                                   "collateral ratio. Fractions are decimals (0.03 = 3 %). docs/simulation.md")
    p.add_argument("--h-slope", default="0.1", metavar="LIST", help="haircut slopes hSlope (default 0.1)")
    p.add_argument("--tranche-ceiling", default="2000000", metavar="LIST",
                   help="per-tranche exit ceilings, RUSD (default 2000000)")
    p.add_argument("--budget", default="0.1", metavar="LIST", help="reserve budget shares per epoch (default 0.1)")
    p.add_argument("--discount", default="0.03", metavar="LIST", help="reserve discounts, bids and direct purchases (default 0.03)")
    p.add_argument("--seeds", type=_positive, default=4, help="seeds per grid point: 1..N (default 4)")
    p.add_argument("--blocks", type=_positive, default=240, help="blocks per run, 1 h each (default 240)")
    p.add_argument("--out", metavar="FILE", help="also write the JSON document to FILE")
    p.add_argument("--progress", action="store_true", help="show progress on stderr (default: only on a terminal)")
    p.add_argument("--json", action="store_true", help='print {"kind": "sweep", "columns", "rows"} as JSON')
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


def parse_list(text: str, what: str, scale: int, lo: Decimal, hi: Decimal) -> list[int]:
    """A comma-separated list of decimals in [lo, hi], each times scale (exact ints)."""
    out = []
    for part in text.split(","):
        try:
            d = Decimal(part.strip())
        except InvalidOperation:
            raise SimCliError(f"--{what}: {part.strip()!r} is not a number") from None
        if not d.is_finite() or not lo <= d <= hi:
            raise SimCliError(f"--{what}: {part.strip()} is outside [{lo}, {hi}]")
        v = d * scale
        if v != v.to_integral_value():
            raise SimCliError(f"--{what}: {part.strip()} has too many decimals")
        out.append(int(v))
    return sorted(set(out))


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
    the adversary (genesis/adversary.py), the others to the random operations."""
    from genesis import adversary, simulate

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


def _read_steps(path: str) -> tuple[list, dict]:
    """(steps, settings) from a steps document, a --json output, or a bare list of steps."""
    from genesis import simulate

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
    from genesis import simulate

    return {"kind": "steps", "holders": cfg.holders, "blockTime": cfg.block_time,
            "skipChecks": list(cfg.skip_checks), "steps": simulate.steps_to_json(steps)}


def cmd_simulate(args, out: TextIO | None = None, modules=None) -> int:
    """Run (or replay) a simulation and report it; 1 if an invariant broke. modules builds
    the module list instead of the chain's own (a test's planted bug)."""
    from genesis import montecarlo, simulate
    from genesis.shrink import shrink

    out = out or sys.stdout
    unknown = [c for c in args.skip_check if c not in simulate.CHAIN_CHECKS]
    if unknown:
        raise SimCliError(f"--skip-check: no check named {unknown[0]!r} ({', '.join(simulate.CHAIN_CHECKS)})")
    weights, attacks = _weights(args.weights)
    cfg = simulate.SimConfig(seed=args.seed, blocks=args.blocks, block_time=args.block_time, ops_per_block=args.ops,
                             holders=args.holders, weights=weights, attacks=attacks, attack_rate=args.attack_rate,
                             montecarlo=None if args.no_montecarlo else montecarlo.MarketConfig(),
                             skip_checks=tuple(args.skip_check))
    prog = Progress(Progress.wanted(args.progress), "simulate")
    if args.replay:
        return _replay(args, cfg, out, modules)
    result = simulate.run(cfg, modules=modules, progress=lambda d, n: prog(d, n, "blocks "))
    prog.end()
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
                return simulate.replay(candidate, cfg.genesis(), block_time=cfg.block_time,
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


def _replay(args, cfg, out: TextIO, modules=None) -> int:
    from genesis import simulate

    steps, settings = _read_steps(args.replay)
    cfg.holders = settings.get("holders", cfg.holders)
    cfg.block_time = settings.get("blockTime", cfg.block_time)
    cfg.skip_checks = tuple(settings.get("skipChecks", cfg.skip_checks))
    started = time.monotonic()
    f = simulate.replay(steps, cfg.genesis(), block_time=cfg.block_time, modules=modules, skip=cfg.skip_checks)
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
def cmd_sweep(args, out: TextIO | None = None) -> int:
    from genesis import sweep

    out = out or sys.stdout
    one = Decimal(1)
    slopes = parse_list(args.h_slope, "h-slope", WAD, Decimal(0), one)
    ceilings = parse_list(args.tranche_ceiling, "tranche-ceiling", RUSD, Decimal("0.000001"), Decimal(10**18))
    budgets = parse_list(args.budget, "budget", WAD, Decimal(0), one)
    discounts = parse_list(args.discount, "discount", WAD, Decimal(0), Decimal("0.5"))
    points = sweep.grid(slopes, ceilings, budgets, discounts)
    for pt in points:
        try:
            pt.module_params()
        except ValueError as exc:
            raise SimCliError(f"--h-slope: {exc}") from None
    prog = Progress(Progress.wanted(args.progress), "sweep")
    doc = sweep.sweep(points, list(range(1, args.seeds + 1)), args.blocks, progress=lambda d, n: prog(d, n, "runs "))
    prog.end()
    if args.out:
        _write(args.out, doc)
    if args.json:
        out.write(json.dumps(doc, indent=1) + "\n")
    else:
        out.write(sweep_table(doc))
    return 0


def _pct(v: int | None) -> str:
    return "-" if v is None else f"{Decimal(v) * 100 / WAD:.2f} %"


def sweep_table(doc: dict) -> str:
    """The sweep as a text table (wad as percent, ceilings in RUSD, time in hours)."""
    heads = ["hSlope", "ceiling RUSD", "budget", "discount", "seeds", "exit mean", "exit worst", "time to exit",
             "reserve used", "lowest CR", "exits"]
    rows = []
    for r in doc["rows"]:
        v = dict(zip(doc["columns"], r, strict=True))
        t = v["timeToExitMean"]
        rows.append([_pct(v["hSlope"]), f"{v['trancheCeiling'] // RUSD:,}", _pct(v["budgetShare"]), _pct(v["discount"]),
                     str(v["seeds"]), _pct(v["exitPriceMean"]), _pct(v["exitPriceWorst"]),
                     "-" if t is None else f"{t / 3600:.1f} h", _pct(v["reserveDepletion"]), _pct(v["lowestCR"]),
                     str(v["exits"])])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({doc['blocks']} blocks per run; exit prices relative to the computed unit price)")
    return "\n".join(lines) + "\n"


def _write(path: str, doc: dict) -> None:
    try:
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    except OSError as exc:
        raise SimCliError(f"--out: cannot write {path}: {exc.strerror}") from None
