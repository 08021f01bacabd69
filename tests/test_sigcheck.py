"""Signature checks in child processes give exactly the verdicts of the in-process path."""

from __future__ import annotations

import pytest

import rwachain.node.chain as chain_mod
from rwachain.genesis import devnet
from rwachain.modules.core.tx import SIGN_DOMAIN, sign_tx
from rwachain.node.chain import Chain
from rwachain.node.sigcheck import SIGN_DOMAIN as CHILD_DOMAIN
from rwachain.node.sigcheck import ProcessVerifier, verify_slice


def _block(keys, n):
    txs = []
    for i in range(n):
        k = keys[i % len(keys)]
        raw = sign_tx(k, chain=devnet.CHAIN_ID, nonce=i // len(keys), fee=5000, module="bank", call="transfer",
                      args={"to": keys[(i + 1) % len(keys)].address, "denom": "rwa", "amount": 1})
        if i % 700 == 350:  # a planted bad signature
            raw = raw[:-1] + bytes([raw[-1] ^ 1])
        txs.append(raw)
    return txs


def test_the_child_uses_the_protocol_sign_domain():
    assert CHILD_DOMAIN == SIGN_DOMAIN


def test_verify_slice_verdicts():
    k = devnet.dev_keys()[0]
    good = sign_tx(k, chain="c", nonce=0, fee=1, module="bank", call="transfer", args={})
    bad = good[:-1] + bytes([good[-1] ^ 1])
    assert verify_slice([good, bad, b"", b"\x92\xc4\x00\xc4\x00"]) == b"\x01\x00\x00\x00"
    v = ProcessVerifier(2)
    try:
        assert [v.submit([good, bad]).result(30) for _ in range(3)] == [b"\x01\x00"] * 3
    finally:
        v.close()


@pytest.mark.slow
def test_large_block_in_child_processes_equals_in_process(tmp_path, monkeypatch):
    keys = devnet.dev_keys()
    txs = _block(keys, 2100)
    roots, receipts = [], []
    for name, threshold in (("children", 2000), ("threads", 10**9)):
        monkeypatch.setattr(chain_mod, "PROCESS_VERIFY_MIN", threshold)
        c = Chain(str(tmp_path / name), devnet.validator_key())
        c.init_genesis(devnet.PATH)
        block, res = c.produce(txs, time=devnet.GENESIS_TIME + 1)
        roots.append(block.header.state_root)
        receipts.append([(r.code, r.error) for r in res.receipts])
        c.close()
    assert roots[0] == roots[1] and receipts[0] == receipts[1]
    bad = [i for i, (code, _) in enumerate(receipts[0]) if code == 6]
    assert bad == [350, 1050, 1750]


@pytest.mark.slow
def test_a_batch_of_admissions_checks_signatures_in_child_processes(tmp_path):
    """100 tx_send in one JSON-RPC batch: valid ones admitted, bad signatures refused (1006)."""
    import json

    from tests.rpcnode import RpcNode

    keys = devnet.dev_keys()
    body = []
    for i in range(100):
        k = keys[i % 10]
        raw = sign_tx(k, chain=devnet.CHAIN_ID, nonce=i // 10, fee=5000, module="bank", call="transfer",
                      args={"to": keys[(i + 1) % 10].address, "denom": "rwa", "amount": 1})
        if i in (7, 55):
            raw = raw[:-1] + bytes([raw[-1] ^ 1])
        body.append({"jsonrpc": "2.0", "id": i, "method": "tx_send", "params": ["0x" + raw.hex()]})
    with RpcNode(tmp_path / "home", mining="manual") as node:
        replies = {r["id"]: r for r in node.post(json.dumps(body).encode())}
        assert {i for i, r in replies.items() if "error" in r} == {7, 55}
        assert replies[7]["error"]["code"] == 1006 and replies[55]["error"]["data"]["name"] == "bad_signature"
        node.call("dev_mine")
        receipts = [node.call("tx_getReceipt", [replies[i]["result"]]) for i in (0, 1, 2)]
        assert all(r["code"] == 0 for r in receipts)


def test_aggregate_bls_jobs_are_verified_in_child_processes(devnet_chain):
    """An oracle report's aggregate signature, checked in a checker process; the verdict,
    noted in the app, spares check_tx its own verification."""
    from rwachain.modules.core import bls
    from tests.mech import Driver

    d = Driver(devnet_chain)
    good = d.report("rate", devnet.RATE + 1)
    bad = d.report("rate", devnet.RATE + 1, signed_value=devnet.RATE + 2)
    app = devnet_chain.app
    jobs = [app.signature_job(good), app.signature_job(bad)]
    assert all(j is not None for j in jobs)
    assert app.signature_job(d.tx(devnet.dev_keys()[0], "bank", "transfer",
                                  {"to": b"\x01" * 20, "denom": "rwa", "amount": 1})) is None
    v = ProcessVerifier(2)
    try:
        assert v.submit_bls([job for _, job in jobs]).result() == b"\x01\x00"
    finally:
        v.close()
    app.note_signature_job(*jobs[0])
    calls = []
    real = bls.fast_aggregate_verify
    bls.fast_aggregate_verify = lambda *a: calls.append(1) or real(*a)
    try:
        app.check_tx(good)
    finally:
        bls.fast_aggregate_verify = real
    assert calls == []


def test_the_node_owns_the_one_signature_cache(devnet_chain, tmp_path):
    """One cache, created by the chain and handed to its app: admission fills it, a
    verdict from a checker process lands in it, an included transaction leaves it, a
    rewind empties it; an App used alone has its own."""
    import hashlib

    from rwachain.modules.core.app import App
    from rwachain.modules.core.errors import InvalidTransaction
    from rwachain.state.store import Store

    chain = devnet_chain
    assert chain.app.signatures is chain.signatures
    keys = devnet.dev_keys()
    good, forged = _block(keys, 2)
    forged = forged[:-1] + bytes([forged[-1] ^ 1])
    h_good, h_forged = (hashlib.sha256(raw).digest() for raw in (good, forged))
    chain.app.check_tx(good)
    assert chain.app.is_prechecked(good) and chain.signatures.get(h_good) is not None
    with pytest.raises(InvalidTransaction) as refused:
        chain.app.check_tx(forged)
    assert refused.value.name == "bad_signature"
    # A checker process's verdict is trusted as it is: proof that it is the same cache.
    chain.app.note_signatures_verified([forged], b"\x01")
    assert chain.signatures.get(h_forged) is True
    chain.app.check_tx(forged)
    chain.produce([good], time=devnet.GENESIS_TIME + 1)
    assert chain.signatures.get(h_good) is None  # included: its verdict is of no more use
    chain.app.reload()
    assert chain.signatures.get(h_forged) is None
    store = Store(str(tmp_path / "alone"))
    try:
        assert App(store).signatures is not chain.signatures
    finally:
        store.close()
