"""Block and header records, their hashes and the validator's signature.

    header     = canonical msgpack map {appVersion, height, parent, proposer, receiptsRoot,
                 stateRoot, time, txsRoot}
    sign bytes = b"rwachain/header/v1\\x00" || header bytes
    block hash = sha256(sign bytes)
    block      = canonical msgpack map {header, signature, txs: [signed tx bytes]}
stateRoot is the root after executing this block; txsRoot and receiptsRoot are
state/merkle.py roots over the signed transactions and the encoded receipts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rwachain.modules.core.crypto import verify
from rwachain.state.codec import decode, encode

HEADER_DOMAIN = b"rwachain/header/v1\x00"


class BlockRejected(ValueError):
    """A block that does not follow this chain; nothing of it was kept.

    field names what disagrees: a header field by its wire name ("height", "parent",
    "time", "appVersion", "proposer", "txsRoot", "receiptsRoot", "stateRoot"), or
    "signature" or "txs"; expected is what this chain holds or computed, got what the
    block carries.
    """

    def __init__(self, field: str, expected, got):
        super().__init__(f"block rejected: {field} is {_shown(got)}, expected {_shown(expected)}")
        self.field = field
        self.expected = expected
        self.got = got


def _shown(value) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Header:
    height: int
    parent: bytes
    time: int
    proposer: bytes
    txs_root: bytes
    receipts_root: bytes
    state_root: bytes
    app_version: int

    def to_obj(self) -> dict:
        return {"appVersion": self.app_version, "height": self.height, "parent": self.parent,
                "proposer": self.proposer, "receiptsRoot": self.receipts_root,
                "stateRoot": self.state_root, "time": self.time, "txsRoot": self.txs_root}

    @classmethod
    def from_obj(cls, o: dict) -> Header:
        return cls(o["height"], o["parent"], o["time"], o["proposer"], o["txsRoot"],
                   o["receiptsRoot"], o["stateRoot"], o["appVersion"])

    def sign_bytes(self) -> bytes:
        return HEADER_DOMAIN + encode(self.to_obj())

    def sign_bytes_and_hash(self) -> tuple[bytes, bytes]:
        """(sign bytes, block hash) from one encoding of the header."""
        sb = self.sign_bytes()
        return sb, hashlib.sha256(sb).digest()

    @property
    def hash(self) -> bytes:
        return self.sign_bytes_and_hash()[1]


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    signature: bytes
    txs: list[bytes]

    def encode(self) -> bytes:
        return encode({"header": self.header.to_obj(), "signature": self.signature, "txs": self.txs})

    @classmethod
    def decode(cls, data: bytes) -> Block:
        o = decode(data)
        return cls(Header.from_obj(o["header"]), o["signature"], o["txs"])

    def verify_signature(self, validator_pubkey: bytes) -> bool:
        return verify(validator_pubkey, self.header.sign_bytes(), self.signature)
