"""The RPC methods: one table (rpc/params.METHODS) that dispatches and documents itself.

Handlers are async functions (api, **params) -> JSON value. `api` is an Api over the
running Node. Every query takes an optional height (recent heights only).
"""

from __future__ import annotations

import hashlib

import trio

from rwachain.modules.bank import keeper
from rwachain.modules.core import accounts
from rwachain.modules.core.app import DEV_OP_MARK, LAST_KEY, dev_set_balance
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.crypto import address_of, encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.tx import decode_tx
from rwachain.modules.roles.module import ROLES, holders, roles_of
from rwachain.node.mempool import MempoolError
from rwachain.node.service import MAX_TIME_JUMP, Node, TimeTooFar
from rwachain.rpc.errors import (
    DEV_ONLY,
    HEIGHT_UNAVAILABLE,
    INVALID_PARAMS,
    INVALID_STATE,
    MEMPOOL_REFUSED,
    NOT_FOUND,
    TIMEOUT,
    TX_ERROR_BASE,
    RpcError,
)
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.params import (
    ADDRESS,
    BOOL,
    CURSOR,
    HASH,
    HEIGHT,
    HEX,
    NUMBER,
    OBJECT,
    STRING,
    TIME,
    U64,
    U64_MAX,
    UINT,
    Param,
    Result,
    batch_handler,
    bounded,
    choice,
    rpc_method,
)
from rwachain.state.store import StoreError, VersionView


def tx_error(exc: InvalidTransaction) -> RpcError:
    return RpcError(TX_ERROR_BASE + exc.code, exc.message, {"name": exc.name, "txCode": exc.code})


class Api:
    """What handlers use: the node, and state readers at a height."""

    def __init__(self, node: Node):
        self.node = node
        self.chain = node.chain
        self.app = node.chain.app

    def reader(self, height: int | None) -> Ctx:
        store = self.chain.store
        if height is None or height == store.version:
            return self.app.reader()
        if height > store.version:
            raise RpcError(HEIGHT_UNAVAILABLE, f"height {height} is not produced yet (head is {store.version})")
        try:
            view = VersionView(store, height)
        except StoreError as exc:
            raise RpcError(HEIGHT_UNAVAILABLE, str(exc)) from None
        last = Ctx(view, BlockInfo(height, 0, b"")).get_obj(LAST_KEY)
        return Ctx(view, BlockInfo(height, last["time"], b""))

    def block_at(self, height: int):
        b = self.chain.blocks.block(height)
        if b is None:
            if self._is_genesis(height):
                raise RpcError(NOT_FOUND, f"no block at height {height}: height {height} is the genesis state, "
                                          "which has no block (the first block's parent is 32 zero bytes)")
            raise RpcError(NOT_FOUND, f"no block at height {height}")
        return b

    def _is_genesis(self, height: int) -> bool:
        """Whether height is the genesis state: the parent of the first block, or the head
        while no block exists."""
        if height == self.app.last_block()["height"]:
            return self.chain.head_hash() == bytes(32)
        after = self.chain.blocks.block(height + 1) if height < U64_MAX else None
        return after is not None and after.header.parent == bytes(32)


def _denoms(ctx: Ctx) -> list[str]:
    return [k[len(keeper.DENOM):].decode() for k, _ in ctx.iter_prefix(keeper.DENOM)]


# ----- chain_ ---------------------------------------------------------------------------
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
            call = api.app.by_name.get(t.module)
            specs = call.calls[t.call].args if call and t.call in call.calls else None
            txs.append(enc.tx(t, specs))
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
    from rwachain.modules.core import params

    return enc.value(params.load(api.reader(height)))


# ----- account_ ---------------------------------------------------------------------------
@rpc_method("account_get", [Param("address", ADDRESS, "account address"), HEIGHT],
            Result("account", S.ACCOUNT),
            "Balances, nonce, pending nonce (past the mempool) and roles of an account.")
