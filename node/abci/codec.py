"""Protobuf wire codec for the ABCI messages, and the socket protocol's framing.

Messages are frozen dataclasses (node/abci/types.py) whose fields carry their protobuf
field number and kind in `dataclasses.field(metadata=...)`; one generic encoder and one
decoder walk those specs. The encoding matches gogoproto's (CometBFT's Go types) byte for
byte, so a message CometBFT sends decodes and encodes back to the same bytes:

- scalars (varint kinds, string, bytes) are written only when not the zero value;
- a nullable message field (`X | None`) is written when it is not None;
- a non-nullable message field (gogoproto nullable=false, a plain `X`) is always written,
  even when empty;
- a oneof member is written whenever it is not None, even with a zero value;
- repeated numbers are packed; repeated strings, bytes and messages are one record each;
- fields are written in field-number order (the order of the dataclass's fields).

Integers follow protobuf: int64/int32/enum as two's-complement varints (a negative value
takes 10 bytes), uint64/uint32 as plain varints. On decoding, unknown fields are skipped
(proto3), packed and unpacked repeated numbers are both accepted, and a malformed input
raises WireError.

Framing (CometBFT's libs/protoio): each message on the socket is [uvarint length][body].
"""

from __future__ import annotations

import dataclasses
from typing import Any

