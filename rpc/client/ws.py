"""Subscriptions of the Python clients over the node's WebSocket at /ws (rpc/server/ws.py).

    with Client(url) as c:
        with c.subscribe("newHeads") as sub:                   # blocking
            for head in sub:                                   # each notification's result
                ...
        sub = c.subscribe("events", event_type="stable.exit", attrs={"unit": "unit/p1/t0"})
        sub.next(timeout=5.0)                                  # raises TimeoutError when none came

    async with AsyncClient(url) as c:
        async with await c.subscribe("pendingTransactions") as sub:   # trio
            async for tx_hash in sub:
                ...

Each subscription has a WebSocket connection of its own. When the connection breaks (the
node restarts, or dropped a consumer that fell behind), the subscription connects again
and subscribes again with the same parameters, waiting backoff seconds between attempts
(doubling from 0.1 s up to 5 s), at most max_retries times in a row (None: for ever);
`.reconnects` counts the reconnections and `.id` is the current subscription id.
Notifications sent while it was away are lost: a newHeads consumer that must see every
block reads the gap with chain_getBlock. The node pings every connection and drops one
that does not answer: answers are sent while next() reads, so a consumer that does not
read for longer than the node's ping timeout is dropped and reconnects on its next read.
A subscription the node refuses (an unknown kind, an events kind without event type)
raises the typed RpcError at once, without retries.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from rwachain.rpc.client.errors import RpcError, TransportError, error_from_obj
from rwachain.rpc.methods.chain import SUBSCRIPTION_KINDS

BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0  # s between reconnection attempts: doubling, capped
_SUBSCRIBE_ID = 1


class _Protocol:
    """The WebSocket and JSON-RPC framing of one connection, without I/O: bytes in,
    bytes out, and the parsed messages (the sync and async subscriptions share it)."""

    def __init__(self, host: str):
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.host = host
        self.accepted = False
        self.closed = False
        self.messages: list[Any] = []
        self._text: list[str] = []

    def handshake(self) -> bytes:
        return self.ws.send(Request(host=self.host, target="/ws"))

    def text(self, obj: Any) -> bytes:
        return self.ws.send(TextMessage(data=json.dumps(obj, separators=(",", ":"))))

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the socket (b"" at its end); returns bytes to send (pongs, close
        replies); parsed messages are appended to .messages."""
        try:
            self.ws.receive_data(data or None)
            out = b""
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.accepted = True
                elif isinstance(event, RejectConnection):
                    raise TransportError(f"the node refused the WebSocket (HTTP {event.status_code})")
                elif isinstance(event, Ping):
                    out += self.ws.send(event.response())
                elif isinstance(event, CloseConnection):
                    self.closed = True
                    with contextlib.suppress(LocalProtocolError):
                        out += self.ws.send(event.response())
                elif isinstance(event, TextMessage):
                    self._text.append(event.data)
                    if event.message_finished:
                        raw, self._text = "".join(self._text), []
                        try:
                            self.messages.append(json.loads(raw))
                        except ValueError:
                            raise TransportError("the node sent a WebSocket message that is not JSON") from None
            if data == b"":
                self.closed = True
            return out
        except (LocalProtocolError, RemoteProtocolError) as exc:
            raise TransportError(f"WebSocket protocol error: {exc}") from None

    def close_frame(self) -> bytes:
        try:
            return self.ws.send(CloseConnection(code=1000, reason="done"))
        except LocalProtocolError:
            return b""


def _request(kind: str, event_type: str | None, attrs: dict | None) -> dict:
    if kind not in SUBSCRIPTION_KINDS:
        raise ValueError(f"kind: one of {', '.join(SUBSCRIPTION_KINDS)}")
    params: dict = {"kind": kind}
    if event_type is not None:
        params["eventType"] = event_type
    if attrs:
        params["attrs"] = attrs
    return {"jsonrpc": "2.0", "id": _SUBSCRIBE_ID, "method": "chain_subscribe", "params": params}


def _take(proto: _Protocol, sub_id: str | None) -> tuple[str | None, list[Any]]:
    """(subscription id if this batch answered the subscribe call, notification results)."""
    new_id, out = sub_id, []
    for msg in proto.messages:
        if not isinstance(msg, dict):
            continue
        if msg.get("id") == _SUBSCRIBE_ID and ("result" in msg or "error" in msg):
            if "error" in msg:
                raise error_from_obj(msg["error"])
            new_id = msg["result"]
        elif msg.get("method") == "chain_subscription":
            p = msg.get("params") or {}
            if p.get("subscription") == new_id:
                out.append(p.get("result"))
    proto.messages.clear()
    return new_id, out


class _Base:
    def __init__(self, host: str, port: int, kind: str, event_type: str | None, attrs: dict | None,
                 timeout: float, max_retries: int | None):
        self.host, self.port = host, port
        self.request = _request(kind, event_type, attrs)
        self.timeout = timeout  # s to connect and to get the subscription's id
        self.max_retries = max_retries
        self.id: str | None = None
        self.reconnects = 0
        self._pending: list[Any] = []
        self._closed = False

    def _retry_allowed(self, failures: int) -> bool:
        return not self._closed and (self.max_retries is None or failures <= self.max_retries)

    @staticmethod
    def _backoff(failures: int) -> float:
        return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures - 1))


