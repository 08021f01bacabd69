"""Parameters in human units: parsing with field-named errors, and the canonical form export
writes (docs/genesis.md, "Units").

A parameter's unit is declared by its module beside its defaults (PARAM_UNITS in
modules/*; feeds.POLICY_UNITS for the oracle's policies). Every unit also takes the raw
form, an integer in base units (a JSON integer or a string of digits), so older files
import to the same state:
    ratio     wad (1.0 = 10^18)     "0.03", "3%", "2.5 %"; export "0.03" (always a point)
    bps       basis points          "10 bps"; export "10 bps"
    duration  seconds               "3600s", "90m", "1h", "30d", "2w"; export in the largest
                                    of d, h, m, s that is exact ("30d", "1h", "90s")
    stable    stable base units     "10000000 rusd" (whole tokens of the genesis's stable
                                    denomination, up to its decimals); export "10000000 rusd"
    count     a plain integer       export as a JSON integer
    int       an integer in the feed class's own scale (grades 0..4, prices, reserves);
              export as a decimal string
No floats anywhere: decimal text is read digit by digit, and a value finer than the unit
(a ratio below 10^-18, a fraction of a base unit) is refused, never rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.sections import GenesisError

BPS = 10_000
INT_MAX = 1 << 255
SECONDS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
EXPORT_DURATIONS = ("d", "h", "m", "s")  # weeks are read, never written: "14d" reads plainer than "2w"
UNITS = ("ratio", "bps", "duration", "stable", "count", "int")

_RAW = re.compile(r"0|[1-9][0-9]*")
_DECIMAL = r"([0-9]+)(?:\.([0-9]+))?"
_RATIO = re.compile(rf"{_DECIMAL}")
_PERCENT = re.compile(rf"{_DECIMAL} ?%")
_BPS = re.compile(r"(0|[1-9][0-9]*) ?bps")
_DURATION = re.compile(r"(0|[1-9][0-9]*) ?([wdhms])")
_AMOUNT = re.compile(rf"{_DECIMAL} ([a-z][a-z0-9/\-]*)")


@dataclass(frozen=True)
class Stable:
    """The stable denomination amounts are named in: its id and decimals (None: amounts
    have no human form in this genesis and are written raw)."""

    denom: str | None = None
    decimals: int = 0


NO_STABLE = Stable()
"""No stable denomination: amounts take and are written in the raw form only."""


def _raw(v: Any) -> int | None:
    """v as a raw integer (a JSON integer or a string of digits), or None if it is not one."""
    if type(v) is int and v >= 0:
        return v
    if type(v) is str and _RAW.fullmatch(v):
        return int(v)
    return None


def _scaled(path: str, whole: str, frac: str | None, scale_digits: int, what: str) -> int:
    """whole.frac x 10^scale_digits, exactly (a finer fraction is refused)."""
    frac = (frac or "").rstrip("0")
    if len(frac) > scale_digits:
        raise GenesisError(f"{path}: {whole}.{frac} is finer than the {what} can hold (at most {scale_digits} "
                           f"decimals)")
    return int(whole) * 10**scale_digits + (int(frac.ljust(scale_digits, "0")) if frac else 0)


TEXT_MAX = 100  # characters of a parameter's text: 2^255 has 77 digits


def parse(path: str, unit: str, v: Any, stable: Stable) -> int:
    """The integer (base units) of parameter value v in unit; GenesisError names path."""
    if type(v) is str and len(v) > TEXT_MAX:
        raise GenesisError(f"{path}: longer than {TEXT_MAX} characters")
    n = _raw(v)
    if n is None:
        n = _human(path, unit, v, stable)
    if n > INT_MAX:
        raise GenesisError(f"{path}: more than 2^255")
    return n


def _human(path: str, unit: str, v: Any, stable: Stable) -> int:
    text = v.strip() if type(v) is str else None
    if text is not None:
        if unit == "ratio":
            if (mo := _PERCENT.fullmatch(text)) is not None:
                return _scaled(path, mo[1], mo[2], 16, "ratio in %")
            if (mo := _RATIO.fullmatch(text)) is not None and mo[2] is not None:
                return _scaled(path, mo[1], mo[2], 18, "ratio")
        elif unit == "bps" and (mo := _BPS.fullmatch(text)) is not None:
            return int(mo[1])
        elif unit == "duration" and (mo := _DURATION.fullmatch(text)) is not None:
            return int(mo[1]) * SECONDS[mo[2]]
        elif unit == "stable" and (mo := _AMOUNT.fullmatch(text)) is not None:
            if stable.denom is None or mo[3] != stable.denom:
                raise GenesisError(f"{path}: amounts are in the stable denomination "
                                   f"({stable.denom or 'this genesis has none'}), not {mo[3]}")
            return _scaled(path, mo[1], mo[2], stable.decimals, f"{stable.denom} amount")
    raise GenesisError(f"{path}: expected {EXPECTED[unit]}, got {v!r}")


EXPECTED = {
    "ratio": 'a ratio such as "0.03" or "3%" (or raw wad digits)',
    "bps": 'basis points such as "10 bps" (or an integer)',
    "duration": 'a duration such as "3600s", "1h", "30d" (or an integer of seconds)',
    "stable": 'an amount such as "1000 rusd" (or an integer of base units)',
    "count": "an integer",
    "int": "an integer (a decimal string for large values)",
}


def _decimal(n: int, digits: int) -> str:
    """n / 10^digits as exact decimal text without trailing zeros ("0.03", "1", "2.5")."""
    whole, frac = divmod(n, 10**digits)
    text = f"{frac:0{digits}d}".rstrip("0") if digits else ""
    return f"{whole}.{text}" if text else str(whole)


def to_json(unit: str, n: int, stable: Stable) -> Any:
    """The canonical (human) JSON form of n base units in unit: parse gives n back."""
    if unit == "ratio":
        text = _decimal(n, 18)
        return text if "." in text else text + ".0"
    if unit == "bps":
        return f"{n} bps"
    if unit == "duration":
        u = next((u for u in EXPORT_DURATIONS if n % SECONDS[u] == 0), "s") if n else "s"
        return f"{n // SECONDS[u]}{u}"
    if unit == "stable":
        return str(n) if stable.denom is None else f"{_decimal(n, stable.decimals)} {stable.denom}"
    if unit == "count" and n < 1 << 53:
        return n
    return str(n)


def parse_like(path: str, units: Any, v: Any, stable: Stable) -> Any:
    """v in the shape of a PARAM_UNITS declaration: a unit name, a map of declarations, or
    ("list", n, unit) for a list of n values of one unit."""
    if isinstance(units, str):
        return parse(path, units, v, stable)
    if isinstance(units, dict):
        if type(v) is not dict:
            raise GenesisError(f"{path}: expected an object")
        for k in sorted(set(units) - set(v)):
            raise GenesisError(f"{path}.{k}: required field is missing")
        for k in sorted(set(v) - set(units)):
            raise GenesisError(f"{path}.{k}: unknown field")
        return {k: parse_like(f"{path}.{k}", units[k], v[k], stable) for k in sorted(units)}
    kind, size, unit = units
    if kind == "list":
        if type(v) is not list or len(v) != size:
            raise GenesisError(f"{path}: expected a list of {size} values ({EXPECTED[unit]})")
        return [parse(f"{path}[{i}]", unit, x, stable) for i, x in enumerate(v)]
    raise AssertionError(f"unknown unit declaration {units!r}")  # a declaration's bug


def like_to_json(units: Any, v: Any, stable: Stable) -> Any:
    """The canonical JSON form of a value of a PARAM_UNITS declaration (parse_like's inverse)."""
    if isinstance(units, str):
        return to_json(units, v, stable)
    if isinstance(units, dict):
        return {k: like_to_json(units[k], v[k], stable) for k in units if k in v}
    return [to_json(units[2], x, stable) for x in v]


def check_declaration(units: Any, default: Any, where: str) -> list[str]:
    """Mismatches between a PARAM_UNITS declaration and the defaults it describes (a test
    holds every module to it: a parameter without a declared unit cannot be written)."""
    if isinstance(units, str):
        return [] if units in UNITS and type(default) is int else [f"{where}: {units!r} for {default!r}"]
    if isinstance(units, dict):
        if not isinstance(default, dict) or set(units) != set(default):
            return [f"{where}: keys {sorted(units)} != {sorted(default) if isinstance(default, dict) else default}"]
        return [p for k in units for p in check_declaration(units[k], default[k], f"{where}.{k}")]
    ok = units[0] == "list" and isinstance(default, list) and len(default) == units[1]
    return [] if ok and units[2] in UNITS else [f"{where}: {units!r} for {default!r}"]
