"""`rwad abci` and `rwad localnet` with the real CometBFT on loopback (slow: real consensus).

One validator: the app is killed with SIGKILL between blocks and restarted, and CometBFT's
handshake replays to it the blocks it lacks. Four validators: they agree on the state
root at every height, a transaction sent to any node is readable from every node, one
validator down does not stop the chain and catches up, two down halt it until one returns.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from rwachain.node.abci import localnet
from rwachain.state.proof import verify_proof
from tests.localnet import FAST, Net

pytestmark = pytest.mark.slow
RWAD = os.path.join(os.path.dirname(sys.executable), "rwad")


def transfer(key, nonce, to, amount=7, fee=5000):
    return sign_tx(key, chain=devnet.CHAIN_ID, nonce=nonce, fee=fee, module="bank", call="transfer",
                   args={"to": to, "denom": "rwa", "amount": amount})


def _included(net: Net, i: int, raw: bytes) -> dict | None:
    return net.receipt(i, hashlib.sha256(raw).digest())


def _roots(net: Net, i: int, heights) -> list[bytes | None]:
    return [net.root(i, h) for h in heights]


def test_rwad_abci_killed_between_blocks_is_replayed_to_the_same_state(tmp_path, dev_keys):
    net = Net.create(str(tmp_path / "net"), 1)
    node = net.nodes[0]
    backup = str(tmp_path / "backup")
    a, b = dev_keys[0], dev_keys[1]
    try:
        with open(os.path.join(node.home, "app.log"), "ab") as log:  # the app as `rwad abci` serves it
            net.apps[0] = subprocess.Popen([RWAD, "abci", "--home", node.home, "--no-rpc"], stdout=log,
                                           stderr=subprocess.STDOUT)
        net.wait(lambda: localnet._listening(node.ports.app), 60, "rwad abci listening\n" + net.log(0))
        net.comets[0] = localnet.start_cometbft(net.binary, node)
        net.wait_height(0, 2)
        first = [transfer(a, n, b.address) for n in range(3)]
        assert [net.send(0, raw)["code"] for raw in first] == [0, 0, 0]
        net.wait(lambda: _included(net, 0, first[-1]), 30, "first transfers included\n" + net.log(0))
        net.stop_cleanly(0)
        net.backup_data(0, backup)  # the app's data at some height h1

        net.start(0)
        later = [transfer(a, n, b.address) for n in range(3, 6)]
        assert [net.send(0, raw)["code"] for raw in later] == [0, 0, 0]
        included = net.wait(lambda: _included(net, 0, later[-1]), 30, "later transfers\n" + net.log(0))
        h2 = included["height"]
        net.wait_height(0, h2 + 1)
        before = _roots(net, 0, range(1, h2 + 1))
        assert None not in before
        net.kill(0, "app")  # SIGKILL between blocks; CometBFT stops without its app
        net.start(0)
        net.wait_height(0, h2 + 2)
        assert _roots(net, 0, range(1, h2 + 1)) == before, net.log(0)

        net.kill(0, "app")
        net.restore_data(0, backup)  # the app lost every block after h1: CometBFT replays them
        net.start(0)
        net.wait_height(0, h2 + 2)
        assert _roots(net, 0, range(1, h2 + 1)) == before, net.log(0)
        assert _included(net, 0, later[-1])["height"] == h2
        starts = re.findall(r"ABCI app at height (\d+) serving", pathlib.Path(node.home, "app.log").read_text())
        assert int(starts[-1]) < h2  # the restarted app lacked blocks up to h2: they were replayed
    finally:
        net.close()


# ----- four validators ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def four(tmp_path_factory):
    net = Net.create(str(tmp_path_factory.mktemp("localnet") / "net"), 4)
    net.start()
    try:
        for i in range(4):
            net.wait_height(i, 2)
        yield net
    finally:
        net.close()


def _agree(net: Net, nodes, upto: int) -> list[bytes]:
    """The state roots at heights 1..upto, the same on every node of nodes."""
    roots = [_roots(net, i, range(1, upto + 1)) for i in nodes]
    assert None not in roots[0] and all(r == roots[0] for r in roots), [r[-1] for r in roots]
    return roots[0]


def test_four_validators_agree_and_a_transaction_sent_anywhere_is_read_everywhere(four, dev_keys):
    a, b = dev_keys[2], dev_keys[3]
    txs = [transfer(a, n, b.address) for n in range(4)]
    for i, raw in enumerate(txs):  # one to each node
        assert four.send(i, raw)["code"] == 0
    receipts = [four.wait(lambda i=i: _included(four, i, txs[-1]) and [_included(four, i, r) for r in txs], 30,
                          f"node{i} reads every receipt") for i in range(4)]
    assert all(r == receipts[0] for r in receipts)
    assert [r["receipt"]["code"] for r in receipts[0]] == [0, 0, 0, 0]
    top = max(r["height"] for r in receipts[0])
    for i in range(4):
        four.wait_height(i, top + 1)
    _agree(four, range(4), top + 1)
    headers = [four.rpc(i, f"block?height={top + 1}")["block"]["header"]["app_hash"] for i in range(4)]
    assert headers == [four.root(0, top).hex().upper()] * 4  # CometBFT's app hash is the state root


def test_json_rpc_beside_each_app_forwards_to_cometbft_and_reads_the_apps_index(four, dev_keys):
    from tests.test_rpc_ws import WsClient

    a, b = dev_keys[4], dev_keys[5]
    raw = transfer(a, 0, b.address, amount=11)
    ws = WsClient(four.nodes[1].ports.jsonrpc)
    sid = ws.subscribe("newHeads")
    receipt = four.jsonrpc(1, "tx_sendAndWait", ["0x" + raw.hex(), 30])
    assert receipt["code"] == 0 and receipt["txHash"] == "0x" + hashlib.sha256(raw).hexdigest(), receipt
    for i in range(4):
        four.wait(lambda i=i: four.jsonrpc(i, "tx_getReceipt", [receipt["txHash"]]).get("height"), 30,
                  f"node{i}'s JSON-RPC reads the receipt")
        assert four.jsonrpc(i, "tx_getReceipt", [receipt["txHash"]]) == four.jsonrpc(1, "tx_getReceipt",
                                                                                     [receipt["txHash"]])
    note = ws.recv_message()["params"]  # each block the app commits is a new head
    assert note["subscription"] == sid and note["result"] == four.jsonrpc(1, "chain_getHeader", [note["result"]["height"]])
    ws.sock.close()
    status = four.jsonrpc(2, "chain_status")
    assert status["consensus"]["engine"] == "cometbft" and status["consensus"]["height"] == status["height"]
    block = four.rpc(2, f"block?height={status['height']}")["block_id"]["hash"]
    assert status["consensus"]["hash"] == "0x" + block.lower()
    assert status["stateRoot"] == "0x" + four.root(2, status["height"]).hex()
    # A balance read with its proof, verified against the state root the node reports;
    # and the receipt found by its sender through the app's own index.
    bal_key = b"bank/bal/" + b.address + b"rwa"
    entry = four.jsonrpc(3, "state_get", ["0x" + bal_key.hex()])
    proof = {"nodes": [[bm, [bytes.fromhex(x[2:]) for x in hs]] for bm, hs in entry["proof"]["nodes"]],
             "leaf": None if entry["proof"]["leaf"] is None else [bytes.fromhex(x[2:]) for x in entry["proof"]["leaf"]]}
    assert entry["root"] == "0x" + four.root(3, entry["height"]).hex()
    assert verify_proof(bytes.fromhex(entry["root"][2:]), bal_key, bytes.fromhex(entry["value"][2:]), proof)
    found = four.jsonrpc(0, "tx_search", {"sender": a.address_text})["receipts"]
    assert [r["txHash"] for r in found] == [receipt["txHash"]]
    again = four.jsonrpc(3, "tx_send", ["0x" + raw.hex()])  # a used nonce: the devnet's typed error
    assert again["error"]["data"]["name"] == "replayed_nonce", again
    assert four.jsonrpc(0, "dev_mine", [])["error"]["code"] == -32601  # no dev_* methods here


def test_an_app_killed_mid_blocks_replays_to_the_others_state(four):
    four.kill(1, "app")
    h = four.height(0)
    four.wait_height(0, h + 3)  # three of four go on
    four.start(1)
    top = four.wait_height(0, h + 5)
    four.wait_height(1, top)
    _agree(four, range(4), top)


def test_one_validator_down_the_chain_goes_on_and_two_down_it_halts(four):
    four.kill(3)
    h = four.height(0)
    four.wait_height(0, h + 3)  # 30 of 40 voting power: above 2/3
    four.start(3)
    top = four.wait_height(0, h + 5)
    four.wait_height(3, top)  # caught up by block sync
    _agree(four, range(4), top)

    four.kill(2)
    four.kill(3)
    stalled = four.height(0)
    time.sleep(4)  # 20 of 40: no block can be committed
    assert four.height(0) <= stalled + 1
    four.start(3)
    four.wait_height(0, stalled + 3, timeout=90)
    four.wait_height(3, stalled + 3, timeout=90)
    _agree(four, (0, 1, 3), stalled + 2)
    four.start(2)  # the net as it was, for the tests after this one
    four.wait_height(2, four.height(0), timeout=90)


# ----- the commands --------------------------------------------------------------------------
def _rwad(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([RWAD, *args], capture_output=True, text=True, timeout=120, env=env)


def test_rwad_localnet_writes_starts_stops_and_resumes_with_its_data(tmp_path):
    home = str(tmp_path / "net")
    up = _rwad("localnet", "--validators", "2", "--home", home, "--base-port", "0")
    try:
        assert up.returncode == 0, up.stderr
        lines = [ln for ln in up.stdout.splitlines() if ln.startswith("node")]
        assert len(lines) == 2 and all("CometBFT RPC http://127.0.0.1:" in ln and "P2P tcp://127.0.0.1:" in ln
                                       for ln in lines)
        nodes = localnet.nodes_of(home)
        with open(os.path.join(nodes[0].home, "genesis.json"), "rb") as f0, \
                open(os.path.join(nodes[1].home, "genesis.json"), "rb") as f1:
            assert f0.read() == f1.read()  # one rwachain genesis shared by all
        net = Net(nodes)  # reads the nodes that rwad started
        reached = net.wait_height(0, 3)
        again = _rwad("localnet", "--home", home)  # already running: nothing new starts
        assert again.returncode == 0 and len(localnet.running(home)) == 2
        assert _rwad("localnet", "stop", "--home", home).stdout.startswith("stopped 4 processes")
        assert all(not procs for procs in localnet.running(home).values())
        assert "height - (stopped)" in _rwad("localnet", "status", "--home", home).stdout
        assert _rwad("localnet", "start", "--home", home).returncode == 0
        net.wait_height(0, reached + 2)  # resumed from its data, not from genesis
        assert "(app, cometbft)" in _rwad("localnet", "status", "--home", home).stdout
    finally:
        _rwad("localnet", "stop", "--home", home)


def test_the_commands_say_in_one_line_what_is_missing(tmp_path, monkeypatch):
    bare = _rwad("abci", "--home", str(tmp_path))
    assert bare.returncode == 1 and bare.stderr.count("\n") == 1 and "rwad localnet writes one" in bare.stderr
    nothing = _rwad("localnet", "start", "--home", str(tmp_path))
    assert nothing.returncode == 1 and "holds no localnet" in nothing.stderr and nothing.stderr.count("\n") == 1
    monkeypatch.setattr(localnet, "TOOLS_BIN", tmp_path)  # no cometbft built, none on PATH, no go
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("RWACHAIN_COMETBFT", raising=False)
    with pytest.raises(localnet.LocalnetError, match="go not found") as missing:
        localnet.find_cometbft()
    assert "\n" not in str(missing.value)


def _with_passed_proposal(net: Net, value: str, execute_in: int) -> None:
    """Every home's rwachain genesis (the same file) gets a passed setValidator proposal
    that executes execute_in seconds after the genesis time: real block times cannot wait
    out a voting period, so the vote is taken as done (tests/test_validators.py drives the
    propose, vote and tally steps on a devnet)."""
    from rwachain.modules.core.crypto import encode_address
    for node in net.nodes:
        path = os.path.join(node.home, "genesis.json")
        with open(path) as f:
            doc = json.load(f)
        gov = doc.setdefault("governance", {})
        pid = int(gov.get("next", 1))
        t0 = doc["genesisTime"]
        gov.setdefault("proposals", []).append({
            "id": pid, "proposer": encode_address(bytes(20)), "action": "setValidator", "target": "validators",
            "account": "0x", "value": value, "start": t0, "end": t0, "yes": 1, "no": 0, "status": "passed",
            "executeAt": t0 + execute_in, "snapshot": 0})
        gov["next"] = pid + 1
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)


def test_a_passed_proposal_adds_a_fifth_validator_which_then_signs_blocks(tmp_path):
    from rwachain.node.abci import home as abci_home
    net = Net.create(str(tmp_path / "net"), 4, full_nodes=1)
    fifth = abci_home.validator_pubkey(net.nodes[4].home)
    address = abci_home.validator_address(fifth).hex().upper()
    _with_passed_proposal(net, f"0x{fifth.hex()}:10", execute_in=4)
    try:
        net.start()
        first = net.wait(lambda: net.rpc(0, "validators?height=1"), 60, "block 1\n" + net.log(0))
        assert len(first["validators"]) == 4 and address not in [v["address"] for v in first["validators"]]
        vals = net.wait(lambda: (v := net.rpc(0, "validators")) and len(v["validators"]) == 5 and v, 60,
                        "a fifth validator\n" + net.log(0))
        assert address in [v["address"] for v in vals["validators"]]
        h = int(vals["block_height"])
        net.wait_height(4, h + 2)
        signed = net.wait(lambda: any(address in [s["validator_address"] for s in
                                                  (net.rpc(0, f"commit?height={k}") or {}).get("signed_header", {})
                                                  .get("commit", {}).get("signatures", [])]
                                      for k in range(h, net.height(0))), 30, "the fifth signs\n" + net.log(4))
        assert signed
        top = net.height(0) - 1
        _agree(net, range(5), top)  # the fifth node's app holds the same state
    finally:
        net.close()


class _Recording:
    """A scenario's local replay that also keeps each block's signed transactions."""

    def __init__(self, path: str):
        from rwachain.genesis.scenario.files import load, replay
        from rwachain.genesis.scenario.local import LocalBackend
        self.scenario = load(path)
        self.blocks: list[list[bytes]] = []
        backend = LocalBackend(self.scenario)
        make_block = backend.make_block

        def recorded(time: int):
            self.blocks.append(list(backend._pending))
            return make_block(time)

        backend.make_block = recorded
        with backend:
            self.result = replay(self.scenario, backend)


def test_a_scenarios_signed_transactions_give_the_same_roots_on_a_devnet_and_the_localnet(tmp_path):
    """orderbook-manipulation's signed transactions, sent block by block to a 4-validator
    localnet, then the localnet's blocks (their transactions at their times) produced on a
    single-validator devnet chain: the same state root at every height. Block times are
    CometBFT's (its BFT time, from the validators' clocks), so the devnet pins its block
    times to the localnet's: the scenario's own times (days apart) cannot be pinned on
    CometBFT, and its pinned root is not the root here (a transaction that depends on the
    time, such as an order's expiry, may be refused there and is then in neither chain)."""
    from rwachain.genesis import devnet as dev
    from rwachain.node.chain import Chain
    rec = _Recording(str(pathlib.Path(__file__).parents[1] / "genesis" / "scenarios" / "orderbook-manipulation.json"))
    gpath = str(tmp_path / "scenario-genesis.json")
    with open(gpath, "w") as f:
        json.dump(rec.scenario.genesis, f)
    net = Net(localnet.create(str(tmp_path / "net"), 4, localnet.find_cometbft(), genesis_path=gpath, base_port=0,
                              consensus=FAST))
    try:
        net.start()
        accepted = 0
        for txs in rec.blocks:
            sent = [raw for raw in txs if (net.send(0, raw) or {}).get("code") == 0]
            accepted += len(sent)
            for raw in sent:
                net.wait(lambda raw=raw: _included(net, 0, raw), 20, "included\n" + net.log(0))
        top = net.height(0)
        for i in range(4):
            net.wait_height(i, top + 1)
        roots = _agree(net, range(4), top)
        chain = Chain(str(tmp_path / "devnet"), dev.validator_key())
        try:
            chain.init_genesis(os.path.join(net.nodes[0].home, "genesis.json"))
            app0 = localnet_blocks(net, top)
            for h, (txs, t) in enumerate(app0, 1):
                chain.produce(txs, time=t)
                assert chain.store.root_hash == roots[h - 1], f"height {h}"
        finally:
            chain.close()
        assert sum(len(txs) for txs, _ in app0) == accepted >= len(rec.blocks)  # (some are refused at other times)
    finally:
        net.close()


def localnet_blocks(net: Net, top: int) -> list[tuple[list[bytes], int]]:
    """(transactions, rwachain block time) of heights 1..top, read from CometBFT's blocks and
    node 0's JSON-RPC (its header holds the time the app ran the block at)."""
    out = []
    for h in range(1, top + 1):
        block = net.rpc(0, f"block?height={h}")["block"]
        txs = [base64.b64decode(x) for x in block["data"]["txs"] or []]
        out.append((txs, net.jsonrpc(0, "chain_getHeader", [h])["time"]))
    return out
