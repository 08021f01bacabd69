"""Parallel speed-up of `rwad sweep` (genesis/sim/sweep.py): the same plan of seeded runs with 1
process and with N worker processes, on real LevelDB chains.

Measured: wall time of sweep.execute for the whole plan (each run: genesis, the blocks,
the exits, the run file written atomically), from a fresh directory each time; the CPU
seconds of the runs (in the processes that ran them), split into the main thread's and
the other threads' (LevelDB's background flush and compaction), and cores used = CPU /
wall; the sweep process's own CPU (planning, run files, the pool; the runs left out);
how long after the start the first run began (the pool's start-up), and the end spread:
how long the first worker to finish sat idle while another still ran. The results of
every worker count are checked to be identical (the same document).

    .venv/bin/python bench/bench_sweep.py                      # 8 runs of 120 blocks, 1 and 2 workers
    .venv/bin/python bench/bench_sweep.py --runs 16 --blocks 240 --workers 1,2
    .venv/bin/python bench/bench_sweep.py --quick              # 4 runs of 24 blocks
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass

import _common as c  # (puts the project on sys.path)

from rwachain.genesis.sim import sweep
from rwachain.genesis.sim import sweep_config as sc


def cpu_timed_entry(entry: dict) -> dict:
    """sweep.run_entry, with the CPU seconds of the process that ran it ("cpu") and of its
    main thread ("main"), its process id and when it began and ended (monotonic s)."""
    began, cpu, main = time.monotonic(), time.process_time(), time.thread_time()
    res = sweep.run_entry(entry)
    return {**res, "cpu": time.process_time() - cpu, "main": time.thread_time() - main, "pid": os.getpid(),
            "began": began, "ended": time.monotonic()}


@dataclass
class Timing:
    """One sweep.execute of the plan: wall s, the runs' CPU s (all threads, main threads),
    the sweep process's own CPU s, s to the first run's start, the end spread s."""

    wall: float
    cpu: float
    main: float
    parent: float
    first: float
    spread: float


def timed(plan: dict, workers: int) -> tuple[Timing, dict]:
    """The timing of one sweep of the plan with `workers` processes, and its document."""
    with tempfile.TemporaryDirectory(prefix="rwa-bench-sweep-") as d:
        started, own = time.monotonic(), time.process_time()
        results = sweep.execute(d, plan, workers, runner=cpu_timed_entry)
        ended, own = time.monotonic(), time.process_time() - own
    cpu = sum(r["cpu"] for r in results)
    last = {}  # worker -> when its last run ended
    for r in results:
        last[r["pid"]] = max(last.get(r["pid"], 0.0), r["ended"])
    t = Timing(ended - started, cpu, sum(r["main"] for r in results), own - (cpu if workers <= 1 else 0.0),
               min(r["began"] for r in results) - started, max(last.values()) - min(last.values()))
    return t, sweep.document(plan, results)


def autogroup() -> str:
    """Whether the kernel groups CPU time by session (then, on a busy machine, a session's
    processes share one session's slice: more workers do not get more CPU)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            on = f.read().strip() == "1"
    except OSError:
        return "autogroup unknown"
    return "sched_autogroup on" if on else "sched_autogroup off"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=8, help="runs in the plan: seeds 1..N at one point (default 8)")
    ap.add_argument("--blocks", type=int, default=120, help="blocks per run (default 120)")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare, the first the baseline (default 1,2)")
    ap.add_argument("--repeat", type=int, default=1, help="measure each worker count this many times, interleaved (the best kept)")
    ap.add_argument("--quick", action="store_true", help="4 runs of 24 blocks")
    args = ap.parse_args()
    runs, blocks = (4, 24) if args.quick else (args.runs, args.blocks)
    plan = sc.plan([("params.reserve.discount", "0.03")], [("sim.blocks", str(blocks))], list(range(1, runs + 1)))
    commit = c.revision()
    print(f"commit {commit}; {runs} runs of {blocks} blocks; nproc {os.cpu_count()}; "
          f"load average at start {os.getloadavg()[0]:.2f}; {autogroup()}", flush=True)
    counts = [int(x) for x in args.workers.split(",")]
    best: dict[int, Timing] = {}
    docs: dict[int, dict] = {}
    for _ in range(args.repeat):  # interleaved, so a spell of load hits every count alike
        for w in counts:
            t, docs[w] = timed(plan, w)
            best[w] = min(best.get(w, t), t, key=lambda x: x.wall)
            print(f"workers {w}: {t.wall:.2f} s wall, {t.cpu:.2f} s CPU ({max(0.0, t.cpu - t.main):.2f} s off the main "
                  f"threads), sweep process {t.parent:.2f} s CPU, first run after {t.first:.2f} s, "
                  f"end spread {t.spread:.2f} s", flush=True)
    base, first = best[counts[0]].wall, docs[counts[0]]
    print()
    print("| workers | runs | blocks per run | wall time | runs per s | speed-up | CPU s per run | of it, off the "
          "main thread | cores used | sweep process CPU s | first run after | end spread | results identical |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for w in counts:
        t = best[w]
        print(f"| {w} | {runs} | {blocks} | {t.wall:.2f} s | {runs / t.wall:.2f} | {base / t.wall:.2f}x "
              f"| {t.cpu / runs:.3f} | {max(0.0, t.cpu - t.main) / runs:.3f} | {t.cpu / t.wall:.2f} | {t.parent:.2f} "
              f"| {t.first:.2f} s | {t.spread:.2f} s | {'yes' if docs[w] == first else 'NO'} |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
