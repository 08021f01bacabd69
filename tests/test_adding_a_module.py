"""A module defined in this file alone (docs/adding-a-module.md's example) is found in every
place that lists modules: genesis validation, import and export, the invariants, the RPC
method table and the OpenRPC document, and the simulation's operations. No other file
names it: each of those places reads the App's module list."""

from __future__ import annotations

import io
import json

import pytest
import trio

from rwachain.genesis import loader
from rwachain.genesis.fields import GenesisError
from rwachain.genesis.localchain import LocalChain
from rwachain.genesis.sim import simulate
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.args import Int
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.queries import UINT_TEXT, Query
from rwachain.modules.core.records import Record
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.core.simops import SimOp
from rwachain.rpc.methods import openrpc
from rwachain.rpc.methods.modules import chain_table, node_methods
from rwachain.rpc.methods.table import method_table
from rwachain.rpc.server.jsonrpc import Dispatcher

# ----- the module: a counter (the example of docs/adding-a-module.md) -------------------------
NAME = "counter"
COUNT = b"counter/count"  # int: the counter's value
LIMIT = 1_000  # the invariant: the counter never passes this


def _bump(ctx: Ctx, sender: bytes, args: dict) -> None:
    """counter.bump {by}: add `by` to the counter."""
    ctx.set_int(COUNT, ctx.get_int(COUNT) + args["by"])
    ctx.emit("counter.bumped", by=args["by"], sender=sender)


def _invariants(ctx: Ctx) -> list[str]:
    n = ctx.get_int(COUNT)
    return [] if n <= LIMIT else [f"the count {n} is above {LIMIT}"]  # the framework adds "counter: "


def _value(ctx: Ctx) -> str:
    return str(ctx.get_int(COUNT))


def _draw(rng, ctx: Ctx, actors: list[str]) -> tuple[str, dict]:
    return rng.choice(actors), {"by": rng.randint(1, 3)}


def counter_module() -> Module:
    m = Module(NAME, invariants=_invariants,
               genesis_records=(Record("count", COUNT, value="int"),),
               queries=(Query("counter_value", _value, (), "count", UINT_TEXT, "The counter's value."),),
               sim_ops=(SimOp("bump", 10, _draw),))
    m.add_call(Call("bump", _bump, {"by": Int(1, 100)}, cost=1_000, doc="Add `by` (1..100) to the counter."))
    return m


def with_counter() -> list[Module]:
    return [*default_modules(), counter_module()]


# ----- the checks -----------------------------------------------------------------------------
def _genesis(count) -> dict:
    doc = simulate.sim_genesis(holders=2)
    if count is not None:
        doc[NAME] = {"count": count}
    return doc


def test_its_genesis_section_is_validated_imported_and_exported():
    with LocalChain(_genesis("7"), modules=with_counter()) as chain:
        assert chain.reader().get_int(COUNT) == 7
        out = io.StringIO()
        loader.export_genesis(chain.app, out)
        assert json.loads(out.getvalue())[NAME] == {"count": "7"}
    with pytest.raises(GenesisError, match=r"counter\.count"):
        LocalChain(_genesis("seven"), modules=with_counter())
    with pytest.raises(GenesisError, match=r"counter: unknown field"):
        LocalChain(_genesis("7"))  # the chain's own modules have no counter section


def test_its_invariant_is_checked_at_genesis_and_after_blocks():
    with pytest.raises(GenesisError, match=r"counter: the count 1001 is above 1000"):
        LocalChain(_genesis(str(LIMIT + 1)), modules=with_counter())
    with LocalChain(_genesis(str(LIMIT - 1)), modules=with_counter()) as chain:
        key = simulate.actor_keypair("holder0")
        res = chain.produce([chain.tx(key, NAME, "bump", {"by": 5})])
        assert res.receipts[0].code == 0, res.receipts[0].message
        assert ("counter", "the count 1004 is above 1000") in simulate.check_invariants(chain.app)


class _Reads:
    """The part of the RPC's Api that a query uses: a reader at a height (the latest here)."""

    def __init__(self, app, methods):
        self.app = app
        self.methods = methods  # what rpc.discover describes

    def reader(self, height):
        return self.app.reader()


def test_its_query_is_in_the_method_table_and_the_openrpc_document():
    table = node_methods(with_counter())
    doc = openrpc.document(table)
    entry = next(m for m in doc["methods"] if m["name"] == "counter_value")
    assert entry["result"] == {"name": "count", "description": "The counter's value.", "schema": UINT_TEXT}
    assert [p["name"] for p in entry["params"]] == ["height"]
    assert "counter_value" not in node_methods(default_modules())
    assert openrpc.document(node_methods(default_modules())) == openrpc.document(chain_table())
    assert set(method_table()) < set(chain_table())  # the modules' queries join the namespaces' methods
    with LocalChain(_genesis("42"), modules=with_counter()) as chain:
        dispatcher = Dispatcher(_Reads(chain.app, table), table)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "counter_value", "params": []}).encode()
        assert json.loads(trio.run(dispatcher.handle_body, body))["result"] == "42"
        body = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "rpc.discover", "params": []}).encode()
        names = [m["name"] for m in json.loads(trio.run(dispatcher.handle_body, body))["result"]["methods"]]
        assert "counter_value" in names


def test_its_operation_is_drawn_by_the_simulation():
    assert simulate.operation_weights(with_counter())["counter.bump"] == 10
    assert "counter.bump" not in simulate.operation_weights(default_modules())
    cfg = simulate.SimConfig(seed=3, blocks=20, holders=2, attack_rate=0, weights={"counter.bump": 1_000})
    res = simulate.run(cfg, modules=with_counter)
    assert res.failure is None, res.failure
    assert res.stats["counter.bump"].get("ok", 0) > 0
    with pytest.raises(ValueError, match="unknown operation 'counter.bump'"):
        simulate.run(cfg)  # the chain's own modules have no such operation
