"""A state-proof verifier written from docs/protocol.md ("Proofs"), with each rule a choice.

RULES is the documented rule; WRONG lists, for each choice, the alternatives an
implementer could plausibly pick. tests/vectors/proof_rules.json holds vectors of which
every one verifies under RULES and fails under each single wrong choice it can tell
apart (tests/test_vectors.py checks both). Imports nothing of rwachain.
"""

from __future__ import annotations

import hashlib

RULES = {"nibbles": "high-first", "bitmap": "bit i = child i", "path": "on-path child listed",
         "leaf": "sha256(0x00 || keyhash || valuehash)", "empty": "32 zero bytes"}
WRONG = {"nibbles": ["low-first"], "bitmap": ["bit 15-i = child i"], "path": ["on-path child omitted"],
         "leaf": ["sha256(keyhash || valuehash)", "sha256(0x00 || valuehash || keyhash)"],
         "empty": ["sha256('')"]}


def _sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _nibble(kh: bytes, depth: int, rules: dict) -> int:
    byte = kh[depth // 2]
    first, second = (byte >> 4, byte & 15) if rules["nibbles"] == "high-first" else (byte & 15, byte >> 4)
    return first if depth % 2 == 0 else second


def _has(bitmap: int, i: int, rules: dict) -> bool:
    return bool(bitmap >> (i if rules["bitmap"] == "bit i = child i" else 15 - i) & 1)


def _leaf(kh: bytes, vh: bytes, rules: dict) -> bytes:
    return {"sha256(0x00 || keyhash || valuehash)": lambda: _sha(b"\x00" + kh + vh),
            "sha256(keyhash || valuehash)": lambda: _sha(kh + vh),
            "sha256(0x00 || valuehash || keyhash)": lambda: _sha(b"\x00" + vh + kh)}[rules["leaf"]]()


def _empty(rules: dict) -> bytes:
    return bytes(32) if rules["empty"] == "32 zero bytes" else _sha(b"")


def _node(bitmap: int, children: list[bytes]) -> bytes:
    return _sha(b"\x01" + bitmap.to_bytes(2, "big") + b"".join(children))


def verify(root: bytes, key: bytes, value: bytes | None, proof: dict, rules: dict = RULES) -> bool:
    """Whether proof shows key -> value (None: absent) under root, by these rules."""
    try:
        return _verify(root, key, value, proof, rules)
    except (IndexError, ValueError, TypeError):
        return False


def _verify(root, key, value, proof, rules) -> bool:
    kh, nodes, leaf = _sha(key), proof["nodes"], proof["leaf"]
    if not nodes and leaf is None:
        return value is None and root == _empty(rules)
    if leaf is not None:
        lkh, lvh = leaf
        if any(_nibble(lkh, d, rules) != _nibble(kh, d, rules) for d in range(len(nodes))):
            return False
        if (lkh == kh) != (value is not None) or (value is not None and _sha(value) != lvh):
            return False
        h, below = _leaf(lkh, lvh, rules), len(nodes)
    else:  # the path ends at an empty slot of the last node
        bitmap, hashes = nodes[-1]
        if value is not None or _has(bitmap, _nibble(kh, len(nodes) - 1, rules), rules):
            return False
        if len(hashes) != bin(bitmap).count("1"):
            return False
        h, below = _node(bitmap, hashes), len(nodes) - 1
    for depth in range(below - 1, -1, -1):
        bitmap, hashes = nodes[depth]
        nib = _nibble(kh, depth, rules)
        if not _has(bitmap, nib, rules):
            return False
        pos = sum(_has(bitmap, i, rules) for i in range(nib))
        if rules["path"] == "on-path child listed":
            if len(hashes) != bin(bitmap).count("1") or hashes[pos] != h:
                return False
            children = list(hashes)
        else:
            if len(hashes) != bin(bitmap).count("1") - 1:
                return False
            children = list(hashes[:pos]) + [h] + list(hashes[pos:])
        h = _node(bitmap, children)
    return h == root


def wrong_rules():
    """(choice, wrong value, rules) for every single wrong choice."""
    for choice, alternatives in WRONG.items():
        for alt in alternatives:
            yield choice, alt, {**RULES, choice: alt}


def tells_apart(root: bytes, key: bytes, value: bytes | None, proof: dict) -> set[str]:
    """The choices whose every wrong alternative fails this (valid) vector."""
    return {choice for choice in WRONG
            if all(not verify(root, key, value, proof, r) for c, _, r in wrong_rules() if c == choice)}
