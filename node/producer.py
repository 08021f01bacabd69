"""The block producer: when blocks are made, on which thread, and who hears of them.

Mining modes: "auto" (a block as soon as transactions are ready, batching whatever is
waiting), "interval" (a block every block_time seconds, empty or not), "manual" (only
mine() makes blocks, e.g. dev_mine). Every block is made under one lock. A block of at
most INLINE_BLOCK_TXS transactions runs on the event loop; a larger one runs in a worker
thread (trio.to_thread) that offers the event loop the GIL as it goes (node/pacing.py),
so the loop keeps answering while it runs.
"""

from __future__ import annotations

import math
import sys
import time as _time
from collections import deque
from collections.abc import Callable

import trio

from rwachain.modules.core import accounts
from rwachain.modules.core.app import BlockResult
from rwachain.node.block import Block
from rwachain.node.chain import Chain
from rwachain.node.inclusion import InclusionWaiters
from rwachain.node.mempool import Mempool
from rwachain.node.pacing import LoopWatch, Pacer, fine_timer_slack
from rwachain.state.yieldpoint import NEVER, YieldPoint

MINING_MODES = ("auto", "interval", "manual")
INLINE_BLOCK_TXS = 4  # blocks of at most this many transactions run on the event loop
BLOCK_SWITCH_INTERVAL = 0.0005  # s: the GIL hand-off the event loop waits for while a block runs


class Producer:
    """Makes the chain's blocks from the mempool, by mining mode; tells listeners of each."""

    def __init__(self, chain: Chain, mempool: Mempool, mining: str, block_time: float, now: Callable[[], int]):
        self.chain = chain
        self.mempool = mempool
        self.mining = mining
        self.block_time = block_time  # s between interval blocks
        self.now = now  # the node's clock (unix seconds)
        self.lock = trio.Lock()  # held while a block is made (and by dev tools that rewrite the chain)
        self._work = trio.Event()  # set when transactions may be ready
        self._in_round = False  # automine: making blocks of what is ready
        self._step = trio.Event()  # set after each automine block, and when a round ends
        self.block_in_thread = False  # a block too large to run inline is executing
        self.gil_offers = 0  # GIL offers made by blocks in worker threads (node/pacing.py)
        self.gil_offer_seconds = 0.0  # s those blocks spent in them
        self._inclusion = InclusionWaiters(self.chain.blocks)
        self._head_listeners: list[Callable[[Block, BlockResult], None]] = []
        self._block_times: deque[tuple[float, int]] = deque(maxlen=64)

    # ----- what others ask of it ---------------------------------------------------------
    def wake(self) -> None:
        """Transactions may be ready: automine makes blocks of them."""
        self._work.set()

    def next_step(self) -> trio.Event:
        """The event set at the producer's next step (a block, or the end of a round)."""
        return self._step

    def will_include_soon(self, n: int) -> bool:
        """Whether n transactions just admitted are about to be included by the next block,
        a small one that automine runs on the event loop: no block is running in a thread
        and what is ready fits in one inline block."""
        return (self.mining == "auto" and n <= INLINE_BLOCK_TXS and not self.block_in_thread
                and (self._in_round or self._work.is_set())
                and len(self.mempool.select(INLINE_BLOCK_TXS + 1)) <= INLINE_BLOCK_TXS)

    def on_new_head(self, fn: Callable[[Block, BlockResult], None]) -> Callable[[], None]:
        self._head_listeners.append(fn)
        return lambda: self._head_listeners.remove(fn)

    def tx_rate(self) -> float:
        """Transactions per second over the recent blocks (0 when idle)."""
        if len(self._block_times) < 2:
            return 0.0
        t0, _ = self._block_times[0]
        t1, _ = self._block_times[-1]
        n = sum(c for _, c in list(self._block_times)[1:])
        return n / (t1 - t0) if t1 > t0 else 0.0

    async def wait_included(self, tx_hash: bytes, timeout: float) -> tuple[int, int] | None:
        """Wait until tx_hash is in a block: its (height, index), or None on timeout."""
        return await self._inclusion.wait(tx_hash, timeout)

    # ----- making blocks -----------------------------------------------------------------
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
        async with self.lock:
            t = self.now()
            block, result = await self._in_block_thread(lambda point: self.chain.produce(raws, t, point))
            self._after_block(block, result, {})
            return block

    async def _produce(self, time: int | None = None) -> Block:
        lock = self.lock
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
            # write these transactions; their block makes them durable (node/durability.py).
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
        self.block_in_thread = True
        pacer = Pacer(watch)

        def paced():
            with fine_timer_slack():
                return produce(pacer)

        try:
            return await trio.to_thread.run_sync(paced)
        finally:
            self.gil_offers += pacer.offers
            self.gil_offer_seconds += pacer.rested
            self.block_in_thread = False
            trio.lowlevel.remove_instrument(watch)
            sys.setswitchinterval(interval)

    def _after_block(self, block: Block, result: BlockResult, nonces: dict[bytes, int]) -> None:
        self.mempool.on_block(result.tx_hashes, nonces)
        self._block_times.append((_time.monotonic(), len(result.tx_hashes)))
        self._inclusion.included(result.tx_hashes)
        for fn in list(self._head_listeners):
            fn(block, result)

    # ----- mining modes ------------------------------------------------------------------
    def start(self, nursery: trio.Nursery) -> None:
        """Start the mining mode's loop in nursery (manual mode has none)."""
        if self.mining == "auto":
            nursery.start_soon(self._auto_loop)
        elif self.mining == "interval":
            if not self.block_time > 0 or math.isinf(self.block_time):
                raise ValueError("block_time must be a positive number of seconds")
            nursery.start_soon(self._interval_loop)

    async def _auto_loop(self) -> None:
        while True:
            await self._work.wait()
            self._work = trio.Event()
            self._in_round = True
            try:
                while self.mempool.select(1):
                    await self._produce()
                    self._stepped()
            finally:
                self._in_round = False
                self._stepped()

    def _stepped(self) -> None:
        """Wake what waits for the producer's next step (a block, or the end of a round)."""
        self._step.set()
        self._step = trio.Event()

    async def _interval_loop(self) -> None:
        period = self.block_time
        next_at = trio.current_time()
        while True:
            next_at += period
            await trio.sleep_until(next_at)
            await self._produce()
            next_at = max(next_at, trio.current_time() - period)
