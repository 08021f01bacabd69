"""A chain in one process: store, app, block store and the validator key that signs headers.

The block transition, as a follower (or a replay) sees it, is Chain.apply_block: check the
header against the head, execute the block on the app, compare the roots its header
commits to with what execution produced, and only then commit state and block records in
one synced LevelDB batch. Chain.produce, the single validator's side, runs the same steps
(execute once, then build and sign the header from the result, then commit_block).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rwachain.genesis.loader import import_genesis
from rwachain.modules.core.app import SIGNATURE_CACHE, App, BlockResult, encode_receipt
from rwachain.modules.core.crypto import Keypair, address_of
from rwachain.node.block import Block, BlockRejected, Header
from rwachain.node.blockstore import BlockStore
from rwachain.node.sigcheck import ProcessVerifier
from rwachain.node.verify import PipelinedPrecheck, ProcessPipelinedPrecheck
from rwachain.state.merkle import merkle_root
from rwachain.state.store import BoundedCache, Store
from rwachain.state.yieldpoint import NEVER, YieldPoint

GENESIS_PARENT = bytes(32)
SETTLE_AFTER_GENESIS_BYTES = 8 << 20  # a genesis file this large compacts and reopens the database
PROCESS_VERIFY_MIN = 2000  # blocks at least this large verify signatures in worker processes
STATE_POINTER = "STATE"  # file in the data directory naming the current state database
DEFAULT_STATE_DIR = "state.ldb"


class Chain:
    """Open (or create) a chain's data directory; make blocks on it (produce) or apply blocks
    made elsewhere (apply_block)."""

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
        # Signature verdicts by tx hash, owned here and shared with the app: admission
        # (check_tx, the checker processes) fills it, block execution uses and empties it.
        self.signatures = BoundedCache(SIGNATURE_CACHE)
        self.app = App(self.store, signatures=self.signatures, allow_dev_ops=allow_dev_ops)
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

    def forget_cached(self) -> None:
        """Drop what is cached of the chain after its store was rewound or replaced."""
        self.blocks.db = self.store.db
        self.blocks.forget()
        self._head_hash = None
        self.app.reload()

    # ----- the block transition ------------------------------------------------------
    def apply_block(self, block: Block, *, check_signature: bool = True,
                    yield_point: YieldPoint = NEVER) -> BlockResult:
        """Validate a block made elsewhere, execute it, compare its roots, commit it.

        The steps, in order: the header must follow the head (check_header); the block
        runs on the app (execute); the receipts root and state root it commits to must be
        what execution produced (compare_roots); then state and block records are written
        in one synced batch (commit_block). Any mismatch raises BlockRejected naming the
        field, the finalized block is abandoned and nothing changes. check_signature=False
        skips the validator's header signature (a consensus engine vouched for the block).
        yield_point: as in produce.
        """
        self.check_header(block, check_signature=check_signature)
        header = block.header
        executed = self.execute(header.height, header.time, header.proposer, block.txs, yield_point)
        try:
            compare_roots(header, executed)
        except BlockRejected:
            self.app.abandon()
            raise
        self.commit_block(block, executed, header.hash, yield_point)
        return executed.result

    def produce(self, txs: list[bytes], time: int | None = None,
                yield_point: YieldPoint = NEVER) -> tuple[Block, BlockResult]:
        """Make the next block of txs at time (default: the last block time) and commit it:
        execute once, build and sign the header from the result, commit_block.

        yield_point pauses often along the way (between transactions, every few hundred
        records, before LevelDB reads): a worker thread's block uses it to let the event
        loop run (node/pacing.py). It must not touch state.
        """
        last = self.app.last_block()
        height = last["height"] + 1
        t = last["time"] if time is None else time
        executed = self.execute(height, t, self.validator.address, txs, yield_point)
        header = Header(
            height=height, parent=self.head_hash(), time=t, proposer=self.validator.address,
            txs_root=executed.txs_root, receipts_root=executed.receipts_root,
            state_root=executed.result.state_root, app_version=self.app.genesis["appVersion"],
        )
        sign_bytes, block_hash = header.sign_bytes_and_hash()
        block = Block(header, self.validator.sign(sign_bytes), list(txs))
        self.commit_block(block, executed, block_hash, yield_point)
        return block, executed.result

    def check_header(self, block: Block, *, check_signature: bool = True) -> None:
        """Refuse (BlockRejected) a block that does not follow the head, checking in order:
        height (head + 1), parent (the head's hash), time (not before the last block's),
        appVersion, proposer (the genesis validator), the header signature by that validator
        (unless check_signature is off), and txsRoot over the block's transactions."""
        header, last = block.header, self.app.last_block()
        validator = self.app.genesis["validator"]
        _expect("height", last["height"] + 1, header.height)
        _expect("parent", self.head_hash(), header.parent)
        if type(header.time) is not int or header.time < last["time"]:
            raise BlockRejected("time", f"at least {last['time']}", header.time)
        _expect("appVersion", self.app.genesis["appVersion"], header.app_version)
        _expect("proposer", address_of(validator), header.proposer)
        if check_signature and not block.verify_signature(validator):
            raise BlockRejected("signature", f"a signature by validator 0x{validator.hex()}", block.signature)
        if not all(type(tx) is bytes for tx in block.txs):
            raise BlockRejected("txs", "a list of signed transaction bytes", [type(tx).__name__ for tx in block.txs])
        _expect("txsRoot", merkle_root(block.txs), header.txs_root)

    def execute(self, height: int, time: int, proposer: bytes, txs: list[bytes],
                yield_point: YieldPoint = NEVER) -> Executed:
        """Finalize txs as block `height` on the app (signatures checked in parallel with
        execution) and encode its receipts; nothing is written until commit_block, and
        App.abandon drops it. A consensus engine calls this with its own header fields."""
        if len(txs) >= PROCESS_VERIFY_MIN:
            checks = ProcessPipelinedPrecheck(self.app, txs, self.verifier)
        else:
            checks = PipelinedPrecheck(self.app, txs, self._pool, self.workers)

        def before_tx(i: int, wait=checks.wait, pause=yield_point.pause) -> None:
            wait(i)
            pause()

        result = self.app.finalize_block(height, time, proposer, txs, before_tx, yield_point=yield_point)
        receipts, encoded = [], []
        for r in yield_point.paced(result.receipts):
            obj = r.to_obj()
            receipts.append(obj)
            encoded.append(encode_receipt(obj))
        return Executed(result, receipts, encoded, merkle_root(txs), merkle_root(encoded))

    def commit_block(self, block: Block, executed: Executed, block_hash: bytes,
                     yield_point: YieldPoint = NEVER, extra: dict[bytes, bytes] | None = None) -> None:
        """Write the executed block's state changes and its block records (block, receipts,
        indexes, head pointer) in one synced batch; block_hash is block.header.hash.
        extra: more raw records for the same batch (a consensus engine's own, e.g.
        CometBFT's block hash)."""
        result = executed.result
        records = BlockStore.records(block, executed.receipts, [r.sender for r in result.receipts],
                                     [r.module for r in result.receipts], executed.encoded, block_hash,
                                     yield_point, result.events)
        records.update(extra or {})
        self.app.commit(records, yield_point=yield_point)
        self._head_hash = block_hash
        self.blocks.note_committed(block, executed.encoded)


@dataclass(slots=True)
class Executed:
    """A block finalized on the app but not committed: its result and what its header
    commits to (the roots) and its commit writes (the encoded receipts)."""

    result: BlockResult
    receipts: list[dict]  # receipt maps, in transaction order
    encoded: list[bytes]  # each receipt's canonical encoding
    txs_root: bytes
    receipts_root: bytes


def compare_roots(header: Header, executed: Executed) -> None:
    """Refuse (BlockRejected) a header whose roots are not what execution produced."""
    _expect("receiptsRoot", executed.receipts_root, header.receipts_root)
    _expect("stateRoot", executed.result.state_root, header.state_root)


def _expect(field: str, expected, got) -> None:
    if got != expected or type(got) is not type(expected):
        raise BlockRejected(field, expected, got)


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
