"""JSON forms of chain records (docs/rpc.md): camelCase, amounts as decimal strings,
bytes as 0x-hex, 20-byte values in events and args as rwa1... addresses."""

from __future__ import annotations

import hashlib

from rwachain.modules.core.args import args_to_json
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import json_value as value  # a state or event value in JSON form
from rwachain.modules.core.tx import Tx
from rwachain.node.block import Block, Header
from rwachain.state.codec import encode


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def header(h: Header) -> dict:
    return {"height": h.height, "parent": hx(h.parent), "time": h.time, "proposer": encode_address(h.proposer),
            "txsRoot": hx(h.txs_root), "receiptsRoot": hx(h.receipts_root), "stateRoot": hx(h.state_root),
            "appVersion": h.app_version, "hash": hx(h.hash)}


def block(b: Block, receipts: list[dict], txs: list[dict] | None = None, events: list[dict] = ()) -> dict:
    """A block: its hash, header, signature, transactions (hashes, or decoded with full), the
    canonical bytes of each receipt (what receiptsRoot commits to) and the block's own events
    (begin- and end-block hooks; not committed to by the header: a replay recomputes them)."""
    return {"hash": hx(b.header.hash), "header": header(b.header), "signature": hx(b.signature),
            "txs": txs if txs is not None else [hx(hashlib.sha256(t).digest()) for t in b.txs],
            "receipts": [hx(encode(r)) for r in receipts], "events": [event(e) for e in events]}


def event(e: dict) -> dict:
    """An event in JSON form: {type, attrs} (attribute values as everywhere in JSON)."""
    return {"type": e["type"], "attrs": value(e["attrs"])}


def receipt(r: dict, height: int | None = None, index: int | None = None) -> dict:
    """A receipt in JSON form; raw is its canonical encoding (a leaf of receiptsRoot)."""
    out = {"txHash": hx(r["tx"]), "code": r["code"], "error": r["error"], "message": r["message"],
           "fee": str(r["fee"]), "cost": r["cost"],
           "events": [event(e) for e in r["events"]],
           "raw": hx(encode(r))}
    if height is not None:
        out["height"] = height
        out["index"] = index
    return out


def tx(t: Tx, call_args_specs: dict | None) -> dict:
    return {"hash": hx(t.hash), "sender": encode_address(t.sender), "pubkey": hx(t.pubkey), "nonce": str(t.nonce),
            "fee": str(t.fee), "expiry": str(t.expiry), "module": t.module, "call": t.call,
            "args": args_to_json(call_args_specs, t.args) if call_args_specs else value(t.args),
            "size": t.size, "raw": hx(t.raw)}
