"""Admission under the two shapes of load a node sees (node/service.py, Node.submit; node/admission.py).

A client that submits one transaction at a time and clients that submit at the same time
must get the same answers: each good transaction is admitted (its hash), journaled and
then included; each bad one is refused with its own typed error, whatever else arrives
with it, and never reaches a block. (How the node schedules the checks, on the event
loop or in batches on worker threads, is its own business: only the answers are asserted.)
Real chain on LevelDB, real signatures, trio.
"""

from __future__ import annotations

import pytest
import trio

from rwachain.modules.core import accounts
from rwachain.modules.core.errors import BadSignature, InvalidTransaction, WrongChainId
from rwachain.node.service import Node, NodeOptions
from tests.mech import KEYS, devnet_chain_at, transfer


def forged(raw: bytes) -> bytes:
    """raw with one bit of its signature (the last byte) flipped."""
    return raw[:-1] + bytes([raw[-1] ^ 1])


async def answer(node: Node, raw: bytes) -> bytes | InvalidTransaction:
    """The node's answer to one submission: the hash, or the typed error that refused it."""
    try:
        return await node.submit(raw)
    except InvalidTransaction as exc:
        return exc


@pytest.mark.parametrize("senders", [1, 9], ids=["one-at-a-time", "all-at-once"])
def test_each_submission_gets_its_own_answer_alone_or_among_others(tmp_path, senders):
    chain = devnet_chain_at(tmp_path / "chain")
    node = Node(chain, str(tmp_path / "journal"), NodeOptions(mining="manual", dev=True))
    good = [transfer(KEYS[i], 0, KEYS[0]) for i in range(1, 9)]
    bad = {forged(transfer(KEYS[9], 0, KEYS[0])): BadSignature,
           transfer(KEYS[9], 0, KEYS[0], chain="other-chain"): WrongChainId}
    raws = [*good[:4], *bad, *good[4:]]  # the bad ones among the good
    answers: dict[bytes, bytes | InvalidTransaction] = {}

    async def send(batch: list[bytes]) -> None:
        for raw in batch:
            answers[raw] = await answer(node, raw)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            async with trio.open_nursery() as senders_:
                for k in range(senders):  # `senders` clients, each sending its share in turn
                    senders_.start_soon(send, raws[k::senders])
            for raw, err in bad.items():
                assert type(answers[raw]) is err, answers[raw]
            hashes = [answers[raw] for raw in good]
            assert all(isinstance(h, bytes) for h in hashes), hashes
            await node.mine(1)
            for h in hashes:
                assert await node.wait_included(h, 5.0) is not None
            reader = chain.app.reader()
            assert [accounts.nonce(reader, k.address) for k in KEYS] == [0] + [1] * 8 + [0]
            assert len(chain.blocks.block(chain.height).txs) == len(good)  # the refused ones never reach it
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        node.close()
        chain.close()
