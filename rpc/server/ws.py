"""WebSocket at /ws: every JSON-RPC method, plus subscriptions.

    chain_subscribe {"kind": "newHeads"}                         -> subscription id
    chain_subscribe {"kind": "pendingTransactions"}
    chain_subscribe {"kind": "events", "eventType": T, "attrs": {...}}
    chain_unsubscribe {"subscription": id}
Notifications: {"jsonrpc": "2.0", "method": "chain_subscription",
                "params": {"subscription": id, "result": ...}}
After dev_revert or dev_loadState, newHeads subscribers get {"reverted": true, "height": H}.
Limits per connection: max_subscriptions; an outgoing queue of max_queue messages and
max_queue_bytes bytes (a client that falls that far behind is disconnected with close
code 1008, its queue discarded at once); messages over max_message bytes close the
connection (1009). The server pings every ping_interval seconds and closes (1001) a
connection that has not answered for ping_timeout seconds. A dropped client that reads
nothing cannot receive its close frame: its connection ends CLOSE_GRACE seconds later.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import math

import orjson
import trio
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import LocalProtocolError

from rwachain.rpc.errors import INVALID_PARAMS, INVALID_REQUEST, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods.chain import SUBSCRIPTION_KINDS
from rwachain.rpc.server.jsonrpc import ReplyBudget, join_replies

log = logging.getLogger("rwachain.ws")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_END = object()  # tells the writer that the reader is done
WRITE_BATCH = 256 * 1024  # bytes of queued messages the writer sends in one write
CLOSE_GRACE = 5.0  # s a dropped client's connection may take to get its close frame
_NOTE_HEAD = b'{"jsonrpc":"2.0","method":"chain_subscription","params":{"subscription":"'
_NOTE_MID = b'","result":'


class _Client:
    """One connection's outgoing queue. Only the writer task sends on the stream; the
    reader and the pinger enqueue frames here, so sends never overlap.

    Past max_queue messages or max_bytes bytes waiting, or a missed pong, the client is
    dropped (drop): what waits is discarded at once, the writer sends the close frame if
    the client still reads, and the connection ends within CLOSE_GRACE seconds in any case
    (a client that reads nothing keeps the writer blocked in a send, which is cancelled)."""

    def __init__(self, max_queue: int, max_bytes: int):
        self.send, self.recv = trio.open_memory_channel(math.inf)
        self.max_queue = max_queue
        self.max_bytes = max_bytes
        self.queued = 0  # data messages waiting
        self.queued_bytes = 0  # their bytes
        self.subs: dict[str, dict] = {}
        self.closing: tuple[int, str] | None = None  # (close code, reason) once dropped
        self.last_pong = 0.0
        self.scope: trio.CancelScope | None = None  # the connection's tasks

    def push(self, msg: bytes) -> None:
        """Queue a data message; past max_queue messages or max_bytes bytes the client is dropped."""
        if self.closing is not None:
            return
        if self.queued >= self.max_queue or self.queued_bytes + len(msg) > self.max_bytes:
            self.drop(1008, "client too slow: queue overflow")
            return
        self.queued += 1
        self.queued_bytes += len(msg)
        self.send.send_nowait(msg)

    def control(self, event) -> None:
        """Queue a control frame (pong, ping, close) or _END: never counted, never dropped."""
        self.send.send_nowait(event)

    def drop(self, code: int, reason: str) -> None:
        """Close with code and reason: discard the queue now, end within CLOSE_GRACE seconds."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        while True:
            try:
                self.recv.receive_nowait()
            except trio.WouldBlock:
                break
        self.queued = self.queued_bytes = 0
        self.send.send_nowait(None)  # wake the writer to send the close frame
        if self.scope is not None:
            self.scope.deadline = min(self.scope.deadline, trio.current_time() + CLOSE_GRACE)


