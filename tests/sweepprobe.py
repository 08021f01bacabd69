"""A sweep runner for tests that imports nothing of the project: a worker process that runs
it reports what it already held when the run began (genesis/sim/sweep.py, execute).

    python tests/sweepprobe.py DIR RUNS [threaded]

runs a sweep of RUNS probe runs with 2 workers in DIR from a fresh process (with one more
thread, idle, when `threaded`) and prints that process's id."""

from __future__ import annotations

import os
import sys
import threading

SWEEP = "rwachain.genesis.sim.sweep"


def probe(entry: dict) -> dict:
    """A run's result: its process and parent process ids, and whether the sweep module was
    imported before the run began."""
    return {"run": entry["run"], "seed": entry["seed"], "pid": os.getpid(), "parent": os.getppid(),
            "preloaded": SWEEP in sys.modules}


def main(directory: str, runs: int, threaded: bool) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from rwachain.genesis.sim import sweep
    from rwachain.genesis.sim import sweep_config as sc

    idle = threading.Event()
    if threaded:
        threading.Thread(target=idle.wait, daemon=True).start()
    sweep.execute(directory, sc.plan([], [], list(range(1, runs + 1))), 2, runner=probe)
    idle.set()
    print(os.getpid())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["threaded"])
