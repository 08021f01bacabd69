"""A chain in one process: store, app, block store and the validator key that signs headers.

Chain.produce() is the whole block transition as the single validator sees it:
pre-verify signatures in worker threads, finalize on the app, build and sign the header,
then commit state and block records in one synced LevelDB batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import time as _time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import msgpack
import plyvel

from rwachain.genesis.loader import import_genesis
from rwachain.modules.core.app import App, BlockResult, encode_receipt
from rwachain.modules.core.crypto import Keypair
from rwachain.node.block import Block, Header
from rwachain.node.blockstore import HEAD, BlockStore
from rwachain.node.sigcheck import ProcessVerifier
from rwachain.node.verify import PipelinedPrecheck, ProcessPipelinedPrecheck
from rwachain.state.merkle import merkle_root
from rwachain.state.store import Store, StoreError
from rwachain.state.yieldpoint import NEVER, YieldPoint

GENESIS_PARENT = bytes(32)
SETTLE_AFTER_GENESIS_BYTES = 8 << 20  # a genesis file this large compacts and reopens the database
PROCESS_VERIFY_MIN = 2000  # blocks at least this large verify signatures in worker processes
STATE_POINTER = "STATE"  # file in the data directory naming the current state database
DEFAULT_STATE_DIR = "state.ldb"
LOAD_MAX_BYTES = 256 << 20  # default cap on a dev load's decompressed size (rwad --max-load-size)
LOAD_ENTRY_MAX = 16 << 20  # the largest single key/value pair a dev load accepts, in bytes
LOAD_CHUNK = 1 << 20  # bytes decompressed at a time
LOAD_BATCH_BYTES = 4 << 20  # bytes staged per LevelDB write batch


class Chain:
    """Open (or create) a chain's data directory and produce blocks on it."""

    def __init__(self, data_dir: str, validator: Keypair, *, keep_versions: int = 100,
                 verify_workers: int | None = None, allow_dev_ops: bool = False, log_preallocate: bool = False):
        """log_preallocate: keep zeros ahead of LevelDB's log (state/logroom.py; opt-in)."""
        os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        current = current_state_dir(data_dir)
        _remove_other_state_dirs(data_dir, current)
        self.store = Store(os.path.join(data_dir, current), keep_versions=keep_versions, log_room=log_preallocate)
        if self.store.version is None and not self.store.is_blank():
            self.store.wipe()  # remains of an interrupted genesis import
        self.app = App(self.store, allow_dev_ops=allow_dev_ops)
        self.blocks = BlockStore(self.store.db)
        self._head_hash: bytes | None = None
        self.validator = validator
        self.workers = verify_workers or max(1, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="verify")
        self.verifier = ProcessVerifier(self.workers)

    def init_genesis(self, genesis_path: str) -> bytes:
        """Import a genesis file into this empty chain; returns the genesis state root."""
        root = import_genesis(self.app, genesis_path)
        if os.path.getsize(genesis_path) >= SETTLE_AFTER_GENESIS_BYTES:
            self._settle_store()
        _release_free_memory()
        return root

    def _settle_store(self, timeout: float = 120.0) -> None:
        """After a bulk import: let LevelDB work off its level-0 backlog now rather than
        during the first blocks, then reopen it, which frees the import's memtables and
        the compactions' file mappings (a 1M-account genesis: resident 202 -> 55 MB)."""
        self.store.reopen()
        deadline = _time.monotonic() + timeout
        while self.store.level0_files() >= 4 and _time.monotonic() < deadline:
            _time.sleep(0.05)
        self.store.reopen()
        self.blocks.db = self.store.db

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.verifier.close()
        self.store.close()

    @property
    def height(self) -> int | None:
        return self.store.version

    def head_hash(self) -> bytes:
        """Hash of the last block (cached: status calls read it all the time)."""
        if self._head_hash is None:
            h = self.blocks.head()
            self._head_hash = GENESIS_PARENT if h is None else self.blocks.block(h).header.hash
        return self._head_hash

    def last_time(self) -> int:
        return self.app.last_block()["time"]

    def revert_to(self, height: int) -> None:
        """Rewind state, blocks, receipts and indexes to height (devnets keep undo logs)."""
        head = self.blocks.head()
        dead = []
        for h in range(head, height, -1):
            dead.extend(self.blocks.keys_of(h))
        if self.blocks.block(height) is not None:
            puts = {HEAD: height.to_bytes(8, "big")}
        else:  # back to the genesis state: no block yet
            puts = {}
            dead.append(HEAD)
        self.store.revert(height, dead, puts)
        self.blocks.forget()
        self._head_hash = None
        self.app.reload()

    def dump(self) -> bytes:
        """The whole database (state, history, blocks) as zlib-compressed msgpack pairs."""
        packer = msgpack.Packer(use_bin_type=True)
        z = zlib.compressobj(6)
        parts = [z.compress(packer.pack([k, v])) for k, v in self.store.dump()]
        parts.append(z.flush())
        return b"".join(parts)

    def load(self, data: bytes, max_bytes: int = LOAD_MAX_BYTES) -> None:
        """Replace the database with a dump() (history included) and reload. The dump is
        decompressed as a stream (at most max_bytes in all, LOAD_ENTRY_MAX per pair) into a
        new database beside the current one, which only the atomic rewrite of the STATE
        pointer makes current: a crash at any moment leaves the old chain or the new one.
        A refused dump (ValueError) changes nothing."""
        name = f"state-{os.urandom(4).hex()}.ldb"
        staged = os.path.join(self.data_dir, name)
        try:
            _stage(dump_pairs(data, max_bytes), staged)
            old = self.store.path
            self.store.adopt(staged)
        except (ValueError, StoreError) as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise ValueError(str(exc)) from None
        _point_to(self.data_dir, name)
        shutil.rmtree(old, ignore_errors=True)
        self.blocks.db = self.store.db
        self.blocks.forget()
        self._head_hash = None
        self.app.reload()

    def produce(self, txs: list[bytes], time: int | None = None,
                yield_point: YieldPoint = NEVER) -> tuple[Block, BlockResult]:
        """Execute txs as the next block at time (default: the last block time) and commit.

        yield_point pauses often along the way (between transactions, every few hundred
        records, before LevelDB reads): a worker thread's block uses it to let the event
        loop run (node/pacing.py). It must not touch state.
        """
        if len(txs) >= PROCESS_VERIFY_MIN:
            checks = ProcessPipelinedPrecheck(self.app, txs, self.verifier)
        else:
            checks = PipelinedPrecheck(self.app, txs, self._pool, self.workers)

        def before_tx(i: int, wait=checks.wait, pause=yield_point.pause) -> None:
            wait(i)
            pause()

        last = self.app.last_block()
        height = last["height"] + 1
        t = last["time"] if time is None else time
        result = self.app.finalize_block(height, t, self.validator.address, txs, before_tx, yield_point=yield_point)
        receipts, encoded = [], []
        for r in yield_point.paced(result.receipts):
            obj = r.to_obj()
            receipts.append(obj)
            encoded.append(encode_receipt(obj))
        header = Header(
            height=height, parent=self.head_hash(), time=t, proposer=self.validator.address,
            txs_root=merkle_root(txs), receipts_root=merkle_root(encoded),
            state_root=result.state_root, app_version=self.app.genesis["appVersion"],
        )
        sign_bytes, block_hash = header.sign_bytes_and_hash()
        block = Block(header, self.validator.sign(sign_bytes), list(txs))
        self.app.commit(BlockStore.records(block, receipts, [r.sender for r in result.receipts],
                                           [r.module for r in result.receipts], encoded, block_hash,
                                           yield_point, result.events),
                        yield_point=yield_point)
        self._head_hash = block_hash
        self.blocks.note_committed(block, encoded)
        return block, result


def _release_free_memory() -> None:
    """Give freed heap back to the OS after a bulk import (glibc only; a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def current_state_dir(data_dir: str) -> str:
    """The name of the current state database in data_dir (the STATE pointer's)."""
    try:
        with open(os.path.join(data_dir, STATE_POINTER)) as f:
            name = f.read().strip()
    except FileNotFoundError:
        return DEFAULT_STATE_DIR
    if not name.startswith("state") or not name.endswith(".ldb") or os.sep in name:
        raise ValueError(f"{data_dir}/{STATE_POINTER} names no state database: {name!r}")
    return name


def _remove_other_state_dirs(data_dir: str, current: str) -> None:
    """Delete what an interrupted or finished dev load left beside the current database."""
    for entry in os.listdir(data_dir):
        if entry != current and entry.startswith("state") and entry.endswith(".ldb"):
            shutil.rmtree(os.path.join(data_dir, entry), ignore_errors=True)


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
