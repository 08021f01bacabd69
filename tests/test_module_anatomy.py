"""The chain's modules declare their own parts (docs/adding-a-module.md): a module moved
off the hand-written lists is found in genesis, RPC, the simulation and the invariants
through its Module alone, and what users see stays as it was."""

from __future__ import annotations

from rwachain.genesis import loader
from rwachain.genesis.sim import simulate
from rwachain.modules.assets import module as assets_module
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.simops import FIRST, ordered
from rwachain.modules.market import module as market_module
from rwachain.modules.oracle import module as oracle_module
from rwachain.modules.roles import module as roles_module
from rwachain.modules.roles.records import Grant
from rwachain.modules.stable import module as stable_module
from rwachain.modules.tranches import module as tranches_module
from rwachain.rpc.methods.modules import chain_table, module_methods
from rwachain.rpc.methods.table import method_table
from rwachain.state.overlay import Overlay
from rwachain.state.store import Store

DECLARED = {"roles": roles_module, "market": market_module, "oracle": oracle_module, "tranches": tranches_module,
            "assets": assets_module, "stable": stable_module}

NAMESPACES = {"tranches": ("pool", "tranche", "valuation"), "assets": ("assets", "valuation"),
              "governance": ("gov",), "reserve": ("reserve", "native")}
"""Modules whose namespaces are not (only) their name: the valuation of an asset and of a
pool is declared by the module whose record it reads (modules/valuation/queries.py)."""

DRAW_ORDER = [
    "bank.transfer", "bank.distribute", "assets.register", "assets.verify", "assets.repay", "assets.markDefault",
    "assets.writeOff", "assets.recover", "tranches.createPool", "tranches.claim", "market.place", "market.cancel",
    "stable.exit", "stable.buy", "stable.redeem", "stable.mint", "stable.burn", "oracle.report", "oracle.reject",
    "insurance.stake", "insurance.unbond", "insurance.withdraw", "insurance.claim", "reserve.sell",
    "reserve.requestRedeem", "reserve.cancelRedeem", "governance.propose", "governance.proposeChange",
    "governance.vote", "governance.pause"]
"""The order seeded runs draw their operations in (a run's steps depend on it)."""


def test_every_module_section_is_declared_by_its_module():
    assert not hasattr(loader, "HAND_CHECKED")
    sections = {loader.section_field(m) for m in default_modules() if m.genesis_json is not None or m.genesis_records}
    assert loader.CHAIN_FIELDS | loader.OPTIONAL_FIELDS | sections == loader.TOP_FIELDS


def test_the_denominations_are_the_banks_declared_section(tmp_path):
    """The genesis's "denoms" is the bank's declared section: its check (field-named errors,
    the native denomination of kind native), import and export are the bank's; a chain
    whose modules declare no denominations refuses a genesis, naming the field."""
    import json

    import pytest

    from rwachain.genesis.fields import GenesisError

    mods = default_modules()
    bank = loader.denominations(mods)
    assert bank.name == "bank" and loader.section_field(bank) == "denoms"
    doc = _devnet_doc()
    meta = {"meta": {"nativeDenom": doc["nativeDenom"]}}
    section = bank.genesis_json.check(doc["denoms"], meta)
    assert list(section) == [d["id"] for d in doc["denoms"]] and section["rwa"]["kind"] == "native"
    assert bank.genesis_json.to_json(section) == doc["denoms"]
    with pytest.raises(GenesisError, match=r"^nativeDenom: must name a denomination of kind native$"):
        bank.genesis_json.check(doc["denoms"], {"meta": {"nativeDenom": "rusd"}})
    with pytest.raises(GenesisError, match=r"^denoms\[1\]\.decimals: 19 is outside \[0, 18\]$"):
        bank.genesis_json.check([doc["denoms"][0], {**doc["denoms"][1], "decimals": 19}], meta)
    p = tmp_path / "g.json"
    p.write_text(json.dumps(doc))
    assert loader.GenesisFile(str(p), mods).sections()["bank"] == section
    with pytest.raises(GenesisError, match=r"^denoms: no module of this chain declares the denominations$"):
        loader.GenesisFile(str(p), [m for m in mods if m.name != "bank"])


