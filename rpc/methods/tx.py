"""tx_ methods: send (one, a batch, or and wait), simulate, estimate the fee, look up, search."""

from __future__ import annotations

import trio

from rwachain.modules.core.app import DEV_OP_MARK
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.tx import decode_tx
from rwachain.node import blockstore as bs
from rwachain.node.mempool import MempoolError
from rwachain.rpc.errors import INVALID_PARAMS, MEMPOOL_REFUSED, NOT_FOUND, TIMEOUT, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api, tx_error
from rwachain.rpc.methods.params import (
    ADDRESS,
    CURSOR,
    HASH,
    HEX,
    NUMBER,
    OBJECT,
    STRING,
    U64,
    Param,
    Result,
    batch_handler,
    rpc_method,
)

TX_PARAM = Param("tx", HEX, "signed transaction bytes (docs/protocol.md)")


async def _send(api: Api, raw: bytes) -> bytes:
    try:
        return await api.node.submit(raw)
    except (InvalidTransaction, MempoolError) as exc:
        raise _send_error(exc) from None


def _send_error(exc: Exception) -> RpcError:
    """The JSON-RPC error of a refused admission (InvalidTransaction or MempoolError)."""
    if isinstance(exc, InvalidTransaction):
        return tx_error(exc)
    if isinstance(exc, MempoolError):
        return RpcError(MEMPOOL_REFUSED, exc.message, {"reason": exc.reason})
    raise exc


@rpc_method("tx_send", [TX_PARAM], Result("hash", S.HASH32),
            "Admit a signed transaction; returns its hash once it is admitted and durable (journaled, or in a committed block).",
            errors=[MEMPOOL_REFUSED])
async def tx_send(api: Api, tx: bytes):
    return enc.hx(await _send(api, tx))


@batch_handler("tx_send")
async def tx_send_many(api: Api, calls: list[dict]) -> list:
    """A JSON-RPC batch made only of tx_send: admitted as one batch (Node.submit_many);
    each call's answer is what tx_send alone would give."""
    outcomes = await api.node.submit_many([c["tx"] for c in calls])
    return [enc.hx(o) if type(o) is bytes else _send_error(o) for o in outcomes]


def _receipt_at(api: Api, height: int, index: int) -> dict:
    return enc.receipt(api.chain.blocks.receipt(height, index), height, index)


@rpc_method("tx_sendAndWait", [TX_PARAM, Param("timeout", NUMBER, "seconds to wait (default 30)", required=False,
                                              default=30)],
            Result("receipt", S.RECEIPT), "Send and wait for inclusion; returns the receipt.",
            errors=[MEMPOOL_REFUSED, TIMEOUT])
async def tx_send_and_wait(api: Api, tx: bytes, timeout: float):
    h = await _send(api, tx)
    loc = await api.node.wait_included(h, min(float(timeout), 600.0))
    if loc is None:
        raise RpcError(TIMEOUT, f"not included within {timeout} s; still pending", {"hash": enc.hx(h)})
    return _receipt_at(api, *loc)


@rpc_method("tx_simulate", [TX_PARAM], Result("receipt", S.RECEIPT),
            "Dry run against the latest state; nothing changes. Any unused nonce is accepted.")
async def tx_simulate(api: Api, tx: bytes):
    try:
        r = await trio.to_thread.run_sync(api.app.simulate, tx)
    except InvalidTransaction as exc:
        raise tx_error(exc) from None
    return enc.receipt(r.to_obj())


@rpc_method("tx_estimateFee", [Param("tx", HEX, "a transaction (the signature is not checked)")],
            Result("fee", S.FEE_ESTIMATE),
            "The least fee that pays for the transaction re-signed with it (the fee's encoding counts), with "
            "that encoding's cost units and size.")
async def tx_estimate_fee(api: Api, tx: bytes):
    try:
        est = api.app.estimate_fee(tx)
    except InvalidTransaction as exc:
        raise tx_error(exc) from None
    return {"cost": est["cost"], "minFee": str(est["minFee"]), "size": est["size"]}


@rpc_method("tx_get", [Param("hash", HASH, "transaction hash")], Result("tx", S.TX_ENTRY),
            "A transaction, included (with height and index) or pending.", errors=[NOT_FOUND])
async def tx_get(api: Api, hash: bytes):
    loc = api.chain.blocks.tx_location(hash)
    if loc is not None:
        raw = api.block_at(loc[0]).txs[loc[1]]
        status = {"status": "included", "height": loc[0], "index": loc[1]}
    else:
        e = api.node.mempool.get(hash)
        if e is None:
            raise RpcError(NOT_FOUND, "unknown transaction")
        raw = e.raw
        status = {"status": "pending"}
    try:
        t = decode_tx(raw, 1 << 30)
    except InvalidTransaction:
        return {"hash": enc.hx(hash), "raw": enc.hx(raw), **status}
    return {**enc.tx(t, api.call_args(t)), **status}


@rpc_method("tx_getReceipt", [Param("hash", HASH, "transaction hash")], Result("receipt", S.RECEIPT),
            "The receipt of an included transaction.", errors=[NOT_FOUND])
