"""The state tree: bounded writes per changed key, history, retention and pins."""

from __future__ import annotations

import hashlib
import math

import pytest

from rwachain.state.proof import EMPTY_ROOT, verify_proof
from rwachain.state.store import Store, StoreError


def _key(i: int) -> bytes:
    return b"acct/" + hashlib.sha256(i.to_bytes(8, "big")).digest()[:20]


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 2, 16, 300, 5_000, 40_000])
def test_nodes_written_per_changed_key_is_logarithmic(tmp_path, k):
    """Updating one key writes at most ceil(log2 K) + 2 nodes, K keys in state."""
    store = Store(str(tmp_path / "s"))
    store.commit(store.prepare(0, {_key(i): b"v0" for i in range(k)}))
    bound = math.ceil(math.log2(k)) + 2
    worst = 0
    for v, i in enumerate(range(0, k, max(1, k // 50)), start=1):
        pending = store.prepare(v, {_key(i): b"v%d" % v})
        worst = max(worst, pending.update.nodes_written)
        store.commit(pending)
    assert 1 <= worst <= bound, (k, worst, bound)
    # an insert and a delete are bounded the same way
    pending = store.prepare(store.version + 1, {_key(k + 1): b"new"})
    assert pending.update.nodes_written <= math.ceil(math.log2(k + 1)) + 2
    store.commit(pending)
    pending = store.prepare(store.version + 1, {_key(0): None})
    assert pending.update.nodes_written <= bound
    store.close()


def test_unchanged_values_write_nothing(tmp_path):
    store = Store(str(tmp_path / "s"))
    store.commit(store.prepare(0, {b"a": b"1", b"b": b"2"}))
    pending = store.prepare(1, {b"a": b"1", b"zz": None})
    assert pending.update.nodes_written == 0 and pending.root_hash == store.root_hash


def test_queries_at_recent_heights_and_pruning(tmp_path):
    store = Store(str(tmp_path / "s"), keep_versions=5)
    for v in range(20):
        store.commit(store.prepare(v, {b"counter": b"%d" % v, b"k%d" % v: b"x"}))
    for v in range(15, 20):
        value, proof, root = store.get_at(b"counter", v)
        assert value == b"%d" % v and verify_proof(root, b"counter", value, proof)
        assert root == store.root_at(v)
    with pytest.raises(StoreError, match="version 14"):
        store.get_at(b"counter", 14)
    # nodes of pruned versions are gone: the node count stays bounded
    nodes = sum(1 for p in (b"n", b"l") for _ in store.db.iterator(prefix=p, include_value=False))
    assert nodes < 20 * 6


def test_pin_keeps_a_version_until_unpinned(tmp_path):
    store = Store(str(tmp_path / "s"), keep_versions=2)
    store.commit(store.prepare(0, {b"a": b"0", b"b": b"0"}))
    store.commit(store.prepare(1, {b"a": b"1"}))
    store.pin(1)
    for v in range(2, 12):
        store.commit(store.prepare(v, {b"a": b"%d" % v, b"b": b"%d" % v}))
    value, proof, root = store.get_at(b"a", 1)
    assert value == b"1" and verify_proof(root, b"a", b"1", proof)
    assert store.get_at(b"b", 1)[0] == b"0"
    # pins survive a restart
    path = store.path
    store.close()
    store = Store(path, keep_versions=2)
    assert store.get_at(b"a", 1)[0] == b"1"
    store.unpin(1)
    with pytest.raises(StoreError):
        store.get_at(b"a", 1)
    # everything pruned: only the nodes of the kept versions remain
    kept = {k for p in (b"n", b"l") for k, _ in store.db.iterator(prefix=p)}
    assert all(int.from_bytes(k[1:9], "big") >= 2 for k in kept)
    assert store.get_at(b"a")[0] == b"11"


def test_deleting_everything_gives_the_empty_root(tmp_path):
    store = Store(str(tmp_path / "s"))
    keys = [_key(i) for i in range(100)]
    store.commit(store.prepare(0, dict.fromkeys(keys, b"v")))
    store.commit(store.prepare(1, dict.fromkeys(keys)))
    assert store.root_hash == EMPTY_ROOT
    value, proof, root = store.get_at(keys[0])
    assert value is None and verify_proof(root, keys[0], None, proof)


def test_listing_by_prefix_at_past_heights_replays_undo_logs(tmp_path):
    """VersionView.iter_prefix at every retained height equals the history, byte for byte."""
    import random

    from rwachain.state.store import VersionView

    rng = random.Random(7)
    store = Store(str(tmp_path / "s"), keep_versions=6)
    model: dict[bytes, bytes] = {}
    history = {}
    for v in range(30):
        changes = {}
        for _ in range(rng.randint(1, 12)):
            k = (b"a/" if rng.random() < 0.6 else b"b/") + bytes([rng.randint(0, 40)])
            changes[k] = None if rng.random() < 0.3 else b"%d" % rng.randint(0, 99)
        store.commit(store.prepare(v, changes))
        for k, val in changes.items():
            if val is None:
                model.pop(k, None)
            else:
                model[k] = val
        history[v] = dict(model)
    for v in range(store.version - 5, store.version + 1):
        view = VersionView(store, v)
        for prefix in (b"a/", b"b/", b""):
            expected = sorted((k, val) for k, val in history[v].items() if k.startswith(prefix))
            assert list(view.iter_prefix(prefix)) == expected, (v, prefix)
    with pytest.raises(StoreError):
        VersionView(store, store.version - 6)
