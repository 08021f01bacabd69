"""The running node, on trio: a facade over the chain and the parts that serve it.

    node/admission.py    check_tx, batched, into the mempool
    node/durability.py   the mempool journal (group commit) and recovery after a restart
    node/producer.py     block production by mining mode ("auto", "interval", "manual")
    node/devtools.py     the node's clock, snapshots and reverts, dumps and loads
The node knows nothing of RPC: front-ends (rpc/) get the Node and call its methods.
"""

from __future__ import annotations

import gc
import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

import trio

from rwachain.modules.core.app import BlockResult
from rwachain.node.admission import Admission
from rwachain.node.block import Block
from rwachain.node.chain import Chain
from rwachain.node.devtools import LOAD_MAX_BYTES, Clock, DevTools
from rwachain.node.devtools import MAX_TIME_JUMP as MAX_TIME_JUMP
from rwachain.node.devtools import TimeTooFar as TimeTooFar
from rwachain.node.durability import Durability
from rwachain.node.journal import Journal
from rwachain.node.mempool import Mempool
from rwachain.node.producer import MINING_MODES, Producer

log = logging.getLogger("rwachain.node")


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
        self.clock = Clock(chain)
        self.producer = Producer(chain, self.mempool, options.mining, options.block_time, self.clock.now)
        self.durability = Durability(Journal(journal_path), self.mempool, self.producer)
        self.admission = Admission(chain, self.mempool, self.producer.wake, self.durability.write)
        self.devtools = DevTools(chain, self.producer, self.admission, self.durability)
        self.started_at = _time.monotonic()

    # ----- clock ----------------------------------------------------------------------
    def now(self) -> int:
        """The node's time in unix seconds, never before the last block's."""
        return self.clock.now()

    def latest_allowed_time(self) -> int:
        """The latest time the clock may be set to or a block made at (MAX_TIME_JUMP past
        the last block)."""
        return self.clock.latest_allowed()

    def set_time(self, t: int) -> int:
        return self.clock.set(t)

    # ----- listeners (subscriptions, metrics) ---------------------------------------------
    def on_new_head(self, fn: Callable[[Block, BlockResult], None]) -> Callable[[], None]:
        return self.producer.on_new_head(fn)

    def on_revert(self, fn: Callable[[int], None]) -> Callable[[], None]:
        return self.devtools.on_revert(fn)

    def on_pending_tx(self, fn: Callable[[bytes], None]) -> Callable[[], None]:
        return self.admission.on_pending_tx(fn)

    def tx_rate(self) -> float:
        """Transactions per second over the recent blocks (0 when idle)."""
        return self.producer.tx_rate()

    @property
    def gil_offers(self) -> int:
        """GIL offers made by blocks in worker threads (node/pacing.py)."""
        return self.producer.gil_offers

    @property
    def gil_offer_seconds(self) -> float:
        """Seconds blocks in worker threads spent offering the GIL."""
        return self.producer.gil_offer_seconds

    # ----- admission --------------------------------------------------------------------
    async def submit(self, raw: bytes) -> bytes:
        """Admit a signed transaction: checked, in the mempool and journaled; its hash.
        Raises InvalidTransaction or MempoolError."""
        return await self.admission.submit(raw)

    async def submit_many(self, raws: list[bytes]) -> list[bytes | Exception]:
        """Admit several signed transactions as one batch: per transaction its hash, or the
        InvalidTransaction or MempoolError that refused it, in order."""
        return await self.admission.submit_many(raws)

    async def wait_included(self, tx_hash: bytes, timeout: float) -> tuple[int, int] | None:
        """Wait until tx_hash is in a block: its (height, index), or None on timeout."""
        return await self.producer.wait_included(tx_hash, timeout)

    async def replay_journal(self) -> tuple[int, int]:
        """Re-admit journaled transactions after a restart: (pending again, dropped)."""
        kept, dropped = await self.durability.recover(self.admission.readmit)
        if kept:
            self.producer.wake()
        return kept, dropped

    # ----- dev snapshots, revert, dump and load -------------------------------------------
    async def snapshot(self) -> str:
        """Pin the current height and return a snapshot id to revert to (any number of times)."""
        return await self.devtools.snapshot()

    async def revert(self, sid: str) -> int:
        """Rewind to a snapshot: state, blocks, indexes; the mempool keeps what is still valid."""
        return await self.devtools.revert(sid)

    async def dump_state(self) -> bytes:
        return await self.devtools.dump_state()

    async def load_state(self, data: bytes) -> int:
        """Replace the whole chain (history included) with a dump; returns the new height."""
        return await self.devtools.load_state(data, self.options.max_load_bytes)

    # ----- block production -------------------------------------------------------------
    async def mine(self, count: int = 1, time: int | None = None) -> list[Block]:
        """Produce count blocks now with what is ready (dev_mine, interval ticks)."""
        return await self.producer.mine(count, time)

    async def mine_entries(self, raws: list[bytes]) -> Block:
        """Produce a block of exactly these entries (devnet state edits)."""
        return await self.producer.mine_entries(raws)

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Run the journal writer, admission and the producer until cancelled."""
        # Objects alive at start (genesis, caches) are never scanned again, and collections
        # run less often: a full collection holds the GIL for the whole heap (RPC latency).
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.durability.run)
            nursery.start_soon(self.admission.run)
            await self.replay_journal()
            self.producer.start(nursery)
            task_status.started()

    def close(self) -> None:
        self.durability.close()
        self.chain.close()
