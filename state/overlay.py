"""Write overlays: a block's pending writes over the store, a transaction's over the block.

A transaction runs against a TxOverlay; on success its writes merge into the
BlockOverlay, on failure they are dropped (the fee, charged on the block overlay before
the transaction runs, stays). At the end of the block the BlockOverlay's writes are the
block's state changes (Store.prepare). A value of None in an overlay is a deletion.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Protocol

_MISS = object()


class Readable(Protocol):
    def get(self, key: bytes) -> bytes | None: ...
    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


class Overlay:
    """Writes buffered over a parent; reads fall through to the parent.

    Prefix listings merge the parent's listing with this overlay's writes lazily, through
    a sorted index of the written keys that is built on the first listing; keys written
    after it wait in a list and are sorted in at the next listing (blocks that never list
    pay nothing for it, and a block that lists once and then writes 20,000 new keys does
    not pay a list insertion per key). Do not write under a prefix while iterating over it.
    """

    __slots__ = ("parent", "writes", "reads", "_keys", "_new")

    def __init__(self, parent: Readable):
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}
        self.reads = 0
        self._keys: list[bytes] | None = None  # the written keys, sorted; None until a listing
        self._new: list[bytes] | None = None  # keys first written since _keys was sorted

    def get(self, key: bytes) -> bytes | None:
        self.reads += 1
        v = self.writes.get(key, _MISS)
        if v is _MISS:
            return self.parent.get(key)
        return v

    def set(self, key: bytes, value: bytes) -> None:
        if self._keys is not None and key not in self.writes:
            self._new.append(key)
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        if self._keys is not None and key not in self.writes:
            self._new.append(key)
        self.writes[key] = None

    def reset(self) -> None:
        """Forget every write (a genesis import flushes chunk by chunk)."""
        self.writes = {}
        self._keys = None
        self._new = None

    def _sorted_keys(self) -> list[bytes]:
        keys = self._keys
        if keys is None:
            keys = self._keys = sorted(self.writes)
            self._new = []
        elif self._new:
            keys.extend(self._new)
            keys.sort()  # a sorted run and a short tail: about linear
            self._new = []
        return keys

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merged (key, value) pairs under prefix, in key order, deletions applied; lazy."""
        writes = self.writes
        if not writes:
            yield from self.parent.iter_prefix(prefix)
            return
        keys = self._sorted_keys()
        i = bisect_left(keys, prefix)
        n = len(keys)
        mine = keys[i] if i < n and keys[i].startswith(prefix) else None
        for k, v in self.parent.iter_prefix(prefix):
            while mine is not None and mine < k:
                val = writes[mine]
                if val is not None:
                    yield mine, val
                i += 1
                mine = keys[i] if i < n and keys[i].startswith(prefix) else None
            if k in writes:
                continue  # rewritten (yielded from this overlay in order) or deleted
            yield k, v
        while mine is not None:
            val = writes[mine]
            if val is not None:
                yield mine, val
            i += 1
            mine = keys[i] if i < n and keys[i].startswith(prefix) else None

    def merge_into_parent(self) -> None:
        """Apply these writes to the parent overlay (a successful transaction)."""
        self.merge_into(self.parent)  # type: ignore[arg-type]

    def merge_into(self, target: Overlay) -> None:
        """Apply these writes to target (an overlay this one reads through) and forget them."""
        if target._keys is not None:
            tw = target.writes
            target._new.extend([k for k in self.writes if k not in tw])  # type: ignore[union-attr]
        target.writes.update(self.writes)
        self.writes = {}
        self._keys = None
        self._new = None
