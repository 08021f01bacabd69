"""Property tests of the state tree and its proofs (state/store/, state/tree.py, state/proof.py).

Keys are written to a real LevelDB Store in a temporary directory. Asserts:
- the Store's root equals an independent from-scratch computation of the spec'd root
  (docs/protocol.md, "State commitment") after every block, so the root depends only on
  the final key/value set: different insert/update/delete orders and different block
  splits give the same root, and deleting every key gives 32 zero bytes;
- Store.get_at returns the value with an inclusion proof for every present key and an
  exclusion proof for absent keys, at the latest and at every retained older version;
- verify_proof refuses a proof with any single byte flipped in any hash, bitmap or leaf
  hash, structural tampering (dropped/extra node, dropped/forged leaf), a wrong value,
  a claimed absence of a present key, and a proof checked against any other root.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rwachain.state.proof import EMPTY_ROOT, leaf_hash, verify_proof
from rwachain.state.store import Store, StoreError
from tests.mech import spec_root


def sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def nibble(h: bytes, depth: int) -> int:
    return h[depth // 2] >> 4 if depth % 2 == 0 else h[depth // 2] & 0x0F


def _clustered_keys(n_candidates: int = 20_000, n_keep: int = 48) -> list[bytes]:
    """Keys whose hashes share long nibble prefixes, so trees get deep paths."""
    cands = sorted((sha(b"c%d" % i), b"c%d" % i) for i in range(n_candidates))

    def lcp(a: bytes, b: bytes) -> int:
        d = 0
        while d < 64 and nibble(a, d) == nibble(b, d):
            d += 1
        return d

    scored = []
    for (h1, k1), (h2, k2) in zip(cands, cands[1:], strict=False):
        scored.append((lcp(h1, h2), k1, k2))
    scored.sort(reverse=True)
    out: list[bytes] = []
    for _, k1, k2 in scored:
        for k in (k1, k2):
            if k not in out:
                out.append(k)
        if len(out) >= n_keep:
            break
    return out


CLUSTERED = _clustered_keys()
keys = st.one_of(st.binary(max_size=12), st.sampled_from(CLUSTERED))
vals = st.binary(max_size=24)
states = st.dictionaries(keys, vals, max_size=40)


class TmpStore:
    """A Store in a fresh temporary directory (usable inside hypothesis examples)."""

    def __init__(self, keep_versions: int = 100):
        self._dir = tempfile.TemporaryDirectory(prefix="rwa-proof-")
        self.store = Store(os.path.join(self._dir.name, "state.ldb"), keep_versions=keep_versions)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc) -> None:
        self.store.close()
        self._dir.cleanup()


def commit(store: Store, changes: dict[bytes, bytes | None]) -> bytes:
    version = 1 if store.version is None else store.version + 1
    store.commit(store.prepare(version, changes))
    return store.root_hash


# ----- inclusion and exclusion ---------------------------------------------------------
@pytest.mark.slow
@given(states, st.lists(keys, max_size=8))
def test_inclusion_and_exclusion_proofs_verify(state, probes):
    with TmpStore() as store:
        root = commit(store, dict(state))
        assert root == spec_root(state) == store.root_at(store.version)
        for k, v in state.items():
            value, proof, r = store.get_at(k)
            assert (value, r) == (v, root)
            assert verify_proof(root, k, v, proof)
            assert not verify_proof(root, k, None, proof)  # cannot claim it absent
            assert not verify_proof(root, k, v + b"\x00", proof)
            if v:
                assert not verify_proof(root, k, v[:-1], proof)
        for k in probes:
            if k in state:
                continue
            value, proof, r = store.get_at(k)
            assert value is None and r == root
            assert verify_proof(root, k, None, proof)
            assert not verify_proof(root, k, b"", proof)
            assert not verify_proof(root, k, b"x", proof)


def _flips(proof: dict):
    """Every proof with exactly one byte (hash/leaf) or one bitmap bit changed."""
    nodes, leaf = proof["nodes"], proof["leaf"]
    for i, (bitmap, hashes) in enumerate(nodes):
        for bit in range(16):
            yield {"nodes": nodes[:i] + [[bitmap ^ (1 << bit), hashes]] + nodes[i + 1:], "leaf": leaf}
        for j, h in enumerate(hashes):
            for pos in range(len(h)):
                for mask in (0x01, 0x80):
                    bad = h[:pos] + bytes([h[pos] ^ mask]) + h[pos + 1:]
                    hs = hashes[:j] + [bad] + hashes[j + 1:]
                    yield {"nodes": nodes[:i] + [[bitmap, hs]] + nodes[i + 1:], "leaf": leaf}
    if leaf is not None:
        for side in (0, 1):
            for pos in range(32):
                h = leaf[side]
                bad = h[:pos] + bytes([h[pos] ^ 0x01]) + h[pos + 1:]
                yield {"nodes": nodes, "leaf": [bad, leaf[1]] if side == 0 else [leaf[0], bad]}


def _structural(proof: dict, other_leaf):
    nodes, leaf = proof["nodes"], proof["leaf"]
    if nodes:
        yield {"nodes": nodes[:-1], "leaf": leaf}
        yield {"nodes": nodes[1:], "leaf": leaf}
        yield {"nodes": nodes + [nodes[-1]], "leaf": leaf}
        bm, hs = nodes[0]
        yield {"nodes": [[bm, hs[:-1]]] + nodes[1:], "leaf": leaf}
        yield {"nodes": [[bm, hs + [bytes(32)]]] + nodes[1:], "leaf": leaf}
        yield {"nodes": [[bm, list(reversed(hs))]] + nodes[1:], "leaf": leaf} if len(set(hs)) > 1 else None
    if leaf is not None:
        yield {"nodes": nodes, "leaf": None}
        yield {"nodes": nodes, "leaf": [leaf[1], leaf[0]]}
    else:
        yield {"nodes": nodes, "leaf": [bytes(32), bytes(32)]}
    if other_leaf is not None and other_leaf != leaf:
        yield {"nodes": nodes, "leaf": other_leaf}
    yield {"nodes": [], "leaf": None}
    yield {"leaf": leaf}
    yield {"nodes": nodes}
    yield {"nodes": tuple(nodes), "leaf": leaf} if nodes else None
    yield {"nodes": "garbage", "leaf": leaf}
    yield {"nodes": [[1, [b"short"]]] + nodes[1:], "leaf": leaf}


@pytest.mark.slow
@settings(max_examples=30)
@given(states.filter(lambda s: len(s) >= 1), keys, st.data())
def test_tampered_proofs_are_refused(state, absent, data):
    assume(absent not in state)
    with TmpStore() as store:
        root = commit(store, dict(state))
        present = data.draw(st.sampled_from(sorted(state)), label="present key")
        v = state[present]
        _, pin, _ = store.get_at(present)
        _, pout, _ = store.get_at(absent)
        assert verify_proof(root, present, v, pin) and verify_proof(root, absent, None, pout)
        for bad in _flips(pin):
            assert not verify_proof(root, present, v, bad), bad
        for bad in _flips(pout):
            assert not verify_proof(root, absent, None, bad), bad
        # A structural change that leaves the proof equal to the genuine one (e.g. the
        # leaf's two hashes swapped when key == value) is no tampering: skip it.
        for bad in _structural(pin, pout["leaf"]):
            if bad is not None and bad != pin:
                assert not verify_proof(root, present, v, bad), bad
        for bad in _structural(pout, pin["leaf"]):
            if bad is not None and bad != pout:
                assert not verify_proof(root, absent, None, bad), bad
        # the inclusion proof does not prove the key under a different value, and another
        # key's inclusion proof does not prove this key present with its value
        for other in state:
            if other != present:
                _, po, _ = store.get_at(other)
                assert not verify_proof(root, present, v, po)


@pytest.mark.slow
@settings(max_examples=30)
@given(states.filter(lambda s: len(s) >= 1), st.data())
def test_proofs_do_not_verify_against_another_root(state, data):
    with TmpStore() as store:
        root1 = commit(store, dict(state))
        k = data.draw(st.sampled_from(sorted(state)))
        newval = data.draw(vals.filter(lambda x: x != state[k]))
        root2 = commit(store, {k: newval})
        assert root1 != root2
        _, p1, r1 = store.get_at(k, 1)
        _, p2, r2 = store.get_at(k, 2)
        assert (r1, r2) == (root1, root2)
        assert verify_proof(root1, k, state[k], p1) and verify_proof(root2, k, newval, p2)
        assert not verify_proof(root2, k, state[k], p1)
        assert not verify_proof(root1, k, newval, p2)
        assert not verify_proof(root2, k, newval, p1)
        assert not verify_proof(root1, k, state[k], p2)
        random_root = data.draw(st.binary(min_size=32, max_size=32).filter(
            lambda r: r not in (root1, root2)))
        for r in (random_root, EMPTY_ROOT, root1[:-1] + bytes([root1[-1] ^ 1])):
            assert not verify_proof(r, k, state[k], p1)


def test_empty_store_root_and_proofs():
    with TmpStore() as store:
        with pytest.raises(StoreError):
            store.get_at(b"a")
        assert commit(store, {}) == EMPTY_ROOT
        value, proof, root = store.get_at(b"a")
        assert (value, proof, root) == (None, {"nodes": [], "leaf": None}, EMPTY_ROOT)
        assert verify_proof(EMPTY_ROOT, b"a", None, proof)
        assert not verify_proof(EMPTY_ROOT, b"a", b"", proof)
        assert not verify_proof(EMPTY_ROOT, b"a", None, {"nodes": [], "leaf": [bytes(32)] * 2})


def test_single_key_root_is_its_leaf():
    with TmpStore() as store:
        root = commit(store, {b"k": b"v"})
        assert root == leaf_hash(sha(b"k"), sha(b"v"))
        value, proof, _ = store.get_at(b"k")
        assert value == b"v" and proof == {"nodes": [], "leaf": [sha(b"k"), sha(b"v")]}
        # any other key: excluded by the one leaf (its path is the root itself)
        _, proof, _ = store.get_at(b"other")
        assert proof == {"nodes": [], "leaf": [sha(b"k"), sha(b"v")]}
        assert verify_proof(root, b"other", None, proof)


# ----- history independence ---------------------------------------------------------------
ops = st.lists(st.tuples(keys, st.one_of(st.none(), vals)), max_size=60)


def _apply_in_blocks(store: Store, operations, cuts, model: dict, check_each=True) -> None:
    """Apply (key, value|None) operations, cut into blocks at the given indexes."""
    bounds = sorted({0, len(operations), *(c % (len(operations) + 1) for c in cuts)})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        changes: dict[bytes, bytes | None] = {}
        for k, v in operations[lo:hi]:
            changes[k] = v
            if v is None:
                model.pop(k, None)
            else:
                model[k] = v
        root = commit(store, changes)
        if check_each:
            assert root == spec_root(model)
            assert dict(store.iter_state()) == model


@pytest.mark.slow
@settings(max_examples=40)
@given(ops, st.lists(st.integers(0, 60), max_size=6), st.randoms(use_true_random=False))
def test_root_is_history_independent(operations, cuts, rnd):
    model: dict[bytes, bytes] = {}
    with TmpStore(keep_versions=3) as store:
        _apply_in_blocks(store, operations, cuts, model)
        root_a = store.root_hash
    final = dict(model)
    assert root_a == spec_root(final)
    # B: the final set written in one block, in a shuffled order
    with TmpStore() as store:
        items = list(final.items())
        rnd.shuffle(items)
        assert commit(store, dict(items)) == root_a
    # C: the final set in a different order and block split, with extra keys written
    # and deleted on the way and values overwritten before their final value
    with TmpStore() as store:
        # 13+ byte keys: never drawn by the `keys` strategy
        noise = [(b"noise-key-%03d" % i, b"n") for i in range(rnd.randint(0, 12))]
        stepped = [(k, b"old-" + v) for k, v in items] + noise
        stepped += [(k, v) for k, v in reversed(items)] + [(k, None) for k, _ in noise]
        m: dict[bytes, bytes] = {}
        cuts2 = [rnd.randint(0, len(stepped)) for _ in range(rnd.randint(0, 5))]
        _apply_in_blocks(store, stepped, cuts2, m)
        assert m == final
        assert store.root_hash == root_a


@pytest.mark.slow
@settings(max_examples=40)
@given(states, st.lists(st.integers(0, 60), max_size=5), st.randoms(use_true_random=False))
def test_deleting_every_key_gives_the_empty_root(state, cuts, rnd):
    with TmpStore() as store:
        commit(store, dict(state))
        order = list(state)
        rnd.shuffle(order)
        model = dict(state)
        _apply_in_blocks(store, [(k, None) for k in order], cuts, model)
        assert model == {}
        assert store.root_hash == EMPTY_ROOT
        assert list(store.iter_state()) == []
        for k in order[:5]:
            value, proof, root = store.get_at(k)
            assert value is None and root == EMPTY_ROOT
            assert verify_proof(EMPTY_ROOT, k, None, proof)
        # and the tree grows back to the same root as a fresh store
        if state:
            again = commit(store, dict(state))
            assert again == spec_root(state)


@pytest.mark.slow
@settings(max_examples=25)
@given(st.lists(st.dictionaries(keys, st.one_of(st.none(), vals), max_size=10),
                min_size=1, max_size=8), st.lists(keys, max_size=5))
def test_historic_proofs_at_retained_versions(blocks, probes):
    keep = 3
    with TmpStore(keep_versions=keep) as store:
        snapshots: dict[int, dict[bytes, bytes]] = {}
        model: dict[bytes, bytes] = {}
        for changes in blocks:
            for k, v in changes.items():
                if v is None:
                    model.pop(k, None)
                else:
                    model[k] = v
            commit(store, changes)
            snapshots[store.version] = dict(model)
        latest = store.version
        for version, snap in snapshots.items():
            if version <= latest - keep:
                assert not store.has_version(version)
                with pytest.raises(StoreError):
                    store.get_at(b"x", version)
                continue
            root = store.root_at(version)
            assert root == spec_root(snap)
            assert dict(store.iter_state(version)) == snap
            for k in list(snap)[:6] + probes:
                value, proof, r = store.get_at(k, version)
                assert r == root and value == snap.get(k)
                assert verify_proof(root, k, value, proof)


# ----- retention: pruning keeps exactly what the retained versions reach -------------------
def _reachable_nodes(store: Store, versions) -> set[bytes]:
    """Node keys reachable from the roots of the given versions."""
    from rwachain.state.tree import decode_internal, slot_key

    out: set[bytes] = set()

    def walk(slot, depth: int, path: bytes) -> None:
        if slot is None:
            return
        key = slot_key(slot, depth, path)
        if key in out:
            return
        out.add(key)
        if slot[2]:
            return
        data = store.db.get(key)
        assert data is not None, f"missing node {key.hex()}"
        for nib, child in enumerate(decode_internal(data)):
            if child is not None:
                b = bytearray(path)
                i = depth >> 1
                b[i] = (b[i] & 0x0F) | (nib << 4) if depth % 2 == 0 else (b[i] & 0xF0) | nib
                walk(child, depth + 1, bytes(b))

    for v in versions:
        walk(store._root_slot(v), 0, bytes(32))
    return out


def _stored_nodes(store: Store) -> set[bytes]:
    from rwachain.state.tree import LEAF_PREFIX, NODE_PREFIX

    return {k for p in (NODE_PREFIX, LEAF_PREFIX) for k in store.db.iterator(prefix=p, include_value=False)}


@pytest.mark.slow
@settings(max_examples=25)
@given(st.integers(2, 4), st.lists(st.dictionaries(keys, st.one_of(st.none(), vals), max_size=8),
                                   min_size=1, max_size=8))
def test_pruning_keeps_exactly_the_nodes_of_retained_versions(keep, blocks):
    with TmpStore(keep_versions=keep) as store:
        for changes in blocks:
            commit(store, changes)
            retained = [v for v in range(1, store.version + 1) if store.has_version(v)]
            assert retained == list(range(max(1, store.version - keep + 1), store.version + 1))
            assert _stored_nodes(store) == _reachable_nodes(store, retained)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.lists(st.tuples(st.dictionaries(keys, st.one_of(st.none(), vals), max_size=8),
                                             st.sampled_from(["", "pin", "unpin"])), min_size=1, max_size=10))
def test_pruning_from_memory_and_from_leveldb_delete_the_same(keep, steps):
    """A store kept open prunes small blocks from its in-memory stale log; one reopened
    after every block lists the stale index from LevelDB. With pins taken and released
    along the way, the two databases stay identical, key for key."""
    with TmpStore(keep_versions=keep) as warm, TmpStore(keep_versions=keep) as cold:
        for changes, pin in steps:
            for store in (warm, cold):
                commit(store, changes)
                if pin == "pin":
                    store.pin(store.version)
                elif pin == "unpin" and store.pins:
                    store.unpin(min(store.pins))
            path = cold.path
            cold.close()
            cold.__init__(path, keep_versions=keep)
            assert list(warm.db.iterator()) == list(cold.db.iterator())


def test_pruning_with_keep_versions_1_is_immediate():
    with TmpStore(keep_versions=1) as store:
        commit(store, {b"a": b"1", b"b": b"1"})
        commit(store, {b"a": b"2", b"b": None})
        assert _stored_nodes(store) == _reachable_nodes(store, [store.version])
