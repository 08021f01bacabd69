"""Standalone verification of state proofs. Imports nothing of rwachain: copy it anywhere.

The state tree (docs/protocol.md, "State commitment") is a 16-ary tree over
sha256(key), walked one hex nibble at a time from the most significant, with each leaf at
the shallowest depth where its prefix is unique:

    leaf hash     = sha256(0x00 || sha256(key) || sha256(value))
    internal hash = sha256(0x01 || bitmap (2 bytes, big-endian, bit i = child i present)
                                || the present children's hashes, in nibble order)
    empty tree    = 32 zero bytes

A proof is a dict {"nodes": [[bitmap, [hash, ...]], ...], "leaf": [keyhash, valuehash] or None}:
the internal nodes from the root down along the key's path, then the leaf where the path
ends (the key's own leaf for inclusion; another key's leaf, or None for an empty slot,
for exclusion).
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = bytes(32)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(keyhash: bytes, valuehash: bytes) -> bytes:
    """Hash of a leaf holding a key with sha256 keyhash and a value with sha256 valuehash."""
    return _sha(b"\x00" + keyhash + valuehash)


def internal_hash(bitmap: int, child_hashes: list[bytes]) -> bytes:
    """Hash of an internal node with the given child bitmap and present child hashes."""
    return _sha(b"\x01" + bitmap.to_bytes(2, "big") + b"".join(child_hashes))


def _nibble(keyhash: bytes, depth: int) -> int:
    byte = keyhash[depth >> 1]
    return (byte >> 4) if depth % 2 == 0 else (byte & 0x0F)


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: dict) -> bool:
    """True iff proof shows that under root, key maps to value (None: key is absent)."""
    try:
        return _verify(root, key, value, proof)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return False


def _verify(root: bytes, key: bytes, value: bytes | None, proof: dict) -> bool:
    nodes = proof["nodes"]
    leaf = proof["leaf"]
    if not isinstance(nodes, list) or len(nodes) > 64:
        return False
    kh = _sha(key)
    if root == EMPTY_ROOT:
        return not nodes and leaf is None and value is None
    expected = root
    for depth, node in enumerate(nodes):
        bitmap, hashes = node
        if not isinstance(bitmap, int) or not 0 < bitmap < 1 << 16:
            return False
        if bin(bitmap).count("1") != len(hashes) or any(len(h) != 32 for h in hashes):
            return False
        if internal_hash(bitmap, list(hashes)) != expected:
            return False
        nib = _nibble(kh, depth)
        if not bitmap >> nib & 1:
            # Empty slot on the key's path: an exclusion proof ends here.
            return depth == len(nodes) - 1 and leaf is None and value is None
        expected = hashes[bin(bitmap & ((1 << nib) - 1)).count("1")]
    if leaf is None:
        return False
    lkh, lvh = leaf
    if len(lkh) != 32 or len(lvh) != 32 or leaf_hash(lkh, lvh) != expected:
        return False
    depth = len(nodes)
    if any(_nibble(lkh, d) != _nibble(kh, d) for d in range(depth)):
        return False
    if lkh == kh:
        return value is not None and _sha(value) == lvh
    return value is None
