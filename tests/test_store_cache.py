"""The store's value cache beside a concurrent commit (real LevelDB).

Admission checks and RPC reads run in other threads while the block executor commits.
A reader that missed the cache and read a value just before a commit changed it must not
put that value back into the cache: the next block would execute on stale state.
"""

from __future__ import annotations

import tempfile
import threading
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.state import store as store_mod
from rwachain.state.store import FLAT, Store

KEY = b"bank/bal/alice"


class _PausingDb:
    """The real plyvel DB, with reads of one key held after they return, so that a
    commit can be made to land between a reader's read and its cache fill."""

    def __init__(self, db, key: bytes, thread_name: str):
        self._db = db
        self._key = FLAT + key
        self._thread = thread_name
        self.read_done = threading.Event()
        self.release = threading.Event()

    def get(self, k, *a):
        v = self._db.get(k, *a)
        if k == self._key and threading.current_thread().name == self._thread:
            self.read_done.set()
            assert self.release.wait(10)
        return v

    def __getattr__(self, name):
        return getattr(self._db, name)


def _store_with_value(tmp_path, value: bytes) -> Store:
    st = Store(str(tmp_path / "db"))
    st.commit(st.prepare(0, {KEY: value, b"other": b"x"}))
    st._flat_cache.clear()  # the next read of KEY misses the cache
    return st


def _read_across_a_commit(st: Store, new_value: bytes | None) -> bytes | None:
    """A reader thread reads KEY; while its read is held, a block sets KEY to new_value."""
    pausing = _PausingDb(st.db, KEY, "reader")
    st.db = pausing
    got = []
    reader = threading.Thread(target=lambda: got.append(st.get(KEY)), name="reader")
    reader.start()
    assert pausing.read_done.wait(10)
    st.commit(st.prepare(st.version + 1, {KEY: new_value}))  # the executor's block
    pausing.release.set()
    reader.join(10)
    st.db = pausing._db
    return got[0]


def test_a_read_overtaken_by_a_commit_does_not_fill_the_cache(tmp_path):
    st = _store_with_value(tmp_path, b"100")
    old = _read_across_a_commit(st, b"40")
    assert old == b"100"  # the reader saw the state before the block: fine for a reader
    assert st.get(KEY) == b"40"  # but the cache holds the committed value
    assert st.db.get(FLAT + KEY) == b"40"
    st.close()


def test_a_deleted_key_stays_deleted_for_the_next_block(tmp_path):
    st = _store_with_value(tmp_path, b"7")
    _read_across_a_commit(st, None)
    assert st.get(KEY) is None
    st.close()


def test_fills_without_a_commit_still_cache(tmp_path):
    st = _store_with_value(tmp_path, b"5")
    assert st.get(KEY) == b"5"
    assert st._flat_cache.get(KEY) == b"5"
    st.close()


# ----- prefix listings kept across commits -------------------------------------------------
_PREFIXES = [b"a/", b"a/x", b"b/", b""]
_LISTED_KEYS = [b"a/%d" % i for i in range(12)] + [b"a/x%d" % i for i in range(10)] + [b"b/%d" % i for i in range(3)]


def _listing(model: dict[bytes, bytes], prefix: bytes) -> list[tuple[bytes, bytes]]:
    """What a listing of prefix must give: the model's pairs under it, in key order."""
    return sorted((k, v) for k, v in model.items() if k.startswith(prefix))


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(st.sampled_from(_LISTED_KEYS), st.one_of(st.none(), st.binary(max_size=3)),
                                          max_size=10),
                          st.lists(st.sampled_from(_PREFIXES), max_size=4)), min_size=1, max_size=12))
