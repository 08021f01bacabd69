"""LevelDB state store: the latest flat state, the versioned tree, one synced batch per block.

The store is one object (Store) in four parts:
    this file     the core: open, versioned reads of the latest state, prepare (the tree
                  update of a block's changes) and commit (one synced batch)
    caches.py     the read caches: values, small prefix listings, tree nodes
    retention.py  pruning of old versions, pins
    history.py    reads at a past version (VersionView, proofs), undo logs, revert
    keys.py       the key spaces in LevelDB, the storage format, the errors
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from rwachain.state.codec import encode
from rwachain.state.logroom import LogRoom
from rwachain.state.store.caches import (
    SCAN_CACHE_ITEMS,
    SCAN_CACHE_PREFIXES,
    SCAN_DROP_ALL_OVER,
    BoundedCache,
    ReadCaches,
)
from rwachain.state.store.history import History, VersionView
from rwachain.state.store.keys import (
    FLAT,
    FORMAT,
    META,
    META_FORMAT,
    META_PINS,
    META_PRUNED,
    META_VERSION,
    NODE_FAULTS,
    ROOT,
    STALE,
    UNDO,
    StoreError,
    StoreFormatError,
    check_format,
    open_db,
    prefix_end,
)
from rwachain.state.store.retention import STALE_LOG_MAX, Retention
from rwachain.state.tree import Change, Slot, Tree, TreeUpdate, encode_slot, slot_hash
from rwachain.state.yieldpoint import NEVER, YieldPoint

__all__ = [
    "FLAT", "FORMAT", "META", "META_FORMAT", "META_PINS", "META_PRUNED", "META_VERSION", "NODE_FAULTS",
    "ROOT", "SCAN_CACHE_ITEMS", "SCAN_CACHE_PREFIXES", "SCAN_DROP_ALL_OVER", "STALE", "STALE_LOG_MAX", "UNDO",
    "BoundedCache", "PendingCommit", "Store", "StoreError", "StoreFormatError", "VersionView", "prefix_end",
]

_sha = hashlib.sha256


@dataclass(slots=True)
class PendingCommit:
    """A computed but unwritten block of state changes (see Store.prepare)."""

    version: int
    root_hash: bytes
    update: TreeUpdate
    flat: dict[bytes, bytes | None]
    undo: list | None = None  # [[key, old value or None]] when the store keeps undo logs


class Store(ReadCaches, Retention, History):
    """The state database. One writer (the block executor); readers in other threads
    (admission checks, RPC) may run while it commits (caches.py: how a reader's cache fill
    stays safe beside a commit).
    """

    def __init__(self, path: str, *, keep_versions: int = 100, cache_entries: int = 50_000,
                 node_cache_entries: int = 40_000, keep_undo: bool = True,
                 native_tree: bool | None = None, log_room: bool = False, throwaway: bool = False):
        """cache_entries and node_cache_entries bound the two read caches (each holds up to
        twice that many entries: values of state keys, and internal tree nodes).
        native_tree picks the tree's batch update (None: the compiled one where built).
        log_room (opt-in, rwad --log-preallocate) keeps zeros ahead of LevelDB's log, so
        that a small block's synced commit overwrites in place instead of appending; it
        relies on two undocumented LevelDB internals (state/logroom.py).
        throwaway: the store is deleted after use and never reopened after a crash (a
        scratch chain's): its writes are not synced, and LevelDB holds up to
        keys.THROWAWAY_WRITE_BUFFER bytes of them in memory before it writes a table, so
        that a short run never flushes or compacts (what it writes and reads is the same)."""
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self.path = path
        self.throwaway = throwaway
        self.sync = not throwaway  # whether every write batch is synced to the disk
        self.db = open_db(path, throwaway=throwaway)
        self.log_room = LogRoom(path) if log_room else None
        self.keep_versions = keep_versions
        self.keep_undo = keep_undo
        self._flat_cache = BoundedCache(cache_entries)
        self._cache_lock = threading.Lock()
        self._cache_epoch = 0
        self._scans: dict[bytes, list[tuple[bytes, bytes]]] = {}  # small prefix -> its listing
        self._scan_lens: set[int] = set()  # the lengths of the cached prefixes
        self._big_scans: set[bytes] = set()  # prefixes seen over SCAN_CACHE_ITEMS entries
        self._scan_items = SCAN_CACHE_ITEMS  # listings up to this long are kept (read here, at open)
        self._node_cache = BoundedCache(node_cache_entries)
        # version -> the node keys its commit put in the stale index (small blocks committed
        # by this process): pruning reads them here instead of opening a LevelDB iterator.
        self._stale_log: dict[int, list[bytes]] = {}
        # The yield point of a prepare running in this thread, for its tree node reads (a
        # proof read on another thread meanwhile must not call it): a `point` attribute.
        self._pacing = threading.local()
        self.tree = Tree(self._load_node, self._load_replaced_node, native=native_tree)
        self.version: int | None = None
        self.root: Slot | None = None
        self.pins: set[int] = set()
        self.pruned_below = 0
        try:
            self._read_meta()
        except StoreFormatError:
            self.db.close()
            raise

    def _read_meta(self) -> None:
        """Version, root, pins and pruning floor as the database records them (refuses
        another storage format)."""
        raw = self.db.get(META_VERSION)
        self.version = None if raw is None else int.from_bytes(raw, "big")
        raw = self.db.get(META_FORMAT)
        if self.version is not None:
            check_format(raw, f"the database at {self.path}")
        self._format_written = raw is not None
        self.root = None if self.version is None else self._root_slot(self.version)
        raw = self.db.get(META_PINS)
        self.pins = set() if raw is None else {int.from_bytes(raw[i : i + 8], "big") for i in range(0, len(raw), 8)}
        raw = self.db.get(META_PRUNED)
        self.pruned_below = 0 if raw is None else int.from_bytes(raw, "big")

    def is_blank(self) -> bool:
        """True if the database holds no key at all."""
        with self.db.iterator(include_value=False) as it:
            return next(it, None) is None

    def wipe(self) -> None:
        """Delete every key (the remains of an interrupted genesis import)."""
        self._caches_changing()
        with self.db.write_batch(sync=self.sync) as wb:
            for k in self.db.iterator(include_value=False):
                wb.delete(k)
        self._clear_value_caches()
        self._node_cache.clear()
        self._stale_log.clear()
        self.version = None
        self.root = None
        self._format_written = False

    def close(self) -> None:
        if not self.db.closed:
            self.db.close()

    def reopen(self) -> None:
        """Close and reopen the database (no other thread may use the store meanwhile).
        Closing finishes LevelDB's running compaction and frees its memtables and file
        mappings; the reopened database resumes any compaction backlog."""
        self.db.close()
        self.db = open_db(self.path, throwaway=self.throwaway)

    def level0_files(self) -> int:
        """LevelDB's level-0 file count (4 or more: a compaction is due or running)."""
        return int(self.db.get_property(b"leveldb.num-files-at-level0") or b"0")

    @property
    def root_hash(self) -> bytes:
        return slot_hash(self.root)

    def prepare(self, version: int, changes: dict[bytes, bytes | None], *,
                same_version: bool = False, yield_point: YieldPoint = NEVER) -> PendingCommit:
        """Compute the tree update for a block's changes at version; write nothing yet.

        same_version lets a streamed genesis write several chunks at one version.
        yield_point pauses every few hundred changes and before each tree node read from
        LevelDB (a worker thread's block lets the event loop run; node/pacing.py).
        """
        expected = self.version if same_version else (None if self.version is None else self.version + 1)
        if expected is not None and version != expected:
            raise StoreError(f"version {version} does not follow {self.version}")
        tree_changes = []
        flat: dict[bytes, bytes | None] = {}
        undo = [] if self.keep_undo and self.version is not None and not same_version else None
        get = self.get
        for key, value in yield_point.paced(changes.items()):
            old = get(key)
            if old == value:
                continue
            flat[key] = value
            if undo is not None:
                undo.append([key, old])
            tree_changes.append(Change(_sha(key).digest(), key, value, old is not None))
        self._pacing.point = yield_point
        try:
            update = self.tree.update(self.root, version, tree_changes)
        finally:
            self._pacing.point = NEVER
        return PendingCommit(version, slot_hash(update.root), update, flat, undo)

    def commit(self, pending: PendingCommit, extra: dict[bytes, bytes] | None = None, *,
               final: bool = True, cache: bool = True, yield_point: YieldPoint = NEVER) -> None:
        """Write the pending block and `extra` (block store records) in one synced batch.

        final=False (a genesis chunk) leaves the current-version pointer unwritten, so a
        crash part-way through a genesis import leaves a store that reopens as empty.
        cache=False keeps the written values out of the read caches (a bulk import would
        only fill them with what no block is about to read). yield_point pauses every few
        hundred records (as in prepare).
        """
        v = pending.version
        vb = v.to_bytes(8, "big")
        up = pending.update
        held = None  # what pruning left indexed at the new floor (None: nothing pruned)
        self._caches_changing()
        with self.db.write_batch(transaction=True, sync=self.sync) as wb:
            for k, val in yield_point.paced(pending.flat.items()):
                if val is None:
                    wb.delete(FLAT + k)
                else:
                    wb.put(FLAT + k, val)
            for k, val in yield_point.paced(up.writes.items()):
                if val is None:
                    wb.delete(k)
                else:
                    wb.put(k, val)
            indexed = self._retire_replaced(wb, v, up.stale, final, yield_point)
            wb.put(ROOT + vb, encode_slot(up.root))
            if pending.undo is not None and final:
                wb.put(UNDO + vb, encode(pending.undo))
            pruned = self.pruned_below
            if final:
                if not self._format_written:
                    wb.put(META_FORMAT, FORMAT.to_bytes(2, "big"))
                wb.put(META_VERSION, vb)
                pruned, held = self._prune_into(wb, v)
            if extra:
                for k, val in yield_point.paced(extra.items()):
                    wb.put(k, val)
        if self.log_room is not None:
            self.log_room.after_write()
        # The batch is durable: now update the in-memory view.
        self._note_committed(pending, cache, yield_point)
        self._remember_stale(v, indexed, final)
        if held is not None:
            self._note_pruned(pruned, held)
        self.version = v
        self.root = up.root
        self.pruned_below = pruned
        self._format_written = self._format_written or final

    def dump(self):
        """Every key/value of the database (state, history, blocks): a devnet dump."""
        return self.db.iterator()

    def adopt(self, path: str) -> None:
        """Switch to the database at path (a complete, closed one, e.g. a staged dev load):
        close the current one and reread everything from the new one. No other thread may
        use the store meanwhile; the caller removes the old directory."""
        check = open_db(path)
        try:
            if check.get(META_VERSION) is None:
                raise StoreError("not a state dump: it holds no state version")
            check_format(check.get(META_FORMAT), "the dump")
        finally:
            check.close()
        self._caches_changing()
        self.db.close()
        self.path = path
        self.db = open_db(path, throwaway=self.throwaway)
        if self.log_room is not None:
            self.log_room = LogRoom(path)
        self._clear_value_caches()
        self._node_cache.clear()
        self._stale_log.clear()
        self._read_meta()
