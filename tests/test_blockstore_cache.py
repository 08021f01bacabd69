"""The block store remembers the blocks this process commits (node/blockstore.py): what it
answers from memory is exactly what it would decode from LevelDB."""

from __future__ import annotations

import hashlib

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from rwachain.node.block import Block
from rwachain.node.blockstore import BLOCK, RECEIPTS, _h
from rwachain.node.devtools import revert_chain
from rwachain.state.codec import decode_stored

T0 = devnet.GENESIS_TIME


def _txs(keys):
    a, b = keys[0], keys[1]
    ok = [sign_tx(a, chain=devnet.CHAIN_ID, nonce=n, fee=5000, module="bank", call="transfer",
                  args={"to": b.address, "denom": "rwa", "amount": 3 + n}) for n in range(20)]
    failing = sign_tx(a, chain=devnet.CHAIN_ID, nonce=20, fee=5000, module="bank", call="transfer",
                      args={"to": b.address, "denom": "rwa", "amount": 2**100})
    return ok + [failing]


def test_remembered_block_and_receipts_match_the_stored_records(devnet_chain, dev_keys):
    block, result = devnet_chain.produce(_txs(dev_keys), T0 + 1)
    h = block.header.height
    blocks = devnet_chain.blocks
    assert blocks.block(h) is block  # no decode for the head block
    stored_block = Block.decode(devnet_chain.store.db.get(BLOCK + _h(h)))
    assert stored_block.encode() == block.encode()
    stored = decode_stored(devnet_chain.store.db.get(RECEIPTS + _h(h)))
    assert len(stored) == 21 and stored[-1]["code"] != 0 and stored[0]["events"]
    one_by_one = [blocks.receipt(h, i) for i in range(len(stored))]
    assert one_by_one == stored
    assert blocks.receipt(h, len(stored)) is None and blocks.receipt(h, -1) is None
    assert blocks.receipts(h) == stored
    blocks.forget()  # from LevelDB again
    assert [blocks.receipt(h, i) for i in range(len(stored))] == stored
    assert blocks.block(h).encode() == block.encode()


def test_a_rewound_height_is_not_answered_from_memory(devnet_chain, dev_keys):
    txs = _txs(dev_keys)
    devnet_chain.produce(txs[:3], T0 + 1)
    first, _ = devnet_chain.produce(txs[3:6], T0 + 2)
    revert_chain(devnet_chain, 1)
    assert devnet_chain.blocks.block(2) is None and devnet_chain.blocks.receipt(2, 0) is None
    again, _ = devnet_chain.produce(txs[3:4], T0 + 3)
    assert again.header.hash != first.header.hash
    assert devnet_chain.blocks.receipt(2, 1) is None
    assert devnet_chain.blocks.receipt(2, 0)["tx"] == hashlib.sha256(again.txs[0]).digest()
