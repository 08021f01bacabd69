"""Where the node checks a submitted transaction (node/service.py, Node._check).

A transaction submitted while no other submission is in progress is checked on the event
loop (no worker-thread hop: the sequential round trip). Submissions that overlap go to the
batched path (a worker thread, and the checker processes for large batches), so that under
concurrent load signature checks do not run one by one on the event loop. Either way each
is admitted, journaled and then included. Real chain on LevelDB, real signatures, trio.
"""

from __future__ import annotations

import trio

from rwachain.genesis import devnet
from rwachain.modules.core import accounts
from rwachain.node.service import Node, NodeOptions
from tests.mech import devnet_chain_at, transfer


def test_lone_submissions_check_inline_and_overlapping_ones_in_batches(tmp_path):
    chain = devnet_chain_at(tmp_path / "chain")
    node = Node(chain, str(tmp_path / "journal"), NodeOptions(mining="manual", dev=True))
    keys = devnet.dev_keys()
    batched: list[int] = []
    check_batch = node._check_batch

    def counting(batch: list) -> None:
        batched.append(len(batch))
        check_batch(batch)

    node._check_batch = counting

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            lone = [await node.submit(transfer(keys[0], n, keys[1])) for n in range(3)]
            assert batched == []  # one at a time: all three checked on the event loop
            hashes: list[bytes] = []

            async def send(i: int) -> None:
                hashes.append(await node.submit(transfer(keys[i], 0, keys[0])))

            async with trio.open_nursery() as senders:
                for i in range(1, 9):
                    senders.start_soon(send, i)
            # The first of the eight found no other submission in progress; the rest did.
            assert sum(batched) >= 7
            await node.mine(1)
            for h in lone + hashes:
                assert await node.wait_included(h, 5.0) is not None
            reader = chain.app.reader()
            assert [accounts.nonce(reader, k.address) for k in keys[:9]] == [3] + [1] * 8  # all executed
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        node.close()
        chain.close()
