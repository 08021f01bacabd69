"""rpc/client/clients.py against a real node: sync and async clients, batches, send_call, typed errors."""

from __future__ import annotations

import sys
import time

import pytest
import trio

from rwachain.genesis import devnet
from rwachain.modules.core.crypto import Keypair
from rwachain.rpc.client import clients as rc
from rwachain.rpc.client.clients import (
    AsyncClient,
    Client,
    InvalidParams,
    MethodNotFound,
    NotFound,
    RpcError,
    TransportError,
    TxRefused,
)
from tests.rpcnode import RpcNode, client_ports, node_fixture

node = node_fixture("client")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the kernel's /proc/net/tcp")


@pytest.fixture
def client(node):
    with Client(node.url, timeout=30) as c:
        yield c


@linux_only
def test_sync_methods_by_attribute_and_by_name(node, client):
    status = client.chain_status()
    assert status["chainId"] == devnet.CHAIN_ID and status == client.call("chain_status")
    ports = client_ports(node.port)  # the client's connection (and any closed lately)
    k1 = Keypair.dev(1)
    assert client.bank_balance(k1.address_text, "rwa") == str(devnet.NATIVE_EACH)  # by position
    acct = client.account_get(address=k1.address)  # by name; bytes become rwa1 text
    assert acct["address"] == k1.address_text and acct["balances"]["rwa"] == str(devnet.NATIVE_EACH)
    assert client.bank_supply("rwa") == client.call("bank_supply", {"denom": "rwa"})
    assert client.chain_params()["chainId"] == devnet.CHAIN_ID
    doc = client.call("rpc.discover")  # dotted names only through call()
    assert {m["name"] for m in doc["methods"]} >= {"chain_status", "tx_sendAndWait"}
    assert client_ports(node.port) <= ports, "keep-alive: one connection for every call, no new one"
    assert "Balance in base units." in Client.bank_balance.__doc__
    with pytest.raises(TypeError):
        client.bank_supply("rwa", None, "extra")


def test_sync_batch(client):
    k = Keypair.dev(1)
    status, bal, supply = client.batch([("chain_status", None), ("bank_balance", [k.address_text, "rwa"]),
                                        ("bank_supply", {"denom": "rwa"})])
    assert status["chainId"] == devnet.CHAIN_ID and bal == str(devnet.NATIVE_EACH) and int(supply) > 0
    out = client.batch([("chain_status", None), ("no_such", None), ("bank_supply", ["rwa"])],
                       return_exceptions=True)
    assert isinstance(out[1], MethodNotFound) and out[2] == supply
    with pytest.raises(MethodNotFound):
        client.batch([("chain_status", None), ("no_such", None)])


def test_send_call_end_to_end_with_auto_nonce_and_fee(client):
    sender, to = Keypair.dev(3), Keypair.dev(4)
    before = int(client.bank_balance(to.address_text, "rwa"))
    nonce0 = client.account_get(sender.address_text)["pendingNonce"]
    receipt = client.send_call(sender, "bank", "transfer", {"to": to.address_text, "denom": "rwa", "amount": "25"})
    assert receipt["code"] == 0 and receipt["error"] == "" and receipt["height"] >= 1
    assert {"type": "bank.transfer", "attrs": {"amount": "25", "denom": "rwa", "recipient": to.address_text,
                                               "sender": sender.address_text}} in receipt["events"]
    assert client.tx_getReceipt(receipt["txHash"]) == receipt
    assert int(client.bank_balance(to.address_text, "rwa")) == before + 25
    tx = client.tx_get(receipt["txHash"])
    assert tx["nonce"] == str(nonce0) and tx["fee"] == receipt["fee"] and tx["status"] == "included"

    # the estimated fee is exactly the minimum: one base unit less is refused
    fee = int(receipt["fee"])
    with pytest.raises(TxRefused) as info:
        client.send_call(sender, "bank", "transfer", {"to": to.address, "denom": "rwa", "amount": 1}, fee=fee - 1)
    assert info.value.name == "fee_too_low" and info.value.tx_code == 12 and info.value.code == 1012

    # native args, no wait: the hash comes back, the receipt follows
    h = client.send_call(sender, "bank", "transfer", {"to": to.address, "denom": "rwa", "amount": 1}, wait=False)
    assert h.startswith("0x") and len(h) == 66
    deadline = time.monotonic() + 10
    while True:
        try:
            assert client.tx_getReceipt(h)["code"] == 0
            break
        except NotFound:
            assert time.monotonic() < deadline, "not included"
            time.sleep(0.05)

    # a replayed nonce is refused with its name
    with pytest.raises(TxRefused) as info:
        client.send_call(sender, "bank", "transfer", {"to": to.address_text, "denom": "rwa", "amount": "1"},
                         nonce=nonce0)
    assert info.value.name == "replayed_nonce" and info.value.tx_code == 10 and isinstance(info.value, RpcError)

    # an execution failure is a receipt with its error (the fee is paid), not an exception
    r = client.send_call(sender, "bank", "transfer", {"to": to.address_text, "denom": "rwa", "amount": str(10**30)})
    assert r["code"] == 51 and r["error"] == "insufficient_funds" and int(r["fee"]) > 0


