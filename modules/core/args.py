"""Typed argument specs for module calls: checked at admission, before any state is read.

Each spec checks one decoded msgpack value and says what is wrong in terms of the
argument's name. The same specs describe calls in the docs and the RPC schema
(`json_schema`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.crypto import AddressError, decode_address, encode_address
from rwachain.modules.core.errors import BadArguments

U64_MAX = (1 << 64) - 1
AMOUNT_MAX = (1 << 128) - 1  # every amount of base units fits in 128 bits

_DENOM_RE = re.compile(r"^[a-z][a-z0-9/\-]{1,63}$")


def decimal_at_most(hi: int) -> str:
    """A regular expression (no anchors, nothing captured; valid in JSON Schema too) that
    matches the canonical decimal form (no sign, no leading zero) of every integer in
    [0, hi] and nothing else: the id parts of text arguments, e.g. unit/p<pool>/t<k>."""
    s = str(hi)
    alts = ["0"]
    if len(s) > 1:
        alts.append(f"[1-9][0-9]{{0,{len(s) - 2}}}")
    for i, c in enumerate(s):
        lo = 1 if i == 0 else 0
        if int(c) > lo:
            alts.append(f"{s[:i]}[{lo}-{int(c) - 1}][0-9]{{{len(s) - i - 1}}}")
    if hi:
        alts.append(s)
    return "(?:" + "|".join(alts) + ")"


U64_TEXT = decimal_at_most(U64_MAX)
"""An id in text: 0..2^64-1 in canonical decimal (ids are 8-byte keys in state)."""


class Spec:
    """One argument's type and range, and its JSON form (docs/rpc.md, "JSON conventions")."""

    doc = ""

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, name: str, value: Any) -> Any:
        """The msgpack value for a JSON value; raises BadArguments naming the argument."""
        return value


@dataclass(frozen=True, slots=True)
class Int(Spec):
    """An integer in [lo, hi]."""

    lo: int = 0
    hi: int = U64_MAX

    def check(self, name, value):
        if type(value) is not int:
            raise BadArguments(f"{name}: expected an integer, got {type(value).__name__}")
        if not self.lo <= value <= self.hi:
            raise BadArguments(f"{name}: {value} is outside [{self.lo}, {self.hi}]")
        return value

    def json_schema(self):
        return {"type": "string", "pattern": "^-?[0-9]+$",
                "description": f"integer in [{self.lo}, {self.hi}] as a decimal string"}

    def to_json(self, value):
        return str(value)

    def from_json(self, name, value):
        if type(value) is int:
            return value
        if type(value) is str and re.fullmatch(r"-?[0-9]{1,80}", value):
            return int(value)
        raise BadArguments(f"{name}: expected an integer as a decimal string")


AMOUNT = Int(1, AMOUNT_MAX)  # a positive amount of base units


@dataclass(frozen=True, slots=True)
class Bytes(Spec):
    """A byte string of exactly `size` bytes (or up to max_size if size is None)."""

    size: int | None = None
    max_size: int = 1024

    def check(self, name, value):
        if type(value) is not bytes:
            raise BadArguments(f"{name}: expected bytes, got {type(value).__name__}")
        if self.size is not None and len(value) != self.size:
            raise BadArguments(f"{name}: expected {self.size} bytes, got {len(value)}")
        if len(value) > self.max_size:
            raise BadArguments(f"{name}: longer than {self.max_size} bytes")
        return value

    def json_schema(self):
        return {"type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$"}

    def to_json(self, value):
        return "0x" + value.hex()

    def from_json(self, name, value):
        return hex_to_bytes(name, value)


@dataclass(frozen=True, slots=True)
class AddressArg(Spec):
    """A 20-byte account address (its text form rwa1... is for humans and JSON)."""

    def check(self, name, value):
        if type(value) is not bytes or len(value) != 20:
            raise BadArguments(f"{name}: expected a 20-byte address")
        return value

    def json_schema(self):
        return {"type": "string", "pattern": "^rwa1[02-9ac-hj-np-z]{38}$"}

    def to_json(self, value):
        return encode_address(value)

    def from_json(self, name, value):
        try:
            return decode_address(value)
        except AddressError as exc:
            raise BadArguments(f"{name}: {exc}") from None


ADDRESS = AddressArg()


