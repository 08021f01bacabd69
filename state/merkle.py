"""Binary Merkle root over a list of byte strings (transactions, receipts of a block).

    leaf  = sha256(0x00 || item)
    node  = sha256(0x01 || left || right); an odd node at a level is carried up as is
    empty = sha256(b"")
"""

from __future__ import annotations

import hashlib

_sha = hashlib.sha256
EMPTY_LIST_ROOT = _sha(b"").digest()


def merkle_root(items: list[bytes]) -> bytes:
    """Root of items in order (see module docstring)."""
    if not items:
        return EMPTY_LIST_ROOT
    level = [_sha(b"\x00" + it).digest() for it in items]
    while len(level) > 1:
        nxt = [_sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]
