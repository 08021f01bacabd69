"""LevelDB state store: the latest flat state, the versioned tree, one synced batch per block.

Key spaces in the one LevelDB (each a one-byte prefix):
    f<key>                 latest value of a state key (what execution reads)
    n<version><depth><path> internal tree nodes (state/tree.py)
    l<version><depth><path> tree leaves
    r<version>             root slot of the tree at version (height)
    s<version><node key>   stale index: node replaced at version, pruned later
    u<version>             undo log of block version: [[key, old value or nil], ...],
                           kept for the retained versions (and above pins): listings at
                           past heights and dev reverts replay them backwards
    m<name>                store metadata (current version, pins, storage format)
    b...                   reserved for the node's block store (written via `extra`)
Version v is the state after block v; genesis is version initial_height - 1.
"""

from __future__ import annotations

import hashlib
import threading
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice

import plyvel

from rwachain.state.codec import decode_stored, encode
from rwachain.state.logroom import LogRoom
from rwachain.state.tree import (
    LEAF_PREFIX,
    NODE_PREFIX,
    Change,
    Slot,
    Tree,
    TreeUpdate,
    decode_slot,
    encode_slot,
    slot_hash,
)
from rwachain.state.yieldpoint import NEVER, YieldPoint

FLAT = b"f"
ROOT = b"r"
STALE = b"s"
UNDO = b"u"
META = b"m"
META_VERSION = META + b"version"
META_PINS = META + b"pins"
META_PRUNED = META + b"pruned"
META_FORMAT = META + b"format"
# The storage format this build writes and reads (the layout of the key spaces above;
# state roots do not depend on it). 2: leaves under their own prefix (1 kept them among
# the internal nodes). A database in another format is refused with StoreFormatError.
FORMAT = 2

_sha = hashlib.sha256
# Bits per key of LevelDB's bloom filters: a point read skips the tables that cannot hold
# its key instead of reading (through the file mapping) a data block of each.
BLOOM_BITS = 10
# LevelDB keeps every table in its table cache memory-mapped, and the pages a read touches
# stay mapped (on this kernel a whole 2 MiB table's folio per touch), counted in the
# node's RSS. Its smallest table cache (74 files, 64 of them tables) bounds that at about
# 128 MiB instead of the whole database; a 10,000-transfer block at 1M accounts took the
# same time with it (docs/performance.md, section 3).
MAX_OPEN_FILES = 74
SCAN_CACHE_ITEMS = 64  # a prefix listing this short is kept in memory (Store.iter_prefix)
SCAN_CACHE_PREFIXES = 1024  # at most this many such listings
SCAN_DROP_ALL_OVER = 2048  # a commit writing more keys drops every listing instead of checking
STALE_LOG_MAX = 256  # a block replacing at most this many nodes keeps their keys in memory for pruning


class StoreError(Exception):
    """A request the store cannot serve (unknown or pruned version, corrupt data)."""


class StoreFormatError(StoreError):
    """The data was written in a storage format this build does not read."""


NODE_FAULTS: tuple[type[BaseException], ...] = (MemoryError, OSError, StoreError, plyvel.Error)
"""Failures of this node's process or storage, not of the state machine: another node on
the same state would not meet them, so they are never turned into a receipt or a hook
fault (the block fails and the node stops)."""


def _check_format(raw: bytes | None, what: str) -> None:
    """Refuse state written in another storage format (raw: its META_FORMAT value)."""
    found = 1 if raw is None else int.from_bytes(raw, "big")
    if found != FORMAT:
        raise StoreFormatError(
            f"{what} holds state in storage format {found}, and this build reads format {FORMAT} "
            "only: start from a fresh data directory (to keep the state, export it to a genesis "
            "file with the build that wrote it and import that)")


