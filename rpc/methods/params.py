"""Parameter and result types of the RPC: JSON schema plus conversion from JSON.

JSON conventions: camelCase names; integers that can exceed 2^53 as decimal strings
(plain JSON integers are accepted on input); bytes as 0x-hex; addresses as rwa1... text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rwachain.modules.core.crypto import AddressError, decode_address
from rwachain.modules.core.queries import enum
from rwachain.rpc.errors import INVALID_PARAMS, RpcError

_UINT_RE = re.compile(r"[0-9]{1,78}")  # fullmatch: a trailing newline is refused too


def bad(name: str, msg: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {name}: {msg}")


@dataclass(frozen=True)
class PType:
    """A parameter type: its JSON schema and a converter (raises RpcError -32602)."""

    schema: dict
    convert: Any  # (name, value) -> python value


def _uint(name, v):
    if type(v) is int and v >= 0:
        return v
    if type(v) is str and _UINT_RE.fullmatch(v):
        return int(v)
    raise bad(name, "expected a non-negative integer (number or decimal string)")


def _address(name, v):
    try:
        return decode_address(v)
    except AddressError as exc:
        raise bad(name, str(exc)) from None


def _hex(size=None):
    def conv(name, v):
        if type(v) is not str or not v.startswith("0x"):
            raise bad(name, "expected 0x-prefixed hex")
        try:
            b = bytes.fromhex(v[2:])
        except ValueError:
            b = None
        if b is None or 2 * len(b) + 2 != len(v):  # fromhex skips whitespace: the length tells
            raise bad(name, "not valid hex (pairs of 0-9a-fA-F, nothing else)")
        if size is not None and len(b) != size:
            raise bad(name, f"expected {size} bytes")
        return b
    return conv


def _str(name, v):
    if type(v) is not str:
        raise bad(name, "expected a string")
    return v


def _bool(name, v):
    if type(v) is not bool:
        raise bad(name, "expected true or false")
    return v


def _obj(name, v):
    if type(v) is not dict:
        raise bad(name, "expected an object")
    return v


def _number(name, v):
    if type(v) in (int, float) and v >= 0:
        return v
    raise bad(name, "expected a non-negative number")


U64_MAX = (1 << 64) - 1
MAX_TIME = (1 << 53) - 1  # block times are JSON numbers: a devnet clock stays below 2^53


def numerals_upto(n: int) -> str:
    """Regex alternatives matching exactly the decimal numerals 1..n without leading zeros."""
    s = str(n)
    alts = [f"[1-9][0-9]{{0,{len(s) - 2}}}"] if len(s) > 1 else []
    for i, c in enumerate(s):
        low, d = (1 if i == 0 else 0), int(c)
        if d > low:
            digit = str(low) if d - 1 == low else f"[{low}-{d - 1}]"
            rest = len(s) - i - 1
            alts.append(s[:i] + digit + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join(alts + [s])


def range_schema(lo: int, hi: int) -> dict:
    """JSON schema of an integer in [lo, hi] (lo 0 or 1), as a JSON integer or a decimal
    string of at most 78 digits (leading zeros allowed), exactly as _uint_in accepts."""
    pattern = f"^0*(?:{'0|' if lo == 0 else ''}{numerals_upto(hi)})$"
    return {"oneOf": [{"type": "integer", "minimum": lo, "maximum": hi},
                      {"type": "string", "pattern": pattern, "maxLength": 78}]}


def _uint_in(lo: int, hi: int):
    def conv(name, v):
        n = _uint(name, v)
        if not lo <= n <= hi:
            raise bad(name, f"expected {lo}..{hi}")
        return n
    return conv


def bounded(lo: int, hi: int) -> PType:
    return PType(range_schema(lo, hi), _uint_in(lo, hi))


def choice(*values: str) -> PType:
    """A string that must be one of values."""
    def conv(name, v):
        if v not in values or type(v) is not str:
            raise bad(name, f"one of {', '.join(values)}")
        return v
    return PType(enum(*values), conv)


UINT_SCHEMA = {"oneOf": [{"type": "integer", "minimum": 0},
                         {"type": "string", "pattern": "^[0-9]+$", "minLength": 1, "maxLength": 78}]}
UINT = PType(UINT_SCHEMA, _uint)  # amounts: any size
U64 = bounded(0, U64_MAX)  # heights, counts, ids
TIME = bounded(0, MAX_TIME)  # unix seconds
# bech32 text, all lowercase or all uppercase; the checksum, which no pattern can express,
# is checked by the server too.
ADDRESS_SCHEMA = {"type": "string", "pattern": "^(?:rwa1[02-9ac-hj-np-z]{38}|RWA1[02-9AC-HJ-NP-Z]{38})$",
                  "description": "rwa1... bech32 address (BIP-173 checksum); one case throughout"}
ADDRESS = PType(ADDRESS_SCHEMA, _address)
HEX = PType({"type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$"}, _hex())
HASH = PType({"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}, _hex(32))
STRING = PType({"type": "string"}, _str)
BOOL = PType({"type": "boolean"}, _bool)
OBJECT = PType({"type": "object"}, _obj)
NUMBER = PType({"type": "number", "minimum": 0}, _number)


_CURSOR_PATTERN = f"^(?:0|{numerals_upto(U64_MAX)}):(?:0|{numerals_upto((1 << 32) - 1)})$"
_CURSOR_RE = re.compile(_CURSOR_PATTERN[1:-1])


def _cursor(name, v):
    if type(v) is not str or not _CURSOR_RE.fullmatch(v):
        raise bad(name, "use nextCursor from a previous page (height:index)")
    h, i = v.split(":")
    return int(h), int(i)


CURSOR = PType({"type": "string", "pattern": _CURSOR_PATTERN}, _cursor)  # "height:index"


@dataclass(frozen=True)
class Param:
    name: str
    type: PType
    description: str
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class Result:
    name: str
    schema: dict
    description: str = ""


@dataclass
class Method:
    """One RPC method: what dispatches it and what rpc.discover says of it."""

    name: str
    handler: Any  # async (api, **params) -> JSON value
    params: list[Param]
    result: Result
    summary: str
    dev_only: bool = False
    errors: list[int] = field(default_factory=list)
    batch: Any = None  # the whole-batch form (batch_handler), if the method has one
    _defaults: dict | None = field(default=None, init=False, repr=False, compare=False)

    def bind(self, params: Any) -> dict:
        """Named arguments from JSON-RPC params (array by position, or object by name)."""
        if not params and (params is None or type(params) is list):
            # No arguments given: every parameter at its default (the common read call).
            if self._defaults is None:
                self._defaults = self.bind_given({})
            return self._defaults
        if type(params) is list:
            if len(params) > len(self.params):
                raise RpcError(INVALID_PARAMS, f"invalid params: {self.name} takes at most {len(self.params)}")
            given = {p.name: v for p, v in zip(self.params, params, strict=False)}
        elif type(params) is dict:
            unknown = set(params) - {p.name for p in self.params}
            if unknown:
                raise RpcError(INVALID_PARAMS, f"invalid params: unknown parameter {sorted(unknown)[0]}")
            given = params
        else:
            raise RpcError(INVALID_PARAMS, "invalid params: expected an array or an object")
        return self.bind_given(given)

    def bind_given(self, given: dict) -> dict:
        """Converted arguments from {name: JSON value}; defaults for the absent ones."""
        out = {}
        for p in self.params:
            if p.name in given and given[p.name] is not None:
                out[p.name] = p.type.convert(p.name, given[p.name])
            elif p.required:
                raise RpcError(INVALID_PARAMS, f"invalid params: {p.name} is required")
            else:
                out[p.name] = p.default
        return out


def batch_handler(name: str):
    """Mark fn as the whole-batch form of method name: async (api, [bound params of each
    call]) -> [result or RpcError of each call], how a JSON-RPC batch made only of calls to
    that method is answered in one go (table.method_table puts it in Method.batch)."""
    def deco(fn):
        fn.batch_of = name
        return fn
    return deco


def rpc_method(name: str, params: list[Param], result: Result, summary: str, *, dev_only: bool = False,
               errors: list[int] | None = None):
    """Mark an async handler as the RPC method name (its Method in fn.rpc); table.method_table
    collects the marked handlers of the method modules it is given."""
    def deco(fn):
        fn.rpc = Method(name, fn, params, result, summary, dev_only, errors or [])
        return fn
    return deco


HEIGHT = Param("height", U64, "block height to read at (default: latest); recent heights only", required=False)
