"""Restarts of a real node on the same --home: what it acknowledged, it keeps.

- a graceful stop (SIGTERM, exit code 0) and a restart serve the same chain and balances;
- SIGKILL in the middle of a transaction load loses no transaction that tx_send
  acknowledged: after the restart each is included or still pending;
- in manual mining mode, journaled transactions are pending again after a restart (kill
  or graceful stop) and dev_mine includes them; included ones are not replayed.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from contextlib import contextmanager

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.crypto import Keypair
from tests.mech import hx, transfer
from tests.rpcnode import RpcNode

KEYS = devnet.dev_keys()
CHAIN = devnet.CHAIN_ID


def _boot(node: RpcNode) -> RpcNode:
    node.start()
    return node


@contextmanager
def running(home, mining: str):
    """A node on home; whatever the test did to it, it is gone afterwards."""
    node = RpcNode(home, mining=mining)
    try:
        yield _boot(node)
    finally:
        if node.proc and node.proc.poll() is None:
            node.kill()


def restart(node: RpcNode) -> RpcNode:
    assert node.proc.poll() is not None, "stop or kill the node first"
    return _boot(node)


def health(node: RpcNode) -> dict:
    with urllib.request.urlopen(node.url + "/health", timeout=10) as r:
        return json.loads(r.read())


def account(node: RpcNode, key: Keypair) -> dict:
    return node.call("account_get", [key.address_text])


def batch(node: RpcNode, method: str, params_list: list) -> list[dict]:
    """One call per params, in batches of at most 500; the responses in order."""
    out = []
    for i in range(0, len(params_list), 500):
        chunk = params_list[i : i + 500]
        body = [{"jsonrpc": "2.0", "id": j, "method": method, "params": p} for j, p in enumerate(chunk)]
        resp = node.post(json.dumps(body).encode(), timeout=60)
        assert [r["id"] for r in resp] == list(range(len(chunk)))
        out += resp
    return out


@pytest.mark.slow
def test_graceful_stop_and_restart_keep_the_chain(tmp_path):
    home = tmp_path / "home"
    alice, bob, carol = KEYS[0], KEYS[1], Keypair.dev(40_000)
    with running(home, "auto") as node:
        receipts = [node.call("tx_sendAndWait", [hx(transfer(alice, n, bob, 100 + n))]) for n in range(3)]
        assert [r["code"] for r in receipts] == [0, 0, 0]
        node.call("dev_setBalance", [carol.address_text, "rusd", 4242])
        status = node.call("chain_status")
        accounts = {k.address_text: account(node, k) for k in (alice, bob, carol)}
        supply = {d: node.call("bank_supply", [d]) for d in ("rwa", "rusd")}
        blocks = [node.call("chain_getBlock", [h, True]) for h in range(1, status["height"] + 1)]
        found = node.call("tx_search", {"sender": alice.address_text})

        assert node.stop() == 0  # SIGTERM: graceful, exit code 0
        assert any("SIGTERM" in line for line in node.output)

        restart(node)
        assert node.call("chain_status") == status
        assert {k.address_text: account(node, k) for k in (alice, bob, carol)} == accounts
        assert accounts[carol.address_text]["balances"] == {"rusd": "4242"}
        assert {d: node.call("bank_supply", [d]) for d in ("rwa", "rusd")} == supply
        assert [node.call("chain_getBlock", [h, True]) for h in range(1, status["height"] + 1)] == blocks
        assert node.call("tx_search", {"sender": alice.address_text}) == found
        for r in receipts:
            assert node.call("tx_getReceipt", [r["txHash"]]) == r
        # the restarted node goes on from where it was
        r = node.call("tx_sendAndWait", [hx(transfer(alice, 3, bob, 1))])
        assert r["code"] == 0 and r["height"] == status["height"] + 1
        assert node.call("chain_getHeader", [r["height"]])["parent"] == status["hash"]
        assert node.stop() == 0


@pytest.mark.slow
def test_sigkill_under_load_loses_no_acknowledged_transaction(tmp_path):
    home = tmp_path / "home"
    senders = KEYS[:6]
    sink = Keypair.dev(40_001)
    acked: list[tuple[str, int, int]] = []  # (hash, sender index, nonce) of every successful tx_send
    problems: list = []
    lock = threading.Lock()
    stop = threading.Event()

    with running(home, "auto") as node:
        port = node.port

        def load(i: int, key: Keypair) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            nonce = 0
            while not stop.is_set():
                raw = hx(transfer(key, nonce, sink, amount=1 + i))
                body = json.dumps({"jsonrpc": "2.0", "id": nonce, "method": "tx_send", "params": [raw]})
                try:
                    c.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
                    resp = json.loads(c.getresponse().read())
                except (OSError, http.client.HTTPException, ValueError):
                    return  # the node is gone: this send is not acknowledged
                if "result" in resp:
                    with lock:
                        acked.append((resp["result"], i, nonce))
                    nonce += 1
                elif resp["error"]["code"] == 1011:  # ran past the nonce window: let blocks catch up
                    time.sleep(0.005)
                else:
                    problems.append(resp)
                    return

        threads = [threading.Thread(target=load, args=(i, k), daemon=True) for i, k in enumerate(senders)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 8
        while len(acked) < 1500 and time.monotonic() < deadline and not problems:
            time.sleep(0.05)
        at_kill = len(acked)
        node.kill()  # SIGKILL while the senders are still sending
        stop.set()
        for t in threads:
            t.join(15)
        assert not problems, problems[:3]
        assert at_kill >= 100, f"only {at_kill} transactions acknowledged before the kill"
        assert all(not t.is_alive() for t in threads)

        restart(node)
        deadline = time.monotonic() + 45
        while health(node)["mempool"] and time.monotonic() < deadline:
            time.sleep(0.1)

        hashes = [h for h, _, _ in acked]
        lost = []
        for (h, i, n), resp in zip(acked, batch(node, "tx_getReceipt", [[h] for h in hashes]), strict=True):
            if "result" in resp:
                assert resp["result"]["txHash"] == h and resp["result"]["code"] == 0, resp
                continue
            assert resp["error"]["code"] == -32001, resp
            got = node.raw_call("tx_get", [h])
            if got.get("result", {}).get("status") != "pending":
                lost.append((h, i, n))
        assert not lost, f"{len(lost)} of {len(acked)} acknowledged transactions lost, e.g. {lost[:5]}"
        assert health(node)["mempool"] == 0, "the mempool did not drain after the restart"

        # every sender's nonce is past its last acknowledged transaction, and sending goes on from there
        for i, key in enumerate(senders):
            mine = [n for _, j, n in acked if j == i]
            acct = account(node, key)
            assert acct["nonce"] >= (max(mine) + 1 if mine else 0)
            r = node.call("tx_sendAndWait", [hx(transfer(key, acct["pendingNonce"], sink, 1))])
            assert r["code"] == 0
        assert node.stop() == 0


@pytest.mark.slow
def test_manual_mode_restart_keeps_journaled_transactions_pending(tmp_path):
    home = tmp_path / "home"
    alice, bob, to = KEYS[0], KEYS[1], Keypair.dev(40_002)
    with running(home, "manual") as node:
        h0 = node.call("chain_status")["height"]
        sent = {n: node.call("tx_send", [hx(transfer(alice, n, to, 10 + n))]) for n in (0, 1, 2, 4)}  # 4 is queued
        sent_bob = node.call("tx_send", [hx(transfer(bob, 0, to, 7))])
        everything = [*sent.values(), sent_bob]
        assert health(node)["mempool"] == 5

        def all_pending():
            for h in everything:
                assert node.call("tx_get", [h])["status"] == "pending", h
            assert health(node)["mempool"] == 5
            assert node.call("chain_status")["height"] == h0
            acct = account(node, alice)
            assert (acct["nonce"], acct["pendingNonce"]) == (0, 3)

        node.kill()  # SIGKILL: only the journal has them
        restart(node)
        all_pending()

        assert node.stop() == 0  # and a graceful stop keeps them too
        restart(node)
        all_pending()

        (h1,) = node.call("dev_mine")
        for n in (0, 1, 2):
            assert node.call("tx_get", [sent[n]])["status"] == "included"
        assert node.call("tx_getReceipt", [sent_bob])["height"] == h1
        assert node.call("tx_get", [sent[4]])["status"] == "pending"  # still waiting for nonce 3
        three = node.call("tx_send", [hx(transfer(alice, 3, to, 13))])

        node.kill()
        restart(node)
        assert node.call("tx_get", [three])["status"] == "pending"
        assert node.call("tx_get", [sent[4]])["status"] == "pending"
        assert health(node)["mempool"] == 2  # the included ones were not replayed
        (h2,) = node.call("dev_mine")
        assert [node.call("tx_getReceipt", [h])["height"] for h in (three, sent[4])] == [h2, h2]
        assert account(node, alice)["nonce"] == 5
        assert node.call("bank_balance", [to.address_text, "rwa"]) == str(sum(10 + n for n in range(5)) + 7)

        node.kill()
        restart(node)
        assert health(node)["mempool"] == 0
        for h in [*everything, three]:
            assert node.call("tx_get", [h])["status"] == "included"
        assert node.stop() == 0
