"""Scenario replay: steps per second of the shipped scenarios (genesis/scenarios/*.json).

Goal: >= 2,000 steps/s over all shipped scenarios, in process.
A step is a block (its time advance and execution), a transaction or oracle report, or an
expectation (docs/scenarios.md). Each run loads the file, imports its genesis into a fresh
LevelDB store (not timed: "setup"), then replays every block, checking every expectation,
every module's invariants after every block and the pinned state root (timed: "replay").
Each scenario is run --repeat times; the table shows the best and the median replay (the
goal is judged on the best runs: on a shared machine the median mostly measures the load).
By default the throwaway chain lives on tmpfs (/dev/shm) as `rwad scenario run` keeps it;
--disk puts it in the system temp directory, where each block's synced write costs more.

    .venv/bin/python bench/bench_scenarios.py [--repeat 7] [--disk]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from rwachain.genesis.scenario import files as S  # noqa: E402
from rwachain.genesis.scenario.local import LocalBackend  # noqa: E402

GOAL = 2_000  # steps/s over all shipped scenarios


def run_once(path: str, disk: bool) -> tuple[float, float, S.Result]:
    """(setup seconds, replay seconds, result) of one replay of path."""
    t0 = time.perf_counter()
    sc = S.load(path)
    with tempfile.TemporaryDirectory(prefix="rwa-bench-scenario-") as d:
        b = LocalBackend(sc, os.path.join(d, "chain") if disk else None)
        try:
            t1 = time.perf_counter()
            r = S.replay(sc, b)
            t2 = time.perf_counter()
        finally:
            b.close()
    return t1 - t0, t2 - t1, r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per scenario (default 7)")
    ap.add_argument("--disk", action="store_true", help="keep the chain on disk instead of tmpfs")
    args = ap.parse_args(argv)
    paths = S.shipped()
    for p in paths:  # warm up: imports, first-use caches
        run_once(p, args.disk)
    rows = []
    for p in paths:
        runs = [run_once(p, args.disk) for _ in range(args.repeat)]
        r = runs[0][2]
        replay = sorted(x[1] for x in runs)
        rows.append((S.load(p).name, r.metrics["blocks"], r.steps, statistics.median(x[0] for x in runs),
                     replay[0], statistics.median(replay)))
    where = "disk (" + tempfile.gettempdir() + ")" if args.disk else "tmpfs (/dev/shm)"
    print(f"scenario replay, in process, chain on {where}; best and median of {args.repeat} runs each")
    print(f"{'scenario':<24} {'blocks':>6} {'steps':>6} {'setup ms':>9} {'replay ms best':>15} "
          f"{'median':>8} {'steps/s best':>13} {'median':>8}")
    for name, blocks, steps, setup, best, med in rows:
        print(f"{name:<24} {blocks:>6} {steps:>6} {setup * 1e3:>9.1f} {best * 1e3:>15.1f} {med * 1e3:>8.1f} "
              f"{steps / best:>13,.0f} {steps / med:>8,.0f}")
    steps = sum(r[2] for r in rows)
    best = sum(r[4] for r in rows)
    med = sum(r[5] for r in rows)
    setup = sum(r[3] for r in rows)
    print(f"{'all':<24} {sum(r[1] for r in rows):>6} {steps:>6} {setup * 1e3:>9.1f} {best * 1e3:>15.1f} "
          f"{med * 1e3:>8.1f} {steps / best:>13,.0f} {steps / med:>8,.0f}")
    verdict = "PASS" if steps / best >= GOAL else "MISS"
    print(f"goal >= {GOAL:,} steps/s (best runs, all scenarios): {steps / best:,.0f} {verdict}; median "
          f"{steps / med:,.0f}; with setup (load, genesis import): {steps / (med + setup):,.0f} steps/s; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
