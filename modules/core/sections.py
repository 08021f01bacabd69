"""A module's genesis section in its own JSON form: its check (field-named errors) and its
export form, declared by the module (Module.genesis_json); and the field converters
every genesis check uses (genesis/fields.py and genesis/loader.py take them from here).

A section typed by state records (modules/core/records.py) needs none of this; a section
whose JSON form predates the records (a map of role to addresses) declares a Section.
JSON conventions as everywhere in a genesis: integers as decimal strings (JSON integers
accepted), bytes as 0x-hex, addresses as rwa1... text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.crypto import AddressError, decode_address

DIGITS_MAX = 80  # digits of an integer field: 2^256 has 78
DENOMINATIONS = "denoms"
"""The genesis field of the chain's denominations. Every genesis has it (its accounts'
balances, its nativeDenom and its parameters' amounts are named in them); the module that
declares it (Section.field: the bank) checks it before the parameters, the accounts and
the other sections, into {id: {id, symbol, decimals (int), kind}}, which the checks after
it read as checked["denoms"]."""


class GenesisError(ValueError):
    """An invalid genesis; the message names the offending field (e.g. accounts[3].balances.rwa)."""


@dataclass(frozen=True, slots=True)
class Section:
    """A module's genesis section in JSON. check(raw, checked) -> the section as the
    module's init_genesis takes it, raising GenesisError that names the field; checked is
    what the genesis holds before it ("meta", "denoms" and the sections checked so far, by
    module name; the sections named in needs are checked first). to_json(section) -> the
    JSON form of an exported section, or None to leave it out. absent: the section of a
    genesis without one (None: nothing imported). with_totals(section, totals), if given,
    completes the section once the genesis accounts are read (totals: base units per
    denomination), raising GenesisError when they break it. field: the genesis's
    top-level field that holds the section, when it is not the module's name (the bank's
    is DENOMINATIONS)."""

    check: Callable[[Any, dict], Any]
    to_json: Callable[[Any], Any]
    absent: Any = None
    needs: tuple[str, ...] = ()
    with_totals: Callable[[Any, dict], Any] | None = None
    field: str = ""


def int_field(path: str, v: Any, lo: int = 0, hi: int = (1 << 64) - 1) -> int:
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


def hex_field(path: str, v: Any, size: int | None = None) -> bytes:
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


def address_field(path: str, v: Any) -> bytes:
    """A 20-byte address given as rwa1... text."""
    try:
        return decode_address(v)
    except AddressError as exc:
        raise GenesisError(f"{path}: {exc}") from None


def object_field(path: str, v: Any, required: set[str], optional: set[str] = frozenset()) -> dict:
    """An object with every required field and no field beyond required and optional."""
    if type(v) is not dict:
        raise GenesisError(f"{path}: expected an object")
    for k in sorted(required - set(v)):
        raise GenesisError(f"{path}.{k}: required field is missing")
    for k in sorted(set(v) - required - optional):
        raise GenesisError(f"{path}.{k}: unknown field")
    return v


def list_field(path: str, v: Any) -> list:
    if type(v) is not list:
        raise GenesisError(f"{path}: expected a list")
    return v
