"""The store's read caches: values of state keys, small prefix listings, tree nodes.

Readers in other threads (admission checks, RPC) may read while the block executor
commits. A reader that misses the value cache must not put back a value it read before a
concurrent commit changed it (the next block would then execute on stale state): fills
happen under a lock and only if no commit started since the reader looked
(`_cache_epoch`, advanced under the same lock when a commit starts and when it ends).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import chain, islice

from rwachain.state.store.keys import FLAT, prefix_end
from rwachain.state.yieldpoint import NEVER

SCAN_CACHE_ITEMS = 64  # a prefix listing this short is kept in memory (Store.iter_prefix)
SCAN_CACHE_PREFIXES = 1024  # at most this many such listings
SCAN_DROP_ALL_OVER = 2048  # a commit writing more keys drops every listing instead of checking


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


class ReadCaches:
    """The Store's cached reads (a part of Store: it sets up the attributes in __init__)."""

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
        head = [(k[n:], v) for k, v in islice(it, self._scan_items + 1)]
        if len(head) > self._scan_items:
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
            if len(listing) > self._scan_items:
                del scans[prefix]
            else:
                scans[prefix] = sorted(listing.items())

    def _note_committed(self, pending, cache: bool, yield_point) -> None:
        """After a commit's batch is durable: its values into the value cache (or out of it
        when cache is False), its listings edited, its new internal nodes into the node
        cache, and the nodes it replaced out of it."""
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
        up = pending.update
        for k, val in yield_point.paced(up.writes.items()):
            if cache and val is not None and val[0] == 1:
                node_cache.put(k, val)  # new internal nodes are the next block's hot path
            else:
                node_cache.discard(k)
        for k in up.stale:  # replaced by this block: only a past-height query reads them now
            node_cache.discard(k)

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
