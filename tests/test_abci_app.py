"""rwachain as an ABCI application: the requests CometBFT sends, answered by the chain.

The first tests call the app directly with the messages CometBFT would send; the last one
runs the real CometBFT against it over the socket and reads its app hash on loopback.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request

import pytest
import trio

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper
from rwachain.modules.core.tx import sign_tx
from rwachain.node.abci import home as abci_home
from rwachain.node.abci import localnet
from rwachain.node.abci import types as t
from rwachain.node.abci.app import ChainApp, comet_hash_at, decode_receipt_query, open_home_chain
from rwachain.node.abci.server import AbciServer
from rwachain.state.codec import decode_stored
from rwachain.state.proof import verify_proof
from tests.cometbft import binary, free_port

CHAIN = devnet.CHAIN_ID
T0 = devnet.GENESIS_TIME
PROPOSER = bytes(range(20))


def transfer(key, nonce, to, amount=7, fee=5000, chain=CHAIN):
    return sign_tx(key, chain=chain, nonce=nonce, fee=fee, module="bank", call="transfer",
                   args={"to": to, "denom": "rwa", "amount": amount})


def _home(tmp_path) -> str:
    home = str(tmp_path / "node")
    os.makedirs(home)
    devnet.write(os.path.join(home, abci_home.GENESIS), T0)
    return home


def _open(home: str) -> ChainApp:
    chain, genesis = open_home_chain(home)
    return ChainApp(chain, genesis)


def _init(app: ChainApp) -> t.ResponseInitChain:
    return app.init_chain(t.RequestInitChain(time=t.Timestamp(T0), chain_id=CHAIN, initial_height=1))


def _block(app: ChainApp, height: int, txs, time: int) -> t.ResponseFinalizeBlock:
    res = app.finalize_block(t.RequestFinalizeBlock(txs=tuple(txs), height=height, time=t.Timestamp(time, 5),
                                                    proposer_address=PROPOSER, hash=bytes([height]) * 32))
    app.commit(t.RequestCommit())
    return res


@pytest.fixture
def app(tmp_path):
    a = _open(_home(tmp_path))
    yield a
    a.chain.close()


def test_init_chain_imports_the_genesis_and_info_reports_blocks_with_their_root(app, dev_keys):
    assert app.info(t.RequestInfo()).last_block_height == 0  # CometBFT will send InitChain
    root = _init(app).app_hash
    assert root == app.chain.store.root_hash and len(root) == 32
    assert _init(app).app_hash == root  # a crash before block 1: InitChain again, same root
    info = app.info(t.RequestInfo())
    assert (info.last_block_height, info.last_block_app_hash) == (0, b"")
    res = _block(app, 1, [transfer(dev_keys[0], 0, dev_keys[1].address)], T0 + 3)
    info = app.info(t.RequestInfo())
    assert (info.last_block_height, info.last_block_app_hash) == (1, res.app_hash)
    assert res.app_hash == app.chain.store.root_hash != root


def test_init_chain_refuses_another_chain_id_or_initial_height(app):
    with pytest.raises(ValueError, match="chain id 'other-1'"):
        app.init_chain(t.RequestInitChain(chain_id="other-1", initial_height=1))
    with pytest.raises(ValueError, match="initial height 5"):
        app.init_chain(t.RequestInitChain(chain_id=CHAIN, initial_height=5))
    assert app.chain.height is None  # nothing imported


def test_finalize_block_gives_receipts_as_tx_results_and_commit_stores_the_block(app, dev_keys):
    _init(app)
    a, b = dev_keys[0], dev_keys[1]
    before = keeper.balance(app.chain.app.reader(), b.address, "rwa")
    good, gap = transfer(a, 0, b.address), transfer(a, 5, b.address)
    res = _block(app, 1, [good, gap], T0 + 9)
    assert [r.code for r in res.tx_results] == [0, 11]  # the second skips nonces: refused
    assert res.tx_results[1].info == "nonce_gap" and res.tx_results[1].codespace == "rwachain"
    fee = res.tx_results[0].events[0]
    assert fee.type == "tx.fee" and dict((x.key, x.value) for x in fee.attributes)["payer"] == "0x" + a.address.hex()
    assert keeper.balance(app.chain.app.reader(), b.address, "rwa") == before + 7
    block = app.chain.blocks.block(1)
    assert (block.header.time, block.header.proposer) == (T0 + 9, PROPOSER)  # CometBFT's, whole seconds
    assert block.header.state_root == res.app_hash and block.txs == [good, gap]
    assert comet_hash_at(app.chain, 1) == bytes([1]) * 32
    h = hashlib.sha256(good).digest()
    assert app.chain.blocks.tx_location(h) == (1, 0)
    got = decode_receipt_query(app.query(t.RequestQuery(data=h, path="/receipt")).value)
    assert (got["height"], got["index"], got["receipt"]["code"]) == (1, 0, 0)


def test_a_block_time_before_the_last_is_taken_as_the_last(app, dev_keys):
    _init(app)
    _block(app, 1, [], T0 + 50)
    _block(app, 2, [], T0 + 10)
    assert app.chain.app.last_block() == {"height": 2, "time": T0 + 50}


def test_check_tx_admits_in_mempool_mode_and_the_recheck_evicts_a_used_nonce(app, dev_keys):
    _init(app)
    a, b = dev_keys[0], dev_keys[1]
    first, second = transfer(a, 0, b.address), transfer(a, 1, b.address)
    assert app.check_tx(t.RequestCheckTx(first)).code == 0
    assert app.check_tx(t.RequestCheckTx(second)).code == 0  # ahead of the nonce: within the window
    bad = app.check_tx(t.RequestCheckTx(transfer(a, 0, b.address, chain="other-1")))
    assert (bad.code, bad.info) == (5, "wrong_chain_id")
    assert app.check_tx(t.RequestCheckTx(b"\x01junk")).info == "non_canonical_encoding"
    _block(app, 1, [first], T0 + 1)
    again = app.check_tx(t.RequestCheckTx(first, t.CheckTxType.RECHECK))
    assert (again.code, again.info) == (10, "replayed_nonce")
    assert app.check_tx(t.RequestCheckTx(second, t.CheckTxType.RECHECK)).code == 0


def test_prepare_proposal_drops_malformed_and_orders_each_senders_nonces(app, dev_keys):
    _init(app)
    a, b, c = dev_keys[:3]
    a1, a0, b0 = transfer(a, 1, c.address), transfer(a, 0, c.address), transfer(b, 0, c.address)
    wrong = transfer(b, 1, c.address, chain="other-1")
    res = app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=1 << 20, txs=(a1, b"junk", b0, a0, wrong)))
    assert res.txs == (a0, b0, a1)
    small = app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=len(a0) + len(b0) + 6, txs=(a1, b0, a0)))
    assert small.txs == (a0, b0)  # each transaction's framing (3 bytes here) counts


def test_prepare_proposal_leaves_in_the_mempool_what_would_be_refused_for_its_nonce(app, dev_keys):
    _init(app)
    a, c = dev_keys[0], dev_keys[2]
    a0, a1, a5 = (transfer(a, n, c.address) for n in (0, 1, 5))
    res = app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=1 << 20, txs=(a5, a1, a0, a0)))
    assert res.txs == (a0, a1)  # nonce 5 skips ahead and a repeat is used: neither goes in


def test_prepare_proposal_counts_each_transactions_framing_in_the_byte_budget(app, dev_keys):
    _init(app)
    a, c = dev_keys[0], dev_keys[2]
    txs = tuple(transfer(a, n, c.address) for n in range(3))
    exact = sum(len(raw) for raw in txs)  # CometBFT adds a key byte and a length varint to each
    assert all(128 <= len(raw) < 1 << 14 for raw in txs)  # a 2-byte varint: 3 bytes of framing
    res = app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=exact, txs=txs))
    assert res.txs == txs[:2]
    assert app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=exact + 8, txs=txs)).txs == txs[:2]
    assert app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=exact + 9, txs=txs)).txs == txs


def test_a_dev_state_edit_in_a_proposal_is_refused_and_does_nothing_in_a_block(app, dev_keys):
    from rwachain.modules.core.app import dev_set_balance

    _init(app)
    mint = dev_set_balance(dev_keys[5].address, "rwa", 10**30)
    assert app.process_proposal(t.RequestProcessProposal(txs=(mint,), height=1)).status == t.ProposalStatus.REJECT
    assert app.prepare_proposal(t.RequestPrepareProposal(max_tx_bytes=1 << 20, txs=(mint,))).txs == ()
    res = _block(app, 1, [mint], T0 + 1)  # decided anyway by a faulty majority: refused at the door
    assert res.tx_results[0].code != 0
    assert keeper.balance(app.chain.app.reader(), dev_keys[5].address, "rwa") < 10**30


def test_a_query_at_a_negative_or_unknown_height_is_answered_with_an_error(app):
    _init(app)
    for height in (-1, 10**6, 1 << 62):
        for path in ("/state", "/root"):
            res = app.query(t.RequestQuery(data=b"k", path=path, height=height))
            assert res.code == 1 and res.log, (path, height)


def test_process_proposal_refuses_what_the_app_would_not_propose(app, dev_keys):
    _init(app)
    a, c = dev_keys[0], dev_keys[2]
    good = transfer(a, 0, c.address)
    forged = bytearray(good)
    forged[-1] ^= 1  # the signature no longer verifies

    def status(*txs):
        return app.process_proposal(t.RequestProcessProposal(txs=txs, height=1)).status

    assert status(good) == t.ProposalStatus.ACCEPT
    assert status(good, b"junk") == t.ProposalStatus.REJECT
    assert status(bytes(forged)) == t.ProposalStatus.REJECT
    app.chain.app.params["maxBlockTxs"] = 1  # as a governance change would set it
    assert status(good, transfer(a, 1, c.address)) == t.ProposalStatus.REJECT


def test_query_returns_a_state_value_with_its_proof_at_a_height(app, dev_keys):
    _init(app)
    a, b = dev_keys[0], dev_keys[1]
    key = keeper.bal_key(b.address, "rwa")
    old = app.query(t.RequestQuery(data=key, path="/state", prove=True))
    _block(app, 1, [transfer(a, 0, b.address)], T0 + 1)
    new = app.query(t.RequestQuery(data=key, path="/state", prove=True))
    assert new.height == 1 and old.height == 0
    assert new.value != old.value
    _block(app, 2, [transfer(a, 1, b.address)], T0 + 2)
    at1 = app.query(t.RequestQuery(data=key, path="/state", height=1))  # height 0 means the latest
    assert (at1.value, at1.height, at1.proof_ops) == (new.value, 1, None)
    [op] = new.proof_ops.ops
    proof = decode_stored(op.data)
    assert op.key == key and proof["root"] == app.chain.store.root_at(1)
    assert verify_proof(proof["root"], key, new.value, proof["proof"])
    assert not verify_proof(proof["root"], key, old.value, proof["proof"])
    assert app.query(t.RequestQuery(path="/root", height=1)).value == proof["root"]
    missing = app.query(t.RequestQuery(data=bytes(32), path="/receipt"))
    assert missing.code == 1 and "no committed transaction" in missing.log
    assert app.query(t.RequestQuery(path="/nope")).code == 1


def test_a_reopened_app_reports_its_committed_height_and_root(tmp_path, dev_keys):
    home = _home(tmp_path)
    app = _open(home)
    _init(app)
    res = _block(app, 1, [transfer(dev_keys[0], 0, dev_keys[1].address)], T0 + 2)
    app.finalize_block(t.RequestFinalizeBlock(height=2, time=t.Timestamp(T0 + 3), proposer_address=PROPOSER))
    app.chain.close()  # block 2 finalized but never committed: a crash before Commit
    again = _open(home)
    try:
        info = again.info(t.RequestInfo())
        assert (info.last_block_height, info.last_block_app_hash) == (1, res.app_hash)
        _block(again, 2, [], T0 + 3)  # CometBFT replays block 2
        assert again.info(t.RequestInfo()).last_block_height == 2
    finally:
        again.chain.close()


# ----- the real CometBFT -------------------------------------------------------------------
def comet_rpc(port: int, path: str) -> dict | None:
    """CometBFT's JSON-RPC result for a GET on loopback, or None while it is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=3) as reply:
            return json.load(reply).get("result")
    except OSError:
        return None


