"""Field converters for genesis JSON: each names the offending field when it refuses."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from rwachain.modules.core.crypto import AddressError, decode_address

DIGITS_MAX = 80  # digits of an integer field: 2^256 has 78


class GenesisError(ValueError):
    """An invalid genesis; the message names the offending field (e.g. accounts[3].balances.rwa)."""


@contextlib.contextmanager
def json_numbers_of_any_length() -> Iterator[None]:
    """Lift Python's limit on the digits of an int while a genesis is streamed: the C JSON
    parser (ijson's yajl2_c) crashes the process on a number past it, instead of raising.
    A number that long is then refused by _int, naming its field."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def any_length_numbers(events: Iterable[Any]) -> Iterator[Any]:
    """The items of a streaming JSON parser's iterator, each parsed with the limit lifted
    (json_numbers_of_any_length) and only while it is parsed."""
    it = iter(events)
    while True:
        with json_numbers_of_any_length():
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


def _int(path: str, v: Any, lo: int = 0, hi: int = (1 << 64) - 1) -> int:
    """An integer (a decimal string for large values, no leading zeros) in [lo, hi]."""
    if (type(v) is str and len(v) > DIGITS_MAX) or (type(v) is int and v.bit_length() > 4 * DIGITS_MAX):
        raise GenesisError(f"{path}: an integer of more than {DIGITS_MAX} digits")
    if type(v) is str and v.isdigit() and (v == "0" or not v.startswith("0")):
        v = int(v)
    if type(v) is not int:
        raise GenesisError(f"{path}: expected an integer (a decimal string for large values)")
    if not lo <= v <= hi:
        raise GenesisError(f"{path}: {v} is outside [{lo}, {hi}]")
    return v


def _hex(path: str, v: Any, size: int | None = None) -> bytes:
    """Bytes given as 0x-hex: exactly size of them (None: any number)."""
    if type(v) is not str or not v.startswith("0x"):
        raise GenesisError(f"{path}: expected 0x-prefixed hex")
    try:
        raw = bytes.fromhex(v[2:])
    except ValueError:
        raise GenesisError(f"{path}: not valid hex") from None
    if size is not None and len(raw) != size:
        raise GenesisError(f"{path}: expected {size} bytes, got {len(raw)}")
    return raw


def _addr(path: str, v: Any) -> bytes:
    """A 20-byte address given as rwa1... text."""
    try:
        return decode_address(v)
    except AddressError as exc:
        raise GenesisError(f"{path}: {exc}") from None
