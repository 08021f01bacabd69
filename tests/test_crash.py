"""Crash safety: SIGKILL a block-producing child process, reopen its data directory, check.

A child (tests/crash_child.py) produces blocks of signed bank transfers on one data
directory and reports every committed block on stdout; it also says when each block's
Store.commit starts. The parent kills it with SIGKILL at seeded random moments, 50+ times
on the same directory (state accumulates across kills), and after every kill reopens the
chain and checks that it is consistent: at the last reported block or the one whose
commit was in flight, with the block store, the versioned tree, the flat state and the
state root all agreeing, never a mix of two blocks. A follower chain in the test process
applies every block that survived (Chain.apply_block, which re-executes it and compares
its header's roots), so each committed block is one that another node accepts.

Half of the kills come at a uniformly random moment of the production loop, half at a
random moment shortly after a block's commit starts (timed from the child's marker), so
that some kills land inside Store.commit, before and after its batch is durable.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper
from rwachain.modules.core import accounts
from rwachain.modules.insurance import module as insurance
from rwachain.node.chain import GENESIS_PARENT, Chain
from rwachain.state.proof import verify_proof
from rwachain.state.store import Store
from tests.mech import broken_invariants, spec_root

pytestmark = pytest.mark.slow  # crash loops: children killed mid-commit, again and again

CHILD = Path(__file__).with_name("crash_child.py")
REPO = CHILD.parent.parent
SEED = 0x5EEDC4A5
KILLS = 56
TXS_PER_BLOCK = 300
KEEP_VERSIONS = 8  # small, so that most commits also prune old versions
FEE = 5000  # what the child pays per transaction
UNIFORM_SPAN = 0.4  # seconds after "ready": about three blocks of the loop
STARTUP_TIMEOUT = 60.0


class Child:
    """A running crash_child.py with its stdout parsed into timestamped lines."""

    def __init__(self, data_dir: str, errlog, *extra: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), data_dir, str(TXS_PER_BLOCK), str(KEEP_VERSIONS), *extra],
            stdout=subprocess.PIPE,
            stderr=errlog,
            cwd=str(REPO),
        )
        self.errlog = errlog
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.eof = False
        self.lines: list[tuple[float, list[str]]] = []  # (arrival time, fields)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:  # a failed check left it running
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stdout.closed:
            self.proc.stdout.close()

    def pump(self, timeout: float) -> None:
        """Read whatever arrives within timeout (seconds)."""
        if self.eof:
            time.sleep(max(0.0, timeout))
            return
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return
        data = os.read(self.fd, 1 << 16)
        now = time.monotonic()
        if not data:
            self.eof = True
            return
        *complete, self.buf = (self.buf + data).split(b"\n")
        self.lines.extend((now, c.decode().split()) for c in complete)

    def stderr_text(self) -> str:
        self.errlog.flush()
        self.errlog.seek(0)
        return self.errlog.read().decode(errors="replace")[-3000:]

    def wait_for(self, pred, timeout: float = STARTUP_TIMEOUT):
        """Pump until pred(lines) returns something truthy; fail if the child dies first."""
        end = time.monotonic() + timeout
        while True:
            got = pred(self.lines)
            if got:
                return got
            if self.eof:
                self.proc.wait()
                raise AssertionError(
                    f"child exited {self.proc.returncode} early:\n{self.stderr_text()}"
                )
            if time.monotonic() > end:
                self.proc.kill()
                raise AssertionError(f"child stuck: lines {self.lines[-3:]}\n{self.stderr_text()}")
            self.pump(end - time.monotonic())

    def pump_until(self, moment: float) -> None:
        while (left := moment - time.monotonic()) > 0:
            if self.eof:
                self.proc.wait()
                raise AssertionError(
                    f"child exited {self.proc.returncode} early:\n{self.stderr_text()}"
                )
            self.pump(left)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL, self.stderr_text()
        self.drain()

    def drain(self) -> None:
        while not self.eof:
            self.pump(30.0)
        self.proc.stdout.close()


def _ready_at(lines):
    return next((t for t, f in lines if f[0] == "ready"), None)


def _nth_commit_at(n: int):
    """The arrival time of the (n+1)-th "commit" marker after "ready"."""

    def pred(lines):
        kinds = [f[0] for _, f in lines]
        if "ready" not in kinds:
            return None
        start = kinds.index("ready")
        seen = [t for t, f in lines[start:] if f[0] == "commit"]
        return seen[n] if len(seen) > n else None

    return pred


def _first_commit_at(lines):
    return next((t for t, f in lines if f[0] == "commit"), None)


def commit_windows(lines) -> list[float]:
    """Seconds from each "commit h" marker to its "block h" report (completed commits)."""
    started: dict[str, float] = {}
    out = []
    for t, f in lines:
        if f[0] == "commit":
            started[f[1]] = t
        elif f[0] == "block" and f[1] in started:
            out.append(t - started[f[1]])
    return out


def reported(lines) -> tuple[int, bytes, int | None]:
    """(last reported committed height, its root, height whose commit was in flight or None)."""
    height = root = None
    in_flight = None
    for _, f in lines:
        if f[0] in ("ready", "block"):
            height, root = int(f[1]), bytes.fromhex(f[2])
            in_flight = None
        elif f[0] == "commit":
            in_flight = int(f[1])
    assert height is not None, "the child never reported"
    if in_flight is not None:
        assert in_flight == height + 1, (in_flight, height)
    return height, root, in_flight


def recomputed_root(flat: dict[bytes, bytes], scratch: Path) -> bytes:
    """The state root of flat, built from scratch in a fresh store."""
    with tempfile.TemporaryDirectory(dir=scratch) as d:
        fresh = Store(d)
        try:
            fresh.commit(fresh.prepare(0, flat))
            return fresh.root_hash
        finally:
            fresh.close()


class History:
    """What earlier reopens established: block hashes and transaction counts per height."""

    def __init__(self):
        self.hashes: dict[int, bytes] = {}
        self.txs: dict[int, int] = {}
        self.top = 0


def check_reopen(
    path: str, last: int, last_root: bytes, hist: History, rng: random.Random, scratch: Path,
    follower: Chain | None = None,
) -> int:
    """Reopen the chain at path and check it whole; returns its height. A follower, if
    given, applies every block committed since the last reopen (Chain.apply_block checks
    each one's header and roots against its own execution)."""
    validator = devnet.validator_key()
    chain = Chain(path, validator, keep_versions=KEEP_VERSIONS)
    try:
        store, blocks = chain.store, chain.blocks
        height = store.version
        assert height is not None, "the store reopened empty"
        head = blocks.head()
        assert (head or 0) == height, f"block store head {head} != store version {height}"
        assert height in (last, last + 1), f"reopened at {height}, child last reported {last}"
        root = store.root_hash
        assert chain.app.last_block()["height"] == height

        # The block at the head matches the state; nothing beyond it was written.
        assert blocks.block(height + 1) is None
        assert store.root_at(last) == last_root, "the reported block's root changed"
        if height > 0:
            block = blocks.block(height)
            assert block is not None and block.header.height == height
            assert block.header.state_root == root, (
                f"block {height}'s state root is not the store's"
            )
            assert block.verify_signature(validator.pubkey)
            assert blocks.height_of(block.header.hash) == height
            receipts = blocks.receipts(height)
            assert receipts is not None and len(receipts) == len(block.txs)
            assert all(r["code"] == 0 for r in receipts)
            for i, r in enumerate(receipts):
                assert blocks.tx_location(r["tx"]) == (height, i)
        if last > 0:
            assert blocks.block(last).header.state_root == last_root

        # The chain of blocks links up; earlier verified blocks are untouched.
        if hist.top:
            old = blocks.block(hist.top)
            assert old is not None and old.header.hash == hist.hashes[hist.top]
        for h in range(hist.top + 1, height + 1):
            b = blocks.block(h)
            parent = hist.hashes[h - 1] if h > 1 else GENESIS_PARENT
            assert b.header.parent == parent, f"block {h} does not link to block {h - 1}"
            if follower is not None:
                follower.apply_block(b)
            hist.hashes[h] = b.header.hash
            hist.txs[h] = len(b.txs)
        hist.top = height

        # Exactly the retention window is kept, and every kept version is whole (pruning
        # inside the interrupted commits deleted no node that a kept version needs).
        floor = max(0, height - KEEP_VERSIONS + 1)
        assert store.pruned_below == floor
        assert not store.pins
        for v in range(max(0, floor - 3), floor):
            assert not store.has_version(v), f"version {v} outlived the retention window"
        for v in range(floor, height):
            want = blocks.block(v).header.state_root if v > 0 else None
            assert want is None or store.root_at(v) == want, (
                f"version {v}'s root is not block {v}'s"
            )
            assert spec_root(dict(store.iter_state(v))) == store.root_at(v)

        # The flat state, the tree at the head and a from-scratch rebuild agree.
        flat = dict(store.iter_prefix(b""))
        assert dict(store.iter_state()) == flat, "flat state and tree leaves differ"
        assert recomputed_root(flat, scratch) == root, "flat state does not hash to the root"
        assert spec_root(flat) == root

        # Module invariants, and the state agrees with every block's transactions.
        ctx = chain.app.reader()
        problems = broken_invariants(chain, ctx)
        assert problems == []
        total = sum(hist.txs.values())
        nonces = sum(ctx.get_int(k) for k, _ in ctx.iter_prefix(accounts.PREFIX))
        assert nonces == total, f"account nonces sum to {nonces}, blocks hold {total} txs"
        shared = keeper.balance(ctx, insurance.FUND, "rwa") - insurance.fund(ctx).native  # the stakers' fee share
        assert keeper.balance(ctx, chain.app.reserve, "rwa") + shared == FEE * total and (shared > 0 or total == 0)

        # Proofs against the head root (and the version before, still retained).
        key = rng.choice(sorted(flat))
        value, proof, at = store.get_at(key)
        assert (value, at) == (flat[key], root)
        assert verify_proof(root, key, value, proof)
        assert not verify_proof(root, key, value + b"x", proof)
        absent = b"crash/absent/" + rng.randbytes(8)
        value, proof, _ = store.get_at(absent)
        assert value is None and verify_proof(root, absent, None, proof)
        if height > 0:
            value, proof, prev_root = store.get_at(key, height - 1)
            assert prev_root == (
                blocks.block(height - 1).header.state_root if height > 1 else store.root_at(0)
            )
            assert verify_proof(prev_root, key, value, proof)
        return height
    finally:
        chain.close()


def test_sigkill_during_commits_reopens_consistent(tmp_path):
    rng = random.Random(SEED)  # the kill schedule
    check_rng = random.Random(SEED + 1)  # keys to prove
    min_blocks = 0  # blocks that the schedule lets complete for sure
    path = str(tmp_path / "chain")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    hist = History()
    outcomes: Counter[str] = Counter()
    windows: list[float] = []
    follower = Chain(str(tmp_path / "follower"), devnet.dev_keys()[0])
    follower.init_genesis(devnet.PATH)
    with open(tmp_path / "child.err", "w+b") as errlog, contextlib.closing(follower):
        for i in range(KILLS):
            with Child(path, errlog) as child:
                t_ready = child.wait_for(_ready_at)
                if i % 2 == 0:
                    # A uniformly random moment of the production loop.
                    delay = rng.uniform(0.0, UNIFORM_SPAN)
                    kill_at = t_ready + delay
                else:
                    # A random moment soon after the (k+1)-th block's commit starts, scaled
                    # to how long a commit takes to reach its report on this machine.
                    k = rng.randrange(3)
                    min_blocks += k  # the (k+1)-th commit starts after k blocks
                    window = statistics.median(windows[-30:]) if windows else 0.01
                    delay = rng.uniform(0.0, 1.3 * window)
                    kill_at = child.wait_for(_nth_commit_at(k)) + delay
                child.pump_until(kill_at)
                child.kill()
                windows.extend(commit_windows(child.lines))
            last, last_root, in_flight = reported(child.lines)
            height = check_reopen(path, last, last_root, hist, check_rng, scratch, follower)
            if height == last + 1:
                assert in_flight == height, "a block landed whose commit never started"
                outcomes["landed: killed after the batch was written, before the report"] += 1
            elif in_flight is not None:
                outcomes["lost: killed in commit, before the batch was durable"] += 1
            else:
                outcomes["between: killed outside any commit"] += 1

        # A graceful run on the crash-worn directory resumes where the last reopen left it.
        with Child(path, errlog, "2") as child:
            assert child.proc.wait(timeout=STARTUP_TIMEOUT) == 0, child.stderr_text()
            child.drain()
        fields = [f for _, f in child.lines if f[0] != "commit"]
        assert [f[:2] for f in fields] == [
            ["ready", str(height)],
            ["block", str(height + 1)],
            ["block", str(height + 2)],
        ]
        assert bytes.fromhex(fields[0][2]) == stored_root(path, height)
        last, last_root, _ = reported(child.lines)
        assert check_reopen(path, last, last_root, hist, check_rng, scratch, follower) == last == height + 2
        assert (follower.height, follower.store.root_hash) == (last, last_root)

    print(
        f"\ncrash test: {KILLS} kills, head height {hist.top} (schedule minimum {min_blocks}), "
        f"{sum(hist.txs.values())} txs; commit-to-report window median "
        f"{statistics.median(windows) * 1000:.1f} ms"
    )
    for name, n in sorted(outcomes.items()):
        print(f"  {n:3d}  {name}")
    assert sum(outcomes.values()) == KILLS
    # Kills landed at distinct points: outside commits and inside them (either side of
    # the durable write). Only the coarse split is asserted, so timing cannot flake it.
    assert outcomes["between: killed outside any commit"] >= 1
    assert KILLS - outcomes["between: killed outside any commit"] >= 1
    assert hist.top >= min_blocks + 2 >= KILLS // 2


def stored_root(path: str, height: int) -> bytes:
    store = Store(os.path.join(path, "state.ldb"))
    try:
        return store.root_at(height)
    finally:
        store.close()


GENESIS_KILLS = 8


def test_sigkill_during_genesis_import_reopens_empty_or_whole(tmp_path):
    """A kill during the genesis import leaves no chain or the whole genesis, never a part.

    The devnet import is two batches at height 0 (the accounts chunk without the version
    pointer, then the rest with it). Killed between them, the store holds keys but no
    version, and opening the chain must wipe it; the next run then imports genesis afresh.
    """
    rng = random.Random(SEED + 2)
    reference = Chain(str(tmp_path / "reference"), devnet.validator_key())
    genesis_root = reference.init_genesis(devnet.PATH)
    reference.close()
    outcomes: Counter[str] = Counter()
    block1 = set()
    with open(tmp_path / "child.err", "w+b") as errlog:
        for i in range(GENESIS_KILLS):
            path = str(tmp_path / f"chain{i}")
            with Child(path, errlog) as child:
                first = child.wait_for(_first_commit_at)
                child.pump_until(first + rng.uniform(0.0, 0.004))
                child.kill()
            store = Store(os.path.join(path, "state.ldb"))
            version, blank = store.version, store.is_blank()
            store.close()
            if version is None:
                outcomes["no genesis yet (blank)" if blank else "partial genesis (wiped)"] += 1
                chain = Chain(path, devnet.validator_key())  # must wipe the remains
                try:
                    assert chain.height is None and chain.store.is_blank()
                finally:
                    chain.close()
            else:
                outcomes["genesis complete"] += 1
                last, last_root = 0, genesis_root  # what "ready" says, if it came
                if _ready_at(child.lines):
                    last, last_root, _ = reported(child.lines)
                height = check_reopen(path, last, last_root, History(), rng, tmp_path)
                assert stored_root(path, 0) == genesis_root
                assert height in (0, 1)
            # The next run (re)imports genesis if needed and produces a block on top.
            with Child(path, errlog, "1") as child:
                assert child.proc.wait(timeout=STARTUP_TIMEOUT) == 0, child.stderr_text()
                child.drain()
            fields = [f for _, f in child.lines if f[0] != "commit"]
            if fields[0][1] == "0":
                assert bytes.fromhex(fields[0][2]) == genesis_root
                assert fields[1][:2] == ["block", "1"]
                block1.add(fields[1][2])
    print(f"\ngenesis crash test: {dict(outcomes)}")
    assert sum(outcomes.values()) == GENESIS_KILLS
    assert len(block1) <= 1, "the same first block led to different states"