def single_validator_home(tmp_path) -> tuple[str, abci_home.Ports]:
    """A home with the devnet genesis naming its CometBFT key as the one validator, and
    a one-validator CometBFT config on loopback."""
    home = _home(tmp_path)
    abci_home.comet_init(binary(), home)
    path = os.path.join(home, abci_home.GENESIS)
    with open(path) as f:
        rwa = json.load(f)
    rwa["validators"] = abci_home.rwa_validators([abci_home.validator_pubkey(home)], ["node0"])
    with open(path, "w") as f:
        json.dump(rwa, f)
    abci_home.write_comet_genesis(home, rwa)
    ports = abci_home.Ports(free_port(), free_port(), free_port(), free_port())
    abci_home.configure(home, "node0", ports, [])
    return home, ports


def test_cometbft_runs_blocks_of_transactions_through_the_chain(tmp_path, dev_keys):
    import subprocess

    home, ports = single_validator_home(tmp_path)
    app = _open(home)
    a, b = dev_keys[0], dev_keys[1]
    txs = [transfer(a, n, b.address) for n in range(3)]
    seen: dict = {}

    async def run():
        async with trio.open_nursery() as nursery:
            await nursery.start(AbciServer(app).serve, abci_home.proxy_app(home))
            with open(tmp_path / "cometbft.log", "wb") as log:
                node = subprocess.Popen([binary(), "start", "--home", abci_home.comet_home(home)],
                                        stdout=log, stderr=subprocess.STDOUT)
            try:
                with trio.move_on_after(30):
                    while comet_rpc(ports.rpc, "status") is None:
                        await trio.sleep(0.1)
                    for raw in txs:
                        sent = await trio.to_thread.run_sync(comet_rpc, ports.rpc, f"broadcast_tx_sync?tx=0x{raw.hex()}")
                        seen.setdefault("codes", []).append(sent["code"])
                    while app.chain.blocks.tx_location(hashlib.sha256(txs[-1]).digest()) is None:
                        await trio.sleep(0.1)
                    height = app.last_height()
                    while int(comet_rpc(ports.rpc, "status")["sync_info"]["latest_block_height"]) <= height:
                        await trio.sleep(0.1)
                    seen["block"] = comet_rpc(ports.rpc, f"block?height={height + 1}")
                    seen["height"] = height
            finally:
                node.terminate()
                await trio.to_thread.run_sync(node.wait, 10)
            nursery.cancel_scope.cancel()

    try:
        trio.run(run)
        log = (tmp_path / "cometbft.log").read_text()[-3000:]
        assert seen.get("codes") == [0, 0, 0], log
        assert "block" in seen, log
        height = seen["height"]
        # The next block's header carries the app hash after `height`: the state root.
        assert seen["block"]["block"]["header"]["app_hash"] == app.chain.store.root_at(height).hex().upper()
        receipts = [app.chain.blocks.receipt(*app.chain.blocks.tx_location(hashlib.sha256(r).digest())) for r in txs]
        assert [r["code"] for r in receipts] == [0, 0, 0]
        assert keeper.balance(app.chain.app.reader(), b.address, "rwa") > 0
        blocks = [app.chain.blocks.block(h) for h in range(1, height + 1)]
        assert [blk.header.height for blk in blocks] == list(range(1, height + 1))
        assert all(blk.header.time >= T0 for blk in blocks)
        assert comet_hash_at(app.chain, height).hex().upper() == seen["block"]["block"]["header"]["last_block_id"]["hash"]
    finally:
        app.chain.close()


