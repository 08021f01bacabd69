"""docs/protocol.md specifies the wire format precisely enough to sign and submit a
transaction with pynacl, msgpack and that document alone.

Everything that builds the transaction below is written from docs/protocol.md: the dev
key seed, the address and its bech32 text (BIP-173, implemented here), the canonical body
map, the sign bytes, the signed array, the tx hash and the fee. Nothing of the project is
imported (test_imports_are_only_pynacl_msgpack_and_the_standard_library checks this
module's own imports); the node is a real `rwad devnet` subprocess started by the test
harness and spoken to with urllib.
"""

from __future__ import annotations

import ast
import hashlib
import json
import pathlib
import sys
import urllib.request

import msgpack
import nacl.signing
import pytest

from tests.rpcnode import RpcNode

ROOT = pathlib.Path(__file__).resolve().parent.parent
ALLOWED_THIRD_PARTY = {"nacl", "msgpack", "pytest"}
PROJECT_PACKAGES = {"rwachain", "modules", "state", "node", "rpc", "genesis"}


# ----- from "Keys and addresses" ---------------------------------------------------------
def dev_seed(index: int) -> bytes:
    """Dev key i: the Ed25519 seed sha256("rwachain/devkey/" || i as 4 bytes big-endian)."""
    return hashlib.sha256(b"rwachain/devkey/" + index.to_bytes(4, "big")).digest()


def address_of(pubkey: bytes) -> bytes:
    """address = sha256("rwachain/address" || public key)[0:20]."""
    return hashlib.sha256(b"rwachain/address" + pubkey).digest()[:20]


# bech32 as BIP-173 specifies it
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for b in data:
        acc = (acc << frombits) | b
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def bech32_encode(hrp: str, payload: bytes) -> str:
    data = _convertbits(payload, 8, 5)
    pm = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


def bech32_verify(text: str) -> bool:
    hrp, _, rest = text.rpartition("1")
    return _polymod(_hrp_expand(hrp) + [_CHARSET.index(c) for c in rest]) == 1


def address_text(addr: bytes) -> str:
    return bech32_encode("rwa", addr)


# ----- from "Canonical encoding" and "Transactions" --------------------------------------
def _sorted_maps(v):
    """Map keys (all strings here) in ascending order of their UTF-8 bytes."""
    if isinstance(v, dict):
        return {k: _sorted_maps(v[k]) for k in sorted(v, key=lambda k: k.encode())}
    if isinstance(v, list):
        return [_sorted_maps(x) for x in v]
    return v


def canonical(v) -> bytes:
    # msgpack-python emits the shortest headers; use_bin_type keeps bytes as bin, text as str
    return msgpack.packb(_sorted_maps(v), use_bin_type=True)


TX_DOMAIN = b"rwachain/tx/v1"


def build_tx(seed: bytes, *, chain: str, nonce: int, fee: int, module: str, call: str, args: dict,
             expiry: int = 0, domain: bytes = TX_DOMAIN) -> tuple[bytes, bytes]:
    """(signed tx bytes, tx hash) exactly as the Transactions section describes."""
    key = nacl.signing.SigningKey(seed)
    body = canonical({"args": args, "call": call, "chain": chain, "expiry": expiry, "fee": fee,
                      "module": module, "nonce": nonce, "pubkey": bytes(key.verify_key)})
    sign_bytes = domain + b"\x00" + body
    signature = key.sign(sign_bytes).signature
    assert len(signature) == 64
    signed = canonical([body, signature])
    return signed, hashlib.sha256(signed).digest()


def min_fee(signed_size: int, call_cost: int = 1000, fee_per_byte: int = 10, fee_price: int = 1) -> int:
    """From "Fees": cost = call cost + feePerByte x size; min fee = cost x feePrice (defaults)."""
    return (call_cost + fee_per_byte * signed_size) * fee_price


# ----- JSON-RPC over plain urllib ---------------------------------------------------------
def rpc(url: str, method: str, params=None) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def result(url: str, method: str, params=None):
    resp = rpc(url, method, params)
    assert "error" not in resp, resp
    return resp["result"]


# ----- the tests -------------------------------------------------------------------------
def test_imports_are_only_pynacl_msgpack_and_the_standard_library():
    tree = ast.parse(pathlib.Path(__file__).read_text())
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            names = [node.module]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("__import__", "exec", "eval"), node.func.id
            continue
        else:
            continue
        for name in names:
            seen.add(name)
            top = name.split(".")[0]
            assert top not in PROJECT_PACKAGES, f"imports project code: {name}"
            if top == "tests":
                assert name == "tests.rpcnode", name  # the harness that runs the node, nothing else
            else:
                assert top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, name
    assert "importlib" not in {n.split(".")[0] for n in seen}
    assert {"nacl.signing", "msgpack", "hashlib"} <= seen


def test_bech32_against_bip173_vectors():
    # valid bech32 strings from BIP-173
    for s in ("A12UEL5L".lower(), "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
              "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"):
        assert bech32_verify(s), s
    # and the address example in docs/protocol.md
    assert bech32_verify("rwa1vhnetz85xzhd6xkwjpyjaw2xjkrnsl7enrpk0n")


