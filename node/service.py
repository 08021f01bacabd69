"""The running node: chain, mempool, journal, block producer and subscribers, on trio.

Blocks execute in a worker thread (trio.to_thread), so the event loop keeps answering
while a block runs. Admission verifies signatures in worker threads too. The node knows
nothing of RPC: front-ends (rpc/) get the Node and call its async methods.

Mining modes: "auto" (a block as soon as transactions are ready, batching whatever is
waiting), "interval" (a block every block_time seconds, empty or not), "manual" (only
mine() makes blocks, e.g. dev_mine).
"""

from __future__ import annotations

import gc
import itertools
import logging
import math
import sys
import time as _time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import trio

from rwachain.modules.core import accounts
from rwachain.modules.core.app import MEMPOOL, BlockResult, CheckResult
from rwachain.modules.core.errors import InvalidTransaction, ReplayedNonce
from rwachain.modules.core.fixed import YEAR
from rwachain.node.block import Block
from rwachain.node.chain import LOAD_MAX_BYTES, Chain
from rwachain.node.journal import Journal
from rwachain.node.mempool import Mempool, MempoolError
from rwachain.node.pacing import LoopWatch, Pacer, fine_timer_slack
from rwachain.state.yieldpoint import NEVER, YieldPoint

log = logging.getLogger("rwachain.node")
MINING_MODES = ("auto", "interval", "manual")
BATCH_VERIFY_MIN = 64  # admission batches at least this large verify in the checker processes
CHECK_PARALLEL = 2  # admission batches in flight at once
INLINE_BLOCK_TXS = 4  # blocks of at most this many transactions run on the event loop
JOURNAL_COMPACT_MIN = 4096  # journal records before a compaction is worth its fsyncs
BLOCK_SWITCH_INTERVAL = 0.0005  # s: the GIL hand-off the event loop waits for while a block runs
MAX_TIME_JUMP = 100 * YEAR  # s: the furthest the dev clock or a dev_mine time may be past the last block
JOURNAL_RIDE_MAX = 0.01  # s: the longest a small journal write waits for the block that may make it moot


class TimeTooFar(Exception):
    """A time more than MAX_TIME_JUMP past the last block; args[0] is the latest allowed."""


@dataclass
class NodeOptions:
    mining: str = "auto"
    block_time: float = 1.0
    dev: bool = False  # enables the dev_* methods
    mempool_max: int = 100_000
    mempool_per_account: int = 10_000
    max_load_bytes: int = LOAD_MAX_BYTES  # dev_loadState: most bytes a dump may decompress to


def log_fault(where: str, exc: Exception) -> None:
    """Log a contained fault of the state machine: a transaction's handler (its receipt
    failed with handler_fault) or a block hook (its writes dropped, a hook.fault event),
    with the traceback, which no receipt or event carries."""
    log.warning("%s raised %s (contained)", where, type(exc).__name__, exc_info=exc)


