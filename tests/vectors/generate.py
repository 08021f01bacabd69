"""Generate the golden test vectors in tests/vectors/*.json (run from the repo root):

    .venv/bin/python tests/vectors/generate.py

The test suite never runs this script: tests/test_vectors.py loads the JSON files and
recomputes every entry with the project code. Regenerating changes the checked-in
vectors; if a vector changes, the encoding, an address, a signature or the state
commitment changed, which is a CONSENSUS CHANGE (and breaks every other implementation
that was checked against these files).

Files:
    codec.json      canonical msgpack: value -> hex, and byte strings that must be refused
    addresses.json  dev key index -> seed -> public key -> address (20-byte hex, rwa1 text);
                    module accounts: name -> address
    txs.json        fixed transactions: body, sign bytes, signature, signed bytes, tx hash
    proofs.json     a small fixed state: its root and proofs for present and absent keys
    proof_rules.json  proofs that tell each documented proof rule from its wrong
                    alternatives (tests/vectors/proof_rules.py)

Tagged JSON values (codec.json, txs.json "args"). Every value is a one-key object:
    {"int": "<decimal>"}     any-size integer, as a decimal string
    {"bytes": "<hex>"}       byte string (lowercase hex, no 0x)
    {"str": "<text>"}        text string
    {"bool": true|false}
    {"nil": null}
    {"list": [<tagged>, ...]}
    {"map": [[<tagged key>, <tagged value>], ...]}  pairs in the given order, which is
                             deliberately not always canonical: the encoder sorts.
Proof hashes are lowercase hex; a proof is {"nodes": [[bitmap int, [hash hex, ...]], ...],
"leaf": [keyhash hex, valuehash hex] | null}, exactly Store.get_at's proof with hex bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from rwachain.modules.core.crypto import Keypair, dev_seed, encode_address, module_address  # noqa: E402
from rwachain.modules.core.tx import SIGN_DOMAIN, decode_tx, sign_tx  # noqa: E402
from rwachain.state.codec import encode  # noqa: E402
from rwachain.state.store import Store  # noqa: E402
from tests.vectors import proof_rules  # noqa: E402


# ----- tagged JSON values -------------------------------------------------------------------
def tag(v):
    t = type(v)
    if t is bool:
        return {"bool": v}
    if t is int:
        return {"int": str(v)}
    if t is bytes:
        return {"bytes": v.hex()}
    if t is str:
        return {"str": v}
    if v is None:
        return {"nil": None}
    if t is list:
        return {"list": [tag(x) for x in v]}
    if t is dict:
        return {"map": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError(t)


# ----- codec --------------------------------------------------------------------------------
CODEC_VALUES: list[tuple[str, object]] = [
    ("zero", 0), ("positive fixint max", 127), ("uint8 min", 128), ("uint8 max", 255),
    ("uint16 min", 256), ("uint16 max", 65535), ("uint32 min", 65536), ("uint32 max", 2**32 - 1),
    ("uint64 min", 2**32), ("int64 max", 2**63 - 1), ("uint64 over int64", 2**63),
    ("uint64 max", 2**64 - 1),
    ("negative fixint -1", -1), ("negative fixint min", -32), ("int8 max", -33),
    ("int8 min", -128), ("int16 max", -129), ("int16 min", -32768), ("int32 max", -32769),
    ("int32 min", -(2**31)), ("int64 max neg", -(2**31) - 1), ("int64 min", -(2**63)),
    ("bigint 2^64", 2**64), ("bigint 2^64+1", 2**64 + 1), ("bigint 2^71-1", 2**71 - 1),
    ("bigint 2^71 (sign byte)", 2**71), ("bigint 2^128-1 (AMOUNT_MAX)", 2**128 - 1),
    ("bigint 2^128", 2**128), ("bigint 10^40", 10**40), ("bigint 2^255", 2**255),
    ("bigint -2^63-1", -(2**63) - 1), ("bigint -2^64", -(2**64)), ("bigint -2^64-1", -(2**64) - 1),
    ("bigint -(2^127-1)", -(2**127) + 1), ("bigint -10^40", -(10**40)),
    ("true", True), ("false", False), ("nil", None),
    ("empty bytes", b""), ("bytes", b"\x00\x01\xfe\xff"), ("bytes 32", bytes(range(32))),
    ("bytes 256 (bin16)", bytes(256)),
    ("empty str", ""), ("ascii str", "rwachain"), ("utf-8 str", "h\u00e9llo \u20ac \U0001f600"),
    ("str 31 (fixstr max)", "a" * 31), ("str 32 (str8)", "b" * 32), ("str 256 (str16)", "c" * 256),
    ("empty list", []), ("list 15", list(range(15))), ("list 16 (array16)", list(range(16))),
    ("mixed list", [1, "a", b"b", None, True, [2**64, -(2**64)], {}]),
    ("empty map", {}),
    ("str keys unsorted input", {"b": 1, "a": 2, "aa": 3, "B": 4, "": 5}),
    ("str keys by utf-8 bytes", {"\u00e9": 1, "z": 2, "\u20ac": 3, "\U0001f600": 4}),
    ("bytes keys", {b"\xff": 1, b"\x00": 2, b"": 3, b"\x00\x00": 4}),
    ("int keys", {10: "a", -1: "b", 0: "c", 2**64 - 1: "d", -(2**63): "e", 300: "f"}),
    ("map 16 (map16)", {f"k{i:02d}": i for i in range(16)}),
    ("nested maps", {"outer": {"inner": {b"k": [1, {"deep": 2**100}]}, "n": -(2**70)},
                     "list": [{"b": 2, "a": 1}, {3: None, 1: False}]}),
    ("tx-like body", {"args": {"amount": 2**100, "denom": "rwa", "to": bytes(20)}, "call": "transfer",
                      "chain": "rwa-devnet-1", "expiry": 0, "fee": 5000, "module": "bank",
                      "nonce": 7, "pubkey": bytes(32)}),
]

# Byte strings that must raise NonCanonical, with why.
CODEC_REJECTS: list[tuple[str, str]] = [
    ("uint8 header for fixint 5", "cc05"),
    ("uint64 header for 5", "cf0000000000000005"),
    ("int8 header for positive 5", "d005"),
    ("int8 header for fixint -1", "d0ff"),
    ("uint16 header for 200", "cd00c8"),
    ("str8 header for 'abc'", "d903616263"),
    ("str16 header for 'abc'", "da0003616263"),
    ("bin16 header for 2 bytes", "c500026162"),
    ("array16 header for [1]", "dc000101"),
    ("map16 header for {}", "de0000"),
    ("unsorted str keys", "82a16201a16102"),
    ("unsorted bytes keys", "82c4016201c4016102"),
    ("unsorted int keys", "8202010101"),
    ("duplicate keys", "82a16101a16102"),
    ("mixed key types", "82a16101c4016202"),
    ("bool key", "81c301"),
    ("float32", "ca3fc00000"),
    ("float64", "cb3ff8000000000000"),
    ("bigint ext for 5", "c70901000000000000000005"),
    ("bigint ext for 2^64-1", "c7090100ffffffffffffffff"),
    ("bigint ext padded with 0x00", "c70a0100010000000000000000"),
    ("bigint ext padded with 0xff", "c70a01ffff0000000000000000"),
    ("bigint ext with empty payload", "c70001"),
    ("ext type 2", "d40200"),
    ("timestamp ext -1", "d6ff00000000"),
    ("trailing bytes", "0500"),
    ("empty input", ""),
    ("truncated", "92"),
    ("invalid utf-8", "a2fffe"),
]


def codec_vectors() -> dict:
    return {
        "about": "canonical msgpack (state/codec.py); values use the tagged scheme in generate.py",
        "encode": [{"name": n, "value": tag(v), "hex": encode(v).hex()} for n, v in CODEC_VALUES],
        "reject": [{"name": n, "hex": h} for n, h in CODEC_REJECTS],
    }


# ----- addresses ----------------------------------------------------------------------------
DEV_INDEXES = list(range(10)) + [4294967295]
MODULES = ["reserve", "bank", "stable"]


def address_vectors() -> dict:
    keys = []
    for i in DEV_INDEXES:
        seed = dev_seed(i)
        kp = Keypair(seed)
        keys.append({"index": i, "seed_preimage": (b"rwachain/devkey/" + i.to_bytes(4, "big")).hex(),
                     "seed": seed.hex(), "pubkey": kp.pubkey.hex(), "address": kp.address.hex(),
                     "text": encode_address(kp.address)})
    mods = [{"name": m, "address": module_address(m).hex(), "text": encode_address(module_address(m))}
            for m in MODULES]
    return {"about": "dev key i: seed = sha256(seed_preimage), Ed25519 key from seed; address = "
                     "sha256('rwachain/address' || pubkey)[:20]; text = bech32 hrp 'rwa'",
            "dev_keys": keys, "module_accounts": mods}


# ----- transactions -------------------------------------------------------------------------
def _addr(i: int) -> bytes:
    return Keypair(dev_seed(i)).address


TXS = [
    ("transfer rwa", 0, {"chain": "rwa-devnet-1", "nonce": 0, "fee": 5000, "module": "bank",
                         "call": "transfer", "args": {"to": _addr(1), "denom": "rwa", "amount": 7},
                         "expiry": 0}),
    ("transfer rusd with expiry", 3, {"chain": "rwa-devnet-1", "nonce": 12, "fee": 4321, "module": "bank",
                                      "call": "transfer",
                                      "args": {"to": _addr(9), "denom": "rusd", "amount": 1_000_000},
                                      "expiry": 100}),
    ("bigint amount and fee", 9, {"chain": "rwa-devnet-1", "nonce": 2**32, "fee": 2**64 + 1, "module": "bank",
                                  "call": "transfer",
                                  "args": {"to": module_address("reserve"), "denom": "unit/p1/senior",
                                           "amount": 2**128 - 1},
                                  "expiry": 2**64 - 1}),
    ("validator key, other chain", 4294967295, {"chain": "rwa-testnet-7", "nonce": 1, "fee": 0,
                                                "module": "bank", "call": "transfer",
                                                "args": {"amount": 1, "denom": "rwa", "to": bytes(20)},
                                                "expiry": 0}),
]


def tx_vectors() -> dict:
    out = []
    for name, index, f in TXS:
        kp = Keypair(dev_seed(index))
        signed = sign_tx(kp, **f)
        tx = decode_tx(signed, 1 << 20)
        out.append({
            "name": name, "signer_index": index, "pubkey": kp.pubkey.hex(),
            "sender": kp.address.hex(),
            "fields": {"chain": f["chain"], "nonce": str(f["nonce"]), "fee": str(f["fee"]),
                       "expiry": str(f["expiry"]), "module": f["module"], "call": f["call"],
                       "args": tag(f["args"])},
            "body": tx.body_bytes.hex(),
            "sign_bytes": (SIGN_DOMAIN + tx.body_bytes).hex(),
            "signature": tx.signature.hex(),
            "signed": signed.hex(),
            "tx_hash": hashlib.sha256(signed).hexdigest(),
        })
    return {"about": "sign bytes = 'rwachain/tx/v1' 0x00 || body; signed = [body, sig]; "
                     "hash = sha256(signed); Ed25519 signatures are deterministic (RFC 8032)",
            "sign_domain": SIGN_DOMAIN.hex(), "txs": out}


# ----- state proofs -------------------------------------------------------------------------
PROOF_STATE = {
    b"acct/alice": b"\x01",
    b"acct/bob": b"\x02",
    b"bank/supply/rwa": encode(10**18),
    b"bank/denom/rwa": encode({"decimals": 6, "kind": "native", "symbol": "RWA"}),
    b"params/chain": encode({"chainId": "rwa-devnet-1"}),
    b"": b"empty key",
    b"empty value": b"",
    **{b"k%d" % i: b"v%d" % i for i in range(20)},
}


def _hex_proof(proof: dict) -> dict:
    return {"nodes": [[bm, [h.hex() for h in hs]] for bm, hs in proof["nodes"]],
            "leaf": None if proof["leaf"] is None else [h.hex() for h in proof["leaf"]]}


def _absent_keys(store: Store) -> tuple[bytes, bytes]:
    """The first absent keys whose proofs end at an empty slot / at another key's leaf."""
    at_empty = at_leaf = None
    i = 0
    while at_empty is None or at_leaf is None:
        k = b"absent-%d" % i
        _, proof, _ = store.get_at(k)
        if proof["leaf"] is None and at_empty is None:
            at_empty = k
        elif proof["leaf"] is not None and at_leaf is None:
            at_leaf = k
        i += 1
    return at_empty, at_leaf