class BoundedCache:
    """A two-generation cache: O(1) get/put, bounded at about 2 x capacity entries."""

    __slots__ = ("capacity", "_new", "_old")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._new: dict = {}
        self._old: dict = {}

    def get(self, key, default=None):
        v = self._new.get(key, _MISS)
        if v is not _MISS:
            return v
        v = self._old.get(key, _MISS)
        if v is not _MISS:
            self.put(key, v)
            return v
        return default

    def put(self, key, value) -> None:
        self._new[key] = value
        if len(self._new) >= self.capacity:
            self._old = self._new
            self._new = {}

    def discard(self, key) -> None:
        self._new.pop(key, None)
        self._old.pop(key, None)

    def clear(self) -> None:
        self._new.clear()
        self._old.clear()

    def __len__(self) -> int:
        return len(self._new) + len(self._old)


_MISS = object()


def _open_db(path: str) -> plyvel.DB:
    return plyvel.DB(path, create_if_missing=True, bloom_filter_bits=BLOOM_BITS,
                     max_open_files=MAX_OPEN_FILES)


@dataclass(slots=True)
class PendingCommit:
    """A computed but unwritten block of state changes (see Store.prepare)."""

    version: int
    root_hash: bytes
    update: TreeUpdate
    flat: dict[bytes, bytes | None]
    undo: list | None = None  # [[key, old value or None]] when the store keeps undo logs


