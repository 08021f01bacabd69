"""Durability of admitted transactions: the mempool journal's writer and the recovery
after a restart.

A transaction is durable once its journal record or the block that includes it is on
disk, whichever comes first; a submitter hears of admission only then. The writer is a
group commit (one fsync for everything admitted since the last one). After a restart the
journal is replayed through admission (node/journal.py has the file format).
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from rwachain.modules.core.app import BlockResult
from rwachain.node.block import Block
from rwachain.node.journal import Journal
from rwachain.node.mempool import Mempool
from rwachain.node.producer import Producer

JOURNAL_COMPACT_MIN = 4096  # journal records before a compaction is worth its fsyncs
JOURNAL_RIDE_MAX = 0.01  # s: the longest a small journal write waits for the block that may make it moot


class Durability:
    """The journal of the mempool: group-committed appends, compaction, replay."""

    def __init__(self, journal: Journal, mempool: Mempool, producer: Producer):
        self.journal = journal
        self.mempool = mempool
        self.producer = producer
        self._queue: list[tuple[bytes, bytes]] = []  # (raw, hash) admitted, not yet durable
        self._waiters: list[trio.Event] = []
        self._wake = trio.Event()
        self._rewrite = False
        self._records = 0  # records in the journal file since its last rewrite
        producer.on_new_head(self._after_block)

    async def write(self, raws: list[bytes], hashes: list[bytes]) -> None:
        """Return once raws are durable (journaled, or included by a committed block)."""
        done = trio.Event()
        self._queue.extend(zip(raws, hashes, strict=True))
        self._waiters.append(done)
        self._wake.set()
        await done.wait()

    def request_rewrite(self) -> None:
        """Rewrite the journal with exactly the mempool (after it was rebuilt)."""
        self._rewrite = True
        self._wake.set()

    def _after_block(self, block: Block, result: BlockResult) -> None:
        # Included transactions stay in the journal (a restart drops them as replayed nonces);
        # compact only once most of the file is dead.
        if self._records > JOURNAL_COMPACT_MIN and self._records > 2 * len(self.mempool):
            self.request_rewrite()

    async def recover(self, readmit: Callable[[list[bytes]], int]) -> tuple[int, int]:
        """Re-admit journaled transactions after a restart with readmit (which returns how
        many it kept); the journal then holds only those. (pending again, dropped)"""
        raws = self.journal.read()
        kept = readmit(raws)  # the others were included before the crash, or are no longer valid
        self.journal.rewrite([e.raw for e in self.mempool.entries()])
        return kept, len(raws) - kept

    async def run(self) -> None:
        """Group commit: one fsync for every transaction admitted since the last one.

        Only what is still in the mempool is written. So when automine is about to put a
        few transactions in a small block on the event loop, the write waits for that
        block (at most JOURNAL_RIDE_MAX) and then has nothing left to write: a sequential
        client pays one synced commit a transaction, not two (the block's and the journal's).
        """
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            if self._rewrite:
                self._rewrite = False
                # Every queued append is already in the mempool, so in the snapshot.
                snapshot = [e.raw for e in self.mempool.entries()]
                self._queue = []
                await trio.to_thread.run_sync(self.journal.rewrite, snapshot)
                self._records = len(snapshot)
            batch, self._queue = self._queue, []
            waiters, self._waiters = self._waiters, []
            batch = self._not_durable(batch)
            if batch and self.producer.will_include_soon(len(batch)):
                step = self.producer.next_step()
                with trio.move_on_after(JOURNAL_RIDE_MAX):
                    await step.wait()
                batch = self._not_durable(batch)
            if batch:
                await trio.to_thread.run_sync(self.journal.append, [raw for raw, _ in batch])
                self._records += len(batch)
            for w in waiters:
                w.set()

    def _not_durable(self, batch: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The admitted transactions still pending: the others were included by a committed
        block (or replaced or evicted, so a restart would not restore them either)."""
        pool = self.mempool
        return [item for item in batch if item[1] in pool]

    def close(self) -> None:
        self.journal.close()
