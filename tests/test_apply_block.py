"""The block transition for blocks made elsewhere (node/chain.py, Chain.apply_block).

Asserts:
- a follower chain (a data directory of its own, opened from the same devnet genesis and
  holding no validator key of the chain) applies every block of a producing chain, as
  it arrives on the wire (encoded and decoded again): mixed transactions (transfers in two
  denominations, an oracle report with its aggregate BLS signature, a failing transfer, a
  transaction refused for its signature, an empty block), real signatures, real LevelDB;
  every state root, block hash, stored block and receipt list matches;
- a block with one header field, its signature or one transaction byte changed is refused
  with BlockRejected naming that field (or the first check it trips), with the header
  re-signed by the validator or not, the signature check on or off; nothing changes
  (state root, height, head hash, a balance the block would move, the block store); the
  untampered block then still applies;
- a block applied twice, or one that skips a height, is refused by height.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from mech import KEYS, OPERATORS, Driver

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import accounts
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.tx import sign_tx
from rwachain.node.block import Block, BlockRejected
from rwachain.node.chain import Chain
from rwachain.state.codec import decode, encode

VALIDATOR = devnet.validator_key()
FOLLOWER_KEY = Keypair.dev(77)  # any key: a follower signs nothing
FEE = 200_000
CHECK_ORDER = ("height", "parent", "time", "appVersion", "proposer", "signature", "txsRoot",
               "receiptsRoot", "stateRoot")
HEADER_FIELDS = {"height": "height", "parent": "parent", "time": "time", "appVersion": "app_version",
                 "proposer": "proposer", "txsRoot": "txs_root", "receiptsRoot": "receipts_root",
                 "stateRoot": "state_root"}


def open_chain(path, key=VALIDATOR) -> Chain:
    chain = Chain(str(path), key, verify_workers=2)
    chain.init_genesis(devnet.PATH)
    return chain


def over_the_wire(block: Block) -> Block:
    return Block.decode(block.encode())


def bad_signature(raw: bytes) -> bytes:
    body, sig = decode(raw)
    return encode([body, sig[:-1] + bytes([sig[-1] ^ 0x40])])


def test_a_follower_applies_every_block_of_a_producer(tmp_path):
    producer, follower = open_chain(tmp_path / "producer"), open_chain(tmp_path / "follower", FOLLOWER_KEY)
    try:
        assert follower.store.root_hash == producer.store.root_hash
        d = Driver(producer)
        plan = [
            [d.tx(KEYS[i], "bank", "transfer", {"to": KEYS[i + 1].address, "denom": "rwa", "amount": 10 + i})
             for i in range(6)],
            [d.tx(KEYS[1], "bank", "transfer", {"to": KEYS[2].address, "denom": "rusd", "amount": 5}),
             d.tx(KEYS[2], "bank", "transfer", {"to": KEYS[3].address, "denom": "rwa", "amount": 2**100}),
             bad_signature(d.tx(KEYS[3], "bank", "transfer", {"to": KEYS[4].address, "denom": "rwa", "amount": 1}))],
            [],
            [d.report("rate", devnet.RATE + devnet.POLICIES["rate"]["stepAbs"], sender=OPERATORS[0]),
             d.tx(KEYS[0], "bank", "transfer", {"to": KEYS[9].address, "denom": "rwa", "amount": 7})],
        ]
        codes = []
        for dt, txs in zip((1, 5, 60, 1), plan, strict=True):
            d.time += dt
            block, result = producer.produce(txs, time=d.time)
            codes.append([r.code for r in result.receipts])
            applied = follower.apply_block(over_the_wire(block))
            h = block.header.height
            assert follower.store.root_hash == producer.store.root_hash == applied.state_root
            assert follower.head_hash() == producer.head_hash() == block.header.hash
            assert follower.blocks.block(h).encode() == block.encode()
            assert follower.blocks.receipts(h) == producer.blocks.receipts(h)
            assert [r.to_obj() for r in applied.receipts] == [r.to_obj() for r in result.receipts]
        assert codes[1] == [0, 51, 6] and codes[2] == [] and codes[3] == [0, 0]  # the mix it was built to be
        assert follower.height == producer.height == 4
        assert list(follower.store.iter_state()) == list(producer.store.iter_state())
    finally:
        producer.close()
        follower.close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(producer, follower) in lockstep: each example adds one block to both."""
    base = tmp_path_factory.mktemp("apply-block")
    producer, follower = open_chain(base / "producer"), open_chain(base / "follower", FOLLOWER_KEY)
    yield producer, follower
    producer.close()
    follower.close()