@dataclass(frozen=True, slots=True)
class Text(Spec):
    """A string of 1..max_len characters, optionally matching a pattern."""

    max_len: int = 128
    pattern: str | None = None

    def check(self, name, value):
        if type(value) is not str:
            raise BadArguments(f"{name}: expected a string, got {type(value).__name__}")
        if not 1 <= len(value) <= self.max_len:
            raise BadArguments(f"{name}: length must be 1..{self.max_len}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise BadArguments(f"{name}: {value!r} does not match {self.pattern}")
        return value

    def json_schema(self):
        s: dict = {"type": "string", "minLength": 1, "maxLength": self.max_len}
        if self.pattern:
            s["pattern"] = self.pattern
        return s


@dataclass(frozen=True, slots=True)
class DenomArg(Spec):
    """A denomination id: lowercase, 2..64 chars of [a-z0-9/-], starting with a letter."""

    def check(self, name, value):
        if type(value) is not str or not _DENOM_RE.match(value):
            raise BadArguments(f"{name}: expected a denomination like 'rwa' or 'unit/p1/senior'")
        return value

    def json_schema(self):
        return {"type": "string", "pattern": _DENOM_RE.pattern}


DENOM = DenomArg()


@dataclass(frozen=True, slots=True)
class Choice(Spec):
    """One of a fixed set of strings."""

    options: tuple[str, ...]

    def check(self, name, value):
        if value not in self.options or type(value) is not str:
            raise BadArguments(f"{name}: expected one of {', '.join(self.options)}")
        return value

    def json_schema(self):
        return {"type": "string", "enum": list(self.options)}


@dataclass(frozen=True, slots=True)
class Ints(Spec):
    """A list of 1..max_len integers in [lo, hi]."""

    max_len: int
    lo: int = 0
    hi: int = U64_MAX

    def check(self, name, value):
        if type(value) is not list or not 1 <= len(value) <= self.max_len:
            raise BadArguments(f"{name}: expected a list of 1..{self.max_len} integers")
        for i, v in enumerate(value):
            if type(v) is not int or not self.lo <= v <= self.hi:
                raise BadArguments(f"{name}[{i}]: expected an integer in [{self.lo}, {self.hi}]")
        return value

    def json_schema(self):
        return {"type": "array", "minItems": 1, "maxItems": self.max_len,
                "items": {"type": "string", "pattern": "^[0-9]+$"}}

    def to_json(self, value):
        return [str(v) for v in value]

    def from_json(self, name, value):
        if type(value) is not list:
            raise BadArguments(f"{name}: expected a list of integers")
        return [Int(self.lo, self.hi).from_json(f"{name}[{i}]", v) for i, v in enumerate(value)]


@dataclass(frozen=True, slots=True)
class Rows(Spec):
    """A list of min_rows..max_rows rows; each row is a list of len(columns) integers, each
    in [0, hi], or in [0, col_hi[j]] for column j when col_hi is given."""

    columns: tuple[str, ...]
    max_rows: int
    hi: int = AMOUNT_MAX
    min_rows: int = 0
    col_hi: tuple[int, ...] | None = None

    def check(self, name, value):
        if type(value) is not list:
            raise BadArguments(f"{name}: expected a list of [{', '.join(self.columns)}] rows")
        if not self.min_rows <= len(value) <= self.max_rows:
            raise BadArguments(f"{name}: {self.min_rows}..{self.max_rows} rows, got {len(value)}")
        his = self.col_hi or (self.hi,) * len(self.columns)
        for i, row in enumerate(value):
            if type(row) is not list or len(row) != len(self.columns):
                raise BadArguments(f"{name}[{i}]: expected [{', '.join(self.columns)}]")
            for col, hi, v in zip(self.columns, his, row, strict=True):
                if type(v) is not int or not 0 <= v <= hi:
                    raise BadArguments(f"{name}[{i}].{col}: expected an integer in [0, {hi}]")
        return value

    def json_schema(self):
        cell = {"type": "string", "pattern": "^[0-9]+$"}
        return {"type": "array", "minItems": self.min_rows, "maxItems": self.max_rows,
                "items": {"type": "array", "items": cell, "minItems": len(self.columns),
                          "maxItems": len(self.columns), "description": ", ".join(self.columns)}}

    def to_json(self, value):
        return [[str(v) for v in row] for row in value]

    def from_json(self, name, value):
        if type(value) is not list:
            raise BadArguments(f"{name}: expected a list of rows")
        return [[Int(0, self.hi).from_json(f"{name}[{i}]", v) for v in row] if type(row) is list else row
                for i, row in enumerate(value)]


def check_args(specs: dict[str, Spec], args: Any) -> dict:
    """Check a call's argument map against its specs: exact key set, each value typed."""
    if type(args) is not dict:
        raise BadArguments("args: expected a map of argument name to value")
    missing = [k for k in specs if k not in args]
    if missing:
        raise BadArguments(f"missing argument(s): {', '.join(sorted(missing))}")
    extra = [k for k in args if k not in specs]
    if extra:
        raise BadArguments(f"unknown argument(s): {', '.join(sorted(map(str, extra)))}")
    for k, spec in specs.items():
        spec.check(k, args[k])
    return args


def hex_to_bytes(name: str, value: Any) -> bytes:
    """Bytes of a 0x-hex JSON string; raises BadArguments naming the field."""
    if type(value) is not str or not value.startswith("0x"):
        raise BadArguments(f"{name}: expected 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise BadArguments(f"{name}: not valid hex") from None


def args_from_json(specs: dict[str, Spec], args: Any) -> dict:
    """A call's JSON arguments converted to their msgpack values, then checked."""
    if type(args) is not dict:
        raise BadArguments("args: expected an object of argument name to value")
    out = {k: (specs[k].from_json(k, v) if k in specs else v) for k, v in args.items()}
    return check_args(specs, out)


def args_to_json(specs: dict[str, Spec], args: dict) -> dict:
    return {k: (specs[k].to_json(v) if k in specs else v) for k, v in args.items()}
