"""The RPC methods the App's modules declare (Module.queries, modules/core/queries.py),
joined to the method table that dispatches them and that rpc.discover describes."""

from __future__ import annotations

from rwachain.modules.core.queries import Query
from rwachain.modules.core.registry import Module
from rwachain.rpc.methods import openrpc
from rwachain.rpc.methods import params as P
from rwachain.rpc.methods.params import HEIGHT, METHODS, Method, Param, Result

KINDS = {"u64": P.U64, "uint": P.UINT, "address": P.ADDRESS, "hash": P.HASH, "hex": P.HEX, "string": P.STRING,
         "bool": P.BOOL}
"""The RPC parameter type of each query parameter kind."""


def query_method(q: Query) -> Method:
    """The method table entry of a query: its parameters and the optional height; the
    handler reads at that height (api.reader) and returns the query's JSON result."""
    async def handler(api, height=None, **params):
        return q.handler(api.reader(height), **params)

    params = [Param(p.name, KINDS[p.kind], p.description, p.required) for p in q.params]
    return Method(q.method, handler, [*params, HEIGHT], Result(q.result_name, q.result_schema), q.summary)


def module_methods(modules: list[Module]) -> dict[str, Method]:
    """{name: method} of every query of modules; ValueError if one is named like another
    method."""
    out: dict[str, Method] = {}
    for m in modules:
        for q in m.queries:
            if q.method in METHODS or q.method in out:
                raise ValueError(f"module {m.name}: RPC method {q.method} is already defined")
            out[q.method] = query_method(q)
    return out


def method_table(modules: list[Module]) -> dict[str, Method]:
    """The whole method table of a node over these modules: the chain's methods, the
    modules' queries, and rpc.discover describing exactly that table."""
    extra = module_methods(modules)
    if not extra:
        return dict(METHODS)
    table = {**METHODS, **extra}

    async def discover(api):
        return openrpc.document(table)

    table["rpc.discover"] = Method("rpc.discover", discover, [], METHODS["rpc.discover"].result,
                                   METHODS["rpc.discover"].summary)
    return table