def next_block(producer: Chain, amount: int) -> Block:
    """A real block of two transfers (one of them failing) one second after the last."""
    reader = producer.app.reader()
    n0, n1 = (accounts.nonce(reader, KEYS[i].address) for i in (0, 1))
    txs = [sign_tx(KEYS[0], chain=devnet.CHAIN_ID, nonce=n0, fee=FEE, module="bank", call="transfer",
                   args={"to": KEYS[5].address, "denom": "rwa", "amount": amount}),
           sign_tx(KEYS[1], chain=devnet.CHAIN_ID, nonce=n1, fee=FEE, module="bank", call="transfer",
                   args={"to": KEYS[5].address, "denom": "rwa", "amount": 2**100})]
    block, _ = producer.produce(txs, time=producer.last_time() + 1)
    return block


def changed(value, delta: int):
    """value made different: an int moved by delta (never 0), bytes with one byte flipped."""
    if isinstance(value, int):
        return value + delta
    i = delta % len(value)
    return value[:i] + bytes([value[i] ^ (1 + delta % 255)]) + value[i + 1:]


def snapshot(chain: Chain) -> tuple:
    reader = chain.app.reader()
    return (chain.store.root_hash, chain.height, chain.head_hash(), chain.blocks.head(),
            bank.balance(reader, KEYS[5].address, "rwa"), accounts.nonce(reader, KEYS[0].address))


tamper = st.one_of(
    st.tuples(st.just("header"), st.sampled_from(sorted(HEADER_FIELDS)), st.integers(-3, 40).filter(bool)),
    st.tuples(st.just("signature"), st.just("signature"), st.integers(1, 10**6)),
    st.tuples(st.just("tx"), st.integers(0, 1), st.integers(0, 10**6)),
)


@given(tamper, st.booleans(), st.booleans(), st.integers(1, 10**6))
@example(("header", "time", -1), False, True, 5)  # the last block's own time: allowed, the root differs
@example(("header", "time", -2), True, True, 5)  # before the last block
def test_a_tampered_block_is_refused_by_field_and_changes_nothing(pair, how, resign, check_signature, amount):
    producer, follower = pair
    block = next_block(producer, amount)
    header, txs, signature = block.header, list(block.txs), block.signature
    kind, what, delta = how
    if kind == "header":
        header = dataclasses.replace(header, **{HEADER_FIELDS[what]: changed(getattr(header, HEADER_FIELDS[what]), delta)})
        # The block is one second after the last: a time moved back one second or later
        # passes every header check, and only the state root (which holds the block time)
        # gives it away.
        first = "stateRoot" if what == "time" and delta >= -1 else what
        if resign:
            signature = VALIDATOR.sign(header.sign_bytes())
        elif check_signature and CHECK_ORDER.index(first) > CHECK_ORDER.index("signature"):
            first = "signature"
    elif kind == "signature":
        signature = changed(signature, delta)
        first = "signature" if check_signature else None  # without the check, a valid block
    else:
        txs[what] = changed(txs[what], delta)
        first = "txsRoot"
    tampered = over_the_wire(Block(header, signature, txs))
    before = snapshot(follower)
    if first is None:
        follower.apply_block(tampered, check_signature=False)
    else:
        with pytest.raises(BlockRejected) as err:
            follower.apply_block(tampered, check_signature=check_signature)
        assert err.value.field == first
        assert err.value.got != err.value.expected
        assert snapshot(follower) == before
        assert follower.blocks.block(block.header.height) is None
        assert all(follower.blocks.tx_location(hashlib.sha256(raw).digest()) is None for raw in block.txs)
        follower.apply_block(block)
    assert follower.store.root_hash == producer.store.root_hash
    assert follower.head_hash() == producer.head_hash()


def test_a_block_applied_twice_or_skipping_a_height_is_refused(pair):
    producer, follower = pair
    block = next_block(producer, 3)
    follower.apply_block(block)
    with pytest.raises(BlockRejected) as again:
        follower.apply_block(block)
    assert (again.value.field, again.value.got) == ("height", block.header.height)
    skipped = next_block(producer, 4)
    ahead = next_block(producer, 5)
    with pytest.raises(BlockRejected) as gap:
        follower.apply_block(ahead)
    assert (gap.value.field, gap.value.expected, gap.value.got) == ("height", skipped.header.height,
                                                                     ahead.header.height)
    follower.apply_block(skipped)
    follower.apply_block(ahead)
    assert follower.store.root_hash == producer.store.root_hash