class WsHub:
    def __init__(self, node, dispatcher, *, max_subscriptions: int = 64, max_queue: int = 4096,
                 max_queue_bytes: int = 256 * 1024, max_message: int = 1 << 20, ping_interval: float = 20.0,
                 ping_timeout: float = 60.0):
        self.node = node
        self.dispatcher = dispatcher
        self.max_subscriptions = max_subscriptions
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        self.max_message = max_message
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.clients: set[_Client] = set()
        self.dropped = 0  # clients closed for a full queue or a missed pong
        self._ids = itertools.count(1)
        node.on_new_head(self._on_head)
        node.on_pending_tx(self._on_pending)
        node.on_revert(self._on_revert)

    # ----- fan-out (called from the node on the event loop) -----------------------------
    def _notify(self, client: _Client, sub: str, result: bytes) -> None:
        """Queue a notification of result (JSON bytes, encoded once for every subscriber).
        Built by concatenation, so the message takes its own size: a short orjson result
        keeps orjson's 8 KiB initial buffer, which made a queued 700-byte head cost 8 KiB."""
        client.push(_NOTE_HEAD + sub.encode() + _NOTE_MID + result + b"}}")

    def _on_head(self, block, result) -> None:
        head = None
        for c in list(self.clients):
            if c.closing is not None:
                continue
            for sid, s in c.subs.items():
                if s["kind"] == "newHeads":
                    head = head or orjson.dumps(enc.header(block.header))
                    self._notify(c, sid, head)
                elif s["kind"] == "events":
                    for i, e in enumerate(result.events):  # the block's own events (hooks)
                        if e["type"] != s["eventType"]:
                            continue
                        attrs = enc.value(e["attrs"])
                        if all(attrs.get(k) == v for k, v in (s["attrs"] or {}).items()):
                            self._notify(c, sid, orjson.dumps({
                                "height": block.header.height, "index": i, "txHash": None, "block": True,
                                "type": e["type"], "attrs": attrs}))
                    for i, r in enumerate(result.receipts):
                        for e in r.events:
                            if e["type"] != s["eventType"]:
                                continue
                            attrs = enc.value(e["attrs"])
                            if all(attrs.get(k) == v for k, v in (s["attrs"] or {}).items()):
                                self._notify(c, sid, orjson.dumps({
                                    "height": block.header.height, "index": i, "txHash": enc.hx(r.tx_hash),
                                    "type": e["type"], "attrs": attrs}))

    def _on_revert(self, height: int) -> None:
        """A dev revert or state load: newHeads subscribers get {"reverted": true, "height"}."""
        for c in list(self.clients):
            if c.closing is not None:
                continue
            for sid, s in c.subs.items():
                if s["kind"] == "newHeads":
                    self._notify(c, sid, b'{"reverted":true,"height":%d}' % height)

    def _on_pending(self, tx_hash: bytes) -> None:
        h = None
        for c in list(self.clients):
            if c.closing is not None:
                continue
            for sid, s in c.subs.items():
                if s["kind"] == "pendingTransactions":
                    h = h or b'"%s"' % enc.hx(tx_hash).encode()
                    self._notify(c, sid, h)

    # ----- one connection -----------------------------------------------------------------
    async def handle(self, stream: trio.SocketStream, headers: dict, leftover: bytes) -> None:
        key = headers.get(b"sec-websocket-key")
        if headers.get(b"upgrade", b"").lower() != b"websocket" or not key:
            await stream.send_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        await stream.send_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        ws = Connection(ConnectionType.SERVER)
        client = _Client(self.max_queue, self.max_queue_bytes)
        client.last_pong = trio.current_time()
        self.clients.add(client)
        try:
            async with trio.open_nursery() as nursery:
                client.scope = nursery.cancel_scope
                nursery.start_soon(self._writer, stream, ws, client, nursery.cancel_scope)
                nursery.start_soon(self._pinger, client)
                await self._reader(stream, ws, client, leftover)
                # The peer closed or broke the rules: the writer flushes what it must
                # (a close reply), then everything stops.
                client.control(_END)
                nursery.cancel_scope.deadline = min(nursery.cancel_scope.deadline,
                                                    trio.current_time() + CLOSE_GRACE)  # nor a stuck writer
        finally:
            self.clients.discard(client)
            if client.closing is not None:
                self.dropped += 1
                log.info("WebSocket client closed (%d): %s", *client.closing)

    async def _writer(self, stream, ws, client: _Client, scope) -> None:
        """The only task that sends on the stream. It sends what waits in one write (up to
        WRITE_BATCH bytes of messages): one message per turn of the event loop would never
        catch up with a chain that notifies once per turn."""
        try:
            async for first in client.recv:
                events, end = self._frames(client, first)
                if events and not await self._send(stream, ws, events):
                    return
                if end:
                    return
        finally:
            scope.cancel()

    def _frames(self, client: _Client, first) -> tuple[list, bool]:
        """The frames of first and of what waits behind it; whether the connection then ends."""
        events: list = []
        size = 0
        item = first
        while True:
            if client.closing is not None:
                code, reason = client.closing
                return events + [CloseConnection(code=code, reason=reason)], True
            if item is _END:
                return events, True
            if isinstance(item, bytes):
                client.queued -= 1
                client.queued_bytes -= len(item)
                size += len(item)
                events.append(TextMessage(data=item.decode()))
            elif item is not None:
                events.append(item)
                if isinstance(item, CloseConnection):
                    return events, True
            if size >= WRITE_BATCH:
                return events, False
            try:
                item = client.recv.receive_nowait()
            except trio.WouldBlock:
                return events, False

    async def _send(self, stream, ws, events: list) -> bool:
        """Send the frames the connection still allows, in one write; False when it is over."""
        data = []
        ok = True
        for event in events:
            if ws.state is not ConnectionState.OPEN and not (
                    isinstance(event, CloseConnection) and ws.state is ConnectionState.REMOTE_CLOSING):
                ok = False
                break
            try:
                data.append(ws.send(event))
            except LocalProtocolError:
                ok = False
                break
        if data:
            try:
                await stream.send_all(b"".join(data))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return False
        return ok

    async def _pinger(self, client: _Client) -> None:
        """A ping every ping_interval; no pong for ping_timeout seconds drops the client (1001).
        Checked here, not by the writer, which a client that reads nothing keeps blocked."""
        while True:
            await trio.sleep(self.ping_interval)
            if trio.current_time() - client.last_pong > self.ping_timeout:
                client.drop(1001, "ping timeout")
                return
            client.control(Ping(b"rwa"))

    async def _reader(self, stream, ws, client: _Client, leftover: bytes) -> None:
        if leftover:
            ws.receive_data(leftover)
        buf: list[str | bytes] = []
        size = 0
        while True:
            for event in ws.events():
                if isinstance(event, CloseConnection):
                    client.control(event.response())
                    return
                if isinstance(event, Ping):
                    client.control(event.response())
                elif isinstance(event, Pong):
                    client.last_pong = trio.current_time()
                elif isinstance(event, (TextMessage, BytesMessage)):
                    size += len(event.data.encode()) if isinstance(event, TextMessage) else len(event.data)
                    if size > self.max_message:
                        client.control(CloseConnection(code=1009, reason=f"message over {self.max_message} bytes"))
                        return
                    buf.append(event.data)
                    if event.message_finished:
                        data = "".join(buf) if isinstance(event, TextMessage) else b"".join(buf)
                        buf, size = [], 0
                        reply = await self._handle_message(client, data)
                        if reply is not None:
                            client.push(bytes(memoryview(reply)))  # its own size (see _notify)
            try:
                data = await stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            if not data:
                return
            ws.receive_data(data)

    async def _handle_message(self, client: _Client, data) -> bytes | None:
        try:
            req = orjson.loads(data)
        except (orjson.JSONDecodeError, RecursionError):
            return await self.dispatcher.handle_body(b"{")  # the standard parse error reply
        if type(req) is list:
            if not req or len(req) > self.dispatcher.batch_limit:
                return await self.dispatcher.handle_body(data if isinstance(data, bytes) else data.encode())
            budget = ReplyBudget(self.dispatcher.max_response)
            replies = []
            for r in req:
                reply = await self._handle_one(client, r)
                if reply is not None:
                    replies.append(budget.encode(reply))
            return join_replies(replies) if replies else None
        reply = await self._handle_one(client, req)
        return None if reply is None else ReplyBudget(self.dispatcher.max_response).encode(reply)

    async def _handle_one(self, client: _Client, req) -> dict | None:
        """One call: subscriptions here (they belong to this connection), the rest dispatched."""
        if type(req) is dict and req.get("method") in ("chain_subscribe", "chain_unsubscribe") \
                and req.get("jsonrpc") == "2.0":
            notification = "id" not in req
            id_ = req.get("id")
            try:
                result = self._subscription(client, req)
            except RpcError as exc:
                return None if notification else {"jsonrpc": "2.0", "id": id_, "error": exc.to_obj()}
            return None if notification else {"jsonrpc": "2.0", "id": id_, "result": result}
        return await self.dispatcher.handle_one(req)

    def _subscription(self, client: _Client, req: dict):
        method = self.dispatcher.methods[req["method"]]
        kw = method.bind(req.get("params"))
        if req["method"] == "chain_unsubscribe":
            return client.subs.pop(kw["subscription"], None) is not None
        if kw["kind"] not in SUBSCRIPTION_KINDS:
            raise RpcError(INVALID_PARAMS, f"invalid params: kind: one of {', '.join(SUBSCRIPTION_KINDS)}")
        if kw["kind"] == "events" and not kw["eventType"]:
            raise RpcError(INVALID_PARAMS, "invalid params: eventType is required for kind events")
        if len(client.subs) >= self.max_subscriptions:
            raise RpcError(INVALID_REQUEST, f"at most {self.max_subscriptions} subscriptions per connection")
        sid = f"0x{next(self._ids):x}"
        client.subs[sid] = kw
        return sid
