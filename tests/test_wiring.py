"""Per-App wiring: the callbacks one module offers another belong to the App that lists both.

Before, four module-level dicts (the bank's settle hooks, the assets' pool listeners, the
market's fill listeners, the tranches' insurer) were filled whenever a module's factory
ran, so every App in a process ran the callbacks of every module any App had listed.
"""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet, loader
from rwachain.genesis.localchain import LocalChain
from rwachain.modules.assets import module as assets_module
from rwachain.modules.bank import keeper as bank
from rwachain.modules.bank import module as bank_module
from rwachain.modules.core.app import App, default_modules
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.registry import Module
from rwachain.modules.core.wiring import Offer, WiringError, wire
from rwachain.modules.oracle import module as oracle_module
from rwachain.modules.roles import module as roles_module
from rwachain.modules.stable import module as stable_module
from rwachain.modules.tranches import keeper as tranches_keeper
from rwachain.modules.tranches import module as tranches_module
from rwachain.state.overlay import Overlay
from rwachain.state.store import Store

UNIT = "unit/p1/t0"  # the devnet's demo pool, senior tranche: dev 1 holds 3,000 units


def _send_units(chain: LocalChain) -> None:
    """Dev 1 sends dev 2 one senior unit of the demo pool; the transfer succeeds."""
    keys = devnet.dev_keys()
    res = chain.produce([chain.tx(keys[1], "bank", "transfer", {"to": keys[2].address, "denom": UNIT, "amount": 1})])
    assert res.receipts[0].code == 0, res.receipts[0].message


def test_two_apps_in_one_process_do_not_see_each_others_callbacks(monkeypatch):
    """An App of all modules and an App of the bank and roles alone, in one process: a unit
    transfer in the first settles the unit's payouts (the tranches module's callback runs);
    the same transfer in the second runs no tranches code, whichever App was built first.
    Failed before: the subset App ran the settle hook the full App's factory had registered."""
    settled: list[str] = []
    original = tranches_keeper.on_units_move

    def spy(ctx, denom, holders):
        settled.append(denom)
        original(ctx, denom, holders)

    monkeypatch.setattr(tranches_keeper, "on_units_move", spy)
    doc = devnet.at(devnet.GENESIS_TIME)
    doc["params"]["chain"]["feePrice"] = 0
    small = {k: v for k, v in doc.items() if k in loader.top_fields([bank_module.module(), roles_module.module()])}
    with LocalChain(small, modules=[bank_module.module(), roles_module.module()]) as subset, \
            LocalChain(doc, modules=default_modules()) as full:
        _send_units(subset)
        assert settled == []
        _send_units(full)
        assert settled == [UNIT]
        _send_units(subset)
        assert settled == [UNIT]


def test_a_needed_callback_no_module_offers_is_refused_when_the_app_is_built(tmp_path):
    """The tranches module needs the insurance fund's cover of senior losses: an App with
    pools but no insurer is refused at construction, naming the module and the callback."""
    subset = [bank_module.module(), roles_module.module(), oracle_module.module(), assets_module.module(),
              tranches_module.module(), stable_module.module()]
    store = Store(str(tmp_path / "s.ldb"))
    try:
        with pytest.raises(WiringError, match=r"tranches needs tranches\.cover"):
            App(store, modules=subset)
    finally:
        store.close()


def test_every_app_context_carries_its_own_wiring(tmp_path):
    """The contexts an App makes (reader, hooks, handlers) carry its wiring; two Apps' wirings
    are distinct objects with the callbacks of their own modules only."""
    stores = [Store(str(tmp_path / "a.ldb")), Store(str(tmp_path / "b.ldb"))]
    try:
        full = App(stores[0])
        subset = App(stores[1], modules=[bank_module.module(), roles_module.module()])
        assert [k for k, _ in full.wiring.each(bank.SETTLE)] == [tranches_keeper.UNIT_PREFIX]
        assert subset.wiring.each(bank.SETTLE) == ()
        assert full.context(stores[0], BlockInfo(0, 0, b"")).wiring is full.wiring
    finally:
        for s in stores:
            s.close()


def test_a_keeper_used_alone_runs_the_callbacks_of_the_wiring_it_is_given(tmp_path):
    """A keeper used outside an App runs exactly the callbacks of the wiring its context
    carries: none by default, a module's when the caller wires it."""
    calls: list[tuple[str, list[bytes]]] = []
    recorder = Module("recorder", offers=(Offer(bank.SETTLE, lambda ctx, d, h: calls.append((d, h)), key="x/"),))
    store = Store(str(tmp_path / "s.ldb"))
    try:
        a, b = b"\x01" * 20, b"\x02" * 20
        plain = Ctx(Overlay(store), BlockInfo(1, 0, b""))
        bank.mint(plain, a, "x/1", 5)
        assert calls == []
        wired = Ctx(Overlay(store), BlockInfo(1, 0, b""), wire([recorder]))
        bank.mint(wired, a, "x/1", 5)
        bank.transfer(wired, a, b, "x/1", 2)
        bank.transfer(wired, a, b, "y/1", 0)  # another prefix: not this callback's
        assert calls == [("x/1", [a]), ("x/1", [a, b])]
    finally:
        store.close()


def test_an_offer_to_the_same_slot_and_key_twice_is_refused():
    one = Module("one", offers=(Offer(bank.SETTLE, lambda *a: None, key="x/"),))
    two = Module("two", offers=(Offer(bank.SETTLE, lambda *a: None, key="x/"),))
    with pytest.raises(WiringError, match=r"one and two both offer bank\.settle"):
        wire([one, two])


PURE_CACHES = {"modules/valuation/dcf.py": {"_gap_memo", "_squares"}, "modules/core/bls.py": {"_loaded"}}
"""Module-level containers of modules/ that are allowed: memos of pure functions and the
loaded BLS backend, whose content never changes a result."""


def _empty_container(value) -> bool:
    """{}, [], set(), dict(), list(), defaultdict(...): a container made to be filled later."""
    import ast

    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, (ast.List, ast.Set)):
        return not value.elts
    return isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "list", "set", "defaultdict")


def test_no_module_level_mutable_registry_in_modules():
    """No file of modules/ keeps a module-level dict, list or set that code fills at run time
    (a registry of callbacks, as the wiring dicts were): such state is per process, not per
    App. Memos of pure functions are listed in PURE_CACHES. Failed before: the bank's
    _SETTLE, the assets' _POOL_LISTENERS, the market's _FILL_LISTENERS, _BUY_LIMITS and
    _GUARDS, the tranches' _INSURER."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for f in sorted((root / "modules").rglob("*.py")):
        rel = str(f.relative_to(root))
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and _empty_container(value) and target.id not in PURE_CACHES.get(rel, ()):
                found.append(f"{rel}: {target.id}")
    assert found == [], "module-level mutable containers in modules/:\n" + "\n".join(found)
