"""Canonical msgpack: the one encoding of everything hashed or stored.

Rules (docs/protocol.md, "Canonical encoding"):
- allowed values: int (any size), bytes, str, bool, None, list, dict; floats, other
  ext types and timestamps are refused;
- an integer in [-2**63, 2**64) is a msgpack integer; any other integer is ext type 1
  whose payload is its minimal big-endian two's-complement bytes (2**64 encodes as
  c7 09 01 01 00 00 00 00 00 00 00 00);
- every integer, string, byte string, array and map uses the shortest msgpack header
  (what msgpack-python emits), bytes use the bin family, strings the str family;
- map keys are all str or all bytes or all int within one map, unique, in ascending
  order (str by UTF-8 bytes, bytes lexicographically, int numerically).
Decoding re-encodes and compares, so any other byte string for the same value is refused.
"""

from __future__ import annotations

from typing import Any

import msgpack

__all__ = ["encode", "encode_shaped", "decode", "decode_stored", "NonCanonical"]


class NonCanonical(ValueError):
    """Bytes that are not the canonical encoding of any allowed value."""


_packb = msgpack.packb
_unpackb = msgpack.unpackb
_SCALARS = (bytes, str, bool, type(None))
_ExtType = msgpack.ExtType
BIGINT_EXT = 1
_INT_LO = -(1 << 63)
_INT_HI = 1 << 64


def _bigint(v: int) -> msgpack.ExtType:
    """ext 1 with the minimal two's-complement payload (for v < 0, ~v sizes the magnitude)."""
    size = (v if v >= 0 else ~v).bit_length() // 8 + 1
    return _ExtType(BIGINT_EXT, v.to_bytes(size, "big", signed=True))


def _ext_hook(code: int, data: bytes):
    if code != BIGINT_EXT or not data:
        raise NonCanonical(f"ext type {code} is not allowed")
    return int.from_bytes(data, "big", signed=True)


def pack_int(v: int) -> bytes:
    """Canonical bytes of one integer (the fast path for balances)."""
    return _packb(v if _INT_LO <= v < _INT_HI else _bigint(v))


def unpack_int(data: bytes) -> int:
    """Inverse of pack_int for trusted stored bytes."""
    return _unpackb(data, ext_hook=_ext_hook)


def _canon(obj: Any) -> Any:
    """Return obj with every map rebuilt in canonical key order (refuses floats)."""
    t = type(obj)
    if t is dict:
        if not obj:
            return obj
        keys = list(obj)
        kt = type(keys[0])
        if kt not in (str, bytes, int) or any(type(k) is not kt for k in keys):
            raise TypeError("map keys must be all str, all bytes or all int")
        if kt is int:
            return {(k if _INT_LO <= k < _INT_HI else _bigint(k)): _canon(obj[k]) for k in sorted(keys)}
        return {k: _canon(obj[k]) for k in sorted(keys)}
    if t is list or t is tuple:
        return [_canon(v) for v in obj]
    if t is int:
        return obj if _INT_LO <= obj < _INT_HI else _bigint(obj)
    if t in _SCALARS:
        return obj
    raise TypeError(f"type {t.__name__} is not allowed in canonical encoding")


def encode(obj: Any) -> bytes:
    """Canonical msgpack bytes of obj (dict keys sorted, bin type for bytes).

    A value already in canonical shape (maps in key order, allowed types) is packed as it
    is, without rebuilding every map; big integers and anything else take the general path.
    """
    if _problem(obj) is None:
        try:
            return _packb(obj, use_bin_type=True)
        except OverflowError:
            pass  # big integers: written as ext 1 by _canon
    return _packb(_canon(obj), use_bin_type=True)


def encode_shaped(obj: Any) -> bytes:
    """Canonical bytes of a value its builder guarantees to be in canonical shape (maps
    in key order with keys of one type; int, bytes, str, bool, None, list, dict only),
    without walking it to check; big integers still become ext 1. Same bytes as encode
    for such a value; for anything else, use encode."""
    try:
        return _packb(obj, use_bin_type=True)
    except OverflowError:
        return _packb(_canon(obj), use_bin_type=True)


SCALAR_TYPES = frozenset((int, bytes, str, bool, type(None)))  # the allowed non-container types
_KEY_TYPES = frozenset((str, bytes, int))


def _problem(obj: Any) -> str | None:
    """Why a decoded value is not canonical beyond its bytes (map key type and order,
    disallowed types such as float), or None."""
    t = type(obj)
    if t is dict:
        if obj:
            keys = list(obj)
            kt = type(keys[0])
            if kt not in _KEY_TYPES or any(type(k) is not kt for k in keys):
                return "map keys must be all str, all bytes or all int"
            if keys != sorted(keys):
                return "map keys are not in canonical order"
        values = obj.values()
    elif t is list:
        values = obj
    elif t in SCALAR_TYPES:
        return None
    else:
        return f"type {t.__name__} is not allowed in canonical encoding"
    for v in values:
        tv = type(v)
        if tv is dict or tv is list or tv not in SCALAR_TYPES:
            p = _problem(v)
            if p:
                return p
    return None


def decode(data: bytes) -> Any:
    """Decode canonical msgpack; raise NonCanonical unless re-encoding gives data exactly.

    Fast path: msgpack's C packer re-emits shortest headers in the decoded map order, so
    the bytes are canonical iff it reproduces them and every map is in key order.
    Values with big integers (ext 1) take the general path.
    """
    try:
        obj = _unpackb(data, raw=False, strict_map_key=False, use_list=True, ext_hook=_ext_hook)
    except NonCanonical:
        raise
    except Exception as exc:  # msgpack raises several unrelated types
        raise NonCanonical(f"not valid msgpack: {exc}") from None
    try:
        same = _packb(obj, use_bin_type=True) == data
    except (TypeError, OverflowError, ValueError):
        same = False  # big integers: decided below
    if same:
        problem = _problem(obj)
        if problem is None:
            return obj
        raise NonCanonical(problem)
    try:
        again = encode(obj)
    except (TypeError, OverflowError) as exc:
        raise NonCanonical(str(exc)) from None
    if again != data:
        raise NonCanonical("bytes are not the canonical encoding of their value")
    return obj


def decode_stored(data: bytes) -> Any:
    """Decode bytes this node encoded itself (state values, undo logs, receipts):
    the same value as decode, without re-checking the canonical form. Never for bytes
    that come from outside (transactions, files, the network): use decode."""
    return _unpackb(data, raw=False, strict_map_key=False, use_list=True, ext_hook=_ext_hook)


def encode_array_of_encoded(items: list[bytes]) -> bytes:
    """Canonical encoding of a list whose items are given already encoded (no re-encoding)."""
    n = len(items)
    if n < 16:
        head = bytes([0x90 | n])
    elif n < 1 << 16:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:
        head = b"\xdd" + n.to_bytes(4, "big")
    return head + b"".join(items)
