"""Ed25519 keys, account addresses and their checksummed text form.

An address is the first 20 bytes of sha256(b"rwachain/address" || ed25519 public key).
Its text form is bech32 (BIP-173) with human-readable part "rwa": "rwa1..." with a
6-character checksum that catches any single typo and most others. A module account's
address is MODULE_TAG (12 bytes) || the first 8 bytes of sha256(b"rwachain/module/" ||
module name): no key exists for it, so nothing can sign for it, and the tag makes every
module-derived address recognizable without a registry, including a pool's not created
yet (is_module_address). A key's address carries the tag with probability 2^-96.

Dev keys (docs/protocol.md, "Deterministic dev keys"): the seed of dev key i is
sha256(b"rwachain/devkey/" || i as 4 big-endian bytes); the Ed25519 signing key is that
32-byte seed.
"""

from __future__ import annotations

import functools
import hashlib
from functools import lru_cache

import nacl.bindings
import nacl.exceptions
import nacl.signing

ADDRESS_LEN = 20
HRP = "rwa"
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARMAP = {c: i for i, c in enumerate(_CHARSET)}


def address_of(pubkey: bytes) -> bytes:
    """20-byte address of a 32-byte Ed25519 public key."""
    return hashlib.sha256(b"rwachain/address" + pubkey).digest()[:ADDRESS_LEN]


MODULE_TAG = hashlib.sha256(b"rwachain/module-account").digest()[:12]
"""The first 12 bytes of every module account's address."""


@functools.lru_cache(maxsize=256)  # module names: a handful; bounded for any other caller
def module_address(name: str) -> bytes:
    """20-byte address of a module account (no private key exists for it): MODULE_TAG ||
    sha256(b"rwachain/module/" || name)[:8]."""
    return MODULE_TAG + hashlib.sha256(b"rwachain/module/" + name.encode()).digest()[:ADDRESS_LEN - len(MODULE_TAG)]


def is_module_address(addr: bytes) -> bool:
    """Whether addr was derived from a module name (module_address): it carries MODULE_TAG."""
    return len(addr) == ADDRESS_LEN and addr[:len(MODULE_TAG)] == MODULE_TAG


def dev_seed(index: int) -> bytes:
    """32-byte Ed25519 seed of deterministic dev key `index` (public, for devnets only)."""
    return hashlib.sha256(b"rwachain/devkey/" + index.to_bytes(4, "big")).digest()


class Keypair:
    """An Ed25519 signing key with its public key and address."""

    __slots__ = ("seed", "pubkey", "address", "_sk")

    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self.seed = seed
        self._sk = nacl.signing.SigningKey(seed)
        self.pubkey = bytes(self._sk.verify_key)
        self.address = address_of(self.pubkey)

    @classmethod
    def dev(cls, index: int) -> Keypair:
        return cls(dev_seed(index))

    def sign(self, message: bytes) -> bytes:
        """64-byte detached Ed25519 signature of message."""
        return self._sk.sign(message).signature

    @property
    def address_text(self) -> str:
        return encode_address(self.address)


def verify(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """True iff signature is a valid Ed25519 signature of message by pubkey."""
    if len(signature) != 64 or len(pubkey) != 32:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, pubkey)
        return True
    except nacl.exceptions.BadSignatureError:
        return False


# ----- bech32 (BIP-173) ---------------------------------------------------------------
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# For each 5-bit value shifted out of the checksum, the XOR of the generators it selects.
_GEN_TABLE = tuple(
    (_GEN[0] if t & 1 else 0) ^ (_GEN[1] if t & 2 else 0) ^ (_GEN[2] if t & 4 else 0)
    ^ (_GEN[3] if t & 8 else 0) ^ (_GEN[4] if t & 16 else 0)
    for t in range(32)
)


def _polymod(values: list[int]) -> int:
    """The BIP-173 checksum polynomial, one table lookup per 5-bit value."""
    chk = 1
    table = _GEN_TABLE
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5) ^ v ^ table[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _to5(data: bytes) -> list[int]:
    acc = bits = 0
    out = []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def _from5(data: list[int]) -> bytes:
    acc = bits = 0
    out = bytearray()
    for v in data:
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        raise ValueError("invalid padding")
    return bytes(out)


def encode_address(addr: bytes) -> str:
    """Text form "rwa1..." of a 20-byte address (memoized for bytes: the same few accounts
    recur in every receipt and listing)."""
    if type(addr) is bytes:
        return _encode_address_cached(addr)
    return _encode_address(bytes(addr))


@lru_cache(maxsize=1 << 16)
def _encode_address_cached(addr: bytes) -> str:
    return _encode_address(addr)


def _encode_address(addr: bytes) -> str:
    if len(addr) != ADDRESS_LEN:
        raise ValueError("an address is 20 bytes")
    data = _to5(addr)
    pm = _polymod(_hrp_expand(HRP) + data + [0] * 6) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return HRP + "1" + "".join(_CHARSET[d] for d in data + checksum)


class AddressError(ValueError):
    """A text address that is not a valid rwa1... address."""


def decode_address(text: str) -> bytes:
    """20-byte address of "rwa1..." text; raises AddressError naming what is wrong."""
    if not isinstance(text, str):
        raise AddressError("an address is a string like rwa1...")
    if text.lower() != text and text.upper() != text:
        raise AddressError("mixed-case address")
    t = text.lower()
    hrp, sep, rest = t.rpartition("1")
    if not sep or hrp != HRP:
        raise AddressError(f"address must start with {HRP}1")
    try:
        data = [_CHARMAP[c] for c in rest]
    except KeyError as exc:
        raise AddressError(f"character {exc.args[0]!r} is not in the address alphabet") from None
    if len(data) < 7 or _polymod(_hrp_expand(HRP) + data) != 1:
        raise AddressError("address checksum does not match (mistyped?)")
    try:
        raw = _from5(data[:-6])
    except ValueError:
        raise AddressError("address padding is invalid") from None
    if len(raw) != ADDRESS_LEN:
        raise AddressError("address must encode 20 bytes")
    return raw
