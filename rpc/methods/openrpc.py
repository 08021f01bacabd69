"""rpc.discover: the OpenRPC 1.3.2 document, generated from the method table that dispatches."""

from __future__ import annotations

from rwachain.rpc.errors import SERVER_CODES
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.params import METHODS, Result, rpc_method


def _version() -> str:
    # Imported here: importlib.metadata costs about 30 ms, and the node's start does not need it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rwachain")
    except PackageNotFoundError:
        return "0.0.0"


def document(table: dict | None = None) -> dict:
    """The OpenRPC document of a method table (default: the chain's, METHODS)."""
    methods = []
    for m in sorted((METHODS if table is None else table).values(), key=lambda m: m.name):
        entry = {
            "name": m.name,
            "summary": m.summary,
            "params": [{"name": p.name, "description": p.description, "required": p.required,
                        "schema": p.type.schema} for p in m.params],
            "result": {"name": m.result.name, "description": m.result.description or m.summary,
                       "schema": m.result.schema},
        }
        errs = [{"code": c, "message": SERVER_CODES[c]} for c in m.errors if c in SERVER_CODES]
        if errs:
            entry["errors"] = errs
        if m.dev_only:
            entry["tags"] = [{"name": "dev", "description": "devnet only"}]
        methods.append(entry)
    return {
        "openrpc": "1.3.2",
        "info": {"title": "rwachain JSON-RPC", "version": _version(),
                 "description": "JSON-RPC 2.0 of an rwachain node. Conventions: camelCase; integers that can "
                                "exceed 2^53 as decimal strings; bytes as 0x-hex; addresses as rwa1... text."},
        "methods": methods,
    }


@rpc_method("rpc.discover", [], Result("openrpcDocument", S.OPENRPC_DOCUMENT),
            "This API's OpenRPC document, generated from the dispatch table.")
async def rpc_discover(api):
    return document()
