"""Dev tools: the node's clock and what the dev_* methods do to a whole chain.

    Clock       the node's time, which dev_setTime / dev_advanceTime move (never back)
    DevTools    snapshots and reverts (dev_snapshot, dev_revert), dumps and loads of the
                whole database (dev_dumpState, dev_loadState)
dev_setBalance and dev_mine are blocks: a state edit goes in a block of its own
(Producer.mine_entries), so a replay of the chain reproduces it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time as _time
import zlib
from collections.abc import Callable, Iterator

import msgpack
import plyvel
import trio

from rwachain.modules.core.fixed import YEAR
from rwachain.node.admission import Admission
from rwachain.node.blockstore import HEAD
from rwachain.node.chain import STATE_POINTER, Chain
from rwachain.node.durability import Durability
from rwachain.node.producer import Producer
from rwachain.state.store import StoreError

MAX_TIME_JUMP = 100 * YEAR  # s: the furthest the dev clock or a dev_mine time may be past the last block
LOAD_MAX_BYTES = 256 << 20  # default cap on a dev load's decompressed size (rwad --max-load-size)
LOAD_ENTRY_MAX = 16 << 20  # the largest single key/value pair a dev load accepts, in bytes
LOAD_CHUNK = 1 << 20  # bytes decompressed at a time
LOAD_BATCH_BYTES = 4 << 20  # bytes staged per LevelDB write batch


class TimeTooFar(Exception):
    """A time more than MAX_TIME_JUMP past the last block; args[0] is the latest allowed."""


class Clock:
    """The node's time in unix seconds: the wall clock moved by the dev offset, never
    before the last block's."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.offset = 0  # s added to the wall clock (dev_setTime / dev_advanceTime)

    def now(self) -> int:
        return max(int(_time.time()) + self.offset, self.chain.last_time())

    def latest_allowed(self) -> int:
        """The latest time the clock may be set to or a block made at: MAX_TIME_JUMP past the
        last block. Time-dependent work (interest compounded per second) grows with the gap."""
        return self.chain.last_time() + MAX_TIME_JUMP

    def set(self, t: int) -> int:
        """Move the clock to t (ValueError before the last block, TimeTooFar past the limit)."""
        last = self.chain.last_time()
        if t < last:
            raise ValueError(f"time {t} is before the last block time {last}: time never goes backwards")
        if t > self.latest_allowed():
            raise TimeTooFar(self.latest_allowed())
        self.offset = t - int(_time.time())
        return self.now()


class DevTools:
    """Snapshots, reverts, dumps and loads of the whole chain, each under the block lock;
    afterwards the mempool keeps what is still valid and the journal is rewritten."""

    def __init__(self, chain: Chain, producer: Producer, admission: Admission, durability: Durability):
        self.chain = chain
        self.producer = producer
        self.admission = admission
        self.durability = durability
        self.snapshots: dict[str, int] = {}  # dev snapshot id -> height (pinned)
        self._snapshot_ids = itertools.count(1)
        self._revert_listeners: list[Callable[[int], None]] = []
        self._release_pins()  # ids live in this process only: pins of an earlier run go

    def on_revert(self, fn: Callable[[int], None]) -> Callable[[], None]:
        self._revert_listeners.append(fn)
        return lambda: self._revert_listeners.remove(fn)

    async def snapshot(self) -> str:
        """Pin the current height and return a snapshot id to revert to (any number of times)."""
        async with self.producer.lock:
            h = self.chain.height
            self.chain.store.pin(h)
            sid = f"0x{next(self._snapshot_ids):x}"
            self.snapshots[sid] = h
            return sid

    async def revert(self, sid: str) -> int:
        """Rewind to a snapshot: state, blocks, indexes; the mempool keeps what is still valid."""
        async with self.producer.lock:
            if sid not in self.snapshots:
                raise KeyError(sid)
            h = self.snapshots[sid]
            await trio.to_thread.run_sync(revert_chain, self.chain, h)
            for later in [k for k, v in self.snapshots.items() if v > h]:
                self.chain.store.unpin(self.snapshots.pop(later))
            self._recheck_mempool()
            self._reverted(h)
            return h

    async def dump_state(self) -> bytes:
        async with self.producer.lock:
            return await trio.to_thread.run_sync(dump_chain, self.chain)

    async def load_state(self, data: bytes, max_bytes: int) -> int:
        """Replace the whole chain (history included) with a dump; returns the new height.
        The switch is atomic (load_chain); snapshots are released."""
        async with self.producer.lock:
            await trio.to_thread.run_sync(load_chain, self.chain, data, max_bytes)
            self._release_pins()
            self._recheck_mempool()
            h = self.chain.height
            self._reverted(h)
            return h

    def _recheck_mempool(self) -> None:
        """Keep in the mempool what is still valid on the rewritten chain; rewrite the journal."""
        mempool = self.admission.mempool
        raws = [e.raw for e in mempool.entries()]
        mempool.clear()
        self.admission.readmit(raws)
        self.durability.request_rewrite()
        self.producer.wake()

    def _reverted(self, height: int) -> None:
        for fn in list(self._revert_listeners):
            fn(height)

    def _release_pins(self) -> None:
        """Forget every snapshot and unpin what the store still pins (from an earlier run of
        the node, or from a loaded dump): a pin without an id would keep undo logs forever."""
        self.snapshots.clear()
        for version in sorted(self.chain.store.pins):
            self.chain.store.unpin(version)