def test_prefix_listings_follow_every_commit(blocks):
    """Listings are cached (the small ones) and edited by the commits that write under
    them; whatever the order of listings and commits, a listing equals the model's."""
    model: dict[bytes, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(store_mod, "SCAN_CACHE_ITEMS", 8):
        store = Store(tmp)  # listings of "a/" (up to 22 keys) and "a/x" (10) outgrow 8
        try:
            for version, (changes, listed) in enumerate(blocks):
                store.commit(store.prepare(version, changes))
                model = {k: v for k, v in {**model, **changes}.items() if v is not None}
                for p in listed:
                    assert list(store.iter_prefix(p)) == _listing(model, p)
            for p in _PREFIXES:
                assert list(store.iter_prefix(p)) == _listing(model, p)
            cached = dict(store._scans)
            assert b"b/" in cached, "a listing of at most 3 keys was not kept in memory"
            for p, listing in cached.items():
                assert listing == _listing(model, p)
        finally:
            store.close()


def test_a_commit_edits_a_cached_listing_instead_of_dropping_it(tmp_path):
    """The fee collector's balances are written by every block and listed by the next one:
    the listing stays in memory, edited, until it outgrows SCAN_CACHE_ITEMS."""
    from rwachain.state.store import SCAN_CACHE_ITEMS

    store = Store(str(tmp_path / "db"))
    store.commit(store.prepare(0, {b"bal/r/rwa": b"1", b"bal/r/usd": b"2", b"bal/s/rwa": b"9"}))
    assert list(store.iter_prefix(b"bal/r/")) == [(b"bal/r/rwa", b"1"), (b"bal/r/usd", b"2")]
    store.commit(store.prepare(1, {b"bal/r/rwa": b"3", b"bal/r/usd": None, b"bal/r/eur": b"4", b"bal/s/rwa": b"8"}))
    assert store._scans[b"bal/r/"] == [(b"bal/r/eur", b"4"), (b"bal/r/rwa", b"3")]
    assert list(store.iter_prefix(b"bal/r/")) == [(b"bal/r/eur", b"4"), (b"bal/r/rwa", b"3")]
    many = {b"bal/r/d%02d" % i: b"1" for i in range(SCAN_CACHE_ITEMS)}
    store.commit(store.prepare(2, many))
    assert b"bal/r/" not in store._scans  # outgrown: listed from LevelDB again
    assert len(list(store.iter_prefix(b"bal/r/"))) == SCAN_CACHE_ITEMS + 2
    store.close()


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(_LISTED_KEYS), st.one_of(st.none(), st.binary(max_size=3)),
                                max_size=10), min_size=2, max_size=8),
       st.lists(st.sampled_from(_LISTED_KEYS + [b"", b"a/", b"a/x\xff", b"z"]), min_size=1, max_size=6))
def test_a_listing_from_a_key_is_the_listing_filtered(blocks, starts):
    """iter_prefix_from (the seek behind paged RPC listings) gives exactly the listing's
    pairs at or after start: from cached listings, from LevelDB, and at an older version."""
    from rwachain.state.store import VersionView

    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(store_mod, "SCAN_CACHE_ITEMS", 8):
        store = Store(tmp)
        try:
            for version, changes in enumerate(blocks):
                store.commit(store.prepare(version, changes))
            views = [store, VersionView(store, store.version), VersionView(store, store.version - 1)]
            for view in views:
                for p in _PREFIXES:
                    listing = list(view.iter_prefix(p))
                    for start in starts:
                        assert list(view.iter_prefix_from(p, start)) == [(k, v) for k, v in listing if k >= start]
        finally:
            store.close()


@pytest.mark.slow
def test_flaw_a_page_deep_in_a_listing_reads_every_key_before_it(tmp_path):
    """A page after the 40,000th of 40,000 keys seeks to it: far cheaper than the listing
    (the paged RPC listings - assets, pools, trades, candles, feeds - scanned from the
    start of their index and skipped what came before the page)."""
    import time

    from rwachain.modules.assets.keeper import BY_STATUS, ids_by
    from rwachain.modules.core.context import BlockInfo, Ctx

    prefix = BY_STATUS + b"active\x00"
    store = Store(str(tmp_path / "db"))
    try:
        store.commit(store.prepare(0, {prefix + i.to_bytes(8, "big"): b"" for i in range(1, 40_001)}))
        ctx = Ctx(store, BlockInfo(0, 0, b""))
        t0 = time.perf_counter()
        assert len(list(store.iter_prefix(prefix))) == 40_000
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert ids_by(ctx, prefix, 39_990, 100) == list(range(39_991, 40_001))
        deep = time.perf_counter() - t0
        assert deep < full / 10, (deep, full)
    finally:
        store.close()