class Node:
    """A chain being served. Call run() inside a trio nursery."""

    def __init__(self, chain: Chain, journal_path: str, options: NodeOptions):
        if options.mining not in MINING_MODES:
            raise ValueError(f"mining must be one of {', '.join(MINING_MODES)}")
        self.chain = chain
        chain.app.on_fault = log_fault
        self.options = options
        self.mempool = Mempool(max_total=options.mempool_max, max_per_account=options.mempool_per_account)
        self.journal = Journal(journal_path)
        self.time_offset = 0  # dev_setTime / dev_advanceTime move the node's clock
        self._block_lock = trio.Lock()
        self._work = trio.Event()
        self._check_queue: list = []
        self._checks_in_flight = 0
        self._submitting = 0  # Node.submit calls between their start and their answer
        self._check_wake = trio.Event()
        self._journal_queue: list[tuple[bytes, bytes]] = []  # (raw, hash) admitted, not yet durable
        self._journal_waiters: list[trio.Event] = []
        self._journal_wake = trio.Event()
        self._journal_rewrite = False
        self._journal_records = 0  # records in the journal file since its last rewrite
        self._inclusion: dict[bytes, list[trio.Event]] = {}
        self._in_round = False  # automine: the producer is making blocks of what is ready
        self._producer_step = trio.Event()  # set after each automine block, and when a round ends
        self._block_in_thread = False  # a block too large to run inline is executing
        self.gil_offers = 0  # GIL offers made by blocks in worker threads (node/pacing.py)
        self.gil_offer_seconds = 0.0  # s those blocks spent in them
        self._head_listeners: list[Callable[[Block, BlockResult], None]] = []
        self._revert_listeners: list[Callable[[int], None]] = []
        self.snapshots: dict[str, int] = {}  # dev snapshot id -> height (pinned)
        self._snapshot_ids = itertools.count(1)
        self._release_pins()  # ids live in this process only: pins of an earlier run go
        self._pending_listeners: list[Callable[[bytes], None]] = []
        self._block_times: deque[tuple[float, int]] = deque(maxlen=64)
        self.started_at = _time.monotonic()

    # ----- clock ----------------------------------------------------------------
    def now(self) -> int:
        """The node's time in unix seconds, never before the last block's."""
        return max(int(_time.time()) + self.time_offset, self.chain.last_time())

    def latest_allowed_time(self) -> int:
        """The latest time the clock may be set to or a block made at: MAX_TIME_JUMP past the
        last block. Time-dependent work (interest compounded per second) grows with the gap."""
        return self.chain.last_time() + MAX_TIME_JUMP

    def set_time(self, t: int) -> int:
        last = self.chain.last_time()
        if t < last:
            raise ValueError(f"time {t} is before the last block time {last}: time never goes backwards")
        if t > self.latest_allowed_time():
            raise TimeTooFar(self.latest_allowed_time())
        self.time_offset = t - int(_time.time())
        return self.now()

    # ----- listeners (subscriptions, metrics) -------------------------------------
    def on_new_head(self, fn: Callable[[Block, BlockResult], None]) -> Callable[[], None]:
        self._head_listeners.append(fn)
        return lambda: self._head_listeners.remove(fn)

    def on_revert(self, fn: Callable[[int], None]) -> Callable[[], None]:
        self._revert_listeners.append(fn)
        return lambda: self._revert_listeners.remove(fn)

    def on_pending_tx(self, fn: Callable[[bytes], None]) -> Callable[[], None]:
        self._pending_listeners.append(fn)
        return lambda: self._pending_listeners.remove(fn)

    def tx_rate(self) -> float:
        """Transactions per second over the recent blocks (0 when idle)."""
        if len(self._block_times) < 2:
            return 0.0
        t0, _ = self._block_times[0]
        t1, _ = self._block_times[-1]
        n = sum(c for _, c in list(self._block_times)[1:])
        return n / (t1 - t0) if t1 > t0 else 0.0

    # ----- admission ----------------------------------------------------------------
    async def submit(self, raw: bytes) -> bytes:
        """Admit a signed transaction: checked, in the mempool and journaled; its hash.

        Raises InvalidTransaction or MempoolError.
        """
        self._submitting += 1
        try:
            res = await self._check(raw, alone=self._submitting == 1)
            h = self._to_mempool(raw, res, self.chain.app.reader())
            await self._journaled([raw], [h])
        finally:
            self._submitting -= 1
        return h

    async def submit_many(self, raws: list[bytes]) -> list[bytes | Exception]:
        """Admit several signed transactions as one batch (a JSON-RPC batch of tx_send):
        one admission batch and one journal write for all; per transaction its hash, or
        the InvalidTransaction or MempoolError that refused it, in order."""
        slots = [[raw, None, None, trio.Event()] for raw in raws]
        self._check_queue.extend(slots)
        self._check_wake.set()
        for slot in slots:
            await slot[3].wait()
        out: list[bytes | Exception] = []
        admitted: list[bytes] = []
        reader = self.chain.app.reader()
        for raw, res, err, _ in slots:
            if err is None:
                try:
                    out.append(self._to_mempool(raw, res, reader))
                    admitted.append(raw)
                    continue
                except (InvalidTransaction, MempoolError) as exc:
                    err = exc
            out.append(err)
        if admitted:
            await self._journaled(admitted, [h for h in out if type(h) is bytes])
        return out

    def _to_mempool(self, raw: bytes, res: CheckResult, reader) -> bytes:
        """Put a checked transaction into the mempool; its hash. Raises ReplayedNonce when
        a block used its nonce while it was being checked, or MempoolError."""
        tx = res.tx
        state_nonce = accounts.nonce(reader, tx.sender)
        if tx.nonce < state_nonce:  # a block landed while we checked
            raise ReplayedNonce(f"nonce {tx.nonce} is used; the account's next nonce is {state_nonce}")
        self.mempool.add(tx.hash, raw, tx.sender, tx.nonce, tx.fee, state_nonce)
        return tx.hash

    async def _journaled(self, raws: list[bytes], hashes: list[bytes]) -> None:
        """Wake the producer, journal raws (the caller hears of admission only once they
        are durable; the block may start while the fsync runs), then tell subscribers."""
        self._work.set()
        done = trio.Event()
        self._journal_queue.extend(zip(raws, hashes, strict=True))
        self._journal_waiters.append(done)
        self._journal_wake.set()
        await done.wait()
        for h in hashes:
            for fn in list(self._pending_listeners):
                fn(h)

    async def _check(self, raw: bytes, alone: bool = False) -> CheckResult:
        """check_tx, batched: transactions that arrive together are checked in one
        worker-thread call (signatures of a large batch in the checker processes), instead
        of one thread hop and one GIL convoy each; one that arrives alone is checked here."""
        if alone and not self._check_queue and not self._checks_in_flight:
            # No other submission in progress: check here, without the two thread switches
            # of a worker hop (about 0.2 ms each way on a small VM; a sequential round trip
            # pays them). Under concurrent load the signature checks stay off the event
            # loop (worker thread, checker processes), in parallel with it. Not for
            # transactions with an aggregate signature to verify: those go to the checker
            # processes from the worker thread.
            app = self.chain.app
            if app.signature_job(raw) is None:
                return app.check_tx(raw, MEMPOOL)
        slot: list = [raw, None, None, trio.Event()]
        self._check_queue.append(slot)
        self._check_wake.set()
        await slot[3].wait()
        if slot[2] is not None:
            raise slot[2]
        return slot[1]

    async def _check_loop(self) -> None:
        """Take what waits for admission as one batch; up to CHECK_PARALLEL batches run at
        once (a batch mostly waits for checker processes), so arrivals do not queue behind
        a batch in flight."""
        limiter = trio.Semaphore(CHECK_PARALLEL)

        async def check(batch: list) -> None:
            self._checks_in_flight += 1
            try:
                await trio.to_thread.run_sync(self._check_batch, batch)
            finally:
                self._checks_in_flight -= 1
                limiter.release()
                for slot in batch:
                    slot[3].set()

        async with trio.open_nursery() as nursery:
            while True:
                await self._check_wake.wait()
                await limiter.acquire()
                self._check_wake = trio.Event()
                batch, self._check_queue = self._check_queue, []
                if batch:
                    nursery.start_soon(check, batch)
                else:
                    limiter.release()

    def _check_batch(self, batch: list) -> None:
        """Worker thread: check each raw of the batch, storing a result or an error."""
        app = self.chain.app
        if len(batch) >= BATCH_VERIFY_MIN:
            # Ed25519 first, split over the checker processes: the aggregate step below
            # decodes every transaction through precheck, which would otherwise verify
            # each signature here, one after another.
            raws = [slot[0] for slot in batch]
            verifier = self.chain.verifier
            n = max(1, min(verifier.workers, len(raws) // BATCH_VERIFY_MIN))
            size = -(-len(raws) // n)
            try:
                parts = [(raws[i:i + size], verifier.submit(raws[i:i + size])) for i in range(0, len(raws), size)]
                for part, fut in parts:
                    app.note_signatures_verified(part, fut.result())
            except RuntimeError:
                pass  # no checker process: precheck verifies in this thread below
        self._verify_aggregates(batch)
        for slot in batch:
            try:
                slot[1] = app.check_tx(slot[0], MEMPOOL)
            except InvalidTransaction as exc:
                slot[2] = exc

    def _verify_aggregates(self, batch: list) -> None:
        """BLS aggregate signatures of the batch (oracle reports) are verified in the checker
        processes, whose GILs leave this process's event loop and block thread alone; the
        verdicts go to the app's cache, so check_tx and the block do not verify again."""
        app = self.chain.app
        jobs = [j for j in (app.signature_job(slot[0]) for slot in batch) if j is not None]
        if not jobs:
            return
        verifier = self.chain.verifier
        n = max(1, min(verifier.workers, len(jobs)))
        size = -(-len(jobs) // n)  # one slice per checker process, verified in parallel
        try:
            futures = [verifier.submit_bls([job for _, job in jobs[i:i + size]]) for i in range(0, len(jobs), size)]
            verdicts = b"".join(f.result() for f in futures)
        except RuntimeError:
            return  # no checker process: check_tx verifies in this thread
        for (call, job), ok in zip(jobs, verdicts, strict=False):
            if ok:
                app.note_signature_job(call, job)

    async def _journal_loop(self) -> None:
        """Group commit: one fsync for every transaction admitted since the last one.

        A transaction is durable once its journal record or the block that includes it is
        on disk, whichever comes first; only what is still in the mempool is written. So
        when automine is about to put a few transactions in a small block on the event
        loop, the write waits for that block (at most JOURNAL_RIDE_MAX) and then has
        nothing left to write: a sequential client pays one synced commit a transaction,
        not two (the block's and the journal's).
        """
        while True:
            await self._journal_wake.wait()
            self._journal_wake = trio.Event()
            if self._journal_rewrite:
                self._journal_rewrite = False
                # Every queued append is already in the mempool, so in the snapshot.
                snapshot = [e.raw for e in self.mempool.entries()]
                self._journal_queue = []
                await trio.to_thread.run_sync(self.journal.rewrite, snapshot)
                self._journal_records = len(snapshot)
            batch, self._journal_queue = self._journal_queue, []
            waiters, self._journal_waiters = self._journal_waiters, []
            batch = self._not_durable(batch)
            if batch and self._block_will_cover(len(batch)):
                step = self._producer_step
                with trio.move_on_after(JOURNAL_RIDE_MAX):
                    await step.wait()
                batch = self._not_durable(batch)
            if batch:
                await trio.to_thread.run_sync(self.journal.append, [raw for raw, _ in batch])
                self._journal_records += len(batch)
            for w in waiters:
                w.set()

    def _not_durable(self, batch: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The admitted transactions still pending: the others were included by a committed
        block (or replaced or evicted, so a restart would not restore them either)."""
        pool = self.mempool
        return [item for item in batch if item[1] in pool]

    def _block_will_cover(self, n: int) -> bool:
        """Whether n transactions just admitted are about to be included by the next block,
        a small one that automine runs on the event loop (so their journal write can wait
        for it): no block is running in a thread and what is ready fits in one inline block."""
        return (self.options.mining == "auto" and n <= INLINE_BLOCK_TXS and not self._block_in_thread
                and (self._in_round or self._work.is_set())
                and len(self.mempool.select(INLINE_BLOCK_TXS + 1)) <= INLINE_BLOCK_TXS)

    async def replay_journal(self) -> tuple[int, int]:
        """Re-admit journaled transactions after a restart: (pending again, dropped)."""
        raws = self.journal.read()
        kept = dropped = 0
        for raw in raws:
            try:
                res = self.chain.app.check_tx(raw, MEMPOOL)
                n = accounts.nonce(self.chain.app.reader(), res.tx.sender)
                self.mempool.add(res.tx.hash, raw, res.tx.sender, res.tx.nonce, res.tx.fee, n)
                kept += 1
            except (InvalidTransaction, MempoolError):
                dropped += 1  # included before the crash, or no longer valid
        self.journal.rewrite([e.raw for e in self.mempool.entries()])
        if kept:
            self._work.set()
        return kept, dropped

    async def wait_included(self, tx_hash: bytes, timeout: float) -> tuple[int, int] | None:
        """Wait until tx_hash is in a block: its (height, index), or None on timeout."""
        loc = self.chain.blocks.tx_location(tx_hash)
        if loc is not None:
            return loc
        ev = trio.Event()
        self._inclusion.setdefault(tx_hash, []).append(ev)
        with trio.move_on_after(timeout):
            await ev.wait()
        waiters = self._inclusion.get(tx_hash)
        if waiters is not None and ev in waiters:
            waiters.remove(ev)
            if not waiters:
                del self._inclusion[tx_hash]
        return self.chain.blocks.tx_location(tx_hash)

    # ----- dev snapshots, revert, dump and load ---------------------------------------
    async def snapshot(self) -> str:
        """Pin the current height and return a snapshot id to revert to (any number of times)."""
        async with self._block_lock:
            h = self.chain.height
            self.chain.store.pin(h)
            sid = f"0x{next(self._snapshot_ids):x}"
            self.snapshots[sid] = h
            return sid

    async def revert(self, sid: str) -> int:
        """Rewind to a snapshot: state, blocks, indexes; the mempool keeps what is still valid."""
        async with self._block_lock:
            if sid not in self.snapshots:
                raise KeyError(sid)
            h = self.snapshots[sid]
            await trio.to_thread.run_sync(self.chain.revert_to, h)
            for later in [k for k, v in self.snapshots.items() if v > h]:
                self.chain.store.unpin(self.snapshots.pop(later))
            await self._recheck_mempool()
            for fn in list(self._revert_listeners):
                fn(h)
            return h

    async def _recheck_mempool(self) -> None:
        entries = self.mempool.entries()
        self.mempool.clear()
        for e in entries:
            try:
                res = self.chain.app.check_tx(e.raw, MEMPOOL)
                n = accounts.nonce(self.chain.app.reader(), res.tx.sender)
                self.mempool.add(res.tx.hash, e.raw, res.tx.sender, res.tx.nonce, res.tx.fee, n)
            except (InvalidTransaction, MempoolError):
                pass
        self._journal_rewrite = True
        self._journal_wake.set()
        self._work.set()

    async def dump_state(self) -> bytes:
        async with self._block_lock:
            return await trio.to_thread.run_sync(self.chain.dump)

    def _release_pins(self) -> None:
        """Forget every snapshot and unpin what the store still pins (from an earlier run of
        the node, or from a loaded dump): a pin without an id would keep undo logs forever."""
        self.snapshots.clear()
        for version in sorted(self.chain.store.pins):
            self.chain.store.unpin(version)

    async def load_state(self, data: bytes) -> int:
        """Replace the whole chain (history included) with a dump; returns the new height.
        The switch is atomic (Chain.load); snapshots are released."""
        async with self._block_lock:
            await trio.to_thread.run_sync(self.chain.load, data, self.options.max_load_bytes)
            self._release_pins()
            await self._recheck_mempool()
            h = self.chain.height
            for fn in list(self._revert_listeners):
                fn(h)
            return h

    # ----- block production ----------------------------------------------------------
    async def mine(self, count: int = 1, time: int | None = None) -> list[Block]:
        """Produce count blocks now with what is ready (dev_mine, interval ticks); between
        blocks the event loop gets a turn (small blocks run on it)."""
        out = []
        for i in range(count):
            if i:
                await trio.lowlevel.checkpoint()
            out.append(await self._produce(time))
        return out

    async def mine_entries(self, raws: list[bytes]) -> Block:
        """Produce a block of exactly these entries (devnet state edits)."""
        async with self._block_lock:
            t = self.now()
            block, result = await self._in_block_thread(lambda point: self.chain.produce(raws, t, point))
            self._after_block(block, result, {})
            return block

    async def _produce(self, time: int | None = None) -> Block:
        lock = self._block_lock
        try:
            lock.acquire_nowait()  # free, as it usually is: no scheduling round for it
        except trio.WouldBlock:
            await lock.acquire()
        try:
            return await self._produce_locked(time)
        finally:
            lock.release()

    async def _produce_locked(self, time: int | None) -> Block:
        limit = self.chain.app.params["maxBlockTxs"]
        entries = self.mempool.select(limit)
        raws = [e.raw for e in entries]
        t = self.now() if time is None else max(time, self.chain.last_time())
        senders = {e.sender for e in entries}

        def produce(yield_point: YieldPoint = NEVER):
            block, result = self.chain.produce(raws, t, yield_point)
            ctx = self.chain.app.reader()  # the senders' new nonces, read off the event loop
            return block, result, {s: accounts.nonce(ctx, s) for s in senders}

        if len(raws) <= INLINE_BLOCK_TXS:
            # A block this small (about 1 ms) runs on the event loop at once: a worker
            # hop would cost about as much again. Under automine the journal does not
            # write these transactions; their block makes them durable (_journal_loop).
            block, result, nonces = produce()
            self._after_block(block, result, nonces)
            return block
        block, result, nonces = await self._in_block_thread(produce)
        self._after_block(block, result, nonces)
        return block

    async def _in_block_thread(self, produce: Callable[[YieldPoint], object]):
        """Run produce(yield_point) in a worker thread and return its result. While it runs, the
        event loop gets the GIL back within 0.5 ms instead of the default 5 when the block
        runs Python code, and the block offers it every 2 ms (node/pacing.py: the
        interpreter's own switching starves the loop while the block reads LevelDB)."""
        interval = sys.getswitchinterval()
        sys.setswitchinterval(BLOCK_SWITCH_INTERVAL)
        watch = LoopWatch()
        trio.lowlevel.add_instrument(watch)
        self._block_in_thread = True
        pacer = Pacer(watch)

        def paced():
            with fine_timer_slack():
                return produce(pacer)

        try:
            return await trio.to_thread.run_sync(paced)
        finally:
            self.gil_offers += pacer.offers
            self.gil_offer_seconds += pacer.rested
            self._block_in_thread = False
            trio.lowlevel.remove_instrument(watch)
            sys.setswitchinterval(interval)

    def _after_block(self, block: Block, result: BlockResult, nonces: dict[bytes, int]) -> None:
        self.mempool.on_block(result.tx_hashes, nonces)
        # Included transactions stay in the journal (a restart drops them as replayed nonces);
        # compact only once most of the file is dead.
        if self._journal_records > JOURNAL_COMPACT_MIN and self._journal_records > 2 * len(self.mempool):
            self._journal_rewrite = True
            self._journal_wake.set()
        self._block_times.append((_time.monotonic(), len(result.tx_hashes)))
        for h in result.tx_hashes:
            for ev in self._inclusion.pop(h, []):
                ev.set()
        for fn in list(self._head_listeners):
            fn(block, result)

    async def _auto_loop(self) -> None:
        while True:
            await self._work.wait()
            self._work = trio.Event()
            self._in_round = True
            try:
                while self.mempool.select(1):
                    await self._produce()
                    self._step()
            finally:
                self._in_round = False
                self._step()

    def _step(self) -> None:
        """Wake what waits for the producer's next step (a block, or the end of a round)."""
        self._producer_step.set()
        self._producer_step = trio.Event()

    async def _interval_loop(self) -> None:
        period = self.options.block_time
        next_at = trio.current_time()
        while True:
            next_at += period
            await trio.sleep_until(next_at)
            await self._produce()
            next_at = max(next_at, trio.current_time() - period)

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Run the journal writer and the producer until cancelled."""
        # Objects alive at start (genesis, caches) are never scanned again, and collections
        # run less often: a full collection holds the GIL for the whole heap (RPC latency).
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._journal_loop)
            nursery.start_soon(self._check_loop)
            await self.replay_journal()
            if self.options.mining == "auto":
                nursery.start_soon(self._auto_loop)
            elif self.options.mining == "interval":
                if not self.options.block_time > 0 or math.isinf(self.options.block_time):
                    raise ValueError("block_time must be a positive number of seconds")
                nursery.start_soon(self._interval_loop)
            task_status.started()

    def close(self) -> None:
        self.journal.close()
        self.chain.close()
