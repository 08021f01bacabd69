"""The method table: every RPC method, collected from the modules that define them.

A method module marks its handlers with params.rpc_method (and a whole-batch form with
params.batch_handler); nothing registers itself on import. method_table() reads the
marked handlers of the modules it is given, by default NAMESPACES, and the server
dispatches (rpc/server/), rpc.discover documents (rpc/methods/openrpc.py) and the client
binds parameters (rpc/client/) from what it returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from types import ModuleType

from rwachain.rpc.methods import (
    account,
    chain,
    dev,
    metrics,
    openrpc,
    state,
    tx,
)
from rwachain.rpc.methods.params import Method

# One module per namespace of the node (openrpc: rpc.discover). The namespaces of the App's
# modules are their queries, joined in rpc/methods/modules.py (node_methods, chain_table).
NAMESPACES: tuple[ModuleType, ...] = (chain, metrics, account, tx, state, dev, openrpc)


def method_table(modules: Iterable[ModuleType] = NAMESPACES) -> dict[str, Method]:
    """name -> Method of every handler the given modules define (not merely import), each
    with its whole-batch form; a name defined twice, or a batch form of no method, is a
    ValueError."""
    table: dict[str, Method] = {}
    batches: dict[str, object] = {}
    for module in modules:
        for fn in vars(module).values():
            if getattr(fn, "__module__", None) != module.__name__:
                continue
            spec = getattr(fn, "rpc", None)
            if isinstance(spec, Method):
                if spec.name in table:
                    raise ValueError(f"method {spec.name} defined twice")
                table[spec.name] = spec
            if isinstance(getattr(fn, "batch_of", None), str):
                batches[fn.batch_of] = fn
    for name, fn in batches.items():
        if name not in table:
            raise ValueError(f"a batch form of {name}, which is no method")
        table[name] = dataclasses.replace(table[name], batch=fn)
    return table
