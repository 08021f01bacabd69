"""JSON-RPC 2.0 dispatch over the method table: single calls, batches, notifications.

Errors: -32700 parse error, -32600 invalid request (also an oversize batch: one error
reply, the connection stays open), -32601 method not found, -32602 invalid params,
-32603 internal error; server codes in rpc/errors.py. A batch runs its calls
concurrently and answers in order; notifications (no "id") get no answer.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left

import orjson
import trio

from rwachain.rpc.errors import (
    HEIGHT_UNAVAILABLE,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RESPONSE_TOO_LARGE,
    RpcError,
)
from rwachain.rpc.methods.params import Method
from rwachain.state.store import StoreError

log = logging.getLogger("rwachain.rpc")
_MISSING = object()


def _error(id_, code: int, message: str, data=None) -> dict:
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": err}


def _dump_one(r: dict) -> bytes:
    """JSON bytes of one reply; an unencodable result becomes -32603, never silence."""
    try:
        return orjson.dumps(r)
    except TypeError:
        log.exception("cannot encode a reply")
        return orjson.dumps(_error(r.get("id"), INTERNAL_ERROR, "internal error: unencodable result"))


class ReplyBudget:
    """Encodes the replies of one request while their bytes together stay within max_bytes;
    a reply that would pass it, and every one after it, becomes error -32007 (as geth
    answers past its batch response limit). The replies let through are never truncated."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.left = max_bytes - 1  # the batch's brackets, less the comma the last reply does not need

    def encode(self, resp: dict) -> bytes:
        data = _dump_one(resp)
        if len(data) + 1 > self.left:
            self.left = -1
            return orjson.dumps(_error(resp.get("id"), RESPONSE_TOO_LARGE,
                                       f"response too large: the reply would pass {self.max_bytes} bytes"))
        self.left -= len(data) + 1
        return data


def join_replies(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


class Dispatcher:
    """Turns request bodies into response bodies: the calls of methods (name -> Method,
    rpc/methods/table.py) on one Api."""

    def __init__(self, api, methods: dict[str, Method], *, batch_limit: int = 1000,
                 max_response: int = 25_000_000):
        self.api = api
        self.batch_limit = batch_limit
        self.max_response = max_response
        self.methods = methods
        self.latency = LatencyStats()

    async def handle_body(self, body: bytes) -> bytes | None:
        """The response bytes for a request body, or None when nothing is to be sent."""
        try:
            req = orjson.loads(body)
        except (orjson.JSONDecodeError, RecursionError) as exc:
            return orjson.dumps(_error(None, PARSE_ERROR, f"parse error: {str(exc)[:200]}"))
        if type(req) is list:
            if not req:
                return orjson.dumps(_error(None, INVALID_REQUEST, "invalid request: empty batch"))
            if len(req) > self.batch_limit:
                return orjson.dumps(_error(None, INVALID_REQUEST,
                                           f"invalid request: batch of {len(req)} exceeds the limit of {self.batch_limit}"))
            budget = ReplyBudget(self.max_response)
            fast = await self._whole_batch(req)
            if fast is not None:
                return join_replies([budget.encode(r) for r in fast])
            results: list = [None] * len(req)

            async def run(i, r):
                resp = await self.handle_one(r)
                if resp is not None:
                    results[i] = budget.encode(resp)  # at once: a refused reply is not kept

            async with trio.open_nursery() as nursery:
                for i, r in enumerate(req):
                    nursery.start_soon(run, i, r)
            out = [r for r in results if r is not None]
            return join_replies(out) if out else None
        resp = await self.handle_one(req)
        return None if resp is None else ReplyBudget(self.max_response).encode(resp)

    async def _whole_batch(self, req: list) -> list | None:
        """The replies to a batch whose calls all go to one method with a whole-batch form
        (Method.batch: tx_send), each answered as that call alone would be; None when the
        batch is anything else (it then runs call by call)."""
        first = req[0]
        name = first.get("method") if type(first) is dict else None
        method = self.methods.get(name) if type(name) is str else None
        if method is None or method.batch is None:
            return None
        for r in req:
            if (type(r) is not dict or r.get("method") != name or r.get("jsonrpc") != "2.0"
                    or "id" not in r or not (r["id"] is None or type(r["id"]) in (int, str))):
                return None  # notifications, other methods, malformed calls: the general path
        t0 = time.perf_counter()
        out: list = [None] * len(req)
        bound, where = [], []
        for i, r in enumerate(req):
            try:
                bound.append(method.bind(r.get("params")))
                where.append(i)
            except RpcError as exc:
                out[i] = {"jsonrpc": "2.0", "id": r["id"], "error": exc.to_obj()}
        if bound:
            try:
                answers = await method.batch(self.api, bound)
            except Exception:
                log.exception("internal error in the batch form of %s", name)
                answers = [RpcError(INTERNAL_ERROR, "internal error")] * len(bound)
            for i, a in zip(where, answers, strict=True):
                rid = req[i]["id"]
                out[i] = ({"jsonrpc": "2.0", "id": rid, "error": a.to_obj()} if isinstance(a, RpcError)
                          else {"jsonrpc": "2.0", "id": rid, "result": a})
        per_call = (time.perf_counter() - t0) / len(req)
        for _ in req:
            self.latency.observe(per_call)
        return out

    async def handle_one(self, req) -> dict | None:
        if type(req) is not dict:
            return _error(None, INVALID_REQUEST, "invalid request: expected an object")
        id_ = req.get("id", _MISSING)
        notification = id_ is _MISSING
        if notification:
            id_ = None
        elif not (id_ is None or type(id_) in (int, str)):
            return _error(None, INVALID_REQUEST, "invalid request: id must be a string, a number or null")
        if req.get("jsonrpc") != "2.0":
            return _error(id_, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        name = req.get("method")
        if type(name) is not str:
            return _error(id_, INVALID_REQUEST, "invalid request: method must be a string")
        method = self.methods.get(name)
        if method is None:
            return None if notification else _error(id_, METHOD_NOT_FOUND, f"method not found: {name}")
        t0 = time.perf_counter()
        try:
            kwargs = method.bind(req.get("params"))
            result = await method.handler(self.api, **kwargs)
        except RpcError as exc:
            return None if notification else {"jsonrpc": "2.0", "id": id_, "error": exc.to_obj()}
        except StoreError as exc:  # a pruned height met inside a handler
            return None if notification else _error(id_, HEIGHT_UNAVAILABLE, str(exc))
        except Exception:
            log.exception("internal error in %s", name)
            return None if notification else _error(id_, INTERNAL_ERROR, "internal error")
        finally:
            self.latency.observe(time.perf_counter() - t0)
        return None if notification else {"jsonrpc": "2.0", "id": id_, "result": result}


class LatencyStats:
    """Counts and a fixed-bucket histogram of RPC latency (seconds) for /metrics."""

    BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

    def __init__(self):
        self.counts = [0] * (len(self.BUCKETS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        self.n += 1
        self.total += seconds
        self.counts[bisect_left(self.BUCKETS, seconds)] += 1
