"""BLS12-381 signatures for oracle reports: one small interface over two backends.

The scheme is the IETF BLS signature scheme (draft-irtf-cfrg-bls-signature) with proof of
possession, minimal-pubkey-size variant, as used by Ethereum consensus:

* public keys are G1 points, 48 bytes compressed; signatures are G2 points, 96 bytes;
* message signatures use the ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``
  (SIG_DST) and proofs of possession ``BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``
  (POP_DST): a PoP is a signature over the 48-byte public key under POP_DST, so it can
  never be replayed as a message signature, nor the reverse;
* FastAggregateVerify (many signers, one message) is sound only over keys whose PoP was
  checked once when they were registered (verify_possession); that is what defeats
  rogue-key attacks.

Backends, switched with use(name), with byte-identical outputs and equal verdicts:
  "native"  pyblst (bindings of the blst library; wheels for CPython 3.9 to 3.14): the
            default, ~300x faster; the scheme is built from blst's hash-to-curve,
            point arithmetic and pairing check, as the draft defines it;
  "pyecc"   py_ecc's G2ProofOfPossession, the pure-Python reference.
Neither library is imported before its first use, so importing this module costs nothing.

Verification never raises: any malformed input (wrong type or length, an invalid or
non-canonical encoding, a point off the curve or outside the prime-order subgroup, the
infinity public key, an empty key list, an aggregate key that is infinity) gives False.
Verdicts are a pure function of the bytes (no randomized batch checks), so replay is exact.
Key generation, signing and aggregation raise BlsError on malformed input.

Validated public keys of the native backend are kept decompressed in a small bounded
cache: oracle operators' keys verify over and over, and decompression plus the subgroup
check is ~0.1 ms per key.
"""

from __future__ import annotations

import hashlib
import hmac

PUBKEY_SIZE = 48
"""Bytes of a compressed G1 public key."""
SIGNATURE_SIZE = 96
"""Bytes of a compressed G2 signature (also of a proof of possession)."""
SECRET_SIZE = 32
"""Bytes of a big-endian secret key (an int below CURVE_ORDER)."""
MIN_SEED_SIZE = 32
"""Fewest bytes of input keying material secret_from_seed accepts (IETF KeyGen)."""
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
"""r, the order of the G1 and G2 subgroups: secret keys are ints in [1, r)."""
SIG_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
"""Domain separation tag of message signatures (hash to G2)."""
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
"""Domain separation tag of proofs of possession."""
G1_GENERATOR = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb")
"""The compressed generator of G1 (the public key of secret key 1)."""
INFINITY_PUBKEY = b"\xc0" + bytes(PUBKEY_SIZE - 1)
"""The encoding of the G1 identity: never a valid public key (it would verify anything)."""
KEY_CACHE_SIZE = 4096
"""Most decompressed public keys kept per backend; the cache is emptied when it is full."""
BACKENDS = ("native", "pyecc")
"""Names accepted by use()."""

_KEYGEN_SALT = b"BLS-SIG-KEYGEN-SALT-"
_KEYGEN_LEN = 48  # L = ceil((3 * ceil(log2(r))) / 16) = ceil(3 * 255 / 16) bytes


class BlsError(ValueError):
    """Malformed BLS input: a bad length, bytes that are not a point, a point outside the
    subgroup, the infinity public key, a secret key out of range, too short a seed."""


# ----- key derivation (pure Python, the same for every backend) -------------------------
def secret_from_seed(ikm: bytes) -> int:
    """IETF KeyGen(IKM, key_info=""): the secret key derived from at least 32 bytes of
    input keying material, by HKDF-SHA256 (identical to py_ecc's KeyGen; some native
    libraries' key_gen follows an older draft and gives other keys)."""
    if not isinstance(ikm, bytes) or len(ikm) < MIN_SEED_SIZE:
        raise BlsError(f"a BLS seed is bytes, at least {MIN_SEED_SIZE} long")
    salt = _KEYGEN_SALT
    sk = 0
    while sk == 0:
        salt = hashlib.sha256(salt).digest()
        prk = hmac.new(salt, ikm + b"\x00", hashlib.sha256).digest()  # HKDF-Extract
        info = _KEYGEN_LEN.to_bytes(2, "big")  # key_info || I2OSP(L, 2)
        okm = b""
        block = b""
        counter = 1
        while len(okm) < _KEYGEN_LEN:  # HKDF-Expand
            block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
            okm += block
            counter += 1
        sk = int.from_bytes(okm[:_KEYGEN_LEN], "big") % CURVE_ORDER
    return sk