class Subscription(_Base):
    """A blocking subscription (see the module's docstring); iterate, or call next()."""

    def __init__(self, host: str, port: int, kind: str, event_type: str | None = None, attrs: dict | None = None,
                 *, timeout: float = 10.0, max_retries: int | None = 10):
        super().__init__(host, port, kind, event_type, attrs, timeout, max_retries)
        self._sock: socket.socket | None = None
        self._proto: _Protocol | None = None
        self._connect()

    def _connect(self) -> None:
        deadline = time.monotonic() + self.timeout
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        proto = _Protocol(f"{self.host}:{self.port}")
        try:
            sock.sendall(proto.handshake())
            sent, sid = False, None
            while sid is None:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                reply = proto.receive(sock.recv(65536))
                if reply:
                    sock.sendall(reply)
                if proto.accepted and not sent:
                    sock.sendall(proto.text(self.request))
                    sent = True
                sid, _ = _take(proto, None) if proto.messages else (None, [])
                if proto.closed and sid is None:
                    raise TransportError("the node closed the WebSocket before the subscription was made")
        except (OSError, TransportError, RpcError):
            sock.close()
            raise
        self._sock, self._proto, self.id = sock, proto, sid

    def next(self, timeout: float | None = None) -> Any:
        """The next notification's result; TimeoutError after timeout seconds without one
        (None: wait for ever). Reconnects and resubscribes on a broken connection."""
        deadline = None if timeout is None else time.monotonic() + timeout
        failures = 0
        while not self._pending:
            if self._closed:
                raise TransportError("the subscription is closed")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"no notification within {timeout} s")
            try:
                if self._sock is None:
                    self._connect()
                    self.reconnects += 1
                    failures = 0
                self._sock.settimeout(left)
                data = self._sock.recv(65536)
                reply = self._proto.receive(data)
                if reply:
                    self._sock.sendall(reply)
                _, got = _take(self._proto, self.id)
                self._pending += got
                if self._proto.closed:
                    self._drop()
            except TimeoutError:
                if self._sock is not None and deadline is not None and time.monotonic() >= deadline:
                    raise
            except (OSError, TransportError):
                self._drop()
                failures += 1
                if not self._retry_allowed(failures):
                    raise TransportError(f"the subscription's connection to {self.host}:{self.port} failed "
                                         f"{failures} time(s) in a row") from None
                time.sleep(self._backoff(failures))
        return self._pending.pop(0)

    def __iter__(self):
        while True:
            yield self.next()

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._proto = None, None

    def close(self) -> None:
        """Close the connection (the node forgets the subscription with it)."""
        if self._sock is not None and self._proto is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(self._proto.close_frame())
        self._drop()
        self._closed = True

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncSubscription(_Base):
    """A trio subscription (see the module's docstring): `await AsyncSubscription.open(...)`,
    then `async for` or `await next()`."""

    def __init__(self, host: str, port: int, kind: str, event_type: str | None = None, attrs: dict | None = None,
                 *, timeout: float = 10.0, max_retries: int | None = 10):
        super().__init__(host, port, kind, event_type, attrs, timeout, max_retries)
        self._stream: trio.SocketStream | None = None
        self._proto: _Protocol | None = None

    @classmethod
    async def open(cls, *args, **kwargs) -> AsyncSubscription:
        sub = cls(*args, **kwargs)
        await sub._connect()
        return sub

    async def _connect(self) -> None:
        with trio.fail_after(self.timeout):
            stream = await trio.open_tcp_stream(self.host, self.port)
            proto = _Protocol(f"{self.host}:{self.port}")
            try:
                await stream.send_all(proto.handshake())
                sent, sid = False, None
                while sid is None:
                    reply = proto.receive(await stream.receive_some(65536))
                    if reply:
                        await stream.send_all(reply)
                    if proto.accepted and not sent:
                        await stream.send_all(proto.text(self.request))
                        sent = True
                    sid, _ = _take(proto, None) if proto.messages else (None, [])
                    if proto.closed and sid is None:
                        raise TransportError("the node closed the WebSocket before the subscription was made")
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
        self._stream, self._proto, self.id = stream, proto, sid

    async def next(self, timeout: float | None = None) -> Any:
        """The next notification's result; TimeoutError after timeout seconds without one."""
        deadline = trio.current_time() + (timeout if timeout is not None else float("inf"))
        failures = 0
        while not self._pending:
            if self._closed:
                raise TransportError("the subscription is closed")
            try:
                with trio.fail_at(deadline):
                    if self._stream is None:
                        await self._connect()
                        self.reconnects += 1
                        failures = 0
                    reply = self._proto.receive(await self._stream.receive_some(65536))
                    if reply:
                        await self._stream.send_all(reply)
            except trio.TooSlowError:
                raise TimeoutError(f"no notification within {timeout} s") from None
            except (OSError, TransportError, trio.BrokenResourceError, trio.ClosedResourceError):
                await self._drop()
                failures += 1
                if not self._retry_allowed(failures):
                    raise TransportError(f"the subscription's connection to {self.host}:{self.port} failed "
                                         f"{failures} time(s) in a row") from None
                await trio.sleep(self._backoff(failures))
                continue
            _, got = _take(self._proto, self.id)
            self._pending += got
            if self._proto.closed:
                await self._drop()
        return self._pending.pop(0)

    def __aiter__(self):
        return self

    async def __anext__(self) -> Any:
        return await self.next()

    async def _drop(self) -> None:
        if self._stream is not None:
            await trio.aclose_forcefully(self._stream)
        self._stream, self._proto = None, None

    async def aclose(self) -> None:
        if self._stream is not None and self._proto is not None:
            with trio.move_on_after(1), trio.CancelScope(shield=True), \
                    contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                await self._stream.send_all(self._proto.close_frame())
        await self._drop()
        self._closed = True

    async def __aenter__(self) -> AsyncSubscription:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
