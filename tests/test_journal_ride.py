"""When an admitted transaction is durable (node/durability.py, Durability.run).

An answered submission must survive a crash: its journal record or the block that
includes it is on disk when `submit` returns, whichever came first. Under automine a lone
transaction goes into a small block on the event loop at once, so its journal write waits
for that block and is then not needed: a sequential client pays one synced commit per
transaction. A transaction no block can take yet (a nonce gap) is journaled. Real chain on
LevelDB, real journal file, real signatures, trio.
"""

from __future__ import annotations

import trio

from rwachain.genesis import devnet
from rwachain.node.journal import Journal
from rwachain.node.service import Node, NodeOptions
from tests.mech import devnet_chain_at, transfer

KEYS = devnet.dev_keys()


def _node(tmp_path, mining: str) -> tuple[Node, str]:
    chain = devnet_chain_at(tmp_path / "chain")
    path = str(tmp_path / "journal")
    return Node(chain, path, NodeOptions(mining=mining, dev=True)), path


def _durable(node: Node, journal_path: str, raw: bytes, tx_hash: bytes) -> bool:
    """On disk now: in the journal file, or in a committed block."""
    return raw in Journal(journal_path).read() or node.chain.blocks.tx_location(tx_hash) is not None


def test_sequential_automine_submissions_are_durable_through_their_blocks(tmp_path):
    node, path = _node(tmp_path, "auto")

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            for n in range(5):
                raw = transfer(KEYS[0], n, KEYS[9])
                h = await node.submit(raw)
                assert _durable(node, path, raw, h)
                assert await node.wait_included(h, 5.0) is not None
            assert Journal(path).read() == []  # every one was covered by its block
            gap = transfer(KEYS[0], 7, KEYS[9])  # nonces 5 and 6 missing: no block can take it
            h = await node.submit(gap)
            assert Journal(path).read() == [gap] and node.chain.blocks.tx_location(h) is None
            nursery.cancel_scope.cancel()

    trio.run(main)
    node.close()


def test_concurrent_submissions_are_durable_when_answered(tmp_path):
    node, path = _node(tmp_path, "auto")
    answered: list[bool] = []

    async def send(i: int) -> None:
        for n in range(3):
            raw = transfer(KEYS[i], n, KEYS[9])
            h = await node.submit(raw)
            answered.append(_durable(node, path, raw, h))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            async with trio.open_nursery() as senders:
                for i in range(8):
                    senders.start_soon(send, i)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert answered == [True] * 24
    node.close()


def test_manual_mining_journals_every_submission(tmp_path):
    node, path = _node(tmp_path, "manual")
    raws = [transfer(KEYS[0], n, KEYS[9]) for n in range(3)]

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            for raw in raws:
                await node.submit(raw)
            assert Journal(path).read() == raws
            nursery.cancel_scope.cancel()

    trio.run(main)
    node.close()
