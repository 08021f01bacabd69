"""The authenticated state tree: 16-ary, versioned, updated once per block.

Shape and hashes are specified in state/proof.py (the standalone verifier). Storage:
every node is written once under a node key (version, depth, path prefix) and never
changed; a parent records each child's hash, version and whether it is a leaf, so a walk
reads exactly one LevelDB key per level, and an update of a key that is known to exist
never reads its old leaf. A replaced node is recorded in a stale index under the version
that replaced it, which is what pruning walks (state/store/retention.py).

Record formats (all integers big-endian):
    leaf      0x00 | keylen(4) | key | value (its hashes are recomputed when read)
    internal  0x01 | bitmap(2) | leafbits(2) | per present child: hash(32) | version(8)
    node key  b"n" (internal) or b"l" (leaf) | version(8) | depth(1) |
              keyhash[:(depth+1)//2] with the unused low nibble zeroed
    root slot b"" (empty tree) or hash(32) | version(8) | is_leaf(1)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from rwachain.state.proof import EMPTY_ROOT

try:  # the compiled batch update (state/_tree_native.c): same results, several times faster
    from rwachain.state import _tree_native
except ImportError:  # no compiler where it was installed: the reference below serves
    _tree_native = None

# RWACHAIN_TREE=python selects the reference update even where the native one is built.
NATIVE_UPDATE = _tree_native is not None and os.environ.get("RWACHAIN_TREE", "") != "python"

_sha = hashlib.sha256
NODE_PREFIX = b"n"  # internal nodes
LEAF_PREFIX = b"l"  # leaves: a key space of their own, so that the internal nodes a block
# reads lie together in LevelDB's tables instead of interleaved with a million leaves

# A child slot: (hash, version, is_leaf). None is an empty slot.
Slot = tuple[bytes, int, bool]


def node_key(version: int, depth: int, keyhash: bytes) -> bytes:
    """Storage key of the internal node at depth on keyhash's path, written at version."""
    return NODE_PREFIX + version.to_bytes(8, "big") + key_tail(depth, keyhash)


def leaf_key(version: int, depth: int, keyhash: bytes) -> bytes:
    """Storage key of the leaf at depth on keyhash's path, written at version."""
    return LEAF_PREFIX + version.to_bytes(8, "big") + key_tail(depth, keyhash)


def slot_key(slot: Slot, depth: int, keyhash: bytes) -> bytes:
    """Storage key of the node a slot at depth on keyhash's path points to."""
    return (leaf_key if slot[2] else node_key)(slot[1], depth, keyhash)


def key_tail(depth: int, keyhash: bytes) -> bytes:
    """The part of a node key after the version: depth(1) | path prefix."""
    n = (depth + 1) >> 1
    path = keyhash[:n]
    if depth & 1:
        path = path[:-1] + bytes([path[-1] & 0xF0])
    return bytes([depth]) + path


def encode_slot(slot: Slot | None) -> bytes:
    if slot is None:
        return b""
    return slot[0] + slot[1].to_bytes(8, "big") + (b"\x01" if slot[2] else b"\x00")


def decode_slot(data: bytes) -> Slot | None:
    if not data:
        return None
    return (data[:32], int.from_bytes(data[32:40], "big"), data[40] == 1)


def slot_hash(slot: Slot | None) -> bytes:
    return EMPTY_ROOT if slot is None else slot[0]


def encode_leaf(key: bytes, value: bytes) -> bytes:
    return b"\x00" + len(key).to_bytes(4, "big") + key + value


def decode_leaf(data: bytes) -> tuple[bytes, bytes]:
    """(key, value) of a stored leaf."""
    klen = int.from_bytes(data[1:5], "big")
    if data[:1] != b"\x00" or 5 + klen > len(data):
        raise ValueError("corrupt tree leaf")
    return data[5 : 5 + klen], data[5 + klen :]


# ----- the update's working form of an internal node -------------------------------------
# A node being rewritten is kept as 16 entries (None, or the child's hash(32) | version(8),
# exactly its stored bytes) plus the leaf bits, so unchanged children are never converted:
# decoding, re-encoding and hashing a node cost a few slices and one join each.
_PRESENT: dict[int, tuple[int, ...]] = {}


def _present(bitmap: int) -> tuple[int, ...]:
    """Child indexes set in bitmap, ascending (memoized: at most 65,536 bitmaps)."""
    got = _PRESENT.get(bitmap)
    if got is None:
        got = _PRESENT[bitmap] = tuple(i for i in range(16) if bitmap >> i & 1)
    return got


def decode_entries(data: bytes) -> tuple[list, int, int]:
    """(16 entries, bitmap, leafbits) of a stored internal node."""
    entries: list = [None] * 16
    pos = 5
    bitmap = int.from_bytes(data[1:3], "big")
    for i in _present(bitmap):
        entries[i] = data[pos : pos + 40]
        pos += 40
    return entries, bitmap, int.from_bytes(data[3:5], "big")


def entry_slot(entries: list, leafbits: int, i: int) -> Slot | None:
    e = entries[i]
    if e is None:
        return None
    return (e[:32], int.from_bytes(e[32:], "big"), bool(leafbits >> i & 1))


