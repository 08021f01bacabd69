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

PARAM_KINDS = ("u64", "uint", "address", "hash", "hex", "string", "bool")
UINT_TEXT = {"type": "string", "pattern": "^[0-9]+$", "description": "a non-negative integer as a decimal string"}
"""The result schema of an integer that can exceed 2^53."""


@dataclass(frozen=True, slots=True)
class QueryParam:
    """One parameter of a query: name (camelCase), kind (PARAM_KINDS), description."""

    name: str
    kind: str
    description: str
    required: bool = True

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"query parameter {self.name}: kind {self.kind!r} is not one of {', '.join(PARAM_KINDS)}")


@dataclass(frozen=True, slots=True)
class Query:
    """One RPC read method of a module: method name (<namespace>_<name>), handler(ctx,
    **params) -> JSON value, parameters, the result's name and JSON schema, a summary."""

    method: str
    handler: Callable[..., Any]
    params: tuple[QueryParam, ...]
    result_name: str
    result_schema: dict
    summary: str