# ----- the backends ---------------------------------------------------------------------
class _Native:
    """pyblst (bindings of the blst library), with the scheme assembled from blst's
    primitives exactly as the IETF draft writes it: CoreSign is sk * hash_to_curve(msg, DST)
    (hash_to_group, SSWU, random oracle), CoreVerify checks e(pk, H(msg)) = e(G1, sig) with
    two Miller loops and one final exponentiation. Its uncompress rejects non-canonical
    encodings (infinity with other bits set included) and points outside the subgroup."""

    name = "native"

    def __init__(self) -> None:
        import pyblst

        self._g1 = pyblst.BlstP1Element
        self._g2 = pyblst.BlstP2Element
        self._miller_loop = pyblst.miller_loop
        self._final_verify = pyblst.final_verify
        self._generator = self._g1.uncompress(G1_GENERATOR)
        self._identity = self._g1()
        self._sig_identity = self._g2()
        self.keys: dict[bytes, object] = {}

    def _key(self, pk: bytes):
        """KeyValidate(pk): the decoded key, or None if pk is not a valid public key."""
        pt = self.keys.get(pk)
        if pt is not None:
            return pt
        if pk == INFINITY_PUBKEY:
            return None
        try:
            pt = self._g1.uncompress(pk)
        except Exception:  # pyblst raises ValueError; nothing from bad bytes may escape
            return None
        if pt == self._identity:
            return None
        keys = self.keys
        if len(keys) >= KEY_CACHE_SIZE:
            keys.clear()
        keys[pk] = pt
        return pt

    def _sig(self, sig: bytes):
        try:
            return self._g2.uncompress(sig)
        except Exception:
            return None

    def _core_sign(self, sk: int, msg: bytes, dst: bytes) -> bytes:
        return bytes(self._g2.hash_to_group(msg, dst).scalar_mul(sk).compress())

    def _core_verify(self, key, msg: bytes, sig: bytes, dst: bytes) -> bool:
        """e(key, H(msg)) == e(G1, sig). The infinity signature is False without a pairing:
        e(G1, O) = 1 and e(key, H(msg)) != 1 for a valid key (blst's Miller loop does not
        take the point at infinity)."""
        s = self._sig(sig)
        if s is None or s == self._sig_identity:
            return False
        hashed = self._g2.hash_to_group(msg, dst)
        lhs = self._miller_loop(key, hashed)
        return self._final_verify(lhs, self._miller_loop(self._generator, s)) is True

    def public_key(self, sk: int) -> bytes:
        return bytes(self._generator.scalar_mul(sk).compress())

    def sign(self, sk: int, msg: bytes) -> bytes:
        return self._core_sign(sk, msg, SIG_DST)

    def prove_possession(self, sk: int) -> bytes:
        return self._core_sign(sk, self.public_key(sk), POP_DST)

    def aggregate(self, sigs: list[bytes]) -> bytes:
        total = self._sig_identity
        for s in sigs:
            pt = self._sig(s)
            if pt is None:
                raise BlsError("not a valid signature (encoding, curve or subgroup)")
            total = total + pt
        return bytes(total.compress())

    def verify(self, pk: bytes, msg: bytes, sig: bytes) -> bool:
        key = self._key(pk)
        return key is not None and self._core_verify(key, msg, sig, SIG_DST)

    def verify_possession(self, pk: bytes, proof: bytes) -> bool:
        key = self._key(pk)
        return key is not None and self._core_verify(key, pk, proof, POP_DST)

    def fast_aggregate_verify(self, pks: list[bytes], msg: bytes, sig: bytes) -> bool:
        total = None
        for pk in pks:
            key = self._key(pk)
            if key is None:
                return False
            total = key if total is None else total + key
        if total is None or total == self._identity:  # keys that cancel out verify nothing
            return False
        return self._core_verify(total, msg, sig, SIG_DST)


class _PyEcc:
    """py_ecc.bls.G2ProofOfPossession, called as is: the reference implementation."""

    name = "pyecc"

    def __init__(self) -> None:
        from py_ecc.bls import G2ProofOfPossession
        from py_ecc.bls.g2_primitives import signature_to_G2, subgroup_check

        self._p = G2ProofOfPossession
        self._to_g2 = signature_to_G2
        self._in_subgroup = subgroup_check
        self.keys: dict[bytes, object] = {}  # unused: the reference validates every time

    def public_key(self, sk: int) -> bytes:
        return bytes(self._p.SkToPk(sk))

    def sign(self, sk: int, msg: bytes) -> bytes:
        return bytes(self._p.Sign(sk, msg))

    def prove_possession(self, sk: int) -> bytes:
        return bytes(self._p.PopProve(sk))

    def aggregate(self, sigs: list[bytes]) -> bytes:
        # py_ecc's Aggregate checks the curve but not the subgroup: check it here, as blst does.
        for s in sigs:
            try:
                ok = self._in_subgroup(self._to_g2(s))
            except Exception:
                ok = False
            if not ok:
                raise BlsError("not a valid signature (encoding, curve or subgroup)")
        return bytes(self._p.Aggregate(sigs))

    def verify(self, pk: bytes, msg: bytes, sig: bytes) -> bool:
        try:
            return self._p.Verify(pk, msg, sig) is True
        except Exception:
            return False

    def verify_possession(self, pk: bytes, proof: bytes) -> bool:
        try:
            return self._p.PopVerify(pk, proof) is True
        except Exception:
            return False

    def fast_aggregate_verify(self, pks: list[bytes], msg: bytes, sig: bytes) -> bool:
        try:
            return self._p.FastAggregateVerify(list(pks), msg, sig) is True
        except Exception:
            return False


