"""The transaction envelope: body, sign bytes, signed encoding, hash, stateless checks.

    body        = canonical msgpack map {"args": map, "call": str, "chain": str,
                  "expiry": int, "fee": int, "module": str, "nonce": int, "pubkey": bin(32)}
    sign bytes  = b"rwachain/tx/v1\\x00" || body bytes
    signed tx   = canonical msgpack array [body bytes as bin, signature as bin(64)]
    tx hash     = sha256(signed tx)
expiry is the last block height that may include the transaction (0: no expiry); fee
is in base units of the native token. docs/protocol.md specifies this byte for byte.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.crypto import Keypair, address_of, verify
from rwachain.modules.core.errors import BadSignature, Malformed, NonCanonicalEncoding, Oversize
from rwachain.state.codec import NonCanonical, decode, encode

SIGN_DOMAIN = b"rwachain/tx/v1\x00"
BODY_FIELDS = ("args", "call", "chain", "expiry", "fee", "module", "nonce", "pubkey")
U64_MAX = (1 << 64) - 1
FEE_MAX = (1 << 128) - 1


@dataclass(frozen=True, slots=True)
class Tx:
    """A decoded, structurally valid signed transaction (signature not yet checked)."""

    hash: bytes
    raw: bytes
    body_bytes: bytes
    signature: bytes
    chain: str
    pubkey: bytes
    sender: bytes
    nonce: int
    fee: int
    expiry: int
    module: str
    call: str
    args: dict

    @property
    def size(self) -> int:
        return len(self.raw)

    def sign_bytes(self) -> bytes:
        return SIGN_DOMAIN + self.body_bytes


def make_body(*, chain: str, pubkey: bytes, nonce: int, fee: int, module: str, call: str,
              args: dict, expiry: int = 0) -> dict[str, Any]:
    return {"args": args, "call": call, "chain": chain, "expiry": expiry, "fee": fee,
            "module": module, "nonce": nonce, "pubkey": pubkey}


def sign_tx(key: Keypair, *, chain: str, nonce: int, fee: int, module: str, call: str,
            args: dict, expiry: int = 0) -> bytes:
    """Signed transaction bytes, ready for check_tx or tx_send."""
    body = encode(make_body(chain=chain, pubkey=key.pubkey, nonce=nonce, fee=fee, module=module,
                            call=call, args=args, expiry=expiry))
    return encode([body, key.sign(SIGN_DOMAIN + body)])


def size_with_fee(tx: Tx, fee: int) -> int:
    """Bytes of tx signed again with another fee (a signature is always 64 bytes)."""
    body = decode(tx.body_bytes)
    body["fee"] = fee
    return len(encode([encode(body), tx.signature]))


def _field(body: dict, name: str, typ: type, lo: int = 0, hi: int = U64_MAX):
    v = body[name]
    if type(v) is not typ:
        raise Malformed(f"tx body field {name!r} must be {typ.__name__}")
    if typ is int and not lo <= v <= hi:
        raise Malformed(f"tx body field {name!r} is outside [{lo}, {hi}]")
    return v


def _split_envelope(raw: bytes) -> tuple[bytes, bytes] | None:
    """(body bytes, signature) when raw is exactly the canonical array of a body of at
    most 65,535 bytes and a 64-byte signature: 0x92, bin8 or bin16 (the shortest that
    fits), body, c4 40, signature. None for anything else, which the general decoder
    then accepts or refuses with its reason."""
    if raw[:1] != b"\x92":
        return None
    tag = raw[1:2]
    if tag == b"\xc4" and len(raw) > 2:
        n, start = raw[2], 3
    elif tag == b"\xc5" and len(raw) > 3:
        n, start = int.from_bytes(raw[2:4], "big"), 4
        if n < 256:
            return None
    else:
        return None
    end = start + n
    if len(raw) != end + 66 or raw[end : end + 2] != b"\xc4\x40":
        return None
    return raw[start:end], raw[end + 2 :]


def decode_tx(raw: bytes, max_size: int) -> Tx:
    """Decode and structurally check signed bytes; raises a typed InvalidTransaction."""
    if type(raw) is not bytes:
        raise Malformed("a transaction is a byte string")
    if len(raw) > max_size:
        raise Oversize(f"transaction is {len(raw)} bytes; the limit is {max_size}")
    outer = _split_envelope(raw)
    if outer is None:
        try:
            outer = decode(raw)
        except NonCanonical as exc:
            raise NonCanonicalEncoding(f"signed transaction: {exc}") from None
        if type(outer) is not list or len(outer) != 2 or type(outer[0]) is not bytes or type(outer[1]) is not bytes:
            raise Malformed("a signed transaction is [body bytes, signature bytes]")
    body_bytes, sig = outer
    if len(sig) != 64:
        raise Malformed("the signature is 64 bytes")
    try:
        body = decode(body_bytes)
    except NonCanonical as exc:
        raise NonCanonicalEncoding(f"transaction body: {exc}") from None
    if type(body) is not dict or tuple(body) != BODY_FIELDS:
        raise Malformed(f"the transaction body is a map with exactly the fields {', '.join(BODY_FIELDS)}")
    pubkey = _field(body, "pubkey", bytes)
    if len(pubkey) != 32:
        raise Malformed("pubkey is a 32-byte Ed25519 public key")
    args = body["args"]
    if type(args) is not dict:
        raise Malformed("args must be a map")
    return Tx(
        hash=hashlib.sha256(raw).digest(), raw=raw, body_bytes=body_bytes, signature=sig,
        chain=_field(body, "chain", str), pubkey=pubkey, sender=address_of(pubkey),
        nonce=_field(body, "nonce", int), fee=_field(body, "fee", int, 0, FEE_MAX),
        expiry=_field(body, "expiry", int), module=_field(body, "module", str),
        call=_field(body, "call", str), args=args,
    )


def check_signature(tx: Tx) -> None:
    """Raise BadSignature unless tx is signed by its pubkey over its sign bytes."""
    if not verify(tx.pubkey, SIGN_DOMAIN + tx.body_bytes, tx.signature):
        raise BadSignature("the signature does not verify against the sender's public key and sign bytes")