def decode_internal(data: bytes) -> list:
    """The 16 child slots of a stored internal node (None where absent)."""
    entries, _, leafbits = decode_entries(data)
    return [entry_slot(entries, leafbits, i) for i in range(16)]


def encode_entries(entries: list, bitmap: int, leafbits: int) -> tuple[bytes, bytes]:
    """(stored record, node hash) of an internal node in working form; bitmap and
    leafbits must match entries (a leaf bit only where a child is present)."""
    present = [e for e in entries if e is not None]
    bm = bitmap.to_bytes(2, "big")
    record = b"\x01" + bm + leafbits.to_bytes(2, "big") + b"".join(present)
    return record, _sha(b"\x01" + bm + b"".join([e[:32] for e in present])).digest()


def _nib(kh: bytes, depth: int) -> int:
    b = kh[depth >> 1]
    return b >> 4 if not depth & 1 else b & 0x0F


@dataclass(slots=True)
class Change:
    """One key's change in a block: value None deletes; existed says if it was in state."""

    kh: bytes
    key: bytes
    value: bytes | None
    existed: bool


@dataclass(slots=True)
class TreeUpdate:
    """What one batch update produced: the new root and the node records to persist."""

    root: Slot | None
    writes: dict[bytes, bytes | None] = field(default_factory=dict)  # None = delete now
    stale: list[bytes] = field(default_factory=list)  # node keys replaced, older versions
    nodes_written: int = 0