def test_declared_sections_leave_the_hand_checked_list():
    for name, mod in DECLARED.items():
        assert mod.module().genesis_json is not None
        assert name in loader.top_fields([mod.module()])


def test_declared_namespaces_come_from_the_modules_queries():
    for name, mod in DECLARED.items():
        mine = set(module_methods([mod.module()], {}))
        assert mine and all(n.split("_")[0] in NAMESPACES.get(name, (name,)) for n in mine)
        assert mine <= set(chain_table())
        assert not mine & set(method_table())


def test_every_rpc_namespace_of_a_module_is_its_queries():
    """No method table of the node's own holds a module's methods: every module namespace
    (bank, valuation, gov, ...) is declared by the modules' queries."""
    for m in default_modules():
        mine = set(module_methods([m], {}))
        assert all(n.split("_")[0] in NAMESPACES.get(m.name, (m.name,)) for n in mine), m.name
    namespaces = {n.split("_")[0] for n in method_table()}
    assert namespaces == {"chain", "account", "tx", "state", "dev", "rpc.discover"}
    declared = {n.split("_")[0] for n in module_methods(default_modules(), {})}
    assert {"valuation", "gov", "bank"} <= declared


def test_the_derived_draw_order_is_the_seeded_runs_order():
    assert list(simulate.DEFAULT_WEIGHTS) == DRAW_ORDER
    assert list(simulate.operation_weights(default_modules())) == DRAW_ORDER
    assert simulate.DEFAULT_WEIGHTS["market.place"] == 48 and simulate.DEFAULT_WEIGHTS["market.cancel"] == 16


def test_ordered_places_an_operation_after_its_anchor_or_at_the_end():
    got = ordered([("a.x", 1, FIRST), ("b.y", 2, FIRST), ("c.q", 5, "c.p"), ("c.p", 4, "a.x"), ("d.z", 3, ""),
                   ("e.w", 6, "gone.op")])
    assert list(got) == ["a.x", "c.p", "c.q", "b.y", "d.z", "e.w"]
    assert got["c.q"] == 5


def test_an_operation_declared_first_leads_the_draw_order():
    """after=FIRST places an operation at the start of the draw order, where no anchor
    can put it (an empty after places it at the end); the operations that follow it come
    right after it, and several declared first keep their module order."""
    declared = [("c.q", 5, "a.y"), ("a.x", 1, FIRST), ("a.y", 2, "a.x"), ("d.z", 3, "")]
    assert list(ordered(declared)) == ["a.x", "a.y", "c.q", "d.z"]
    unanchored = [(n, w, "" if a == FIRST else a) for n, w, a in declared]
    assert list(ordered(unanchored)) == ["c.q", "a.x", "a.y", "d.z"]
    assert list(ordered([("d.z", 3, ""), ("b.w", 4, FIRST), ("e.v", 6, FIRST)])) == ["b.w", "e.v", "d.z"]


def test_bank_and_governance_declare_their_random_operations():
    """Every random operation is declared by its module (none is built by the simulator),
    the bank's first; the bank's distribute is a transfer under an operation name of its own."""
    assert not hasattr(simulate, "BUILT_HERE")
    mods = {m.name: m for m in default_modules()}
    assert [(op.op_name, op.call) for op in mods["bank"].sim_ops] == [("transfer", "transfer"),
                                                                              ("distribute", "transfer")]
    assert [op.call for op in mods["governance"].sim_ops] == ["propose", "proposeChange", "vote", "pause"]
    assert mods["bank"].sim_ops[0].after == FIRST
    assert simulate.DEFAULT_WEIGHTS["governance.pause"] == 0.25 and repr(simulate.DEFAULT_WEIGHTS["bank.transfer"]) == "48"