def proof_vectors() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "state.ldb"))
        try:
            store.commit(store.prepare(1, dict(PROOF_STATE)))
            root = store.root_hash
            at_empty, at_leaf = _absent_keys(store)
            cases = []
            for label, key in [("present", b"acct/alice"), ("present, empty value", b"empty value"),
                               ("present, empty key", b""), ("present", b"k7"),
                               ("absent, ends at an empty slot", at_empty),
                               ("absent, ends at another key's leaf", at_leaf)]:
                value, proof, r = store.get_at(key)
                assert r == root
                cases.append({"name": label, "key": key.hex(),
                              "value": None if value is None else value.hex(),
                              "proof": _hex_proof(proof)})
        finally:
            store.close()
    return {"about": "state tree root and proofs (state/proof.py); written as one block at version 1",
            "state": [[k.hex(), v.hex()] for k, v in PROOF_STATE.items()],
            "root": root.hex(), "proofs": cases}


def _store_proofs(state: dict, want) -> tuple[bytes, list]:
    """(root, [(key, value, proof)]) of the keys want(store) picks, state written at version 1."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "state.ldb"))
        try:
            store.commit(store.prepare(1, dict(state)))
            root = store.root_hash
            out = []
            for key in want(store, root):
                value, proof, r = store.get_at(key)
                assert r == root
                out.append((key, value, proof))
        finally:
            store.close()
    return root, out


def _telling(store, root, kind: str, needed: set) -> bytes:
    """The first key of a kind (present / empty slot / other leaf) whose proof every wrong
    choice of `needed` fails (tests/vectors/proof_rules.py)."""
    keys = [k for k in PROOF_STATE] if kind == "present" else [b"absent-%d" % i for i in range(500)]
    for k in keys:
        value, proof, _ = store.get_at(k)
        if kind != "present" and (proof["leaf"] is None) != (kind == "empty slot"):
            continue
        if len(proof["nodes"]) >= 2 and needed <= proof_rules.tells_apart(root, k, value, proof):
            return k
    raise AssertionError(f"no {kind} key tells {needed} apart")


def proof_rule_vectors() -> dict:
    """Vectors that tell each proof rule from its wrong alternatives (proof_rules.WRONG)."""
    path_rules = {"nibbles", "bitmap", "path"}
    cases = []

    def add(name: str, state: dict, want, tells: set) -> None:
        root, got = _store_proofs(state, want)
        for key, value, proof in got:
            assert proof_rules.verify(root, key, value, proof)
            assert tells <= proof_rules.tells_apart(root, key, value, proof), (name, tells)
            cases.append({"name": name, "tells": sorted(tells), "state": "main" if state is PROOF_STATE else
                          [[k.hex(), v.hex()] for k, v in state.items()], "root": root.hex(), "key": key.hex(),
                          "value": None if value is None else value.hex(), "proof": _hex_proof(proof)})

    add("empty tree: the root is 32 zero bytes", {}, lambda s, r: [b"any key"], {"empty"})
    add("one key: the root is its leaf", {b"only": b"one"}, lambda s, r: [b"only"], {"leaf"})
    add("one key: another key ends at its leaf", {b"only": b"one"}, lambda s, r: [b"other"], {"leaf"})
    for kind, tells in (("present", path_rules | {"leaf"}), ("empty slot", path_rules),
                        ("other leaf", path_rules | {"leaf"})):
        add(f"{kind}, two levels deep", PROOF_STATE, lambda s, r, k=kind, t=tells: [_telling(s, r, k, t)], tells)
    return {"about": "state proofs that tell each rule of docs/protocol.md (Proofs) from its wrong "
                     "alternatives (tests/vectors/proof_rules.py); 'main' is the state of proofs.json",
            "rules": proof_rules.RULES, "wrong": proof_rules.WRONG, "proofs": cases}


def dumps(doc: dict) -> str:
    """JSON with one line per top-level field and per element of a top-level list (diffable)."""
    def one(v) -> str:
        return json.dumps(v, ensure_ascii=False)

    parts = []
    for k, v in doc.items():
        if type(v) is list:
            inner = ",\n".join("  " + one(x) for x in v)
            parts.append(f" {one(k)}: [\n{inner}\n ]")
        else:
            parts.append(f" {one(k)}: {one(v)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    for name, build in (("codec", codec_vectors), ("addresses", address_vectors),
                        ("txs", tx_vectors), ("proofs", proof_vectors), ("proof_rules", proof_rule_vectors)):
        path = os.path.join(HERE, name + ".json")
        text = dumps(build())
        assert json.loads(text) is not None
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print("wrote", path)


if __name__ == "__main__":
    main()