class Store:
    """The state database. One writer (the block executor); readers in other threads
    (admission checks, RPC) may run while it commits.

    A reader that misses the value cache must not put back a value it read before a
    concurrent commit changed it (the next block would then execute on stale state): fills
    happen under a lock and only if no commit started since the reader looked
    (`_cache_epoch`, advanced under the same lock when a commit starts and when it ends).
    """

    def __init__(self, path: str, *, keep_versions: int = 100, cache_entries: int = 50_000,
                 node_cache_entries: int = 40_000, keep_undo: bool = True,
                 native_tree: bool | None = None, log_room: bool = False):
        """cache_entries and node_cache_entries bound the two read caches (each holds up to
        twice that many entries: values of state keys, and internal tree nodes).
        native_tree picks the tree's batch update (None: the compiled one where built).
        log_room (opt-in, rwad --log-preallocate) keeps zeros ahead of LevelDB's log, so
        that a small block's synced commit overwrites in place instead of appending; it
        relies on two undocumented LevelDB internals (state/logroom.py)."""
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self.path = path
        self.db = _open_db(path)
        self.log_room = LogRoom(path) if log_room else None
        self.keep_versions = keep_versions
        self.keep_undo = keep_undo
        self._flat_cache = BoundedCache(cache_entries)
        self._cache_lock = threading.Lock()
        self._cache_epoch = 0
        self._scans: dict[bytes, list[tuple[bytes, bytes]]] = {}  # small prefix -> its listing
        self._scan_lens: set[int] = set()  # the lengths of the cached prefixes
        self._big_scans: set[bytes] = set()  # prefixes seen over SCAN_CACHE_ITEMS entries
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
            _check_format(raw, f"the database at {self.path}")
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
        with self.db.write_batch(sync=True) as wb:
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
        self.db = _open_db(self.path)

    def level0_files(self) -> int:
        """LevelDB's level-0 file count (4 or more: a compaction is due or running)."""
        return int(self.db.get_property(b"leveldb.num-files-at-level0") or b"0")

    # ----- reads -------------------------------------------------------------------
    @property
    def root_hash(self) -> bytes:
        return slot_hash(self.root)

    def get(self, key: bytes) -> bytes | None:
        """Latest committed value of key (read-through cache; safe beside a commit)."""
        cache = self._flat_cache
        v = cache._new.get(key, _MISS)
        if v is not _MISS:
            return v
        epoch = self._cache_epoch
        v = cache._old.get(key, _MISS)
        if v is _MISS:
            v = self.db.get(FLAT + key)
        with self._cache_lock:
            if self._cache_epoch == epoch:
                cache.put(key, v)
        return v

    def _caches_changing(self) -> None:
        """A commit or rewind is about to change state: fills begun before it are void."""
        with self._cache_lock:
            self._cache_epoch += 1

    def _clear_value_caches(self) -> None:
        """Forget every cached value and listing (after a rewind, a wipe or a load)."""
        with self._cache_lock:
            self._flat_cache.clear()
            self._update_scans(None)
            self._cache_epoch += 1

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Latest committed (key, value) pairs whose key starts with prefix, in key order.

        Small prefixes (at most SCAN_CACHE_ITEMS entries: due indexes, per-owner lists,
        an account's balances) are kept listed in memory, and a commit that writes under
        one edits its listing; every block scans several of them (the fee collector's
        balances, written by every block, among them), and opening a LevelDB iterator
        costs more than the whole scan.
        """
        got = self._scans.get(prefix)
        if got is not None:
            return iter(got)
        n = len(FLAT)
        if prefix in self._big_scans:
            return ((k[n:], v) for k, v in self.db.iterator(prefix=FLAT + prefix))
        epoch = self._cache_epoch
        it = self.db.iterator(prefix=FLAT + prefix)
        head = [(k[n:], v) for k, v in islice(it, SCAN_CACHE_ITEMS + 1)]
        if len(head) > SCAN_CACHE_ITEMS:
            if len(self._big_scans) >= SCAN_CACHE_PREFIXES:
                self._big_scans.clear()
            self._big_scans.add(prefix)
            return chain(head, ((k[n:], v) for k, v in it))
        it.close()
        with self._cache_lock:
            if self._cache_epoch == epoch and len(self._scans) < SCAN_CACHE_PREFIXES:
                self._scans[prefix] = head
                self._scan_lens.add(len(prefix))
        return iter(head)

    def iter_prefix_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Latest committed (key, value) pairs under prefix whose key is >= start, in key
        order: a seek, so a page deep in a long listing does not read the keys before it."""
        got = self._scans.get(prefix)
        if got is not None:
            return iter(got[bisect_left(got, (start,)):])
        n = len(FLAT)
        stop = prefix_end(FLAT + prefix)
        it = self.db.iterator(start=FLAT + max(start, prefix), **({"stop": stop} if stop else {}))
        return ((k[n:], v) for k, v in it)

    def _update_scans(self, written: dict[bytes, bytes | None] | None) -> None:
        """Bring the cached listings up to date with the keys a commit wrote (None: forget
        them all); a listing that outgrows SCAN_CACHE_ITEMS is dropped. A listing is
        replaced, never changed in place: a reader may be iterating the old one. The caller
        holds the cache lock."""
        scans = self._scans
        if not scans:
            return
        if written is None or len(written) > SCAN_DROP_ALL_OVER:
            scans.clear()
            self._scan_lens.clear()
            return
        lens = self._scan_lens
        edits: dict[bytes, list[bytes]] = {}
        for k in written:
            for n in lens:
                if k[:n] in scans:
                    edits.setdefault(k[:n], []).append(k)
        for prefix, keys in edits.items():
            listing = dict(scans[prefix])
            for k in keys:
                v = written[k]
                if v is None:
                    listing.pop(k, None)
                else:
                    listing[k] = v
            if len(listing) > SCAN_CACHE_ITEMS:
                del scans[prefix]
            else:
                scans[prefix] = sorted(listing.items())

    def _load_node(self, key: bytes) -> bytes | None:
        v = self._node_cache.get(key)
        if v is None:
            getattr(self._pacing, "point", NEVER).pause()
            v = self.db.get(key)
            if v is not None and v[0] == 1:  # cache internal nodes; leaves are too many
                self._node_cache.put(key, v)
        return v

    def _load_replaced_node(self, key: bytes) -> bytes | None:
        """A node a tree update is about to replace: from the cache if there, but a miss
        does not fill it (at 1M keys a block replaces 35,000 nodes nobody reads again)."""
        v = self._node_cache.get(key)
        if v is None:
            getattr(self._pacing, "point", NEVER).pause()
            return self.db.get(key)
        return v

    def _root_slot(self, version: int) -> Slot | None:
        raw = self.db.get(ROOT + version.to_bytes(8, "big"))
        if raw is None:
            raise StoreError(f"no state at version {version}")
        return decode_slot(raw)

    def has_version(self, version: int) -> bool:
        return self.db.get(ROOT + version.to_bytes(8, "big")) is not None

    def root_at(self, version: int) -> bytes:
        return slot_hash(self._root_slot(version))

    def get_at(self, key: bytes, version: int | None = None) -> tuple[bytes | None, dict, bytes]:
        """(value, proof, root hash) of key at version (default: latest)."""
        if version is None:
            version = self.version
        if version is None:
            raise StoreError("the store is empty")
        try:
            slot = self._root_slot(version)
        except StoreError:
            raise StoreError(f"no state at version {version} (kept: the last {self.keep_versions}"
                             " versions and pinned ones)") from None
        value, proof = self.tree.walk(slot, key)
        return value, proof, slot_hash(slot)

    def iter_state(self, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) of the state at version, from the tree (keyhash order)."""
        version = self.version if version is None else version
        return self.tree.iter_leaves(self._root_slot(version))

    # ----- writes ------------------------------------------------------------------
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
        indexed: list[bytes] = []  # node keys put in the stale index
        held = None  # what pruning left indexed at the new floor (None: nothing pruned)
        self._caches_changing()
        with self.db.write_batch(transaction=True, sync=True) as wb:
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
            if final and v <= v - self.keep_versions + 1:
                # keep_versions == 1: nothing older is served, so what this block
                # replaced goes now (unless a pin needs it), not one block later.
                for k in yield_point.paced(up.stale):
                    u = int.from_bytes(k[1:9], "big")
                    if any(u <= p < v for p in self.pins):
                        wb.put(STALE + vb + k, b"")
                        indexed.append(k)
                    else:
                        wb.delete(k)
                        self._node_cache.discard(k)
            else:
                for k in yield_point.paced(up.stale):
                    wb.put(STALE + vb + k, b"")
                indexed = up.stale
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
        flat_cache, node_cache = self._flat_cache, self._node_cache
        with self._cache_lock:
            if cache:
                for k, val in pending.flat.items():
                    flat_cache.put(k, val)
            else:
                for k in pending.flat:
                    flat_cache.discard(k)
            self._update_scans(pending.flat)
            self._cache_epoch += 1
        for k, val in yield_point.paced(up.writes.items()):
            if cache and val is not None and val[0] == 1:
                node_cache.put(k, val)  # new internal nodes are the next block's hot path
            else:
                node_cache.discard(k)
        for k in up.stale:  # replaced by this block: only a past-height query reads them now
            node_cache.discard(k)
        if final and v != self.version and len(indexed) <= STALE_LOG_MAX:
            self._stale_log[v] = list(indexed)
        else:  # a genesis chunk, or a large block: pruning lists this version from LevelDB
            self._stale_log.pop(v, None)
        if held is not None:
            self._note_pruned(pruned, held)
        self.version = v
        self.root = up.root
        self.pruned_below = pruned
        self._format_written = self._format_written or final

    # ----- rewind, dump, load (devnets) -----------------------------------------------
    def revert(self, target: int, extra_deletes: list[bytes] = (), extra_puts: dict[bytes, bytes] | None = None) -> None:
        """Rewind the state to version target (which must be retained or pinned), in one
        synced batch with the caller's block-store edits. Needs the undo logs of every
        later version (keep_undo)."""
        if self.version is None or target > self.version:
            raise StoreError(f"cannot revert to version {target}: the head is {self.version}")
        if not self.has_version(target):
            raise StoreError(f"no state at version {target} (pruned and not pinned)")
        logs = []
        for v in range(self.version, target, -1):
            raw = self.db.get(UNDO + v.to_bytes(8, "big"))
            if raw is None:
                raise StoreError(f"no undo log for version {v}: revert needs keep_undo from the snapshot on")
            logs.append(decode_stored(raw))
        restore: dict[bytes, bytes | None] = {}
        for log in logs:  # newest first, so the oldest change's old value wins
            for key, old in log:
                restore[key] = old
        first_dead = (target + 1).to_bytes(8, "big")
        self._caches_changing()
        with self.db.write_batch(transaction=True, sync=True) as wb:
            for key, old in restore.items():
                if old is None:
                    wb.delete(FLAT + key)
                else:
                    wb.put(FLAT + key, old)
            for prefix in (NODE_PREFIX, LEAF_PREFIX, ROOT, UNDO, STALE):
                for k in self.db.iterator(start=prefix + first_dead, stop=prefix + b"\xff" * 9, include_value=False):
                    wb.delete(k)
            for k in extra_deletes:
                wb.delete(k)
            for k, val in (extra_puts or {}).items():
                wb.put(k, val)
            wb.put(META_VERSION, target.to_bytes(8, "big"))
        self.pins = {p for p in self.pins if p <= target}
        with self.db.write_batch(sync=True) as wb:
            self._write_pins(wb)
        self._clear_value_caches()
        self._node_cache.clear()
        for w in [w for w in self._stale_log if w > target]:
            del self._stale_log[w]
        self.version = target
        self.root = self._root_slot(target)

    def dump(self):
        """Every key/value of the database (state, history, blocks): a devnet dump."""
        return self.db.iterator()

    def adopt(self, path: str) -> None:
        """Switch to the database at path (a complete, closed one, e.g. a staged dev load):
        close the current one and reread everything from the new one. No other thread may
        use the store meanwhile; the caller removes the old directory."""
        check = _open_db(path)
        try:
            if check.get(META_VERSION) is None:
                raise StoreError("not a state dump: it holds no state version")
            _check_format(check.get(META_FORMAT), "the dump")
        finally:
            check.close()
        self._caches_changing()
        self.db.close()
        self.path = path
        self.db = _open_db(path)
        if self.log_room is not None:
            self.log_room = LogRoom(path)
        self._clear_value_caches()
        self._node_cache.clear()
        self._stale_log.clear()
        self._read_meta()

    # ----- retention ---------------------------------------------------------------
    def _prune_into(self, wb, version: int) -> tuple[int, list[bytes] | None]:
        """Add to wb the deletions that the retention window allows: (the new floor, the
        node keys at it that pins hold, for _note_pruned once wb is written; None when
        nothing was pruned)."""
        floor = version - self.keep_versions + 1  # oldest version still served
        start = self.pruned_below
        if floor <= start:
            return start, None
        low_pin = min(self.pins, default=floor)
        for v in range(start, floor):
            if v not in self.pins:
                wb.delete(ROOT + v.to_bytes(8, "big"))
            if v < low_pin:  # undo logs above a pin stay: revert to it needs them
                wb.delete(UNDO + v.to_bytes(8, "big"))
        held = self._prune_stale(wb, start, floor)
        wb.put(META_PRUNED, floor.to_bytes(8, "big"))
        return floor, held

    def _prune_stale(self, wb, lo: int, floor: int) -> list[bytes]:
        """Delete nodes replaced at versions in [lo, floor] that no pinned version needs;
        return the node keys replaced at floor that a pin holds (they stay indexed).

        A node written at version u and replaced at version w serves versions u..w-1, so
        it may go once w <= floor, unless some pin p has u <= p < w.
        """
        pins = sorted(self.pins)
        log = self._stale_log
        if all(w in log for w in range(lo, floor + 1)):
            entries = [(w, node) for w in range(lo, floor + 1) for node in log[w]]
        else:
            hi = STALE + floor.to_bytes(8, "big") + b"\xff"
            entries = [(int.from_bytes(k[1:9], "big"), k[9:])
                       for k in self.db.iterator(start=STALE + lo.to_bytes(8, "big"), stop=hi, include_value=False)]
        held = []
        for w, node in entries:
            if pins:
                u = int.from_bytes(node[1:9], "big")  # the version that wrote the node
                if any(u <= p < w for p in pins):
                    if w == floor:
                        held.append(node)
                    continue  # held by a pin; unpin() walks it again
            wb.delete(node)
            wb.delete(STALE + w.to_bytes(8, "big") + node)
            self._node_cache.discard(node)
        return held

    def _note_pruned(self, floor: int, held: list[bytes]) -> None:
        """After a pruning batch is written: versions below floor have nothing indexed that
        pruning will visit again; at floor only what pins hold remains."""
        log = self._stale_log
        for w in [w for w in log if w < floor]:
            del log[w]
        log[floor] = held

    def _write_pins(self, wb) -> None:
        wb.put(META_PINS, b"".join(p.to_bytes(8, "big") for p in sorted(self.pins)))

    def pin(self, version: int) -> None:
        """Keep version servable until unpinned (dev snapshots)."""
        if not self.has_version(version):
            raise StoreError(f"no state at version {version}")
        self.pins.add(version)
        with self.db.write_batch(transaction=True, sync=True) as wb:
            self._write_pins(wb)

    def unpin(self, version: int) -> None:
        """Release a pin; what only it held is deleted now."""
        self.pins.discard(version)
        with self.db.write_batch(transaction=True, sync=True) as wb:
            self._write_pins(wb)
            held = None
            if version < self.pruned_below:
                wb.delete(ROOT + version.to_bytes(8, "big"))
                held = self._prune_stale(wb, 0, self.pruned_below)
            keep_from = min(min(self.pins, default=self.pruned_below), self.pruned_below)
            for k in self.db.iterator(start=UNDO, stop=UNDO + keep_from.to_bytes(8, "big"), include_value=False):
                wb.delete(k)
        if held is not None:
            self._note_pruned(self.pruned_below, held)


def prefix_end(prefix: bytes) -> bytes | None:
    """The least key greater than every key that starts with prefix (None: there is none)."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else None


class VersionView:
    """Read-only state at one retained version: point reads walk the tree; listings by
    prefix replay undo logs over the latest state (the tree is ordered by key hash)."""

    def __init__(self, store: Store, version: int):
        if store.version is not None and version == store.version:
            self._latest = store
        else:
            self._latest = None
            try:
                self._slot = store._root_slot(version)
            except StoreError:
                raise StoreError(f"no state at version {version} (kept: the last {store.keep_versions}"
                                 " versions and pinned ones)") from None
        self.store = store
        self.version = version

    def get(self, key: bytes) -> bytes | None:
        if self._latest is not None:
            return self._latest.get(key)
        return self.store.tree.walk(self._slot, key)[0]

    def iter_prefix_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) under prefix with key >= start at this version, in key order (a seek
        at the latest version; at an older one the corrected listing, filtered)."""
        if self._latest is not None:
            return self._latest.iter_prefix_from(prefix, start)
        return ((k, v) for k, v in self.iter_prefix(prefix) if k >= start)

    def iter_prefix(self, prefix: bytes):
        """(key, value) under prefix at this version, in key order: the latest listing
        corrected by the undo logs of every later block (cost: the changes since)."""
        if self._latest is not None:
            return self._latest.iter_prefix(prefix)
        store = self.store
        restore: dict[bytes, bytes | None] = {}
        for v in range(store.version, self.version, -1):  # newest first: the oldest wins
            raw = store.db.get(UNDO + v.to_bytes(8, "big"))
            if raw is None:
                raise StoreError(f"listing at version {self.version} needs the undo log of {v}, which is pruned")
            for key, old in decode_stored(raw):
                if key.startswith(prefix):
                    restore[key] = old
        items = {k: v for k, v in store.iter_prefix(prefix) if k not in restore}
        items.update((k, v) for k, v in restore.items() if v is not None)
        return iter(sorted(items.items()))
