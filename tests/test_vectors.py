"""Golden vectors (tests/vectors/*.json, written by tests/vectors/generate.py, never run here).

Every entry is recomputed with the project code and must match byte for byte:
- codec.json: canonical encodings of a table of values (bigints, nested maps, boundary
  headers) and byte strings that decode must refuse;
- addresses.json: dev key index -> seed -> public key -> address -> rwa1 text, module
  account addresses; every text decodes back (also upper-case), and every single-character
  typo (any other alphabet character, or a character outside it, at any position) is
  refused with AddressError;
- txs.json: body, sign bytes, signature, signed bytes and tx hash of fixed transactions;
- proofs.json: the root of a fixed state and its inclusion/exclusion proofs.
A vector that stops matching means a consensus-visible change.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

import pytest

from rwachain.modules.core.crypto import (
    AddressError,
    Keypair,
    decode_address,
    dev_seed,
    encode_address,
    module_address,
    verify,
)
from rwachain.modules.core.tx import SIGN_DOMAIN, check_signature, decode_tx, sign_tx
from rwachain.state.codec import NonCanonical, decode, encode
from rwachain.state.proof import verify_proof
from rwachain.state.store import Store
from tests.vectors import proof_rules

VECTORS = os.path.join(os.path.dirname(__file__), "vectors")
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def load(name: str) -> dict:
    with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def untag(t: dict):
    """A value from the tagged JSON scheme documented in tests/vectors/generate.py."""
    assert type(t) is dict and len(t) == 1, t
    (kind, v), = t.items()
    if kind == "int":
        assert type(v) is str
        return int(v)
    if kind == "bytes":
        return bytes.fromhex(v)
    if kind == "str":
        assert type(v) is str
        return v
    if kind == "bool":
        assert type(v) is bool
        return v
    if kind == "nil":
        assert v is None
        return None
    if kind == "list":
        return [untag(x) for x in v]
    if kind == "map":
        return {untag(k): untag(x) for k, x in v}
    raise AssertionError(f"unknown tag {kind!r}")


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return sorted(a) == sorted(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ----- codec ------------------------------------------------------------------------------
CODEC = load("codec")


@pytest.mark.parametrize("vec", CODEC["encode"], ids=lambda v: v["name"])
def test_codec_encoding(vec):
    value = untag(vec["value"])
    data = bytes.fromhex(vec["hex"])
    assert encode(value).hex() == vec["hex"]
    back = decode(data)
    assert same(back, value)
    if type(back) is dict:  # decoded maps come out in canonical key order
        assert list(back) == sorted(back)


@pytest.mark.parametrize("vec", CODEC["reject"], ids=lambda v: v["name"])
def test_codec_rejects(vec):
    with pytest.raises(NonCanonical):
        decode(bytes.fromhex(vec["hex"]))


def test_codec_table_covers_the_interesting_cases():
    hexes = [v["hex"] for v in CODEC["encode"]]
    assert any(h.startswith("c7") for h in hexes)  # bigint ext
    assert any(h.startswith(("de", "dc", "da", "c5")) for h in hexes)  # 16-bit headers
    assert len(CODEC["reject"]) >= 20


# ----- addresses --------------------------------------------------------------------------
ADDR = load("addresses")


@pytest.mark.parametrize("vec", ADDR["dev_keys"], ids=lambda v: str(v["index"]))
def test_dev_key_derivation(vec):
    i = vec["index"]
    preimage = b"rwachain/devkey/" + i.to_bytes(4, "big")
    assert preimage.hex() == vec["seed_preimage"]
    assert hashlib.sha256(preimage).hexdigest() == vec["seed"] == dev_seed(i).hex()
    kp = Keypair.dev(i)
    assert kp.seed.hex() == vec["seed"]
    assert kp.pubkey.hex() == vec["pubkey"]
    assert hashlib.sha256(b"rwachain/address" + kp.pubkey).digest()[:20].hex() == vec["address"]
    assert kp.address.hex() == vec["address"]
    assert kp.address_text == encode_address(kp.address) == vec["text"]


def test_dev_key_vectors_cover_devnet_and_validator():
    assert [v["index"] for v in ADDR["dev_keys"]] == list(range(10)) + [4294967295]
    from rwachain.genesis import devnet

    assert devnet.validator_key().pubkey.hex() == ADDR["dev_keys"][-1]["pubkey"]
    with open(devnet.PATH) as f:
        genesis = json.load(f)
    assert genesis["validator"]["pubkey"] == "0x" + ADDR["dev_keys"][-1]["pubkey"]
    from rwachain.modules.core.crypto import encode_address, module_address

    protocol = {encode_address(module_address(n)) for n in ("treasury", "insurance", "reserve")}
    funded = {a["address"] for a in genesis["accounts"] if "rwa" in a["balances"]} - protocol
    assert funded == {v["text"] for v in ADDR["dev_keys"][:10]}  # (the demo pool's account holds only units)


@pytest.mark.parametrize("vec", ADDR["module_accounts"], ids=lambda v: v["name"])
def test_module_account_addresses(vec):
    addr = module_address(vec["name"])
    assert addr.hex() == vec["address"]
    tag = hashlib.sha256(b"rwachain/module-account").digest()[:12]  # docs/protocol.md, Keys and addresses
    assert tag + hashlib.sha256(b"rwachain/module/" + vec["name"].encode()).digest()[:8] == addr
    assert encode_address(addr) == vec["text"]


ALL_TEXTS = [v["text"] for v in ADDR["dev_keys"]] + [v["text"] for v in ADDR["module_accounts"]]
ALL_HEX = [v["address"] for v in ADDR["dev_keys"]] + [v["address"] for v in ADDR["module_accounts"]]


@pytest.mark.parametrize("text,hexed", list(zip(ALL_TEXTS, ALL_HEX, strict=True)), ids=ALL_TEXTS)
def test_address_text_decodes_back_and_typos_are_refused(text, hexed):
    assert text.startswith("rwa1") and len(text) == 42
    assert decode_address(text).hex() == hexed
    assert decode_address(text.upper()).hex() == hexed  # all-upper-case is valid bech32
    with pytest.raises(AddressError):
        decode_address(text[:4] + text[4:].upper())  # mixed case
    refused = 0
    for pos in range(len(text)):
        for c in CHARSET + CHARSET.upper() + "1bio":
            if c == text[pos]:
                continue
            typo = text[:pos] + c + text[pos + 1:]
            with pytest.raises(AddressError):
                decode_address(typo)
            refused += 1
    assert refused >= 60 * len(text)
    # a dropped or an added character is refused too
    for pos in range(len(text)):
        with pytest.raises(AddressError):
            decode_address(text[:pos] + text[pos + 1:])
    with pytest.raises(AddressError):
        decode_address(text + "q")


# ----- transactions -----------------------------------------------------------------------
TXS = load("txs")


@pytest.mark.parametrize("vec", TXS["txs"], ids=lambda v: v["name"])
def test_transaction_vectors(vec):
    assert bytes.fromhex(TXS["sign_domain"]) == SIGN_DOMAIN == b"rwachain/tx/v1\x00"
    kp = Keypair.dev(vec["signer_index"])
    assert kp.pubkey.hex() == vec["pubkey"] and kp.address.hex() == vec["sender"]
    f = vec["fields"]
    fields = {"chain": f["chain"], "nonce": int(f["nonce"]), "fee": int(f["fee"]),
              "expiry": int(f["expiry"]), "module": f["module"], "call": f["call"],
              "args": untag(f["args"])}
    body = encode({**fields, "pubkey": kp.pubkey})
    assert body.hex() == vec["body"]
    sign_bytes = SIGN_DOMAIN + body
    assert sign_bytes.hex() == vec["sign_bytes"]
    sig = kp.sign(sign_bytes)
    assert sig.hex() == vec["signature"]  # Ed25519 is deterministic
    assert verify(kp.pubkey, sign_bytes, sig)
    signed = sign_tx(kp, **fields)
    assert signed.hex() == vec["signed"] == encode([body, sig]).hex()
    assert hashlib.sha256(signed).hexdigest() == vec["tx_hash"]
    tx = decode_tx(bytes.fromhex(vec["signed"]), 1 << 20)
    assert tx.hash.hex() == vec["tx_hash"]
    assert tx.sign_bytes().hex() == vec["sign_bytes"]
    assert tx.sender.hex() == vec["sender"]
    assert (tx.chain, tx.nonce, tx.fee, tx.expiry, tx.module, tx.call) == (
        fields["chain"], fields["nonce"], fields["fee"], fields["expiry"], fields["module"],
        fields["call"])
    assert same(tx.args, fields["args"])
    check_signature(tx)
    # the signature covers the domain: without it, or over another body, it does not verify
    assert not verify(kp.pubkey, body, sig)
    assert not verify(kp.pubkey, sign_bytes + b"\x00", sig)


# ----- state proofs -----------------------------------------------------------------------
PROOFS = load("proofs")


def unhex_proof(p: dict) -> dict:
    return {"nodes": [[bm, [bytes.fromhex(h) for h in hs]] for bm, hs in p["nodes"]],
            "leaf": None if p["leaf"] is None else [bytes.fromhex(h) for h in p["leaf"]]}


def test_state_proof_vectors():
    state = {bytes.fromhex(k): bytes.fromhex(v) for k, v in PROOFS["state"]}
    root = bytes.fromhex(PROOFS["root"])
    kinds = set()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "state.ldb"))
        try:
            store.commit(store.prepare(1, dict(state)))
            assert store.root_hash == root
            for case in PROOFS["proofs"]:
                key = bytes.fromhex(case["key"])
                value = None if case["value"] is None else bytes.fromhex(case["value"])
                assert value == state.get(key)
                expected = unhex_proof(case["proof"])
                got_value, got_proof, got_root = store.get_at(key)
                assert (got_value, got_proof, got_root) == (value, expected, root)
                assert verify_proof(root, key, value, expected)
                assert not verify_proof(root, key, b"tampered", expected)
                if value is not None:
                    assert not verify_proof(root, key, None, expected)
                kinds.add("present" if value is not None else
                          ("empty slot" if expected["leaf"] is None else "other leaf"))
        finally:
            store.close()
    assert kinds == {"present", "empty slot", "other leaf"}


# ----- the proof rules, told apart (docs/protocol.md, "Proofs") ------------------------------------
PROOF_RULES = load("proof_rules")


def _rule_case_state(case: dict) -> dict:
    rows = PROOFS["state"] if case["state"] == "main" else case["state"]
    return {bytes.fromhex(k): bytes.fromhex(v) for k, v in rows}


@pytest.mark.parametrize("case", PROOF_RULES["proofs"], ids=lambda c: c["name"])
def test_proof_rule_vectors_match_the_code(case, tmp_path):
    key, root = bytes.fromhex(case["key"]), bytes.fromhex(case["root"])
    value = None if case["value"] is None else bytes.fromhex(case["value"])
    proof = unhex_proof(case["proof"])
    store = Store(str(tmp_path / "state.ldb"))
    try:
        store.commit(store.prepare(1, _rule_case_state(case)))
        assert store.get_at(key) == (value, proof, root)
    finally:
        store.close()
    assert verify_proof(root, key, value, proof)
    assert proof_rules.verify(root, key, value, proof)  # the verifier written from the document agrees


@pytest.mark.parametrize("case", PROOF_RULES["proofs"], ids=lambda c: c["name"])
def test_flaw_each_proof_vector_fails_under_every_wrong_choice_it_tells(case):
    key, root = bytes.fromhex(case["key"]), bytes.fromhex(case["root"])
    value = None if case["value"] is None else bytes.fromhex(case["value"])
    proof = unhex_proof(case["proof"])
    assert case["tells"]
    for choice, alt, rules in proof_rules.wrong_rules():
        if choice in case["tells"]:
            assert not proof_rules.verify(root, key, value, proof, rules), (choice, alt)
    assert not proof_rules.verify(root, key, b"tampered", proof)


def test_the_proof_rule_vectors_tell_every_choice_apart_several_times():
    told = [c for case in PROOF_RULES["proofs"] for c in case["tells"]]
    assert {c: told.count(c) for c in proof_rules.WRONG} == {"nibbles": 3, "bitmap": 3, "path": 3, "leaf": 4,
                                                           "empty": 1}
    assert PROOF_RULES["rules"] == proof_rules.RULES and PROOF_RULES["wrong"] == proof_rules.WRONG
    # every vector with a path of internal nodes tells bit and nibble order apart
    assert all({"nibbles", "bitmap"} <= set(c["tells"]) for c in PROOF_RULES["proofs"] if c["proof"]["nodes"])