# ----- whole-chain operations (blocking: the node runs them in a worker thread) ------------
def revert_chain(chain: Chain, height: int) -> None:
    """Rewind state, blocks, receipts and indexes to height (devnets keep undo logs)."""
    blocks = chain.blocks
    dead = []
    for h in range(blocks.head(), height, -1):
        dead.extend(blocks.keys_of(h))
    if blocks.block(height) is not None:
        puts = {HEAD: height.to_bytes(8, "big")}
    else:  # back to the genesis state: no block yet
        puts = {}
        dead.append(HEAD)
    chain.store.revert(height, dead, puts)
    chain.forget_cached()


def dump_chain(chain: Chain) -> bytes:
    """The whole database (state, history, blocks) as zlib-compressed msgpack pairs."""
    packer = msgpack.Packer(use_bin_type=True)
    z = zlib.compressobj(6)
    parts = [z.compress(packer.pack([k, v])) for k, v in chain.store.dump()]
    parts.append(z.flush())
    return b"".join(parts)


def load_chain(chain: Chain, data: bytes, max_bytes: int = LOAD_MAX_BYTES) -> None:
    """Replace the database with a dump_chain() (history included) and reload. The dump is
    decompressed as a stream (at most max_bytes in all, LOAD_ENTRY_MAX per pair) into a
    new database beside the current one, which only the atomic rewrite of the STATE
    pointer makes current: a crash at any moment leaves the old chain or the new one.
    A refused dump (ValueError) changes nothing."""
    name = f"state-{os.urandom(4).hex()}.ldb"
    staged = os.path.join(chain.data_dir, name)
    try:
        _stage(dump_pairs(data, max_bytes), staged)
        old = chain.store.path
        chain.store.adopt(staged)
    except (ValueError, StoreError) as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise ValueError(str(exc)) from None
    _point_to(chain.data_dir, name)
    shutil.rmtree(old, ignore_errors=True)
    chain.forget_cached()


def _point_to(data_dir: str, name: str) -> None:
    """Make name the current state database, atomically and durably (rename over STATE)."""
    path = os.path.join(data_dir, STATE_POINTER)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)



def dump_pairs(data: bytes, max_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """The [key, value] pairs of a dump, decompressed LOAD_CHUNK bytes at a time: a dump
    that inflates past max_bytes, or holds a pair over LOAD_ENTRY_MAX, is refused
    (ValueError) after at most that much work, holding at most one pair in memory."""
    z = zlib.decompressobj()
    unpacker = msgpack.Unpacker(raw=True, use_list=True, max_buffer_size=LOAD_ENTRY_MAX)
    total = 0
    pending = data
    try:
        while True:
            chunk = z.decompress(pending, LOAD_CHUNK)
            pending = z.unconsumed_tail
            total += len(chunk)
            if total > max_bytes:
                raise ValueError(f"the dump decompresses to more than {max_bytes} bytes (--max-load-size)")
            try:
                unpacker.feed(chunk)
            except msgpack.BufferFull:
                raise ValueError(f"a dump entry decompresses to more than {LOAD_ENTRY_MAX} bytes") from None
            for item in unpacker:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not bytes or type(item[1]) is not bytes:
                    raise ValueError("not a state dump: expected [key, value] byte pairs")
                yield item[0], item[1]
            if not chunk and not pending:
                break
    except (zlib.error, msgpack.UnpackException) as exc:
        raise ValueError(f"not a state dump: {exc}") from None
    if not z.eof or z.unused_data:
        raise ValueError("not a state dump: the zlib stream is truncated or followed by other bytes")
    if unpacker.tell() != total:
        raise ValueError("not a state dump: it ends inside a pair")


def _stage(pairs: Iterator[tuple[bytes, bytes]], path: str) -> None:
    """Write pairs into a new LevelDB at path, in synced batches of about LOAD_BATCH_BYTES."""
    db = plyvel.DB(path, create_if_missing=True, error_if_exists=True)
    try:
        batch, size = db.write_batch(sync=True), 0
        for k, v in pairs:
            batch.put(k, v)
            size += len(k) + len(v)
            if size >= LOAD_BATCH_BYTES:
                batch.write()
                batch, size = db.write_batch(sync=True), 0
        batch.write()
    finally:
        db.close()
