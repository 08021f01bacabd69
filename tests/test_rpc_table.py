"""The RPC method table is explicit: rpc/methods/table.py builds it from a list of method
modules (one per namespace); importing a module registers nothing, and the client learns
the methods without loading the server."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import types

import pytest

from rwachain.modules.bank import module as bank_module
from rwachain.modules.roles import module as roles_module
from rwachain.rpc.methods import account, chain, dev, state, table, tx
from rwachain.rpc.methods.modules import chain_table, module_methods
from rwachain.rpc.methods.params import Result, batch_handler, rpc_method

ROOT = pathlib.Path(__file__).resolve().parent.parent
PER_NAMESPACE = {"chain": chain, "tx": tx, "account": account, "state": state, "dev": dev}


def _module(name: str, **fns) -> types.ModuleType:
    """A method module made in the test: fns as its own handlers."""
    m = types.ModuleType(name)
    for fn in fns.values():
        fn.__module__ = name
    vars(m).update(fns)
    return m


@pytest.mark.parametrize("prefix", sorted(PER_NAMESPACE))
def test_each_chain_namespace_has_a_file_of_its_own(prefix):
    names = set(table.method_table([PER_NAMESPACE[prefix]]))
    assert names and all(n.startswith(prefix + "_") for n in names), names
    others = set(table.method_table([m for p, m in PER_NAMESPACE.items() if p != prefix]))
    assert not any(n.startswith(prefix + "_") for n in others), others


@pytest.mark.parametrize(("module", "names"), [
    (roles_module, {"roles_holders", "roles_params"}),
    (bank_module, {"bank_balance", "bank_supply", "bank_params"}),
])
def test_a_module_namespace_comes_from_its_queries_alone(module, names):
    """roles_ and bank_ are their modules' queries: in the chain's table, in no method file."""
    mine = set(module_methods([module.module()], {}))
    assert mine == names
    assert mine <= set(chain_table())
    prefix = next(iter(names)).split("_")[0] + "_"
    assert not any(n.startswith(prefix) for n in table.method_table())


def test_the_table_holds_what_it_is_given_and_nothing_else():
    """Two tables from different module lists share nothing: no module-level registry."""
    only_state = table.method_table([state])
    assert set(only_state) == {"state_get"}
    full = table.method_table()
    assert set(only_state) < set(full) and "rpc.discover" in full and "chain_subscribe" in full
    assert set(table.method_table([state])) == set(only_state)
    assert table.method_table([]) == {}


def test_the_batch_form_travels_with_its_method():
    assert table.method_table([tx])["tx_send"].batch is not None
    assert table.method_table()["tx_get"].batch is None


def test_a_method_defined_twice_or_a_stray_batch_form_is_refused():
    async def one(api):
        return 1

    async def also_one(api):
        return 1

    async def many(api, calls):
        return []

    first = _module("first", one=rpc_method("x_one", [], Result("n", {}), "one")(one))
    second = _module("second", also_one=rpc_method("x_one", [], Result("n", {}), "one again")(also_one))
    with pytest.raises(ValueError, match="x_one defined twice"):
        table.method_table([first, second])
    stray = _module("stray", many=batch_handler("x_none")(many))
    with pytest.raises(ValueError, match="x_none"):
        table.method_table([stray])


def test_a_handler_imported_from_elsewhere_is_not_collected_twice():
    borrowed = _module("borrowed")
    borrowed.state_get = state.state_get  # imported, not defined here
    assert table.method_table([borrowed]) == {}
    assert set(table.method_table([state, borrowed])) == set(table.method_table([state]))


def test_the_client_learns_the_methods_without_the_server():
    code = ("import sys; from rwachain.rpc.client import Client; "
            "print(hasattr(Client, 'chain_status'), hasattr(Client, 'assets_get'), "
            "sorted(m for m in sys.modules if m.startswith('rwachain.rpc.server')))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "True True []"
