"""Every admission refusal has its own stable code and message and changes nothing."""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core import errors
from rwachain.modules.core.app import BLOCK, MEMPOOL
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.tx import SIGN_DOMAIN, make_body, sign_tx
from rwachain.state.codec import encode

CHAIN = devnet.CHAIN_ID


def tx(key, *, nonce=0, fee=10_000, module="bank", call="transfer", args=None, chain=CHAIN, expiry=0):
    if args is None:
        args = {"to": bytes(20), "denom": "rwa", "amount": 1}
    return sign_tx(key, chain=chain, nonce=nonce, fee=fee, module=module, call=call, args=args, expiry=expiry)


def resign(key, body: dict) -> bytes:
    raw = encode(body)
    return encode([raw, key.sign(SIGN_DOMAIN + raw)])


def _body(key, **over):
    b = make_body(chain=CHAIN, pubkey=key.pubkey, nonce=0, fee=10_000, module="bank", call="transfer",
                  args={"to": bytes(20), "denom": "rwa", "amount": 1})
    b.update(over)
    return b


def expect(chain, raw, exc, mode=MEMPOOL):
    root = chain.store.root_hash
    with pytest.raises(exc) as info:
        chain.app.check_tx(raw, mode)
    assert info.value.code == exc.code and info.value.message
    assert chain.store.root_hash == root
    return info.value


def test_codes_are_unique_and_stable():
    classes = errors.all_error_classes()
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    pinned = {"wrong_chain_id": 5, "bad_signature": 6, "non_canonical_encoding": 3, "replayed_nonce": 10,
              "nonce_gap": 11, "fee_too_low": 12, "expired": 13, "oversize": 4, "unknown_module": 7,
              "unknown_call": 8, "bad_arguments": 9, "insufficient_funds": 51}
    assert {c.name: c.code for c in classes if c.name in pinned} == pinned


def test_valid_transfer_is_admitted(devnet_chain, dev_keys):
    res = devnet_chain.app.check_tx(tx(dev_keys[0]))
    assert res.min_fee <= 10_000 and res.cost > 1000


def test_wrong_chain_id(devnet_chain, dev_keys):
    e = expect(devnet_chain, tx(dev_keys[0], chain="other-chain"), errors.WrongChainId)
    assert "other-chain" in e.message


def test_bad_signature(devnet_chain, dev_keys):
    raw = tx(dev_keys[0])
    body, sig = raw[:-64], raw[-64:]
    expect(devnet_chain, body + bytes([sig[0] ^ 1]) + sig[1:], errors.BadSignature)
    # a signature by another key over the same body
    other = Keypair.dev(7)
    b = encode(_body(dev_keys[0]))
    expect(devnet_chain, encode([b, other.sign(SIGN_DOMAIN + b)]), errors.BadSignature)


def test_non_canonical_encoding(devnet_chain, dev_keys):
    key = dev_keys[0]
    body = encode(_body(key))
    # the same map with two keys swapped: same value, different bytes
    import msgpack

    d = _body(key)
    swapped = msgpack.packb(dict(reversed(list(d.items()))), use_bin_type=True)
    assert swapped != body
    raw = msgpack.packb([swapped, key.sign(SIGN_DOMAIN + swapped)], use_bin_type=True)
    expect(devnet_chain, raw, errors.NonCanonicalEncoding)
    # a non-minimal integer header in the outer envelope is refused too
    good = tx(key)
    assert good[0] == 0x92
    expect(devnet_chain, b"\xdc\x00\x02" + good[1:], errors.NonCanonicalEncoding)


def test_replayed_nonce_and_gap(devnet_chain, dev_keys):
    key = dev_keys[0]
    devnet_chain.produce([tx(key, nonce=0)], time=devnet.GENESIS_TIME + 1)
    expect(devnet_chain, tx(key, nonce=0), errors.ReplayedNonce)
    # mempool mode admits a future nonce within the window; block mode does not
    devnet_chain.app.check_tx(tx(key, nonce=5), MEMPOOL)
    expect(devnet_chain, tx(key, nonce=5), errors.NonceGap, BLOCK)
    expect(devnet_chain, tx(key, nonce=1 + 64), errors.NonceGap, MEMPOOL)
    devnet_chain.app.check_tx(tx(key, nonce=64), MEMPOOL)


