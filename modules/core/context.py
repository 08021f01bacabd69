"""The execution context handed to every handler and hook: state access, block, events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rwachain.modules.core.wiring import NONE, Wiring
from rwachain.state.codec import decode_stored, encode, encode_shaped, pack_int, unpack_int
from rwachain.state.overlay import Overlay


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """What a handler may know of the block: height, time (unix seconds), proposer address."""

    height: int
    time: int
    proposer: bytes


RECORD_MEMO_ENTRIES = 2048
"""Decoded state records kept in memory, process-wide (docs/operations.md)."""
RECORD_MEMO_MAX_BYTES = 1024
"""Stored values longer than this (bytes) are decoded on every read and never kept."""


@lru_cache(maxsize=RECORD_MEMO_ENTRIES)
def _memo_record(record_type: Any, raw: bytes) -> Any:
    """record_type.from_stored of the decoded bytes raw, remembered. Decoding is a pure
    function of (record_type, raw) and a record is deeply immutable (frozen dataclasses of
    ints, bytes, str, tuples and read-only maps: tests/test_record_memo.py), so every read
    of the same bytes may share one record, whichever store, block or App it came from."""
    return record_type.from_stored(decode_stored(raw))


def record_of(record_type: Any, raw: bytes) -> Any:
    """The record of type record_type stored as raw (a state value's bytes)."""
    if len(raw) <= RECORD_MEMO_MAX_BYTES:
        return _memo_record(record_type, raw)
    return record_type.from_stored(decode_stored(raw))


class Ctx:
    """State reads and writes through an overlay, plus the events this scope emitted, and
    the callbacks of the App's modules (wiring; modules/core/wiring.py)."""

    __slots__ = ("state", "block", "events", "wiring")

    def __init__(self, state, block: BlockInfo, wiring: Wiring = NONE):
        self.state = state
        self.block = block
        self.events: list[dict] = []
        self.wiring = wiring

    def nested(self) -> Ctx:
        """A context over an overlay of this one's state, with the same block and wiring:
        what it writes reaches this state only when its overlay is merged."""
        return Ctx(Overlay(self.state), self.block, self.wiring)

    # ----- raw and typed state access ---------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        return self.state.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.state.set(key, value)

    def delete(self, key: bytes) -> None:
        self.state.delete(key)

    def get_int(self, key: bytes) -> int:
        """An integer stored at key; 0 when absent."""
        raw = self.state.get(key)
        return 0 if raw is None else unpack_int(raw)

    def set_int(self, key: bytes, value: int) -> None:
        """Store an integer; 0 deletes the key (absent and zero are the same state)."""
        if value:
            self.state.set(key, pack_int(value))
        else:
            self.state.delete(key)

    def get_obj(self, key: bytes, default: Any = None) -> Any:
        raw = self.state.get(key)
        return default if raw is None else decode_stored(raw)

    def set_obj(self, key: bytes, obj: Any) -> None:
        self.state.set(key, encode(obj))

    def get_record(self, key: bytes, record_type: Any, default: Any = None) -> Any:
        """The state record at key (record_type.from_stored of its map), or default."""
        raw = self.state.get(key)
        return default if raw is None else record_of(record_type, raw)

    def iter_records(self, prefix: bytes, record_type: Any) -> Iterator[tuple[bytes, Any]]:
        """(key, record) of every state record under prefix, in key order."""
        for k, raw in self.state.iter_prefix(prefix):
            yield k, record_of(record_type, raw)

    def put_record(self, key: bytes, record: Any) -> None:
        """Store a state record (a frozen dataclass of a module's records.py): its
        `to_stored()` map is built with its keys in canonical order and only allowed
        types, so it is packed without walking it to check (state/codec.encode_shaped);
        tests/test_records_canonical.py holds every record to that."""
        self.state.set(key, encode_shaped(record.to_stored()))

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.state.iter_prefix(prefix)

    def iter_prefix_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) under prefix with key >= start, in key order. A state that can seek
        (the committed store, a version view) skips the keys before start without reading
        them; any other (a block's overlay, a hook's logged view) lists and filters, with
        the same result."""
        seek = getattr(self.state, "iter_prefix_from", None)
        if seek is not None:
            return seek(prefix, start)
        return ((k, v) for k, v in self.state.iter_prefix(prefix) if k >= start)

    # ----- events -------------------------------------------------------------------
    def emit(self, type_: str, **attrs: Any) -> None:
        """Record an event {attrs, type}; attribute values are int, str, bytes or bool.
        Built in canonical key order, so that its receipt encodes without rebuilding maps."""
        self.events.append({"attrs": dict(sorted(attrs.items())), "type": type_})
