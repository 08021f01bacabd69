"""The compiled tree update (state/_tree_native.c) against the reference (state/tree.py).

Two real LevelDB stores, one per implementation, take the same blocks of changes; for
every block the two updates must agree exactly: new root, every node record and node key
written, the keys retired, the node count. Blocks mix inserts, updates and deletes (of
present and absent keys), over keys chosen to share long key-hash prefixes, so leaves move
up and down and subtrees collapse. Also: the node default is the compiled update, and both
refuse a missing node, a corrupt node and bad input the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.state import tree as tree_mod
from rwachain.state.store import Store
from rwachain.state.tree import Change, Tree

KEYS = [b"k%d" % i for i in range(40)]  # few keys: collisions of the first nibbles are common

changes_of_a_block = st.dictionaries(
    st.sampled_from(KEYS), st.one_of(st.none(), st.binary(min_size=0, max_size=6)), max_size=25)


def _stores(tmp: str) -> tuple[Store, Store]:
    return (Store(os.path.join(tmp, "native"), keep_versions=3, native_tree=True),
            Store(os.path.join(tmp, "reference"), keep_versions=3, native_tree=False))


def test_the_node_uses_the_compiled_update_by_default(tmp_path):
    """Where the project was installed with its Makefile the extension is built; a store
    picks it unless RWACHAIN_TREE=python asks for the reference."""
    assert tree_mod._tree_native is not None, "state/_tree_native.c was not compiled at install"
    s = Store(str(tmp_path / "s"))
    try:
        assert s.tree.native is (os.environ.get("RWACHAIN_TREE", "") != "python")
    finally:
        s.close()


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(changes_of_a_block, min_size=1, max_size=8))
def test_compiled_and_reference_updates_write_the_same_nodes(blocks):
    with tempfile.TemporaryDirectory() as tmp:
        native, ref = _stores(tmp)
        try:
            for version, changes in enumerate(blocks):
                a = native.prepare(version, changes)
                b = ref.prepare(version, changes)
                assert a.root_hash == b.root_hash
                assert a.update.root == b.update.root
                assert a.update.writes == b.update.writes
                assert list(a.update.writes) == list(b.update.writes)
                assert a.update.stale == b.update.stale
                assert a.update.nodes_written == b.update.nodes_written
                native.commit(a)
                ref.commit(b)
            for k in KEYS:
                assert native.get_at(k) == ref.get_at(k)
        finally:
            native.close()
            ref.close()


def _change(key: bytes, value: bytes | None, existed: bool) -> Change:
    return Change(hashlib.sha256(key).digest(), key, value, existed)


@pytest.mark.parametrize("native", [True, False])
def test_a_missing_node_is_a_key_error_naming_it(native):
    t = Tree(lambda k: None, native=native)
    root = (b"\x11" * 32, 7, False)
    with pytest.raises(KeyError, match=r"missing tree node 6e0000000000000007.* \(pruned version\?\)"):
        t.update(root, 8, [_change(b"a", b"1", True)])


def test_a_corrupt_node_is_refused():
    t = Tree(lambda k: b"\x01\x00\x01\x00\x00" + b"\x00" * 39, native=True)
    with pytest.raises(ValueError, match="corrupt internal tree node"):
        t.update((b"\x11" * 32, 7, False), 8, [_change(b"a", b"1", True)])


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("record", [b"\x01", b"\x00\x00\x00\x00\x09abc", b"\x00\x00\x00"])
def test_a_corrupt_leaf_is_refused(native, record):
    """A new key landing on a stored leaf reads it (to move it down): a record with the
    wrong tag, a key length past its end or no length at all is refused."""
    t = Tree(lambda k: record, native=native)
    with pytest.raises(ValueError, match="corrupt tree leaf"):
        t.update((b"\x11" * 32, 7, True), 8, [_change(b"a", b"1", False)])


def test_bad_input_to_the_compiled_update_is_refused():
    up = tree_mod._tree_native.update
    sha = hashlib.sha256
    a, b = _change(b"a", b"1", False), _change(b"b", b"2", False)
    first, second = sorted([a, b], key=lambda c: c.kh)
    with pytest.raises(ValueError, match="sorted by key hash"):
        up(None, 1, [second, first], dict.get, dict.get, sha)
    with pytest.raises(ValueError, match="sorted by key hash"):
        up(None, 1, [first, first], dict.get, dict.get, sha)
    with pytest.raises(TypeError, match="a change is"):
        up(None, 1, [Change(b"short", b"a", b"1", False)], dict.get, dict.get, sha)
    with pytest.raises(TypeError):
        up((b"\x00" * 32, 1), 1, [first], dict.get, dict.get, sha)
    # Nothing above left state behind: a valid call still works.
    root, writes, stale, n = up(None, 1, [first, second], {}.get, {}.get, sha)
    assert root is not None and n == 3 and stale == [] and len(writes) == 3