def test_dev_keys_and_addresses_match_the_published_vectors():
    """The doc points at tests/vectors/ for the dev keys; derive them from the doc alone."""
    vectors = json.loads((ROOT / "tests" / "vectors" / "addresses.json").read_text())
    assert vectors["dev_keys"]
    for v in vectors["dev_keys"]:
        seed = dev_seed(v["index"])
        pub = bytes(nacl.signing.SigningKey(seed).verify_key)
        assert seed.hex() == v["seed"]
        assert pub.hex() == v["pubkey"]
        assert address_of(pub).hex() == v["address"]
        assert address_text(address_of(pub)) == v["text"]
    for m in vectors["module_accounts"]:
        addr = (hashlib.sha256(b"rwachain/module-account").digest()[:12]
                + hashlib.sha256(b"rwachain/module/" + m["name"].encode()).digest()[:8])
        assert addr.hex() == m["address"] and address_text(addr) == m["text"]
    # the doc's example text is dev key 0's address
    pub0 = bytes(nacl.signing.SigningKey(dev_seed(0)).verify_key)
    assert address_text(address_of(pub0)) == "rwa1vhnetz85xzhd6xkwjpyjaw2xjkrnsl7enrpk0n"


@pytest.fixture(scope="module")
def node_url(tmp_path_factory):
    with RpcNode(tmp_path_factory.mktemp("spec") / "home", mining="manual") as n:
        yield n.url


def test_a_transfer_built_from_the_document_is_accepted_and_included(node_url):
    sender_seed = dev_seed(0)
    sender_pub = bytes(nacl.signing.SigningKey(sender_seed).verify_key)
    sender = address_text(address_of(sender_pub))
    recipient_addr = address_of(bytes(nacl.signing.SigningKey(dev_seed(1)).verify_key))
    recipient = address_text(recipient_addr)

    chain = result(node_url, "chain_status")["chainId"]
    assert chain == "rwa-devnet-1"  # the doc's example chain id is the devnet's
    before_to = int(result(node_url, "bank_balance", [recipient, "rwa"]))
    before_from = int(result(node_url, "bank_balance", [sender, "rwa"]))

    amount = 123_456
    args = {"to": recipient_addr, "denom": "rwa", "amount": amount}

    def build(fee):
        return build_tx(sender_seed, chain=chain, nonce=0, fee=fee, module="bank", call="transfer", args=args)

    fee = 0  # the fee is inside the signed bytes, so find the fixed point of fee = min fee(size)
    for _ in range(5):
        signed, _h = build(fee)
        if fee == min_fee(len(signed)):
            break
        fee = min_fee(len(signed))
    signed, tx_hash = build(fee)
    assert fee == min_fee(len(signed))

    # refused variants: the exact sign bytes and the canonical encoding matter
    forged, _ = build_tx(sender_seed, chain=chain, nonce=0, fee=fee, module="bank", call="transfer", args=args,
                         domain=b"rwachain/tx/v2")
    refused = rpc(node_url, "tx_send", ["0x" + forged.hex()])
    assert refused["error"]["data"]["name"] == "bad_signature", refused
    too_cheap, _ = build(fee - 1)
    refused = rpc(node_url, "tx_send", ["0x" + too_cheap.hex()])
    assert refused["error"]["data"]["name"] == "fee_too_low", refused
    body, sig = msgpack.unpackb(signed, raw=False)
    unsorted = msgpack.packb([msgpack.packb(dict(reversed(msgpack.unpackb(body, raw=False).items())),
                                            use_bin_type=True), sig], use_bin_type=True)
    refused = rpc(node_url, "tx_send", ["0x" + unsorted.hex()])
    assert refused["error"]["data"]["name"] == "non_canonical_encoding", refused

    assert result(node_url, "tx_send", ["0x" + signed.hex()]) == "0x" + tx_hash.hex()
    [height] = result(node_url, "dev_mine")
    receipt = result(node_url, "tx_getReceipt", ["0x" + tx_hash.hex()])
    assert receipt["code"] == 0 and receipt["error"] == "", receipt
    assert receipt["txHash"] == "0x" + tx_hash.hex() and receipt["height"] == height
    assert receipt["fee"] == str(fee)  # "the whole offered fee is charged"
    assert receipt["cost"] == 1000 + 10 * len(signed)  # call cost + feePerByte x signed size
    [transfer] = [e for e in receipt["events"] if e["type"] == "bank.transfer"]
    assert transfer["attrs"] == {"sender": sender, "recipient": recipient, "denom": "rwa", "amount": str(amount)}

    tx = result(node_url, "tx_get", ["0x" + tx_hash.hex()])
    assert tx["raw"] == "0x" + signed.hex() and tx["sender"] == sender and tx["status"] == "included"
    assert int(result(node_url, "bank_balance", [recipient, "rwa"])) == before_to + amount
    assert int(result(node_url, "bank_balance", [sender, "rwa"])) == before_from - amount - fee

    replay = rpc(node_url, "tx_send", ["0x" + signed.hex()])
    assert replay["error"]["data"]["name"] == "replayed_nonce"
