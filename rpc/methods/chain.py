"""chain_ methods: the head, the validator, blocks and headers, chain parameters, and the
subscriptions (served over the WebSocket by rpc/server/ws.py). chain_metrics is in
rpc/methods/metrics.py."""

from __future__ import annotations

import hashlib

from rwachain.modules.core import params as chain_parameters
from rwachain.modules.core.crypto import address_of, encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.tx import decode_tx
from rwachain.rpc.errors import INVALID_REQUEST, NOT_FOUND, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import (
    BOOL,
    HASH,
    HEIGHT,
    OBJECT,
    STRING,
    U64,
    Param,
    Result,
    choice,
    rpc_method,
)

SUBSCRIPTION_KINDS = ("newHeads", "pendingTransactions", "events")


@rpc_method("chain_status", [], Result("status", S.STATUS), "The head: chain id, height, block hash, state root, time.")
async def chain_status(api: Api):
    last = api.app.last_block()
    return {"chainId": api.app.params["chainId"], "height": last["height"], "hash": enc.hx(api.chain.head_hash()),
            "stateRoot": enc.hx(api.chain.store.root_hash), "time": last["time"]}


@rpc_method("chain_validator", [], Result("validator", S.obj(address=S.ADDR, pubkey=S.HASH32)),
    "The validator of the chain's genesis: its Ed25519 public key (it signs every header) and address (each "
    "header's proposer).")
async def chain_validator(api: Api):
    pubkey = api.app.genesis["validator"]
    return {"address": encode_address(address_of(pubkey)), "pubkey": enc.hx(pubkey)}


FULL = Param("full", BOOL, "include decoded transactions instead of their hashes", required=False, default=False)


def _block_json(api: Api, b, full: bool) -> dict:
    receipts = api.chain.blocks.receipts(b.header.height) or []
    events = api.chain.blocks.events(b.header.height)
    if not full:
        return enc.block(b, receipts, events=events)
    txs = []
    for raw in b.txs:
        try:
            t = decode_tx(raw, 1 << 30)
            txs.append(enc.tx(t, api.call_args(t)))
        except InvalidTransaction:
            txs.append({"hash": enc.hx(hashlib.sha256(raw).digest()), "raw": enc.hx(raw)})
    return enc.block(b, receipts, txs, events)


@rpc_method("chain_getBlock", [Param("height", U64, "block height"), FULL], Result("block", S.BLOCK),
            "A block by height.", errors=[NOT_FOUND])
async def chain_get_block(api: Api, height: int, full: bool):
    return _block_json(api, api.block_at(height), full)


@rpc_method("chain_getBlockByHash", [Param("hash", HASH, "block hash"), FULL], Result("block", S.BLOCK),
            "A block by its hash.", errors=[NOT_FOUND])
async def chain_get_block_by_hash(api: Api, hash: bytes, full: bool):
    h = api.chain.blocks.height_of(hash)
    if h is None:
        raise RpcError(NOT_FOUND, "no block with that hash")
    return _block_json(api, api.block_at(h), full)


@rpc_method("chain_getHeader", [Param("height", U64, "block height (default: head)", required=False)],
            Result("header", S.HEADER), "A block header.", errors=[NOT_FOUND])
async def chain_get_header(api: Api, height: int | None):
    if height is None:
        height = api.app.last_block()["height"]
    return enc.header(api.block_at(height).header)


@rpc_method("chain_params", [HEIGHT], Result("params", S.CHAIN_PARAMS), "Chain parameters (fees, limits).")
async def chain_params(api: Api, height: int | None):
    return enc.value(chain_parameters.load(api.reader(height)))


# Subscriptions belong to a WebSocket connection: rpc/server/ws.py answers these two there;
# over HTTP they are refused.
@rpc_method("chain_subscribe", [Param("kind", choice(*SUBSCRIPTION_KINDS), "newHeads, pendingTransactions or events"),
                                Param("eventType", STRING, "the event type; required with kind events", required=False),
                                Param("attrs", OBJECT, "with kind events: attributes to match", required=False)],
            Result("subscription", S.STR), "Subscribe (WebSocket only); notifications arrive as "
            "chain_subscription messages. eventType is required with kind events.")
async def chain_subscribe(api, kind, eventType, attrs):  # noqa: N803
    raise RpcError(INVALID_REQUEST, "subscriptions exist only over the WebSocket at /ws")


@rpc_method("chain_unsubscribe", [Param("subscription", STRING, "id from chain_subscribe")],
            Result("removed", S.BOOL), "Cancel a subscription (WebSocket only).")
async def chain_unsubscribe(api, subscription):
    raise RpcError(INVALID_REQUEST, "subscriptions exist only over the WebSocket at /ws")
