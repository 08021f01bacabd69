"""Field converters for genesis JSON: each names the offending field when it refuses."""

from __future__ import annotations

from typing import Any

from modules.crypto import AddressError, decode_address


class GenesisError(ValueError):
    """An invalid genesis; the message names the offending field (e.g. accounts[3].balances.rwa)."""


def _int(path: str, v: Any, lo: int = 0, hi: int = (1 << 64) - 1) -> int:
    """An integer (a decimal string for large values, no leading zeros) in [lo, hi]."""
    if type(v) is str and v.isdigit() and (v == "0" or not v.startswith("0")):
        v = int(v)
    if type(v) is not int:
        raise GenesisError(f"{path}: expected an integer (a decimal string for large values)")
    if not lo <= v <= hi:
        raise GenesisError(f"{path}: {v} is outside [{lo}, {hi}]")
    return v


def _hex(path: str, v: Any, size: int) -> bytes:
    """Exactly size bytes given as 0x-hex."""
    if type(v) is not str or not v.startswith("0x"):
        raise GenesisError(f"{path}: expected 0x-prefixed hex")
    try:
        raw = bytes.fromhex(v[2:])
    except ValueError:
        raise GenesisError(f"{path}: not valid hex") from None
    if len(raw) != size:
        raise GenesisError(f"{path}: expected {size} bytes, got {len(raw)}")
    return raw


def _addr(path: str, v: Any) -> bytes:
    """A 20-byte address given as rwa1... text."""
    try:
        return decode_address(v)
    except AddressError as exc:
        raise GenesisError(f"{path}: {exc}") from None