class Tree:
    """Batch updates, point reads and proofs over nodes fetched through `load`.

    `load(node_key) -> bytes` reads one stored node (the store puts a cache in front).
    """

    def __init__(self, load: Callable[[bytes], bytes | None],
                 load_replaced: Callable[[bytes], bytes | None] | None = None,
                 native: bool | None = None):
        """load_replaced reads the nodes an update is about to replace (optional: a
        store can skip caching those, as nothing will read them at the new version).
        native chooses the compiled batch update (default: NATIVE_UPDATE) or this
        module's reference one; both write the same nodes."""
        self._load = load
        self._load_replaced = load_replaced or load
        if native is None:
            native = NATIVE_UPDATE
        if native and _tree_native is None:
            raise RuntimeError("the native tree update is not built (state/_tree_native.c)")
        self.native = native

    # ----- reads -------------------------------------------------------------------
    def _get_replaced(self, key: bytes) -> bytes:
        return self._get_node(key, self._load_replaced)

    def _get_node(self, key: bytes, load: Callable[[bytes], bytes | None] | None = None) -> bytes:
        data = (load or self._load)(key)
        if data is None:
            raise KeyError(f"missing tree node {key.hex()} (pruned version?)")
        return data

    def walk(self, root: Slot | None, key: bytes) -> tuple[bytes | None, dict]:
        """(value or None, proof) for key under root."""
        kh = _sha(key).digest()
        nodes = []
        slot = root
        depth = 0
        while slot is not None and not slot[2]:
            children = decode_internal(self._get_node(node_key(slot[1], depth, kh)))
            present = [c for c in children if c is not None]
            bitmap = sum(1 << i for i, c in enumerate(children) if c is not None)
            nodes.append([bitmap, [c[0] for c in present]])
            slot = children[_nib(kh, depth)]
            if slot is None:
                return None, {"nodes": nodes, "leaf": None}
            depth += 1
        if slot is None:
            return None, {"nodes": nodes, "leaf": None}
        lkey, lval = decode_leaf(self._get_node(leaf_key(slot[1], depth, kh)))
        lkh = _sha(lkey).digest()
        proof = {"nodes": nodes, "leaf": [lkh, _sha(lval).digest()]}
        return (lval if lkh == kh else None), proof

    def iter_leaves(self, root: Slot | None):
        """Yield (key, value) of every leaf under root, in keyhash order."""
        if root is None:
            return
        stack = [(root, 0, bytes(32))]
        while stack:
            slot, depth, path = stack.pop()
            data = self._get_node(slot_key(slot, depth, path))
            if slot[2]:
                yield decode_leaf(data)
                continue
            children = decode_internal(data)
            for i in range(15, -1, -1):
                c = children[i]
                if c is not None:
                    stack.append((c, depth + 1, _with_nibble(path, depth, i)))

    # ----- batch update ------------------------------------------------------------
    def update(self, root: Slot | None, version: int, changes: list[Change]) -> TreeUpdate:
        """Apply changes (any order, unique keys) at version; nothing is written here."""
        changes = sorted((c for c in changes if c.value is not None or c.existed), key=lambda c: c.kh)
        if changes and self.native:
            new_root, writes, stale, written = _tree_native.update(
                root, version, changes, self._load, self._load_replaced, _sha)
            return TreeUpdate(new_root, writes, stale, written)
        up = TreeUpdate(root=root)
        if changes:
            self._version = version
            self._new_prefix = NODE_PREFIX + version.to_bytes(8, "big")
            self._up = up
            self._moved: dict[bytes, tuple] = {}
            up.root = self._update(root, 0, changes)
            del self._up, self._moved
        return up

    def _retire_leaf(self, ver: int, depth: int, kh: bytes) -> None:
        self._retire_key(ver, leaf_key(ver, depth, kh))

    def _retire_key(self, ver: int, key: bytes) -> None:
        if ver == self._version:
            self._up.writes[key] = None
        else:
            self._up.stale.append(key)

    def _write_leaf(self, depth: int, kh: bytes, key: bytes, value: bytes, vh: bytes | None = None) -> Slot:
        if vh is None:
            vh = _sha(value).digest()
        nk = leaf_key(self._version, depth, kh)
        self._up.writes[nk] = encode_leaf(key, value)
        self._up.nodes_written += 1
        self._moved[nk] = (kh, vh, key, value)
        return (_sha(b"\x00" + kh + vh).digest(), self._version, True)

    def _write_internal(self, tail: bytes, entries: list, bitmap: int, leafbits: int) -> Slot:
        record, node_hash = encode_entries(entries, bitmap, leafbits)
        self._up.writes[self._new_prefix + tail] = record
        self._up.nodes_written += 1
        return (node_hash, self._version, False)

    def _build(self, depth: int, items: list) -> Slot | None:
        """Subtree for items (kh, key, value, vh) sorted by kh, all with values."""
        if not items:
            return None
        if len(items) == 1:
            kh, key, value, vh = items[0]
            return self._write_leaf(depth, kh, key, value, vh)
        entries: list = [None] * 16
        bitmap = leafbits = 0
        start = 0
        n = len(items)
        while start < n:
            nib = _nib(items[start][0], depth)
            end = start + 1
            while end < n and _nib(items[end][0], depth) == nib:
                end += 1
            child = self._build(depth + 1, items[start:end])
            entries[nib] = child[0] + child[1].to_bytes(8, "big")
            bitmap |= 1 << nib
            if child[2]:
                leafbits |= 1 << nib
            start = end
        return self._write_internal(key_tail(depth, items[0][0]), entries, bitmap, leafbits)

    def _update(self, slot: Slot | None, depth: int, changes: list[Change]) -> Slot | None:
        if slot is None:
            return self._build(depth, [(c.kh, c.key, c.value, None) for c in changes if c.value is not None])
        ver = slot[1]
        if slot[2]:
            return self._update_leaf(slot, depth, changes)
        first = changes[0].kh
        tail = key_tail(depth, first)
        old_key = NODE_PREFIX + ver.to_bytes(8, "big") + tail
        entries, bitmap, leafbits = decode_entries(self._get_replaced(old_key))
        start = 0
        n = len(changes)
        while start < n:
            nib = _nib(changes[start].kh, depth)
            end = start + 1
            while end < n and _nib(changes[end].kh, depth) == nib:
                end += 1
            child = self._update(entry_slot(entries, leafbits, nib), depth + 1, changes[start:end])
            bit = 1 << nib
            if child is None:
                entries[nib] = None
                bitmap &= ~bit
                leafbits &= ~bit
            else:
                entries[nib] = child[0] + child[1].to_bytes(8, "big")
                bitmap |= bit
                if child[2]:
                    leafbits |= bit
                else:
                    leafbits &= ~bit
            start = end
        self._retire_key(ver, old_key)
        if not bitmap:
            return None
        if not bitmap & (bitmap - 1) and leafbits:
            # One child left below, a leaf: it moves up to this depth (canonical shape).
            only = bitmap.bit_length() - 1
            child = entry_slot(entries, leafbits, only)
            child_path = _with_nibble(first, depth, only)
            ck = leaf_key(child[1], depth + 1, child_path)
            if ck in self._moved:
                kh, vh, key, value = self._moved.pop(ck)
                del self._up.writes[ck]
                self._up.nodes_written -= 1
            else:
                key, value = decode_leaf(self._get_node(ck))
                kh, vh = _sha(key).digest(), None
                self._retire_key(child[1], ck)
            return self._write_leaf(depth, kh, key, value, vh)
        return self._write_internal(tail, entries, bitmap, leafbits)

    def _update_leaf(self, slot: Slot, depth: int, changes: list[Change]) -> Slot | None:
        ver = slot[1]
        first = changes[0].kh
        known = next((c for c in changes if c.existed), None)
        if known is not None:
            # The key exists and its path ends here, so this leaf holds it: no read.
            old_kh = known.kh
            old_item = None
        else:
            old_key, old_val = decode_leaf(self._get_node(leaf_key(ver, depth, first)))
            old_kh = _sha(old_key).digest()
            old_item = (old_kh, old_key, old_val, None)
        items = [(c.kh, c.key, c.value, None) for c in changes if c.value is not None]
        if old_item is not None and all(c.kh != old_kh for c in changes):
            if not items:
                return slot
            items.append(old_item)
            items.sort(key=lambda it: it[0])
        self._retire_leaf(ver, depth, first)
        return self._build(depth, items)


def _with_nibble(path: bytes, depth: int, nib: int) -> bytes:
    b = bytearray(path)
    i = depth >> 1
    b[i] = (b[i] & 0x0F) | (nib << 4) if not depth & 1 else (b[i] & 0xF0) | nib
    return bytes(b)
