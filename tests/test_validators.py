"""The validator set: named by the genesis (top-level "validators"), answered to CometBFT
by InitChain, written into CometBFT's genesis by the localnet; changed by governance
(setValidator), whose refusals keep the chain live."""

from __future__ import annotations

import copy
import io
import json
import os

import pytest

from rwachain.genesis import devnet
from rwachain.genesis.loader import GenesisError, GenesisFile, export_genesis, import_genesis
from rwachain.modules.core.app import App
from rwachain.modules.governance import validators as vs
from rwachain.node.abci import home as abci_home
from rwachain.node.abci import types as t
from rwachain.node.abci.app import ChainApp, open_home_chain
from rwachain.state.store import Store

KEYS = [bytes([i + 1]) * 32 for i in range(5)]


def named(n=4, power=10) -> list[dict]:
    return [{"pubkey": "0x" + k.hex(), "power": power, "name": f"v{i}"} for i, k in enumerate(KEYS[:n])]


def write(tmp_path, doc, name="g.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def with_validators(vals) -> dict:
    doc = copy.deepcopy(devnet.build())
    doc["validators"] = vals
    return doc


def test_genesis_validators_are_imported_and_exported_at_the_top_level(tmp_path):
    store = Store(str(tmp_path / "s"))
    app = App(store)
    import_genesis(app, write(tmp_path, with_validators(named())))
    assert vs.named_set(app.reader()) == {k: 10 for k in KEYS[:4]}
    out = io.StringIO()
    export_genesis(app, out)
    exported = json.loads(out.getvalue())
    assert exported["validators"] == [{"pubkey": "0x" + k.hex(), "power": 10} for k in KEYS[:4]]
    assert "validators" not in exported.get("governance", {})
    again = App(Store(str(tmp_path / "again")))
    assert import_genesis(again, write(tmp_path, exported, "e.json")) == store.root_hash


def test_a_genesis_without_validators_keeps_its_one_validator_and_its_root(tmp_path):
    store = Store(str(tmp_path / "s"))
    app = App(store)
    import_genesis(app, devnet.PATH)
    assert vs.named_set(app.reader()) == {}
    assert vs.validator_set(app.reader()) == {devnet.validator_key().pubkey: vs.DEFAULT_POWER}


BAD = [
    ([], "validators"),
    ({"pubkey": "0x00"}, "validators"),
    ([{"pubkey": "0x" + "11" * 31, "power": 10}], "validators[0].pubkey"),
    ([{"pubkey": "0x" + "zz" * 32, "power": 10}], "validators[0].pubkey"),
    ([{"pubkey": "0x" + "11" * 32, "power": 0}], "validators[0].power"),
    ([{"pubkey": "0x" + "11" * 32, "power": vs.MAX_POWER + 1}], "validators[0].power"),
    ([{"pubkey": "0x" + "11" * 32, "power": "ten"}], "validators[0].power"),
    ([{"pubkey": "0x" + "11" * 32}], "validators[0]"),
    ([{"pubkey": "0x" + "11" * 32, "power": 1, "role": "x"}], "validators[0]"),
    ([{"pubkey": "0x" + "11" * 32, "power": 1}, {"pubkey": "0x" + "11" * 32, "power": 2}],
     "validators[1].pubkey"),
    ([{"pubkey": "0x" + "11" * 32, "power": 1, "name": 5}], "validators[0].name"),
    ([{"pubkey": "0x" + bytes([i // 256, i % 256]).hex() * 16, "power": 1} for i in range(vs.MAX_VALIDATORS + 1)],
     "validators"),
]


@pytest.mark.parametrize("vals, field", BAD, ids=[f"{i}:{f}" for i, (_, f) in enumerate(BAD)])
def test_invalid_genesis_validators_name_the_field(tmp_path, vals, field):
    with pytest.raises(GenesisError) as info:
        GenesisFile(write(tmp_path, with_validators(vals)))
    assert str(info.value).startswith(field + ":"), str(info.value)


def test_validators_named_twice_are_refused(tmp_path):
    doc = with_validators(named())
    doc["governance"] = {"validators": [{"pubkey": "0x" + KEYS[4].hex(), "power": 3}]}
    with pytest.raises(GenesisError, match="^validators: named twice"):
        import_genesis(App(Store(str(tmp_path / "s"))), write(tmp_path, doc))


def _abci_home(tmp_path, doc) -> ChainApp:
    home = str(tmp_path / "node")
    os.makedirs(home)
    write(tmp_path / "node", doc, abci_home.GENESIS)
    chain, genesis = open_home_chain(home)
    return ChainApp(chain, genesis)


def test_init_chain_answers_cometbft_with_the_genesis_validators(tmp_path):
    doc = with_validators(named(3))
    doc["validators"][1]["power"] = 25
    app = _abci_home(tmp_path, doc)
    try:
        res = app.init_chain(t.RequestInitChain(time=t.Timestamp(devnet.GENESIS_TIME), chain_id=devnet.CHAIN_ID,
                                                initial_height=1))
    finally:
        app.chain.close()
    assert [(u.pub_key.ed25519, u.power) for u in res.validators] == [(KEYS[0], 10), (KEYS[1], 25), (KEYS[2], 10)]


def test_init_chain_without_named_validators_leaves_cometbfts_set(tmp_path):
    app = _abci_home(tmp_path, devnet.build())
    try:
        res = app.init_chain(t.RequestInitChain(time=t.Timestamp(devnet.GENESIS_TIME), chain_id=devnet.CHAIN_ID,
                                                initial_height=1))
    finally:
        app.chain.close()
    assert res.validators == ()


def test_cometbft_genesis_is_written_from_the_rwachain_validators(tmp_path):
    from tests.cometbft import binary
    home = str(tmp_path / "n")
    os.makedirs(home)
    abci_home.comet_init(binary(), home)
    doc = with_validators(named(2))
    doc["validators"][0]["power"] = 7
    abci_home.write_comet_genesis(home, doc)
    with open(os.path.join(abci_home.comet_home(home), "config", "genesis.json")) as f:
        comet = json.load(f)
    assert [(v["pub_key"]["value"], v["power"], v["name"]) for v in comet["validators"]] == [
        (abci_home.genesis_validator(KEYS[0])["pub_key"]["value"], "7", "v0"),
        (abci_home.genesis_validator(KEYS[1])["pub_key"]["value"], "10", "v1")]
    assert comet["validators"][0]["address"] == abci_home.validator_address(KEYS[0]).hex().upper()


def test_a_localnet_names_its_validators_in_the_rwachain_genesis_and_cometbfts(tmp_path):
    from rwachain.node.abci import localnet
    from tests.cometbft import binary
    nodes = localnet.create(str(tmp_path / "net"), 2, binary(), base_port=0, full_nodes=1, now=devnet.GENESIS_TIME)
    keys = [abci_home.validator_pubkey(n.home) for n in nodes]
    for n in nodes:
        rwa = GenesisFile(os.path.join(n.home, abci_home.GENESIS))
        assert [(v["pubkey"], v["power"], v["name"]) for v in rwa.validators] == [
            (keys[0], 10, "node0"), (keys[1], 10, "node1")]  # the full node votes on nothing
        with open(os.path.join(abci_home.comet_home(n.home), "config", "genesis.json")) as f:
            assert [v["pub_key"]["value"] for v in json.load(f)["validators"]] == [
                abci_home.genesis_validator(k)["pub_key"]["value"] for k in keys[:2]]


def test_a_localnet_refuses_a_genesis_that_names_validators(tmp_path):
    from rwachain.node.abci import localnet
    from tests.cometbft import binary
    path = write(tmp_path, with_validators(named()))
    with pytest.raises(localnet.LocalnetError, match="names validators"):
        localnet.create(str(tmp_path / "net"), 2, binary(), genesis_path=path, base_port=0)