def test_the_same_blocks_give_the_same_state_roots_as_on_a_devnet(app, devnet_chain, dev_keys):
    """CometBFT's path (FinalizeBlock, Commit) and the devnet's (Chain.produce) run the same
    transition: equal heights, times and transactions give equal roots at every height;
    only the proposer differs, and it is not state."""
    assert _init(app).app_hash == devnet_chain.store.root_hash
    k = dev_keys
    blocks = [
        (T0 + 5, [transfer(k[0], 0, k[1].address), transfer(k[2], 0, k[3].address, amount=10**6)]),
        (T0 + 5, []),
        (T0 + 86_400, [transfer(k[0], 1, k[4].address), transfer(k[0], 9, k[4].address),  # a nonce gap
                       transfer(k[1], 0, k[0].address, amount=10**30)]),  # more than it holds: fails, pays
        (T0 + 400 * 86_400, [transfer(k[3], 0, k[2].address, amount=3)]),
    ]
    for height, (time, txs) in enumerate(blocks, start=1):
        _, produced = devnet_chain.produce(txs, time=time)
        finalized = _block(app, height, txs, time)
        assert finalized.app_hash == produced.state_root, f"height {height}"
        assert [r.code for r in finalized.tx_results] == [r.code for r in produced.receipts]
    codes = [r["code"] for r in app.chain.blocks.receipts(3)]
    assert codes[:2] == [0, 11] and codes[2] >= 50  # refused, and failed paying its fee: both alike
    assert app.chain.blocks.receipts(3) == devnet_chain.blocks.receipts(3)


def test_a_picked_free_port_lies_below_the_ephemeral_range_and_binds():
    """`rwad localnet --base-port 0` picks its ports where no outgoing connection takes its
    local port: inside that range, one of the nodes' own dials can take a picked port
    before its node binds it (a two-node net that made no block in 60 s on a full suite
    run is what that would look like)."""
    import socket

    low = localnet.ephemeral_low()
    taken: set[int] = set()
    for _ in range(200):  # a net of 50 nodes: four ports each, none given twice
        taken.add(localnet.free_port(taken))
    assert len(taken) == 200
    if low > localnet.FREE_PORT_LOW:  # else there is no room below: the kernel's ports
        assert all(localnet.FREE_PORT_LOW <= p < low for p in taken)
    for p in sorted(taken)[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", p))


def test_with_no_room_below_the_ephemeral_range_free_ports_come_from_the_kernel(monkeypatch):
    monkeypatch.setattr(localnet, "ephemeral_low", lambda: 1024)
    taken: set[int] = set()
    for _ in range(40):
        taken.add(localnet.free_port(taken))
    assert len(taken) == 40
