"""The store's value cache beside a concurrent commit (real LevelDB).

Admission checks and RPC reads run in other threads while the block executor commits.
A reader that missed the cache and read a value just before a commit changed it must not
put that value back into the cache: the next block would execute on stale state.
"""

from __future__ import annotations

import threading

from state.store import FLAT, Store

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