def test_typed_errors(node, client):
    with pytest.raises(InvalidParams) as info:
        client.account_get("not-an-address")
    assert info.value.code == -32602 and "address" in info.value.message
    with pytest.raises(MethodNotFound):
        client.call("no_such_method")
    with pytest.raises(NotFound):
        client.chain_getBlock(10**9)
    with pytest.raises(NotFound):
        client.tx_getReceipt(b"\x00" * 32)
    # bad arguments are refused before anything is sent, as the node would refuse them
    with pytest.raises(TxRefused) as info:
        client.send_call(Keypair.dev(5), "bank", "transfer", {"to": "rwa1nope", "denom": "rwa", "amount": "1"})
    assert info.value.name == "bad_arguments" and info.value.code == 1009
    with pytest.raises(TxRefused) as info:
        client.send_call(Keypair.dev(5), "bank", "transfer", {"to": Keypair.dev(6).address, "amount": "1"})
    assert info.value.name == "bad_arguments" and "denom" in info.value.message
    # an unknown module is the node's to refuse
    with pytest.raises(TxRefused) as info:
        client.send_call(Keypair.dev(5), "nomodule", "x", {}, fee=10**6, nonce=0)
    assert info.value.name == "unknown_module"


def test_error_mapping_without_a_node():
    e = rc.error_from_obj({"code": 1010, "message": "m", "data": {"name": "replayed_nonce", "txCode": 10}})
    assert type(e) is TxRefused and e.name == "replayed_nonce" and e.tx_code == 10
    e = rc.error_from_obj({"code": -32003, "message": "full", "data": {"reason": "full"}})
    assert isinstance(e, rc.MempoolRefused) and e.reason == "full"
    e = rc.error_from_obj({"code": -32004, "message": "t", "data": {"hash": "0xab"}})
    assert isinstance(e, rc.Timeout) and e.hash == "0xab"
    assert type(rc.error_from_obj({"code": -32002, "message": "h"})) is rc.HeightUnavailable
    assert type(rc.error_from_obj({"code": -32099, "message": "?"})) is RpcError
    with Client("http://127.0.0.1:1", timeout=5) as c, pytest.raises(TransportError):
        c.chain_status()


@linux_only
def test_async_client(node):
    async def main():
        async with AsyncClient(node.url, timeout=30) as c:
            status = await c.chain_status()
            assert status["chainId"] == devnet.CHAIN_ID
            k = Keypair.dev(5)  # (not a staker)
            assert await c.bank_balance(k.address_text, "rwa") == str(devnet.NATIVE_EACH)
            acct, supply = await c.batch([("account_get", {"address": k.address_text}), ("bank_supply", ["rwa"])])
            assert acct["nonce"] == 0 and int(supply) > 0
            out = await c.batch([("no_such", None), ("chain_status", None)], return_exceptions=True)
            assert isinstance(out[0], MethodNotFound) and out[1]["chainId"] == devnet.CHAIN_ID

            # concurrent calls share a small pool of keep-alive connections
            before = client_ports(node.port)
            results = []

            async def one():
                results.append(await c.bank_supply("rwa"))

            async with trio.open_nursery() as nursery:
                for _ in range(8):
                    nursery.start_soon(one)
            assert len(set(results)) == 1
            kept = client_ports(node.port, established_only=True) - before
            assert 1 <= len(kept) <= c.max_idle  # some were opened for the overlap; at most max_idle stay
            seen = client_ports(node.port)
            for _ in range(3):
                await c.bank_supply("rwa")
            assert client_ports(node.port) <= seen, "calls one after another reuse a kept connection"

            to = Keypair.dev(8)
            receipt = await c.send_call(k, "bank", "transfer", {"to": to.address_text, "denom": "rwa", "amount": "3"})
            assert receipt["code"] == 0 and (await c.tx_getReceipt(receipt["txHash"])) == receipt
            with pytest.raises(TxRefused) as info:
                await c.send_call(k, "bank", "transfer", {"to": to.address, "denom": "rwa", "amount": 3}, nonce=0)
            assert info.value.name == "replayed_nonce"
            with pytest.raises(InvalidParams):
                await c.call("bank_balance", {"address": "x", "denom": "rwa"})
            with pytest.raises(NotFound):
                await c.chain_getBlock(height=10**9)
        async with AsyncClient("http://127.0.0.1:1", timeout=5) as dead:
            with pytest.raises(TransportError):
                await dead.chain_status()

    trio.run(main)


def test_timeout_and_mempool_refusal_on_a_manual_node(tmp_path):
    with RpcNode(tmp_path / "manual", mining="manual") as n, Client(n.url, timeout=30) as c:
        k, to = Keypair.dev(2), Keypair.dev(3)
        args = {"to": to.address_text, "denom": "rwa", "amount": "1"}
        with pytest.raises(rc.Timeout) as info:
            c.send_call(k, "bank", "transfer", args, timeout=0.2)
        pending = info.value.hash
        assert pending.startswith("0x") and c.tx_get(pending)["status"] == "pending"
        # the same signed bytes again: the mempool already has them
        fee = int(c.tx_get(pending)["fee"])
        with pytest.raises(rc.MempoolRefused) as info:
            c.send_call(k, "bank", "transfer", args, nonce=0, fee=fee, wait=False)
        assert info.value.reason == "known"
        # the pending nonce moved past the pending transaction
        assert c.send_call(k, "bank", "transfer", args, wait=False) != pending
        assert c.dev_mine() == [1]
        assert c.tx_getReceipt(pending)["code"] == 0 and c.account_get(k.address)["nonce"] == 2
