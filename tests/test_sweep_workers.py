"""How `rwad sweep` runs its runs in parallel (genesis/sim/sweep.py): workers that start
without importing the project again, and no fork from a process with other threads. Real
processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rwachain.genesis.sim import sweep
from rwachain.genesis.sim import sweep_config as sc
from tests import sweepprobe

pytestmark = pytest.mark.slow  # real worker processes, simulated chains

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _runs(directory) -> list[dict]:
    runs_dir = os.path.join(directory, sweep.RUNS_DIR)
    out = []
    for name in sorted(os.listdir(runs_dir)):
        with open(os.path.join(runs_dir, name)) as f:
            out.append(json.load(f))
    return out


def test_flaw_sweep_workers_import_the_project_again(tmp_path):
    """A worker's first run begins with the sweep's modules already loaded: the workers were
    told to preload a module by a name that no longer exists, so each imported the whole
    project again before its first run."""
    plan = sc.plan([], [], [1, 2, 3, 4])
    results = sweep.execute(str(tmp_path), plan, 2, runner=sweepprobe.probe)
    assert len(results) == 4 and all(r["preloaded"] for r in results)
    assert len({r["pid"] for r in results}) <= 2 and os.getpid() not in {r["pid"] for r in results}


@pytest.mark.parametrize("threaded", [False, True])
def test_workers_fork_from_a_single_threaded_sweep_and_never_from_a_threaded_one(tmp_path, threaded):
    """A sweep process with one thread forks its workers (no interpreter to start, nothing to
    import); one with other threads (a LevelDB compaction, a server) never forks, since a
    lock another thread held would stay held in the child: its workers come from a clean
    server process. Either way they begin with the sweep loaded."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "sweepprobe.py"), str(tmp_path), "4",
                          *(["threaded"] if threaded else [])], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    sweep_pid = int(out.stdout.split()[-1])
    runs = _runs(tmp_path)
    assert len(runs) == 4 and all(r["preloaded"] for r in runs)
    parents = {r["parent"] for r in runs}
    assert parents == {sweep_pid} if not threaded else sweep_pid not in parents