# Field kinds that travel as varints, with their range (inclusive) for encoding.
VARINT_RANGES = {
    "uint64": (0, (1 << 64) - 1),
    "uint32": (0, (1 << 32) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "enum": (-(1 << 31), (1 << 31) - 1),
    "bool": (0, 1),
}
LENGTH_KINDS = ("string", "bytes")
WIRE_VARINT, WIRE_FIXED64, WIRE_LEN, WIRE_FIXED32 = 0, 1, 2, 5
MAX_VARINT_BYTES = 10
# Largest frame the reader accepts (bytes). CometBFT caps a block at 100 MiB; its own
# reader allows up to 2 GiB, which the app need not hold for any honest message.
MAX_FRAME_BYTES = 128 << 20


class WireError(ValueError):
    """Bytes that are not a valid encoding of the expected message (truncated input, a
    varint longer than 10 bytes, a wrong wire type, invalid UTF-8, an oversize frame)."""


# ----- the field spec carried by each dataclass field --------------------------------------
def pb(number: int, kind: Any, *, repeated: bool = False, always: bool = False,
       oneof: bool = False) -> Any:
    """A dataclass field with its protobuf spec. kind: a scalar kind name (uint64, uint32,
    int64, int32, enum, bool, string, bytes) or a message dataclass. repeated: a tuple of
    kind. always: a non-nullable message field (written even when empty; default kind()).
    oneof: a member of a oneof (Optional; written whenever not None)."""
    meta = {"pb": (number, kind, repeated, always, oneof)}
    if repeated:
        return dataclasses.field(default=(), metadata=meta)
    if oneof or (not isinstance(kind, str) and not always):
        return dataclasses.field(default=None, metadata=meta)
    if always:
        return dataclasses.field(default_factory=kind, metadata=meta)
    return dataclasses.field(default=_ZERO[kind], metadata=meta)


_ZERO = {"string": "", "bytes": b"", "bool": False, **{k: 0 for k in VARINT_RANGES if k != "bool"}}
_SPECS: dict[type, tuple] = {}
_NUMBERED: dict[type, dict] = {}


def field_specs(cls: type) -> tuple:
    """(number, name, kind, repeated, always, oneof) per field of cls, in field order."""
    plan = _SPECS.get(cls)
    if plan is None:
        plan = tuple((f.metadata["pb"][0], f.name, *f.metadata["pb"][1:])
                     for f in dataclasses.fields(cls))
        _SPECS[cls] = plan
    return plan


# ----- varints -----------------------------------------------------------------------------
def put_uvarint(out: bytearray, value: int) -> None:
    """Append value (0 <= value < 2**64) as a base-128 varint."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def uvarint(value: int) -> bytes:
    """value as a base-128 varint."""
    out = bytearray()
    put_uvarint(out, value)
    return bytes(out)


def read_uvarint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at buf[pos]; WireError if truncated or over 64 bits."""
    result = shift = 0
    end = len(buf)
    for _ in range(MAX_VARINT_BYTES):
        if pos >= end:
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >> 64:
                raise WireError("varint overflows 64 bits")
            return result, pos
        shift += 7
    raise WireError("varint longer than 10 bytes")


def _to_wire_int(kind: str, value: Any) -> int:
    """The unsigned varint value of an integer field, range-checked."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"bool field holds {type(value).__name__}")
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{kind} field holds {type(value).__name__}")
    low, high = VARINT_RANGES[kind]
    if not low <= value <= high:
        raise ValueError(f"{kind} field out of range: {value}")
    return value & ((1 << 64) - 1)


def _from_wire_int(kind: str, raw: int) -> Any:
    """An integer field's value from its varint (truncating as Go does for 32-bit kinds)."""
    if kind == "uint64":
        return raw
    if kind == "uint32":
        return raw & 0xFFFFFFFF
    if kind == "int64":
        return raw - (1 << 64) if raw >> 63 else raw
    if kind == "bool":
        return raw != 0
    raw &= 0xFFFFFFFF  # int32, enum
    return raw - (1 << 32) if raw >> 31 else raw


# ----- encoding ----------------------------------------------------------------------------
def encode(msg: Any) -> bytes:
    """The protobuf encoding of a message dataclass."""
    out = bytearray()
    _encode_into(out, msg)
    return bytes(out)


def _encode_into(out: bytearray, msg: Any) -> None:
    for number, name, kind, repeated, always, oneof in field_specs(type(msg)):
        value = getattr(msg, name)
        if repeated:
            _encode_repeated(out, number, kind, value)
        elif value is None:
            if always:
                raise TypeError(f"{type(msg).__name__}.{name} is not nullable")
        elif oneof or always or value != _ZERO.get(kind):
            _encode_one(out, number, kind, value)


def _encode_one(out: bytearray, number: int, kind: Any, value: Any) -> None:
    if isinstance(kind, str):
        if kind in LENGTH_KINDS:
            if not isinstance(value, str if kind == "string" else bytes):
                raise TypeError(f"{kind} field holds {type(value).__name__}")
            data = value.encode() if kind == "string" else value
            put_uvarint(out, number << 3 | WIRE_LEN)
            put_uvarint(out, len(data))
            out += data
        else:
            put_uvarint(out, number << 3 | WIRE_VARINT)
            put_uvarint(out, _to_wire_int(kind, value))
        return
    if type(value) is not kind:
        raise TypeError(f"field {number} holds {type(value).__name__}, not {kind.__name__}")
    body = encode(value)
    put_uvarint(out, number << 3 | WIRE_LEN)
    put_uvarint(out, len(body))
    out += body


def _encode_repeated(out: bytearray, number: int, kind: Any, values: tuple) -> None:
    if not isinstance(values, tuple):
        raise TypeError(f"repeated field {number} holds {type(values).__name__}, not tuple")
    if isinstance(kind, str) and kind not in LENGTH_KINDS:
        if values:  # packed
            packed = bytearray()
            for value in values:
                put_uvarint(packed, _to_wire_int(kind, value))
            put_uvarint(out, number << 3 | WIRE_LEN)
            put_uvarint(out, len(packed))
            out += packed
        return
    for value in values:
        _encode_one(out, number, kind, value)


# ----- decoding ----------------------------------------------------------------------------
def decode(cls: type, data: bytes | memoryview) -> Any:
    """The message of type cls encoded in data; WireError if data is malformed."""
    plan = _NUMBERED.get(cls)
    if plan is None:
        plan = _NUMBERED[cls] = {entry[0]: entry[1:] for entry in field_specs(cls)}
    values: dict[str, Any] = {}
    lists: dict[str, list] = {}
    view = memoryview(data)
    pos, end = 0, len(view)
    while pos < end:
        key, pos = read_uvarint(view, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        spec = plan.get(number)
        if spec is None:
            pos = _skip(view, pos, wire)
            continue
        name, kind, repeated, _always, _oneof = spec
        if repeated and isinstance(kind, str) and kind not in LENGTH_KINDS and wire == WIRE_LEN:
            chunk, pos = _read_len(view, pos)
            items = lists.setdefault(name, [])
            inner = 0
            while inner < len(chunk):
                raw, inner = read_uvarint(chunk, inner)
                items.append(_from_wire_int(kind, raw))
            continue
        value, pos = _decode_one(view, pos, wire, kind)
        if repeated:
            lists.setdefault(name, []).append(value)
        else:
            values[name] = value
    for name, items in lists.items():
        values[name] = tuple(items)
    return cls(**values)


def _decode_one(view: memoryview, pos: int, wire: int, kind: Any) -> tuple[Any, int]:
    if isinstance(kind, str) and kind not in LENGTH_KINDS:
        if wire != WIRE_VARINT:
            raise WireError(f"{kind} field with wire type {wire}")
        raw, pos = read_uvarint(view, pos)
        return _from_wire_int(kind, raw), pos
    if wire != WIRE_LEN:
        raise WireError(f"length-delimited field with wire type {wire}")
    chunk, pos = _read_len(view, pos)
    if kind == "bytes":
        return bytes(chunk), pos
    if kind == "string":
        try:
            return str(chunk, "utf-8"), pos
        except UnicodeDecodeError as exc:
            raise WireError("string field is not UTF-8") from exc
    return decode(kind, chunk), pos


def _read_len(view: memoryview, pos: int) -> tuple[memoryview, int]:
    length, pos = read_uvarint(view, pos)
    if length > len(view) - pos:
        raise WireError("truncated length-delimited field")
    return view[pos:pos + length], pos + length


def _skip(view: memoryview, pos: int, wire: int) -> int:
    """The position after an unknown field's value."""
    if wire == WIRE_VARINT:
        return read_uvarint(view, pos)[1]
    if wire == WIRE_LEN:
        return _read_len(view, pos)[1]
    size = {WIRE_FIXED64: 8, WIRE_FIXED32: 4}.get(wire)
    if size is None:
        raise WireError(f"unsupported wire type {wire}")
    if pos + size > len(view):
        raise WireError("truncated fixed-width field")
    return pos + size


# ----- framing (the socket protocol) -------------------------------------------------------
def frame(body: bytes) -> bytes:
    """body with its uvarint length prefix, as CometBFT's socket protocol sends it."""
    return uvarint(len(body)) + body


class FrameReader:
    """Splits a byte stream into frame bodies. feed() the bytes as they arrive; frames()
    yields each complete body once. A frame over max_bytes raises WireError."""

    __slots__ = ("_buf", "_max")

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES):
        self._buf = bytearray()
        self._max = max_bytes

    def feed(self, data: bytes) -> None:
        self._buf += data

    def frames(self) -> list[bytes]:
        """The complete frame bodies buffered so far, in order (removed from the buffer)."""
        out: list[bytes] = []
        buf, pos = self._buf, 0
        while pos < len(buf):
            try:
                length, start = read_uvarint(buf, pos)
            except WireError:
                if len(buf) - pos >= MAX_VARINT_BYTES:
                    raise
                break  # the prefix is still arriving
            if length > self._max:
                raise WireError(f"frame of {length} bytes exceeds {self._max}")
            if start + length > len(buf):
                break
            out.append(bytes(buf[start:start + length]))
            pos = start + length
        del buf[:pos]
        return out

    def pending(self) -> int:
        """Bytes received that do not yet form a complete frame."""
        return len(self._buf)
