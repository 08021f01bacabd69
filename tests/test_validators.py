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
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.governance import module as gov
from rwachain.modules.governance import validators as vs
from rwachain.node.abci import home as abci_home
from rwachain.node.abci import types as t
from rwachain.node.abci.app import ChainApp, open_home_chain
from rwachain.node.chain import Chain
from rwachain.state.store import Store
from tests.mech import KEYS as DEV
from tests.mech import Driver, events

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


# ----- governance: setValidator ----------------------------------------------------------
STAKE = 600 * 1000 * 10**6  # 600 RWA bonded: outvotes the devnet's stakers
VOTE = gov.DEFAULT_PARAMS["votingPeriod"]
DELAY = gov.DEFAULT_PARAMS["executionDelay"]


def change(key: bytes, power: int) -> str:
    return f"0x{key.hex()}:{power}"


@pytest.fixture
def dv(tmp_path):
    """A devnet chain whose genesis names KEYS[:4] at power 10, with a bonded staker."""
    chain = Chain(str(tmp_path / "chain"), devnet.validator_key())
    chain.init_genesis(write(tmp_path, with_validators(named(4))))
    d = Driver(chain)
    d.block(d.tx(DEV[0], "insurance", "stake", {"amount": STAKE}))
    yield d
    chain.close()


def propose(d, value, target="validators"):
    return d.run(DEV[0], "governance", "proposeChange", {"action": "setValidator", "target": target, "value": value})


