"""What makes `rwad sweep` runs fast, alone and in parallel (genesis/sim/sweep.py), and
that it changes no result: workers that start without importing the project again, no
fork from a process with other threads, the longest runs first, a run's throwaway chain
that never flushes or compacts in a short run (state/store, genesis/localchain.py), and
oracle reports signed once for all their signers. Real processes, real LevelDB, real BLS."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.genesis import devnet, localchain
from rwachain.genesis.sim import simulate, sweep
from rwachain.genesis.sim import sweep_config as sc
from rwachain.modules.core import bls
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


def test_flaw_scratch_chains_flush_and_compact_what_they_throw_away():
    """A chain in its own scratch directory is deleted when it closes, and nothing reopens
    it after a crash; yet its store flushed every 4 MiB of writes to a table and compacted
    the tables in a background thread (7-9 % more CPU per sweep run, taken from the other
    run when two share the cores). 12 MiB written leave no table now."""
    genesis = simulate.sim_genesis(2)
    with localchain.LocalChain(genesis) as chain:
        store, value = chain.store, b"\x5a" * 1024
        for block in range(12):
            changes = {b"throwaway/%d/%d" % (block, i): value for i in range(1024)}
            store.commit(store.prepare(store.version + 1, changes))
        tables = [f for f in os.listdir(store.path) if f.endswith((".ldb", ".sst"))]
        assert tables == []


def test_a_throwaway_run_store_changes_no_result(tmp_path, monkeypatch):
    """The same sweep with its runs' chains on a durable store (synced writes, LevelDB's
    default write buffer) and on a throwaway one: the same JSON and CSV, byte for byte."""
    plan = sc.plan([("params.reserve.discount", "0.02,0.05")], [("sim.blocks", "30")], [1, 2])
    texts = {}
    for kind in ("throwaway", "durable"):
        if kind == "durable":
            monkeypatch.setattr(simulate, "LocalChain", functools.partial(localchain.LocalChain, throwaway=False))
        d = str(tmp_path / kind)
        sweep.start(d, plan)
        doc = sweep.document(plan, sweep.execute(d, plan, workers=1))
        texts[kind] = [Path(p).read_text() for p in sweep.write_results(d, doc)]
    assert texts["throwaway"] == texts["durable"]


def test_runs_of_any_length_in_any_order_give_the_plans_results(tmp_path):
    """The workers take the longest runs first (so that they end together); the results are
    still every run's own, in plan order: the same document as one process running the plan
    in its order."""
    plan = sc.plan([("sim.blocks", "6,24,12")], [], [1, 2, 3])
    assert [e["config"]["sim.blocks"] for e in sweep.longest_first(plan["runs"])] == [24] * 3 + [12] * 3 + [6] * 3
    one = sweep.document(plan, sweep.execute(str(tmp_path / "one"), plan, 1))
    two = sweep.document(plan, sweep.execute(str(tmp_path / "two"), plan, 2))
    assert one == two and [r[0] for r in two["rows"]] == list(range(9))
    assert [r[1] for r in two["rows"]] == [1, 2, 3] * 3


@given(st.lists(st.integers(0, devnet.OPERATORS - 1), min_size=1, max_size=devnet.OPERATORS, unique=True),
       st.binary(min_size=0, max_size=64))
def test_a_group_signature_is_the_aggregate_of_the_signers_signatures(signers, msg):
    """The simulation and scenario replays sign an oracle report once with the sum of the
    signers' secret keys: the same bytes as each signing and the signatures aggregated."""
    secrets = [devnet.operator_secret(j) for j in signers]
    assert localchain.group_signature(secrets, msg) == bls.aggregate([bls.sign(sk, msg) for sk in secrets])


def test_keys_that_cancel_sign_the_identity_as_their_signatures_sum_to():
    sk = devnet.operator_secret(0)
    msg = b"report"
    pair = [sk, bls.CURVE_ORDER - sk]
    assert localchain.group_signature(pair, msg) == bls.aggregate([bls.sign(k, msg) for k in pair])