def test_roles_invariant_finds_a_key_that_grants_no_known_role(tmp_path):
    store = Store(str(tmp_path / "s.ldb"))
    try:
        _roles_invariant(Ctx(Overlay(store), BlockInfo(1, 0, b"")))
    finally:
        store.close()


def _roles_invariant(ctx: Ctx) -> None:
    m = roles_module.module()
    roles_module.grant(ctx, "operator", b"\x01" * 20)
    assert m.invariants(ctx) == []
    ctx.set_obj(Grant("overlord", b"\x02" * 20).key(), True)
    ctx.set_obj(roles_module.PREFIX + b"short", True)
    assert m.invariants(ctx) == ["roles: a stored key grants 'overlord'", "roles: a stored key grants no role"]


def test_assets_invariant_finds_an_asset_missing_from_its_status_index(tmp_path):
    from rwachain.modules.assets import keeper as assets
    from rwachain.modules.assets.records import Asset

    store = Store(str(tmp_path / "s.ldb"))
    try:
        ctx = Ctx(Overlay(store), BlockInfo(1, 0, b""))
        inv = assets_module.module().invariants
        b = assets.idb(7)
        ctx.set_obj(assets.REC + b, Asset(7, "loan", b"\x01" * 20, b"\x01" * 20, 1, 0, 1, b"\x00" * 32, "verified", 0,
                                          b"\x02" * 20, 0, 0, None, 0, 0, 0, 0).to_stored())
        assert inv(ctx) == ["assets 7: not listed under its status 'verified' alone"]
        ctx.set(assets.status_prefix("verified") + b, b"\xc0")
        assert inv(ctx) == []
        ctx.set(assets.status_prefix("pooled") + b, b"\xc0")
        assert inv(ctx) == ["assets 7: not listed under its status 'verified' alone"]
        ctx.delete(assets.REC + b)
        assert inv(ctx) == [f"assets: index entry {b.hex()} names no asset"]
    finally:
        store.close()


def test_a_section_is_checked_after_the_sections_it_needs():
    from rwachain.modules.core.registry import Module
    from rwachain.modules.core.sections import Section

    seen = []

    def section(name, needs=()):
        def check(raw, checked):
            seen.append((name, sorted(k for k in checked if k not in ("meta", "denoms"))))
            return raw
        return Module(name, genesis_json=Section(check, lambda s: s, needs=needs))

    mods = [section("a", needs=("c",)), section("b"), section("c")]
    out = loader.declared_sections({"a": 1, "b": 2, "c": 3}, {"meta": {}, "denoms": {}}, mods)
    assert out == {"b": 2, "c": 3, "a": 1}
    assert seen == [("b", []), ("c", ["b"]), ("a", ["b", "c"])]


def _devnet_doc() -> dict:
    import json

    from rwachain.genesis import devnet

    with open(devnet.PATH) as f:
        return json.load(f)


def test_assets_without_a_stable_section_are_refused(tmp_path):
    import json

    import pytest

    from rwachain.genesis.fields import GenesisError

    doc = _devnet_doc()
    del doc["stable"]
    p = tmp_path / "g.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(GenesisError, match=r"^assets: assets are repaid in the stable token: declare stable first$"):
        loader.GenesisFile(str(p))


def test_stable_balances_beyond_the_attested_reserve_are_refused(tmp_path):
    import json

    import pytest

    from rwachain.genesis.fields import GenesisError

    doc = _devnet_doc()
    doc["stable"]["proofOfReserve"] = "1"
    p = tmp_path / "g.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(GenesisError, match=r"^stable\.proofOfReserve: genesis balances of rusd \(\d+\) exceed the "
                                           r"attested reserve \(1\)$"):
        loader.GenesisFile(str(p))


def test_governance_and_then_the_reserve_run_last():
    """A module added to the chain goes before them (docs/adding-a-module.md, step 3): the
    reserve's hooks run after governance's, and governance is built from every other module."""
    names = [m.name for m in default_modules()]
    assert names[-2:] == ["governance", "reserve"]
    assert names[0] == "bank" and len(names) == len(set(names))
