"""The real node over HTTP: status, a transfer included, graceful stop and restart."""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from tests.rpcnode import RpcError, RpcNode


@pytest.mark.slow
def test_devnet_serves_transfers_and_survives_restart(tmp_path):
    keys = devnet.dev_keys()
    node = RpcNode(tmp_path / "home")
    with node:
        assert node.call("chain_status")["chainId"] == devnet.CHAIN_ID
        banner = "".join(node.output)  # Anvil-style: every dev key with what it holds
        assert f"(0) {keys[0].address_text}  private key (ed25519 seed) 0x{keys[0].seed.hex()}" in banner
        assert "holds 1,000,000 RUSD, 1,000,000 RWA" in banner
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


@pytest.mark.slow
def test_sigint_stops_gracefully_and_keeps_state(tmp_path):
    import signal

    keys = devnet.dev_keys()
    node = RpcNode(tmp_path / "home").start()
    try:
        raw = sign_tx(keys[2], chain=devnet.CHAIN_ID, nonce=0, fee=5000, module="bank", call="transfer",
                      args={"to": keys[3].address, "denom": "rwa", "amount": 9})
        assert node.call("tx_sendAndWait", {"tx": "0x" + raw.hex()})["code"] == 0
        status = node.call("chain_status")
        node.proc.send_signal(signal.SIGINT)
        assert node.proc.wait(15) == 0
    finally:
        node.stop()
    with RpcNode(tmp_path / "home") as again:
        assert again.call("chain_status") == status


@pytest.mark.slow
def test_interval_mining_makes_blocks_on_its_own(tmp_path):
    import time

    with RpcNode(tmp_path / "home", "--block-time", "0.2", mining="interval") as node:
        h0 = node.call("chain_status")["height"]
        deadline = time.monotonic() + 10
        while node.call("chain_status")["height"] < h0 + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert node.call("chain_status")["height"] >= h0 + 3  # empty blocks keep coming
