"""The store's storage format: leaves and internal nodes in key spaces of their own, a
format marker written with the first committed version, and state of another format
refused (on open and in a dump) before anything changes."""

from __future__ import annotations

import hashlib

import plyvel
import pytest

from rwachain.state.proof import verify_proof
from rwachain.state.store import FORMAT, META_FORMAT, Store, StoreFormatError
from rwachain.state.tree import LEAF_PREFIX, NODE_PREFIX


def _keys(n: int) -> dict[bytes, bytes]:
    return {b"key-%04d" % i: b"value-%d" % i for i in range(n)}


def test_leaves_and_internal_nodes_have_key_spaces_of_their_own(tmp_path):
    store = Store(str(tmp_path / "s"))
    state = _keys(300)
    store.commit(store.prepare(0, state))
    leaves = list(store.db.iterator(prefix=LEAF_PREFIX))
    internal = list(store.db.iterator(prefix=NODE_PREFIX))
    assert len(leaves) == len(state)  # one leaf per key, nothing else under the prefix
    assert all(v[0] == 0 for _, v in leaves)
    assert internal and all(v[0] == 1 for _, v in internal)
    # a leaf record is the key and the value, nothing derived from them
    stored = {v[5 : 5 + int.from_bytes(v[1:5], "big")]: v[5 + int.from_bytes(v[1:5], "big"):] for _, v in leaves}
    assert stored == state
    # proofs rebuild the leaf's hashes from them
    for key, value in list(state.items())[:20]:
        got, proof, root = store.get_at(key)
        assert got == value and verify_proof(root, key, value, proof)
        assert proof["leaf"] == [hashlib.sha256(key).digest(), hashlib.sha256(value).digest()]
    store.close()


def test_the_marker_is_written_with_the_first_version_even_by_chunks(tmp_path):
    """A streamed genesis commits chunks (final=False) before its last one."""
    path = str(tmp_path / "s")
    store = Store(path)
    store.commit(store.prepare(0, _keys(50)), final=False)
    assert store.db.get(META_FORMAT) is None  # an unfinished import is not a state yet
    store.commit(store.prepare(0, {b"last": b"chunk"}, same_version=True))
    assert int.from_bytes(store.db.get(META_FORMAT), "big") == FORMAT
    store.commit(store.prepare(1, {b"last": b"block"}))
    store.close()
    again = Store(path)
    assert again.version == 1 and again.get(b"last") == b"block"
    again.close()


@pytest.mark.parametrize("marker", [None, (FORMAT + 1).to_bytes(2, "big")])
def test_a_database_in_another_format_is_refused_on_open(tmp_path, marker):
    path = str(tmp_path / "s")
    store = Store(path)
    store.commit(store.prepare(0, _keys(10)))
    if marker is None:  # what the format before the marker existed looks like
        store.db.delete(META_FORMAT)
    else:
        store.db.put(META_FORMAT, marker)
    store.close()
    found = 1 if marker is None else FORMAT + 1
    with pytest.raises(StoreFormatError, match=f"storage format {found}, and this build reads format {FORMAT}"
                       ".*fresh data directory"):
        Store(path)


def test_a_dump_in_another_format_is_refused_before_anything_changes(tmp_path):
    source = Store(str(tmp_path / "a"))
    source.commit(source.prepare(0, {b"k": b"dumped"}))
    dump = [[k, v] for k, v in source.dump() if k != META_FORMAT]
    source.close()
    target = Store(str(tmp_path / "b"))
    target.commit(target.prepare(0, {b"k": b"kept"}))

    def staged(name: str, pairs: list) -> str:  # a dev load stages the dump in a database of its own
        db = plyvel.DB(str(tmp_path / name), create_if_missing=True)
        for k, v in pairs:
            db.put(k, v)
        db.close()
        return str(tmp_path / name)

    with pytest.raises(StoreFormatError, match="the dump holds state in storage format 1"):
        target.adopt(staged("c", dump))
    assert target.get(b"k") == b"kept" and target.version == 0
    target.adopt(staged("d", dump + [[META_FORMAT, FORMAT.to_bytes(2, "big")]]))  # the same dump, marked
    assert target.get(b"k") == b"dumped"
    target.close()
