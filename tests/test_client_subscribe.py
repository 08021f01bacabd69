"""Client.subscribe and AsyncClient.subscribe (rpc/client/ws.py) against a real node over its
WebSocket: new heads, pending transactions, events; a refused subscription; reconnecting
and resubscribing after the node is killed and started again on the same port."""

from __future__ import annotations

import socket

import pytest
import trio

from rwachain.modules.core.crypto import Keypair
from rwachain.rpc.client.clients import AsyncClient, Client, InvalidParams
from tests.rpcnode import RpcNode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with RpcNode(tmp_path_factory.mktemp("sub") / "home", "--port", str(_free_port()), mining="manual") as n:
        yield n


def _transfer(c: Client, amount: int) -> str:
    k = Keypair.dev(6)
    return c.send_call(k, "bank", "transfer", {"to": Keypair.dev(7).address_text, "denom": "rwa",
                                               "amount": str(amount)}, wait=False)


def test_sync_subscriptions_deliver_heads_pending_hashes_and_events(node):
    with Client(node.url, timeout=30) as c, c.subscribe("newHeads") as heads, \
            c.subscribe("pendingTransactions") as pending, \
            c.subscribe("events", event_type="bank.transfer", attrs={"amount": "77"}) as events:
        h = _transfer(c, 77)
        _transfer(c, 78)  # its event does not match the filter
        assert pending.next(timeout=10) == h
        [height] = c.dev_mine()
        head = heads.next(timeout=10)
        assert head == c.chain_getHeader(height)
        ev = events.next(timeout=10)
        assert ev["txHash"] == h and ev["height"] == height and ev["attrs"]["amount"] == "77"
        with pytest.raises(TimeoutError):
            events.next(timeout=0.3)  # the second transfer's event was filtered out
        assert heads.reconnects == 0 and heads.id.startswith("0x")


def test_a_refused_subscription_raises_the_typed_error_at_once(node):
    with Client(node.url) as c:
        with pytest.raises(InvalidParams, match="eventType"):
            c.subscribe("events")
        with pytest.raises(ValueError):
            c.subscribe("blocks")


def test_sync_subscription_reconnects_and_resubscribes_after_a_restart(node):
    with Client(node.url, timeout=30) as c, c.subscribe("newHeads", max_retries=None) as heads:
        node.kill()
        node.start()
        [height] = c.dev_mine()
        # the notification of this block may come before the subscription is back: mine until one arrives
        for _ in range(50):
            try:
                head = heads.next(timeout=0.5)
                break
            except TimeoutError:
                [height] = c.dev_mine()
        assert head["height"] == height and heads.reconnects == 1 and heads.id is not None


def test_a_subscription_gives_up_after_max_retries(tmp_path):
    n = RpcNode(tmp_path / "home", "--port", str(_free_port()), mining="manual").start()
    try:
        with Client(n.url) as c:
            sub = c.subscribe("newHeads", max_retries=2)
            n.kill()
            from rwachain.rpc.client.clients import TransportError

            with pytest.raises(TransportError, match="failed 3 time"):
                sub.next(timeout=30)
            sub.close()
    finally:
        n.stop()


def test_async_subscription_delivers_and_reconnects(node):
    async def main():
        async with AsyncClient(node.url, timeout=30) as c, await c.subscribe("newHeads", max_retries=None) as heads:
            [height] = await c.dev_mine()
            assert (await heads.next(timeout=10))["height"] == height
            node.kill()
            await trio.to_thread.run_sync(node.start)
            got = None
            for _ in range(50):
                [height] = await c.dev_mine()
                try:
                    got = await heads.next(timeout=0.5)
                    break
                except TimeoutError:
                    continue
            assert got is not None and heads.reconnects == 1
            [height] = await c.dev_mine()
            async for head in heads:  # iteration goes on from there, block by block
                if head["height"] == height:
                    break
                assert head["height"] < height

    trio.run(main)
