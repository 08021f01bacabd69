"""modules.bls: fixed vectors from py_ecc (tests/vectors/bls.json, written by
tests/vectors/generate_bls.py) run through BOTH backends: keygen, public keys, PoPs,
signatures and aggregates byte for byte, and the same verdict for every verification
case, negative ones included (wrong message, wrong key set, tampered signature, infinity
and off-subgroup points, keys that cancel out, a rogue key without a valid PoP). Then
malformed inputs (verification never raises, signing raises BlsError), the key cache and
the lazy imports.

py_ecc needs ~0.4 s per pairing check, so the vectors are few and the pyecc runs of the
malformed-input tests stop before any pairing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.modules.core import bls

with open(os.path.join(os.path.dirname(__file__), "vectors", "bls.json"), encoding="utf-8") as _f:
    VECTORS = json.load(_f)
KEYS = VECTORS["keys"]
H = bytes.fromhex


def secret(i: int) -> int:
    return int(KEYS[i]["secret"], 16)


def ids(cases):
    return [c["name"] for c in cases]


@pytest.fixture(params=[pytest.param(b, marks=pytest.mark.slow) if b == "pyecc" else b for b in bls.BACKENDS])
def backend(request):
    """Each backend in turn; the pure-Python reference (pyecc) is slow."""
    bls.use(request.param)
    assert bls.backend_name() == request.param
    yield request.param
    bls.use("native")


def test_ciphersuites_are_the_ietf_pop_ones():
    assert bls.SIG_DST.decode() == VECTORS["ciphersuite"] == "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
    assert bls.POP_DST.decode() == VECTORS["pop_ciphersuite"] == "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"


def test_native_is_the_default():
    assert bls.backend_name() == "native"


# ----- the vectors, on each backend -------------------------------------------------------
def test_keys(backend):
    for i, k in enumerate(KEYS):
        sk = bls.secret_from_seed(H(k["seed"]))
        assert sk.to_bytes(32, "big").hex() == k["secret"], i
        pk = bls.public_key(sk)
        assert len(pk) == bls.PUBKEY_SIZE and pk.hex() == k["pubkey"], i
        pop = bls.prove_possession(sk)
        assert len(pop) == bls.SIGNATURE_SIZE and pop.hex() == k["pop"], i


def test_the_generator_is_the_public_key_of_one(backend):
    assert bls.public_key(1) == bls.G1_GENERATOR
    assert bls.public_key(bls.CURVE_ORDER - 1) == bytes([bls.G1_GENERATOR[0] | 0x20]) + bls.G1_GENERATOR[1:]


def test_sign(backend):
    for c in VECTORS["sign"]:
        sig = bls.sign(secret(c["key"]), H(c["message"]))
        assert sig.hex() == c["signature"], c


def test_aggregate(backend):
    for c in VECTORS["aggregate"]:
        assert bls.aggregate([H(s) for s in c["signatures"]]).hex() == c["output"], c["name"]
    for c in VECTORS["aggregate_invalid"]:
        with pytest.raises(bls.BlsError):
            bls.aggregate([H(s) for s in c["signatures"]])


@pytest.mark.parametrize("case", VECTORS["verify"], ids=ids(VECTORS["verify"]))
def test_verify(backend, case):
    assert bls.verify(H(case["pubkey"]), H(case["message"]), H(case["signature"])) is case["output"]


@pytest.mark.parametrize("case", VECTORS["verify_possession"], ids=ids(VECTORS["verify_possession"]))
def test_verify_possession(backend, case):
    assert bls.verify_possession(H(case["pubkey"]), H(case["proof"])) is case["output"]


@pytest.mark.parametrize("case", VECTORS["fast_aggregate_verify"],
                         ids=ids(VECTORS["fast_aggregate_verify"]))
def test_fast_aggregate_verify(backend, case):
    pks = [H(p) for p in case["pubkeys"]]
    assert bls.fast_aggregate_verify(pks, H(case["message"]), H(case["signature"])) is case["output"]


@pytest.mark.parametrize("case", VECTORS["standard"], ids=ids(VECTORS["standard"]))
def test_ethereum_sign_vectors(backend, case):
    sk = int(case["secret"], 16)
    assert bls.sign(sk, H(case["message"])).hex() == case["signature"]
    if "pubkey" in case:
        assert bls.public_key(sk).hex() == case["pubkey"]


def test_the_vectors_cover_what_they_claim():
    """Both verdicts appear in every kind, and the rogue key is the reason PoPs exist: its
    aggregate verifies while no proof offered for it does."""
    for kind in ("verify", "verify_possession", "fast_aggregate_verify"):
        assert {c["output"] for c in VECTORS[kind]} == {True, False}, kind
    rogue = [c for c in VECTORS["fast_aggregate_verify"] if c["name"].startswith("rogue")][0]
    assert rogue["output"] is True
    rogue_pk = rogue["pubkeys"][1]
    pops = [c for c in VECTORS["verify_possession"] if c["pubkey"] == rogue_pk]
    assert len(pops) == 2 and not any(c["output"] for c in pops)
    names = {c["name"] for c in VECTORS["fast_aggregate_verify"]}
    assert {"three signers", "four signers"} <= names


# ----- malformed input --------------------------------------------------------------------
PK0, POP0 = H(KEYS[0]["pubkey"]), H(KEYS[0]["pop"])
SIG0 = H(VECTORS["sign"][0]["signature"])
MSG = H(VECTORS["sign"][0]["message"])
BAD_KEYS = [b"", PK0[:47], PK0 + b"\x00", bytes(48), b"\xff" * 48, bls.INFINITY_PUBKEY,
            b"\xe0" + bytes(47), b"\xc0" + bytes(46) + b"\x01", bytes([PK0[0] & 0x7F]) + PK0[1:],
            bytearray(PK0), PK0.hex(), None, 7]
BAD_SIGS = [b"", SIG0[:95], SIG0 + b"\x00", bytes(96), b"\xff" * 96, b"\xe0" + bytes(95),
            bytes([SIG0[0] & 0x7F]) + SIG0[1:], bytearray(SIG0), None, SIG0.hex()]


def test_verification_never_raises_on_malformed_input(backend):
    """Every malformed key or signature is False, before any pairing (cheap on py_ecc too)."""
    for pk in BAD_KEYS:
        assert bls.verify(pk, MSG, SIG0) is False, pk
        assert bls.verify_possession(pk, POP0) is False, pk
        assert bls.fast_aggregate_verify([PK0, pk], MSG, SIG0) is False, pk
    for sig in BAD_SIGS:
        assert bls.verify(PK0, MSG, sig) is False, sig
        assert bls.verify_possession(PK0, sig) is False, sig
        assert bls.fast_aggregate_verify([PK0], MSG, sig) is False, sig
    for msg in (None, "text", bytearray(MSG), 5):
        assert bls.verify(PK0, msg, SIG0) is False
        assert bls.fast_aggregate_verify([PK0], msg, SIG0) is False
    for pks in ([], (), None, PK0, b"", {PK0}, [[PK0]]):
        assert bls.fast_aggregate_verify(pks, MSG, SIG0) is False, pks


def test_signing_rejects_bad_input(backend):
    for sk in (0, -1, bls.CURVE_ORDER, bls.CURVE_ORDER + 1, True, "1", None, 1.5):
        for call in (lambda s: bls.public_key(s), lambda s: bls.sign(s, MSG),
                     lambda s: bls.prove_possession(s)):
            with pytest.raises(bls.BlsError):
                call(sk)
    with pytest.raises(bls.BlsError):
        bls.sign(1, "text")
    for seed in (b"", bytes(31), "x" * 32, None):
        with pytest.raises(bls.BlsError):
            bls.secret_from_seed(seed)
    for sigs in ([], None, [SIG0[:95]], [SIG0, None], [b"\xff" * 96]):
        with pytest.raises(bls.BlsError):
            bls.aggregate(sigs)


def test_keygen_edges_and_range():
    """Longer seeds work; secrets are in [1, r); the seed, not the backend, fixes the key."""
    assert bls.secret_from_seed(bytes(32)) != bls.secret_from_seed(bytes(33))
    for n in (32, 33, 64, 200):
        assert 0 < bls.secret_from_seed(b"\x07" * n) < bls.CURVE_ORDER


def test_infinity_signature_verifies_nothing(backend):
    """The G2 identity is a well-formed point (aggregate takes it as the neutral element),
    yet as a signature or a proof under a valid key it is False on both backends (the
    native one answers before any pairing: blst's Miller loop does not take infinity)."""
    infinity = b"\xc0" + bytes(bls.SIGNATURE_SIZE - 1)
    assert bls.aggregate([SIG0, infinity]) == SIG0
    assert bls.verify(PK0, MSG, infinity) is False
    assert bls.verify_possession(PK0, infinity) is False
    assert bls.fast_aggregate_verify([PK0], MSG, infinity) is False


@pytest.mark.slow
@settings(max_examples=4, deadline=None)
@given(seed=st.binary(min_size=32, max_size=40), msg=st.binary(max_size=300))
def test_native_signs_and_proves_exactly_as_the_reference(seed, msg):
    """Differential, beyond the fixed vectors: any seed and message (empty, long, binary)
    give the same public key, signature and PoP on both backends, and native verifies them."""
    sk = bls.secret_from_seed(seed)
    out = {}
    for name in bls.BACKENDS:
        bls.use(name)
        out[name] = (bls.public_key(sk), bls.sign(sk, msg), bls.prove_possession(sk))
    bls.use("native")
    assert out["native"] == out["pyecc"]
    pk, sig, pop = out["native"]
    assert bls.verify(pk, msg, sig) and bls.verify_possession(pk, pop)
    assert not bls.verify(pk, msg + b"\x00", sig)


def test_unknown_backend():
    with pytest.raises(ValueError):
        bls.use("blst")
    assert bls.backend_name() == "native"


# ----- native only: determinism, the key cache ------------------------------------------
def test_native_verdicts_repeat_and_do_not_depend_on_the_cache(monkeypatch):
    bls.use("native")
    cases = VECTORS["verify"]
    first = [bls.verify(H(c["pubkey"]), H(c["message"]), H(c["signature"])) for c in cases]
    bls.clear_key_cache()
    again = [bls.verify(H(c["pubkey"]), H(c["message"]), H(c["signature"])) for c in cases]
    assert first == again == [c["output"] for c in cases]
    monkeypatch.setattr(bls, "KEY_CACHE_SIZE", 3)  # a tiny cache: cleared over and over
    for _ in range(3):
        for c in VECTORS["fast_aggregate_verify"]:
            pks = [H(p) for p in c["pubkeys"]]
            assert bls.fast_aggregate_verify(pks, H(c["message"]), H(c["signature"])) is c["output"]
        assert len(bls._load("native").keys) <= 3


def test_native_key_cache_holds_only_valid_keys():
    bls.use("native")
    bls.clear_key_cache()
    for pk in BAD_KEYS:
        bls.verify(pk, MSG, SIG0)
    assert bls._load("native").keys == {}
    assert bls.verify(PK0, MSG, SIG0)
    assert list(bls._load("native").keys) == [PK0]


def test_sign_then_verify_round_trip_native():
    bls.use("native")
    sks = [bls.secret_from_seed(bytes([i]) * 32) for i in range(1, 9)]
    pks = [bls.public_key(sk) for sk in sks]
    msg = b"round trip"
    agg = bls.aggregate([bls.sign(sk, msg) for sk in sks])
    assert bls.fast_aggregate_verify(pks, msg, agg)
    assert not bls.fast_aggregate_verify(pks[:-1], msg, agg)
    assert not bls.fast_aggregate_verify(pks + pks[:1], msg, agg)  # a duplicate counts twice
    assert all(bls.verify_possession(pk, bls.prove_possession(sk)) for sk, pk in zip(sks, pks, strict=True))


def test_importing_the_module_loads_no_library():
    code = ("import sys, rwachain.modules.core.bls as b; "
            "assert b.backend_name() == 'native'; "
            "bad = [m for m in ('pyblst', 'blspy', 'py_ecc', 'py_arkworks_bls12381') if m in sys.modules]; "
            "assert not bad, bad")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