async def tx_get_receipt(api: Api, hash: bytes):
    loc = api.chain.blocks.tx_location(hash)
    if loc is None:
        raise RpcError(NOT_FOUND, "no receipt: unknown or still pending")
    return _receipt_at(api, *loc)


SEARCH_SCAN_BUDGET = 2000  # candidates (index entries, or heights and receipts) one tx_search call examines
_WHOLE_HEIGHT = (1 << 32) - 1  # a cursor index meaning "all of that height"


@rpc_method("tx_search", [
    Param("sender", ADDRESS, "only transactions from this account", required=False),
    Param("module", STRING, "only calls of this module", required=False),
    Param("eventType", STRING, "only transactions that emitted this event type", required=False),
    Param("attrs", OBJECT, "with eventType: attributes the event must have (JSON form)", required=False),
    Param("fromHeight", U64, "lowest height (default 0)", required=False, default=0),
    Param("toHeight", U64, "highest height (default head)", required=False),
    Param("cursor", CURSOR, "from a previous page's nextCursor (height:index)", required=False),
    Param("limit", U64, "page size, at most 1000 (default 100)", required=False, default=100),
], Result("page", S.SEARCH_PAGE),
    "Receipts by sender, module, event type and attributes, in a height range, and the blocks' own events "
    "(begin- and end-block hooks) by event type and attributes; paginated. One call examines at most 2,000 "
    "candidates: a page may hold fewer than limit entries (even none) and still have a nextCursor.")
async def tx_search(api: Api, sender, module, eventType, attrs, fromHeight, toHeight, cursor, limit):  # noqa: N803
    head = api.app.last_block()["height"]
    to_h = head if toHeight is None else min(toHeight, head)
    limit = max(1, min(limit, 1000))
    after = (-1, -1) if cursor is None else cursor
    start = max(fromHeight, after[0], 0)
    if sender is not None:
        prefix = bs.BY_SENDER + sender
    elif eventType is not None:
        prefix = bs.BY_EVENT + eventType.encode() + b"\x00"
    elif module is not None:
        prefix = bs.BY_MODULE + module.encode() + b"\x00"
    else:
        prefix = None
    if attrs is not None and eventType is None:
        raise RpcError(INVALID_PARAMS, "invalid params: attrs needs eventType")

    def locations():
        """(height, index) of each candidate in order (BLOCK_EVENTS_INDEX: the block's own
        events); (height, None) for a height with neither (scanned, as the range is, when
        no index applies)."""
        if prefix is not None:
            yield from api.chain.blocks.iter_index(prefix, start, to_h)
        else:
            for h in range(start, to_h + 1):
                rs = api.chain.blocks.receipts(h) or []
                has_events = bool(api.chain.blocks.events(h))
                if not rs and not has_events:
                    yield h, None
                for i in range(len(rs)):
                    yield h, i
                if has_events:
                    yield h, bs.BLOCK_EVENTS_INDEX

    out, block_events = [], []  # receipts; the block's own events (a block's count as one entry)
    entries = 0
    next_cursor = None
    examined = 0
    last = prev = after
    for h, i in locations():
        if i is None:
            i = _WHOLE_HEIGHT
        if (h, i) <= after:
            continue
        if examined == SEARCH_SCAN_BUDGET:
            # The budget is spent: the next page starts after the last candidate examined.
            next_cursor = f"{last[0]}:{last[1]}"
            break
        examined += 1
        last = (h, i)
        if i == _WHOLE_HEIGHT:
            continue
        if i == bs.BLOCK_EVENTS_INDEX:
            if sender is not None or module is not None:
                continue  # a block's own events have no sender and no module call
            found = [{"height": h, "index": n, **enc.event(e)} for n, e in enumerate(api.chain.blocks.events(h))
                     if _event_matches(e, eventType, attrs)]
            if not found:
                continue
            if entries == limit:
                next_cursor = f"{prev[0]}:{prev[1]}"
                break
            block_events += found
        else:
            r = _receipt_at(api, h, i)
            if not _matches(api, r, h, i, sender, module, eventType, attrs):
                continue
            if entries == limit:
                next_cursor = f"{prev[0]}:{prev[1]}"
                break
            out.append(r)
        entries += 1
        prev = (h, i)
    return {"receipts": out, "blockEvents": block_events, "nextCursor": next_cursor}


def _event_matches(e: dict, event_type: str | None, attrs: dict | None) -> bool:
    if event_type is not None and e["type"] != event_type:
        return False
    return attrs is None or all(enc.value(e["attrs"]).get(k) == v for k, v in attrs.items())


def _matches(api, r, h, i, sender, module, event_type, attrs) -> bool:
    """Whether receipt r (of the tx at height h, index i) passes every given filter."""
    if sender is not None or module is not None:
        raw = api.block_at(h).txs[i]
        try:
            t = decode_tx(raw, 1 << 30)
            t_sender, t_module = t.sender, t.module
        except InvalidTransaction:
            t_sender, t_module = None, ("dev" if raw[:1] == DEV_OP_MARK else None)
        if sender is not None and t_sender != sender:
            return False
        if module is not None and t_module != module:
            return False
    if event_type is not None:
        evs = [e for e in r["events"] if e["type"] == event_type]
        if not evs:
            return False
        if attrs:
            return any(all(e["attrs"].get(k) == v for k, v in attrs.items()) for e in evs)
    return True
