"""Generate tests/vectors/bls.json with py_ecc alone (run by hand from the repo root):

    .venv/bin/python tests/vectors/generate_bls.py

The test suite never runs this script: tests/test_bls.py loads the JSON and recomputes
every entry with modules.bls on each backend. Every value here comes from
py_ecc.bls.G2ProofOfPossession (the reference) or, for the crafted invalid points, from
py_ecc's curve arithmetic; nothing from modules.bls, so the file checks the project's code
against an independent implementation. A changed entry means a changed signature scheme:
oracle reports signed before would stop verifying.

Layout (all byte strings are lowercase hex without 0x):
    ciphersuite, pop_ciphersuite   the two DSTs
    keys        [{seed, secret (32-byte big-endian), pubkey, pop}], seed i =
                sha256(b"rwachain/test-bls/" || i as 4 big-endian bytes)
    messages    {name: hex}
    sign        [{key, message, signature}]               key = index into keys
    aggregate   [{name, signatures: [hex], output}]
    aggregate_invalid  [{name, signatures}]               aggregate must raise BlsError
    verify, verify_possession, fast_aggregate_verify
                [{name, pubkey | pubkeys, message?, signature | proof, output}]
    standard    [{name, source, secret, message, pubkey?, signature}]  Ethereum
                consensus-spec vectors (ethereum/bls12-381-tests), checked against py_ecc
"""

from __future__ import annotations

import hashlib
import json
import os