def vote_through(d, *pids):
    for pid in pids:
        assert d.run(DEV[0], "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    d.block(at=max(gov.get(d.ctx, p).end for p in pids))
    return d.block(at=max(gov.get(d.ctx, p).executeAt for p in pids))[0]


def test_a_passed_set_validator_adds_a_fifth_and_the_block_says_so(dv):
    r = propose(dv, change(KEYS[4], 10))
    assert r.code == 0, r.message
    result = vote_through(dv, events(r, "gov.proposed")[0]["id"])
    assert vs.named_set(dv.ctx) == {**{k: 10 for k in KEYS[:4]}, KEYS[4]: 10}
    assert [e["attrs"] for e in result.events if e["type"] == "gov.validatorSet"] == [
        {"pubkey": KEYS[4], "power": 10}]


def test_power_zero_removes_a_validator(dv):
    r = propose(dv, change(KEYS[3], 0))
    assert r.code == 0, r.message
    vote_through(dv, events(r, "gov.proposed")[0]["id"])
    assert vs.named_set(dv.ctx) == {k: 10 for k in KEYS[:3]}


REFUSED = [
    (change(KEYS[4], 0), "validators"),  # not a validator: nothing to remove
    (change(KEYS[4], 21), "validators"),  # a newcomer with a third of the new power
    (change(KEYS[0], 31), "validators"),  # one validator raised to hold a third
    ("0x" + "11" * 31 + ":10", "validators"),  # a 31-byte key
    ("0x" + "zz" * 32 + ":10", "validators"),  # not hex
    ("11" * 32 + ":10", "validators"),  # no 0x
    ("0x" + "11" * 32, "validators"),  # no power
    ("0x" + "11" * 32 + ":-1", "validators"),
    ("0x" + "11" * 32 + f":{vs.MAX_POWER + 1}", "validators"),
    (change(KEYS[4], 10), "oracle"),  # the wrong target
]


@pytest.mark.parametrize("value, target", REFUSED, ids=[f"{i}" for i in range(len(REFUSED))])
def test_a_malformed_or_unsafe_change_is_refused_at_proposal_and_writes_nothing(dv, value, target):
    before = vs.named_set(dv.ctx), dv.ctx.get_int(gov.NEXT)
    r = propose(dv, value, target)
    assert r.code != 0 and r.error == "invalid_state", r.message
    assert (vs.named_set(dv.ctx), dv.ctx.get_int(gov.NEXT)) == before


def test_removing_every_validator_is_refused(devnet_chain):
    d = Driver(devnet_chain)  # the devnet's one validator, at power 10
    d.block(d.tx(DEV[0], "insurance", "stake", {"amount": STAKE}))
    r = propose(d, change(devnet.validator_key().pubkey, 0))
    assert r.error == "invalid_state" and "every validator" in r.message
    with pytest.raises(Exception, match="every validator"):
        vs.changed_set({KEYS[0]: 10}, KEYS[0], 0)


def test_two_removals_each_safe_alone_the_second_fails_at_execution(dv):
    """Each leaves 30 of 40 when proposed; once the first has executed, the second would
    leave 20 of 30, exactly 2/3, which cannot commit a block: it fails, the set keeps 3."""
    r1, r2 = propose(dv, change(KEYS[3], 0)), propose(dv, change(KEYS[2], 0))
    assert r1.code == 0 and r2.code == 0, (r1.message, r2.message)
    p1, p2 = events(r1, "gov.proposed")[0]["id"], events(r2, "gov.proposed")[0]["id"]
    result = vote_through(dv, p1, p2)
    assert gov.get(dv.ctx, p1).status == "executed" and gov.get(dv.ctx, p2).status == "failed"
    assert vs.named_set(dv.ctx) == {k: 10 for k in KEYS[:3]}
    assert [e["attrs"]["pubkey"] for e in result.events if e["type"] == "gov.validatorSet"] == [KEYS[3]]


def test_on_a_devnet_the_set_is_recorded_and_the_producer_keeps_its_key(devnet_chain):
    d = Driver(devnet_chain)
    d.block(d.tx(DEV[0], "insurance", "stake", {"amount": STAKE}))
    r = propose(d, change(KEYS[0], 1))  # 10 + 1: the devnet key keeps 10 of 11
    assert r.code == 0, r.message
    vote_through(d, events(r, "gov.proposed")[0]["id"])
    assert vs.named_set(d.ctx) == {devnet.validator_key().pubkey: 10, KEYS[0]: 1}
    block, _ = devnet_chain.produce([], time=d.time + 1)
    assert block.header.proposer == devnet.validator_key().address


def test_finalize_block_returns_the_executed_change_as_a_validator_update(tmp_path):
    app = _abci_home(tmp_path, with_validators(named(4)))
    nonce = iter(range(100))

    def tx(call, args):
        return sign_tx(DEV[0], chain=devnet.CHAIN_ID, nonce=next(nonce), fee=100_000, module=call[0], call=call[1],
                       args=args)

    height = iter(range(1, 100))

    def block(txs, time):
        res = app.finalize_block(t.RequestFinalizeBlock(txs=tuple(txs), height=next(height), time=t.Timestamp(time),
                                                        proposer_address=bytes(20), hash=bytes(32)))
        app.commit(t.RequestCommit())
        return res

    try:
        app.init_chain(t.RequestInitChain(time=t.Timestamp(devnet.GENESIS_TIME), chain_id=devnet.CHAIN_ID,
                                          initial_height=1))
        t0 = devnet.GENESIS_TIME + 1
        block([tx(("insurance", "stake"), {"amount": STAKE})], t0)
        pid = app.chain.app.reader().get_int(gov.NEXT)
        res = block([tx(("governance", "proposeChange"), {"action": "setValidator", "target": "validators",
                                                         "value": change(KEYS[4], 10)})], t0 + 1)
        assert res.tx_results[0].code == 0, res.tx_results[0].log
        assert block([tx(("governance", "vote"), {"id": pid, "support": "yes"})], t0 + 2).validator_updates == ()
        assert block([], t0 + 1 + VOTE).validator_updates == ()  # tallied: passed
        res = block([], t0 + 1 + VOTE + DELAY)  # executed
        assert [(u.pub_key.ed25519, u.power) for u in res.validator_updates] == [(KEYS[4], 10)]
        assert block([], t0 + 2 + VOTE + DELAY).validator_updates == ()  # once
    finally:
        app.chain.close()
