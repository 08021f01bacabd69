"""A module's read methods, declared with their RPC schemas.

A Query is what the RPC serves as one method (rpc/methods/modules.py turns the queries of
the App's modules into entries of the method table and of the OpenRPC document): its
name, parameters, result schema and summary, and handler(ctx, **params) -> the JSON
result, read from ctx (the state at the requested height). Every query also takes the
optional `height` parameter that every read method takes.

Parameter kinds (their JSON schema and conversion are the RPC's, rpc/methods/params.py):
    "u64"      integer 0..2^64-1 (ids, counts, heights)
    "uint"     non-negative integer of any size (amounts), number or decimal string
    "address"  rwa1... text, converted to 20 bytes
    "hash"     0x-hex of 32 bytes;  "hex": 0x-hex of any length
    "string"   text;  "bool": true or false
JSON results follow the RPC's conventions: integers that can exceed 2^53 as decimal
strings (UINT_TEXT), bytes as 0x-hex, addresses as rwa1... text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.crypto import encode_address

PARAM_KINDS = ("u64", "uint", "address", "hash", "hex", "string", "bool", "choice")
UINT_TEXT = {"type": "string", "pattern": "^[0-9]+$", "description": "a non-negative integer as a decimal string"}
"""The result schema of an integer that can exceed 2^53."""

# ----- result schema parts (rpc/methods/schemas.py builds the RPC's results from the same) -----
STR = {"type": "string"}
BOOL = {"type": "boolean"}
NULL = {"type": "null"}
INT = {"type": "integer", "minimum": 0, "maximum": (1 << 53) - 1}
AMOUNT = {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}  # a non-negative integer as a decimal string
HASH32 = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
HEXS = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}
ADDR = {"type": "string", "pattern": "^rwa1[02-9ac-hj-np-z]{38}$"}


class Optional:
    """A property that an object has only sometimes."""

    def __init__(self, schema: dict):
        self.schema = schema


def anything() -> dict:
    """The schema of any JSON value (a new empty schema)."""
    return {}


def obj(**props: Any) -> dict:
    """An object with these properties; all required except those wrapped in Optional."""
    return {"type": "object",
            "required": [k for k, v in props.items() if not isinstance(v, Optional)],
            "properties": {k: (v.schema if isinstance(v, Optional) else v) for k, v in props.items()}}


def closed(schema: dict) -> dict:
    """An object schema that allows no other properties (tells alternatives apart)."""
    return {**schema, "additionalProperties": False}


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def mapof(values: dict) -> dict:
    """An object keyed by data (denominations, addresses, feeds) with values of one schema."""
    return {"type": "object", "additionalProperties": values}


def anyof(*schemas: dict) -> dict:
    return {"anyOf": list(schemas)}


def nullable(schema: dict) -> dict:
    return anyof(schema, NULL)


def enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def pair(first: dict, second: dict) -> dict:
    """A two-element array."""
    return {"type": "array", "items": [first, second], "minItems": 2, "maxItems": 2}


def json_value(v: Any) -> Any:
    """A state or event value in JSON form: integers as decimal strings, 20 bytes as an
    rwa1... address, other bytes as 0x-hex; lists and maps converted item by item."""
    t = type(v)
    if t is bytes:
        return encode_address(v) if len(v) == 20 else "0x" + v.hex()
    if t is int:
        return str(v)
    if t is list:
        return [json_value(x) for x in v]
    if t is dict:
        return {(k if type(k) is str else str(json_value(k))): json_value(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, slots=True)
class QueryParam:
    """One parameter of a query: name (camelCase), kind (PARAM_KINDS), description;
    choices: the values of a "choice" parameter; default: an optional one's value when
    absent; min: the least value of a "u64" one."""

    name: str
    kind: str
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None
    """The value an optional parameter takes when it is not given."""
    min: int = 0
    """The least value of a u64 parameter."""

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"query parameter {self.name}: kind {self.kind!r} is not one of {', '.join(PARAM_KINDS)}")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"query parameter {self.name}: choices are for (and required by) the choice kind")


ERROR_KINDS = ("not_found", "invalid_state", "invalid_params")
"""What a query may answer instead of its result (QueryError); the RPC maps each to its
code (rpc/errors.py: NOT_FOUND, INVALID_STATE, INVALID_PARAMS)."""


class QueryError(Exception):
    """A query's refusal: kind (ERROR_KINDS), a message naming what is missing or wrong, and
    the error's data (e.g. {"name": the typed error's name})."""

    def __init__(self, kind: str, message: str, data: dict | None = None):
        if kind not in ERROR_KINDS:
            raise ValueError(f"query error kind {kind!r} is not one of {', '.join(ERROR_KINDS)}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.data = data


@dataclass(frozen=True, slots=True)
class Query:
    """One RPC read method of a module: method name (<namespace>_<name>), handler(ctx,
    **params) -> JSON value, parameters, the result's name and JSON schema, a summary, and
    the QueryError kinds it may answer (listed in its OpenRPC entry)."""

    method: str
    handler: Callable[..., Any]
    params: tuple[QueryParam, ...]
    result_name: str
    result_schema: dict
    summary: str
    errors: tuple[str, ...] = ()