async def account_get(api: Api, address: bytes, height: int | None):
    ctx = api.reader(height)
    n = accounts.nonce(ctx, address)
    balances = keeper.balances_of(ctx, address)
    return {"address": encode_address(address), "nonce": n, "pendingNonce": api.node.mempool.pending_nonce(address, n),
            "balances": {d: str(v) for d, v in sorted(balances.items())}, "roles": roles_of(ctx, address)}


# ----- bank_, roles_ ----------------------------------------------------------------------
@rpc_method("bank_balance", [Param("address", ADDRESS, "account"), Param("denom", STRING, "denomination"), HEIGHT],
            Result("amount", S.AMOUNT), "Balance in base units.")
async def bank_balance(api: Api, address: bytes, denom: str, height: int | None):
    return str(keeper.balance(api.reader(height), address, denom))


@rpc_method("bank_supply", [Param("denom", STRING, "denomination"), HEIGHT], Result("amount", S.AMOUNT),
            "Total supply in base units.")
async def bank_supply(api: Api, denom: str, height: int | None):
    return str(keeper.supply(api.reader(height), denom))


@rpc_method("bank_params", [HEIGHT], Result("params", S.BANK_PARAMS), "Denominations: symbol, decimals, kind; module accounts.")
async def bank_params(api: Api, height: int | None):
    ctx = api.reader(height)
    denoms = {d: keeper.denom_info(ctx, d) for d in _denoms(ctx)}
    n = len(keeper.MODACCT)
    mods = {ctx.get_obj(k): encode_address(k[n:]) for k, _ in ctx.iter_prefix(keeper.MODACCT)}
    return {"nativeDenom": api.app.native, "denoms": denoms, "moduleAccounts": mods}


@rpc_method("roles_holders", [Param("role", choice(*ROLES), "role name"), HEIGHT], Result("addresses", S.arr(S.ADDR)),
            "Accounts holding a role.")
async def roles_holders(api: Api, role: str, height: int | None):
    return [encode_address(a) for a in holders(api.reader(height), role)]


@rpc_method("roles_params", [HEIGHT], Result("params", S.obj(roles=S.arr(S.enum(*ROLES)))), "The roles that exist.")
async def roles_params(api: Api, height: int | None):
    api.reader(height)  # the same answer at every retained height; refuses others
    return {"roles": list(ROLES)}


# ----- tx_ --------------------------------------------------------------------------------
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
    mod = api.app.by_name.get(t.module)
    specs = mod.calls[t.call].args if mod and t.call in mod.calls else None
    return {**enc.tx(t, specs), **status}


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
    from rwachain.node import blockstore as bs

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


# ----- state_ -----------------------------------------------------------------------------
@rpc_method("state_get", [Param("key", HEX, "raw state key"), HEIGHT],
            Result("entry", S.STATE_ENTRY),
            "A raw state value with its inclusion or exclusion proof (verify with state/proof.py).",
            errors=[HEIGHT_UNAVAILABLE])
async def state_get(api: Api, key: bytes, height: int | None):
    h = api.chain.store.version if height is None else height
    try:
        value, proof, root = api.app.query(key, h)
    except StoreError as exc:
        raise RpcError(HEIGHT_UNAVAILABLE, str(exc)) from None
    return {"height": h, "root": enc.hx(root), "value": None if value is None else enc.hx(value),
            "proof": {"nodes": [[bm, [enc.hx(x) for x in hs]] for bm, hs in proof["nodes"]],
                      "leaf": None if proof["leaf"] is None else [enc.hx(x) for x in proof["leaf"]]}}


# ----- dev_ -------------------------------------------------------------------------------
def _dev(api: Api) -> None:
    if not api.node.options.dev:
        raise RpcError(DEV_ONLY, "dev_* methods exist only on a devnet (rwad devnet)")


@rpc_method("dev_mine", [Param("blocks", bounded(0, 1000), "how many blocks (default 1, at most 1000)", required=False,
                               default=1),
                         Param("time", TIME, "block time, unix seconds (default: the node's clock)", required=False)],
            Result("heights", S.arr(S.INT)), "Produce blocks now with what is ready.", dev_only=True)