def test_fee_below_cost_schedule(devnet_chain, dev_keys):
    e = expect(devnet_chain, tx(dev_keys[0], fee=10), errors.FeeTooLow)
    assert "minimum" in e.message


def test_cannot_pay_fee(devnet_chain):
    poor = Keypair.dev(500)  # not funded in genesis
    expect(devnet_chain, tx(poor), errors.CannotPayFee)


def test_expired(devnet_chain, dev_keys):
    devnet_chain.produce([], time=devnet.GENESIS_TIME + 1)
    devnet_chain.produce([], time=devnet.GENESIS_TIME + 2)
    expect(devnet_chain, tx(dev_keys[0], expiry=2), errors.Expired)
    devnet_chain.app.check_tx(tx(dev_keys[0], expiry=3))


def test_oversize(devnet_chain, dev_keys):
    big = {"to": bytes(20), "denom": "rwa", "amount": 1, "pad": b"x" * 20_000}
    expect(devnet_chain, tx(dev_keys[0], args=big), errors.Oversize)


def test_unknown_module_and_call(devnet_chain, dev_keys):
    expect(devnet_chain, tx(dev_keys[0], module="nope"), errors.UnknownModule)
    expect(devnet_chain, tx(dev_keys[0], call="steal"), errors.UnknownCall)


@pytest.mark.parametrize("args, fragment", [
    ({"to": bytes(19), "denom": "rwa", "amount": 1}, "to"),
    ({"to": bytes(20), "denom": "rwa", "amount": 0}, "amount"),
    ({"to": bytes(20), "denom": "rwa", "amount": -5}, "amount"),
    ({"to": bytes(20), "denom": "rwa", "amount": 2**128}, "amount"),
    ({"to": bytes(20), "denom": "RWA!", "amount": 1}, "denom"),
    ({"to": bytes(20), "denom": "rwa", "amount": "1"}, "amount"),
    ({"to": bytes(20), "denom": "rwa"}, "missing"),
    ({"to": bytes(20), "denom": "rwa", "amount": 1, "memo": "x"}, "unknown"),
])
def test_bad_arguments(devnet_chain, dev_keys, args, fragment):
    e = expect(devnet_chain, tx(dev_keys[0], args=args), errors.BadArguments)
    assert fragment in e.message


@pytest.mark.parametrize("mutate", [
    lambda b: {**b, "nonce": -1},
    lambda b: {**b, "fee": "10"},
    lambda b: {**b, "pubkey": b"\x00" * 31},
    lambda b: {k: v for k, v in b.items() if k != "expiry"},
    lambda b: {**b, "extra": 1},
])
def test_malformed_body(devnet_chain, dev_keys, mutate):
    expect(devnet_chain, resign(dev_keys[0], mutate(_body(dev_keys[0]))), errors.Malformed)


def test_garbage_bytes(devnet_chain):
    for raw in (b"", b"\xc1", b"\x92\x01", b"not msgpack at all", encode({"a": 1})):
        with pytest.raises(errors.InvalidTransaction):
            devnet_chain.app.check_tx(raw)


def test_refused_tx_in_block_changes_nothing_but_the_block_record(devnet_chain, dev_keys):
    """A block carrying only refused transactions changes no account state."""
    key = dev_keys[0]
    ctx = devnet_chain.app.reader()
    from rwachain.modules.bank import keeper

    before = keeper.balance(ctx, key.address, "rwa")
    _, res = devnet_chain.produce([tx(key, nonce=3), tx(key, fee=1), tx(key, chain="x")],
                                  time=devnet.GENESIS_TIME + 1)
    assert [r.error for r in res.receipts] == ["nonce_gap", "fee_too_low", "wrong_chain_id"]
    assert all(r.fee == 0 for r in res.receipts)
    assert keeper.balance(devnet_chain.app.reader(), key.address, "rwa") == before