_FACTORIES = {"native": _Native, "pyecc": _PyEcc}
_loaded: dict[str, _Native | _PyEcc] = {}
_active = "native"


def _load(name: str) -> _Native | _PyEcc:
    b = _loaded.get(name)
    if b is None:
        b = _loaded[name] = _FACTORIES[name]()
    return b


def use(name: str) -> None:
    """Make `name` ("native" or "pyecc") the active backend, importing its library now (a
    missing library fails here, not at the first verification)."""
    global _active
    if name not in _FACTORIES:
        raise ValueError(f"unknown BLS backend {name!r}; one of {', '.join(BACKENDS)}")
    _load(name)
    _active = name


def backend_name() -> str:
    """Name of the active backend."""
    return _active


def clear_key_cache() -> None:
    """Forget the decompressed public keys of every loaded backend (for cold measurements)."""
    for b in _loaded.values():
        b.keys.clear()


# ----- input checks shared by the backends ----------------------------------------------
def _check_secret(sk: int) -> None:
    if not isinstance(sk, int) or isinstance(sk, bool) or not 0 < sk < CURVE_ORDER:
        raise BlsError("a BLS secret key is an int in [1, curve order)")


def _check_message(msg: bytes) -> None:
    if not isinstance(msg, bytes):
        raise BlsError("a message is bytes")


def _sized(x: object, size: int) -> bool:
    return isinstance(x, bytes) and len(x) == size


# ----- the interface --------------------------------------------------------------------
def public_key(sk: int) -> bytes:
    """SkToPk: the 48-byte compressed public key of secret key sk."""
    _check_secret(sk)
    return _load(_active).public_key(sk)


def sign(sk: int, msg: bytes) -> bytes:
    """Sign: the 96-byte signature of msg by sk under SIG_DST."""
    _check_secret(sk)
    _check_message(msg)
    return _load(_active).sign(sk, msg)


def aggregate(sigs: list[bytes]) -> bytes:
    """Aggregate: the sum of one or more valid signatures (each checked: encoding, curve,
    subgroup; BlsError otherwise)."""
    if not isinstance(sigs, (list, tuple)) or not sigs:
        raise BlsError("aggregate needs a non-empty list of signatures")
    for s in sigs:
        if not _sized(s, SIGNATURE_SIZE):
            raise BlsError(f"a signature is {SIGNATURE_SIZE} bytes")
    return _load(_active).aggregate(list(sigs))


def prove_possession(sk: int) -> bytes:
    """PopProve: sk's 96-byte signature over its own public key under POP_DST."""
    _check_secret(sk)
    return _load(_active).prove_possession(sk)


def verify_possession(pk: bytes, proof: bytes) -> bool:
    """PopVerify, KeyValidate included: True iff pk is a valid public key (not infinity,
    in the subgroup) and proof is its proof of possession."""
    if not (_sized(pk, PUBKEY_SIZE) and _sized(proof, SIGNATURE_SIZE)):
        return False
    return _load(_active).verify_possession(pk, proof)


def verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """Verify: True iff sig is pk's signature of msg (pk validated as in KeyValidate)."""
    if not (_sized(pk, PUBKEY_SIZE) and isinstance(msg, bytes) and _sized(sig, SIGNATURE_SIZE)):
        return False
    return _load(_active).verify(pk, msg, sig)


def fast_aggregate_verify(pks: list[bytes], msg: bytes, sig: bytes) -> bool:
    """FastAggregateVerify: True iff sig is the aggregate of signatures of the one message
    msg by every key of pks (duplicates count twice). The keys must have passed
    verify_possession beforehand; an empty list, any invalid key, or keys summing to
    infinity give False."""
    if not isinstance(pks, (list, tuple)) or not pks:
        return False
    if not (isinstance(msg, bytes) and _sized(sig, SIGNATURE_SIZE)):
        return False
    for pk in pks:
        if not _sized(pk, PUBKEY_SIZE):
            return False
    return _load(_active).fast_aggregate_verify(pks, msg, sig)
