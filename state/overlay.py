"""Write overlays: a block's pending writes over the store, a transaction's over the block.

A transaction runs against a TxOverlay; on success its writes merge into the
BlockOverlay, on failure they are dropped (the fee, charged on the block overlay before
the transaction runs, stays). At the end of the block the BlockOverlay's writes are the
block's state changes (Store.prepare). A value of None in an overlay is a deletion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

_MISS = object()


class Readable(Protocol):
    def get(self, key: bytes) -> bytes | None: ...
    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


class Overlay:
    """Writes buffered over a parent; reads fall through to the parent."""

    __slots__ = ("parent", "writes", "reads")

    def __init__(self, parent: Readable):
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}
        self.reads = 0

    def get(self, key: bytes) -> bytes | None:
        self.reads += 1
        v = self.writes.get(key, _MISS)
        if v is _MISS:
            return self.parent.get(key)
        return v

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merged (key, value) pairs under prefix, in key order, deletions applied."""
        mine = sorted((k, v) for k, v in self.writes.items() if k.startswith(prefix))
        if not mine:
            yield from self.parent.iter_prefix(prefix)
            return
        overridden = {k for k, _ in mine}
        below = ((k, v) for k, v in self.parent.iter_prefix(prefix) if k not in overridden)
        i = 0
        for k, v in below:
            while i < len(mine) and mine[i][0] < k:
                if mine[i][1] is not None:
                    yield mine[i]
                i += 1
            yield k, v
        for k, v in mine[i:]:
            if v is not None:
                yield k, v

    def merge_into_parent(self) -> None:
        """Apply these writes to the parent overlay (a successful transaction)."""
        self.parent.writes.update(self.writes)  # type: ignore[attr-defined]
        self.writes = {}
