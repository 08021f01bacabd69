"""The real node over HTTP: status, a transfer included, graceful stop and restart."""

from __future__ import annotations

import pytest

from genesis import devnet
from modules.tx import sign_tx
from tests.rpcnode import RpcError, RpcNode


def test_devnet_serves_transfers_and_survives_restart(tmp_path):
    keys = devnet.dev_keys()
    node = RpcNode(tmp_path / "home")
    with node:
        assert node.call("chain_status")["chainId"] == devnet.CHAIN_ID
        raw = sign_tx(keys[0], chain=devnet.CHAIN_ID, nonce=0, fee=5000, module="bank", call="transfer",
                      args={"to": keys[1].address, "denom": "rwa", "amount": 77})
        receipt = node.call("tx_sendAndWait", {"tx": "0x" + raw.hex()})
        assert receipt["code"] == 0 and receipt["height"] >= 1
        with pytest.raises(RpcError) as info:
            node.call("tx_send", ["0x" + raw.hex()])
        assert info.value.code == 1010 and info.value.data["name"] == "replayed_nonce"
        status = node.call("chain_status")
    assert node.proc.returncode == 0  # SIGTERM stops gracefully
    with RpcNode(tmp_path / "home") as again:
        assert again.call("chain_status") == status
        assert again.call("bank_balance", [keys[1].address_text, "rwa"]) == str(devnet.NATIVE_EACH + 77)