from py_ecc.bls import G2ProofOfPossession as P
from py_ecc.bls.g2_primitives import G1_to_pubkey, G2_to_signature, pubkey_to_G1
from py_ecc.bls.hash_to_curve import hash_to_G2
from py_ecc.bls.point_compression import modular_squareroot_in_FQ2
from py_ecc.optimized_bls12_381 import (
    FQ,
    FQ2,
    G1,
    add,
    b2,
    curve_order,
    field_modulus,
    is_inf,
    multiply,
    neg,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bls.json")
INF_PK = b"\xc0" + bytes(47)
INF_SIG = b"\xc0" + bytes(95)

# From ethereum/bls12-381-tests (sign/sign_case_*.json, the Ethereum consensus-spec vectors).
STANDARD = [
    {"name": "sign_case_c82df61aa3ee60fb", "source": "ethereum/bls12-381-tests",
     "secret": "263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3",
     "message": "00" * 32,
     "pubkey": "a491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a",
     "signature": "b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55"},
    {"name": "sign_case_8cd3d4d0d9a5b265", "source": "ethereum/bls12-381-tests",
     "secret": "328388aff0d4a5b7dc9205abd374e7e98f3cd9f3418edb4eafda5fb16473d216",
     "message": "56" * 32,
     "signature": "a4efa926610b8bd1c8330c918b7a5e9bf374e53435ef8b7ec186abf62e1b1f65aeaaeb365677ac1d1172a1f5b44b4e6d022c252c58486c0a759fbdc7de15a756acc4d343064035667a594b4c2a6f0b0b421975977f297dba63ee2f63ffe47bb6"},
]


def seed(i: int) -> bytes:
    return hashlib.sha256(b"rwachain/test-bls/" + i.to_bytes(4, "big")).digest()


def g1_off_subgroup() -> bytes:
    """A point of E(Fp) (y^2 = x^3 + 4) outside the order-r subgroup, compressed."""
    x = 1
    while True:
        rhs = (x**3 + 4) % field_modulus
        y = pow(rhs, (field_modulus + 1) // 4, field_modulus)
        if y * y % field_modulus == rhs:
            pt = (FQ(x), FQ(y), FQ(1))
            if not is_inf(multiply(pt, curve_order)):
                return G1_to_pubkey(pt)
        x += 1


def g2_off_subgroup() -> bytes:
    """A point of the twist E'(Fp2) outside the order-r subgroup, compressed."""
    x = 1
    while True:
        X = FQ2([x, 0])
        y = modular_squareroot_in_FQ2(X**3 + b2)
        if y is not None:
            pt = (X, y, FQ2.one())
            if not is_inf(multiply(pt, curve_order)):
                return G2_to_signature(pt)
        x += 1


def main() -> None:
    msgs = {
        "report": b"rwachain/oracle-report/feed=usd-eur/round=1/value=1084500",
        "other": b"rwachain/oracle-report/feed=usd-eur/round=1/value=1084501",
        "empty": b"",
    }
    sks = [P.KeyGen(seed(i)) for i in range(5)]
    pks = [P.SkToPk(sk) for sk in sks]
    pops = [P.PopProve(sk) for sk in sks]
    keys = [{"seed": seed(i).hex(), "secret": sk.to_bytes(32, "big").hex(), "pubkey": pk.hex(),
             "pop": pop.hex()} for i, (sk, pk, pop) in enumerate(zip(sks, pks, pops, strict=True))]

    report = msgs["report"]
    sigs = [P.Sign(sk, report) for sk in sks[:4]]
    sign = [{"key": i, "message": report.hex(), "signature": s.hex()} for i, s in enumerate(sigs)]
    sig_other = P.Sign(sks[0], msgs["other"])
    sig_empty = P.Sign(sks[4], msgs["empty"])
    sign += [{"key": 0, "message": msgs["other"].hex(), "signature": sig_other.hex()},
             {"key": 4, "message": "", "signature": sig_empty.hex()}]

    agg3 = P.Aggregate(sigs[:3])
    agg4 = P.Aggregate(sigs)
    aggregate = [
        {"name": "three signers", "signatures": [s.hex() for s in sigs[:3]], "output": agg3.hex()},
        {"name": "four signers", "signatures": [s.hex() for s in sigs], "output": agg4.hex()},
        {"name": "one signature is itself", "signatures": [sigs[0].hex()], "output": sigs[0].hex()},
        {"name": "infinity is the neutral element", "signatures": [sigs[1].hex(), INF_SIG.hex()],
         "output": sigs[1].hex()},
    ]
    off_g1 = g1_off_subgroup()
    off_g2 = g2_off_subgroup()
    assert P.Aggregate([off_g2])  # py_ecc's Aggregate takes it: the subgroup check is ours
    tampered = sigs[0][:-1] + bytes([sigs[0][-1] ^ 1])
    aggregate_invalid = [
        {"name": "a point outside the G2 subgroup", "signatures": [sigs[0].hex(), off_g2.hex()]},
        {"name": "compression flag cleared", "signatures": [bytes([sigs[0][0] & 0x7F]).hex() + sigs[0][1:].hex()]},
        {"name": "non-canonical infinity", "signatures": [(b"\xc0" + bytes(94) + b"\x01").hex()]},
    ]

    # A rogue key: pk_rogue = x*G1 - pk_1, so pk_1 + pk_rogue = x*G1 and x alone "signs for both".
    x = P.KeyGen(seed(99))
    rogue_pt = add(multiply(G1, x), neg(pubkey_to_G1(pks[1])))
    rogue = G1_to_pubkey(rogue_pt)
    rogue_sig = P.Sign(x, report)
    # The rogue's best tries at a PoP: its own key's proof, and the PoP-DST hash of the rogue
    # key multiplied by x (what a PoP would be if the rogue knew its secret; it does not).
    rogue_pop_own = P.PopProve(x)
    rogue_pop_x = G2_to_signature(multiply(hash_to_G2(rogue, P.POP_TAG, hashlib.sha256), x))
    # The negated key of key 0: r - sk0 is a real secret, with a real PoP, whose key cancels
    # pk0 in a sum; the sum is infinity and the infinity signature "signs" for it.
    neg_sk0 = curve_order - sks[0]
    neg_pk0 = P.SkToPk(neg_sk0)
    assert neg_pk0 == G1_to_pubkey(neg(pubkey_to_G1(pks[0])))
    neg_pop0 = P.PopProve(neg_sk0)

    def v(name, pk, msg, sig):
        return {"name": name, "pubkey": pk.hex(), "message": msg.hex(), "signature": sig.hex(),
                "output": P.Verify(pk, msg, sig)}

    verify = [
        v("valid", pks[0], report, sigs[0]),
        v("wrong message", pks[0], msgs["other"], sigs[0]),
        v("wrong key", pks[1], report, sigs[0]),
        v("tampered signature (last byte)", pks[0], report, tampered),
        v("a PoP is not a signature of the key bytes", pks[0], pks[0], pops[0]),
        v("infinity key with infinity signature", INF_PK, report, INF_SIG),
        v("key outside the G1 subgroup", off_g1, report, sigs[0]),
        v("signature outside the G2 subgroup", pks[0], report, off_g2),
        v("aggregate is not a single signature", pks[0], report, agg3),
    ]

    def pv(name, pk, proof):
        return {"name": name, "pubkey": pk.hex(), "proof": proof.hex(), "output": P.PopVerify(pk, proof)}

    verify_possession = [
        pv("valid", pks[0], pops[0]),
        pv("valid, negated key 0", neg_pk0, neg_pop0),
        pv("another key's proof", pks[1], pops[0]),
        pv("a message signature over the key (SIG DST) is no proof", pks[0], P.Sign(sks[0], pks[0])),
        pv("rogue key with its maker's own proof", rogue, rogue_pop_own),
        pv("rogue key with x * H_pop(rogue)", rogue, rogue_pop_x),
        pv("infinity key with infinity proof", INF_PK, INF_SIG),
        pv("key outside the G1 subgroup", off_g1, pops[0]),
    ]

    def fv(name, keys_, msg, sig):
        return {"name": name, "pubkeys": [k.hex() for k in keys_], "message": msg.hex(),
                "signature": sig.hex(), "output": P.FastAggregateVerify(keys_, msg, sig)}

    fast_aggregate_verify = [
        fv("three signers", pks[:3], report, agg3),
        fv("four signers", pks[:4], report, agg4),
        fv("wrong message", pks[:4], msgs["other"], agg4),
        fv("wrong key set: a fourth key that did not sign", pks[:4], report, agg3),
        fv("wrong key set: a signer missing", pks[:3], report, agg4),
        fv("one signer is plain verify", pks[:1], report, sigs[0]),
        fv("infinity key", [pks[0], INF_PK], report, sigs[0]),
        fv("keys that cancel out, infinity signature", [pks[0], neg_pk0], report, INF_SIG),
        fv("rogue key: accepted without PoP checks (why keys must pass verify_possession)",
           [pks[1], rogue], report, rogue_sig),
        fv("empty key list", [], report, INF_SIG),
    ]
    for case in STANDARD:
        sk = int(case["secret"], 16)
        assert P.Sign(sk, bytes.fromhex(case["message"])).hex() == case["signature"], case["name"]
        if "pubkey" in case:
            assert P.SkToPk(sk).hex() == case["pubkey"], case["name"]

    out = {
        "ciphersuite": P.DST.decode(),
        "pop_ciphersuite": P.POP_TAG.decode(),
        "keys": keys,
        "messages": {k: m.hex() for k, m in msgs.items()},
        "sign": sign,
        "aggregate": aggregate,
        "aggregate_invalid": aggregate_invalid,
        "verify": verify,
        "verify_possession": verify_possession,
        "fast_aggregate_verify": fast_aggregate_verify,
        "standard": STANDARD,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