async def dev_mine(api: Api, blocks: int, time: int | None):
    _dev(api)
    if blocks > 1000:
        raise RpcError(INVALID_PARAMS, "invalid params: blocks: at most 1000 per call")
    if time is not None and time < api.chain.last_time():
        raise RpcError(INVALID_STATE, "time never goes backwards")
    if time is not None and time > api.node.latest_allowed_time():
        raise _too_far("time", api.node.latest_allowed_time())
    mined = await api.node.mine(blocks, time)
    return [b.header.height for b in mined]


@rpc_method("dev_setTime", [Param("time", TIME, "unix seconds, below 2^53")], Result("time", S.INT),
            "Set the node's clock (never before the last block).", dev_only=True, errors=[INVALID_STATE])
async def dev_set_time(api: Api, time: int):
    _dev(api)
    try:
        return api.node.set_time(time)
    except TimeTooFar as exc:
        raise _too_far("time", exc.args[0]) from None
    except ValueError as exc:
        raise RpcError(INVALID_STATE, str(exc)) from None


def _too_far(param: str, latest: int) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {param}: at most {MAX_TIME_JUMP} s (100 years) past the "
                                    f"last block, i.e. {latest}")


@rpc_method("dev_advanceTime", [Param("seconds", U64, "seconds to move forward")], Result("time", S.INT),
            "Move the node's clock forward.", dev_only=True)
async def dev_advance_time(api: Api, seconds: int):
    _dev(api)
    target = api.node.now() + seconds
    if target > api.node.latest_allowed_time():
        raise _too_far("seconds", api.node.latest_allowed_time())
    return api.node.set_time(target)


@rpc_method("dev_setBalance", [Param("address", ADDRESS, "account"), Param("denom", STRING, "denomination"),
                               Param("amount", UINT, "new balance, base units")],
            Result("height", S.INT),
            "Set a balance (supply follows) in a block of its own, so replay reproduces it.", dev_only=True)
async def dev_set_balance_(api: Api, address: bytes, denom: str, amount: int):
    _dev(api)
    if keeper.denom_info(api.app.reader(), denom) is None:
        raise RpcError(INVALID_PARAMS, f"invalid params: denom: {denom!r} does not exist")
    block = await api.node.mine_entries([dev_set_balance(address, denom, amount)])
    return block.header.height


@rpc_method("dev_snapshot", [], Result("id", S.STR),
            "Snapshot the chain at its current height (pinned against pruning); revert to it any number of times, "
            "until the node stops.",
            dev_only=True)
async def dev_snapshot(api: Api):
    _dev(api)
    return await api.node.snapshot()


@rpc_method("dev_revert", [Param("id", STRING, "snapshot id from dev_snapshot")], Result("height", S.INT),
            "Rewind state, blocks, indexes and mempool to a snapshot; subscribers are told. Later snapshots are dropped.",
            dev_only=True, errors=[NOT_FOUND])
async def dev_revert(api: Api, id: str):
    _dev(api)
    try:
        return await api.node.revert(id)
    except KeyError:
        raise RpcError(NOT_FOUND, f"no snapshot {id!r}") from None


@rpc_method("dev_dumpState", [], Result("dump", S.HEXS),
            "The whole chain, history included, as 0x-hex (zlib-compressed msgpack key/value pairs).", dev_only=True)
async def dev_dump_state(api: Api):
    _dev(api)
    return enc.hx(await api.node.dump_state())


@rpc_method("dev_loadState", [Param("dump", HEX, "from dev_dumpState")], Result("height", S.INT),
            "Replace the chain with a dump (history included), atomically; returns the height. A dump that "
            "decompresses past --max-load-size is refused.", dev_only=True)
async def dev_load_state(api: Api, dump: bytes):
    _dev(api)
    try:
        return await api.node.load_state(dump)
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid params: dump: {exc}") from None

