"""dev_snapshot / dev_revert / dev_dumpState / dev_loadState on a real node."""

from __future__ import annotations

import io
import zlib

import msgpack
import pytest

from rwachain.genesis import devnet
from tests.mech import hx, transfer
from tests.rpcnode import RpcError, RpcNode, node_fixture

KEYS = devnet.dev_keys()


node = node_fixture("snap", "--keep-versions", "3", mining="manual")


def _without_format_marker(dump: str) -> str:
    """A dev_dumpState result as a build of storage format 1 (no marker) wrote it."""
    pairs = msgpack.Unpacker(io.BytesIO(zlib.decompress(bytes.fromhex(dump[2:]))), raw=True)
    z = zlib.compressobj()
    body = b"".join(z.compress(msgpack.packb([k, v])) for k, v in pairs if k != b"mformat") + z.flush()
    return "0x" + body.hex()


def bal(node, i=1):
    return int(node.call("bank_balance", [KEYS[i].address_text, "rwa"]))


def test_revert_many_times_rewinds_state_blocks_indexes_and_mempool(node):
    base = node.call("chain_status")
    start = bal(node)
    n = node.call("account_get", [KEYS[0].address_text])["nonce"]  # whatever earlier tests sent
    snap = node.call("dev_snapshot")
    node.call("tx_send", [hx(transfer(KEYS[0], n, KEYS[1], 10))])
    node.call("dev_mine")
    h1 = node.call("tx_send", [hx(transfer(KEYS[0], n + 1, KEYS[1], 20))])
    node.call("dev_mine", {"blocks": 5})  # past keep_versions: the pin must hold the snapshot
    node.call("tx_send", [hx(transfer(KEYS[0], n + 2, KEYS[1], 5))])  # left pending
    assert bal(node) == start + 30
    for _ in range(2):
        assert node.call("dev_revert", [snap]) == base["height"]
        assert node.call("chain_status") == base
        assert bal(node) == start
        with pytest.raises(RpcError) as e:
            node.call("tx_getReceipt", [h1])
        assert e.value.code == -32001
        with pytest.raises(RpcError):
            node.call("chain_getBlock", [base["height"] + 1])
        assert node.call("tx_search", {"sender": KEYS[0].address_text, "fromHeight": base["height"] + 1})["receipts"] == []
        # state at the snapshot height answers with a proof
        assert node.call("account_get", [KEYS[0].address_text])["nonce"] == n
        # replay the same history again: same roots as the first time
        node.call("tx_send", [hx(transfer(KEYS[0], n, KEYS[1], 10))])
        node.call("dev_mine")
        assert bal(node) == start + 10
    assert node.call("dev_revert", [snap]) == base["height"]


def test_unknown_snapshot(node):
    with pytest.raises(RpcError) as e:
        node.call("dev_revert", ["0xdead"])
    assert e.value.code == -32001


def test_dump_and_load_state_with_history(node, tmp_path):
    node.call("tx_send", [hx(transfer(KEYS[0], node.call("account_get", [KEYS[0].address_text])["pendingNonce"], KEYS[2], 3))])
    node.call("dev_mine")
    status = node.call("chain_status")
    block = node.call("chain_getBlock", [status["height"]])
    dump = node.call("dev_dumpState")
    with RpcNode(tmp_path / "other", mining="manual") as other:
        assert other.call("dev_loadState", [dump]) == status["height"]
        assert other.call("chain_status") == status
        assert other.call("chain_getBlock", [status["height"]]) == block
        assert other.call("bank_balance", [KEYS[2].address_text, "rwa"]) == node.call(
            "bank_balance", [KEYS[2].address_text, "rwa"])
        with pytest.raises(RpcError) as e:
            other.call("dev_loadState", ["0x00ff"])
        assert e.value.code == -32602
        assert other.call("chain_status") == status  # a bad dump changes nothing
        with pytest.raises(RpcError) as e:  # the same dump from a build of another storage format
            other.call("dev_loadState", [_without_format_marker(dump)])
        assert e.value.code == -32602 and "storage format 1" in e.value.message
        assert other.call("chain_status") == status
