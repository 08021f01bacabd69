"""The RPC methods the App's modules declare (Module.queries, modules/core/queries.py),
joined to the method table that dispatches them and that rpc.discover describes."""

from __future__ import annotations

from rwachain.modules.core.app import default_modules
from rwachain.modules.core.queries import Query, QueryError, QueryParam
from rwachain.modules.core.registry import Module
from rwachain.rpc.errors import INVALID_PARAMS, INVALID_STATE, NOT_FOUND, RpcError
from rwachain.rpc.methods import params as P
from rwachain.rpc.methods.params import HEIGHT, Method, Param, Result
from rwachain.rpc.methods.table import method_table

KINDS = {"u64": P.U64, "uint": P.UINT, "address": P.ADDRESS, "hash": P.HASH, "hex": P.HEX, "string": P.STRING,
         "bool": P.BOOL}
"""The RPC parameter type of each query parameter kind."""
ERROR_CODES = {"not_found": NOT_FOUND, "invalid_state": INVALID_STATE, "invalid_params": INVALID_PARAMS}
"""The server code of each query error kind (modules/core/queries.ERROR_KINDS)."""


def _kind(p: QueryParam) -> P.PType:
    """The RPC parameter type of a query parameter."""
    if p.kind == "choice":
        return P.choice(*p.choices)
    if p.kind == "u64" and p.min:
        return P.bounded(p.min, P.U64_MAX)
    return KINDS[p.kind]


def query_method(q: Query) -> Method:
    """The method table entry of a query: its parameters and the optional height; the
    handler reads at that height (api.reader) and returns the query's JSON result."""
    async def handler(api, height=None, **params):
        try:
            return q.handler(api.reader(height), **params)
        except QueryError as exc:
            raise RpcError(ERROR_CODES[exc.kind], exc.message, exc.data) from None

    params = [Param(p.name, _kind(p), p.description, p.required, p.default) for p in q.params]
    return Method(q.method, handler, [*params, HEIGHT], Result(q.result_name, q.result_schema), q.summary,
                  errors=[ERROR_CODES[k] for k in q.errors])


def module_methods(modules: list[Module], taken: dict[str, Method]) -> dict[str, Method]:
    """{name: method} of every query of modules; ValueError if one is named like a method
    of taken or like another query."""
    out: dict[str, Method] = {}
    for m in modules:
        for q in m.queries:
            if q.method in taken or q.method in out:
                raise ValueError(f"module {m.name}: RPC method {q.method} is already defined")
            out[q.method] = query_method(q)
    return out


def node_methods(modules: list[Module]) -> dict[str, Method]:
    """The whole method table of a node over these modules: the chain's namespaces
    (rpc/methods/table.py) and the modules' queries. rpc.discover describes the table the
    Api serves, so it lists the queries too."""
    table = method_table()
    table.update(module_methods(modules, table))
    return table


def chain_table() -> dict[str, Method]:
    """The method table of a node of the chain's default modules (what the client binds
    its parameters by, the CLI lists and rpc.discover describes)."""
    return node_methods(default_modules())
