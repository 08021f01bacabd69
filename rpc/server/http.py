"""HTTP/1.1 for JSON-RPC on trio, parsed by httptools (sans-IO, C).

    POST /          JSON-RPC 2.0 (single or batch)
    GET  /health    200 {"status": "ok", "height": N}
    GET  /metrics   Prometheus text: height, mempool size, tx/s, RPC latency
    GET  /ws        WebSocket upgrade (rpc/server/ws.py)
    OPTIONS *       CORS preflight (only for the origins named by --cors)
Browser-safe by default (docs/operations.md): a request whose Host is not in the allow-list
(localhost names and the bound address, or --http-vhosts) gets 403, a POST whose
Content-Type is not application/json gets 415, replies carry no CORS header unless --cors
names the request's Origin, and a WebSocket upgrade from an Origin not so named gets 403.
Keep-alive and pipelining (a connection whose next bytes are already there yields to the
others before reading them); a request declaring or sending over max_body bytes gets 413
as soon as that is known, then a bounded lingering close (the rest of the body is
discarded, at most 16 MiB or 2 s); malformed HTTP gets 400 and a close. A request line
and headers over max_header bytes get 431, a URL over max_url 414 (then a close); a
header block not complete header_timeout seconds after its first byte, or a connection
idle for idle_timeout, is closed; past max_connections a new connection gets 503 and a
close at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable

import httptools
import orjson
import trio

log = logging.getLogger("rwachain.http")

_REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed",
            403: b"Forbidden", 413: b"Payload Too Large", 414: b"URI Too Long", 415: b"Unsupported Media Type",
            431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # Host names every node accepts
JSON_TYPE = b"application/json"


def response(status: int, body: bytes, content_type: bytes = b"application/json", *, keep_alive: bool = True,
             cors: bytes | None = None) -> bytes:
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"OK")),
            b"Content-Type: " + content_type, b"Content-Length: %d" % len(body)]
    if cors:
        head.append(b"Access-Control-Allow-Origin: " + cors)
    if not keep_alive:
        head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def _recv(fd: int, n: int) -> tuple[bytes, bool]:
    """(what the socket holds, up to n bytes, b"" at EOF; whether it had to wait for it).

    Unlike trio's SocketStream.receive_some this yields to the scheduler only when it must
    wait: a read that succeeds at once costs no extra round of the event loop (a request's
    read and write each cost one there, a few percent of a status call)."""
    waited = False
    while True:
        try:
            return os.read(fd, n), waited
        except BlockingIOError:
            await trio.lowlevel.wait_readable(fd)
            waited = True


async def _send_all(fd: int, data: bytes) -> None:
    """Write all of data, waiting (and yielding) only while the socket's buffer is full."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(fd)


def host_name(value: bytes) -> str:
    """The host of a Host header value, without port or IPv6 brackets, lower case."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text[1:]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def is_json(req_headers: dict[bytes, bytes]) -> bool:
    """Whether a request's Content-Type is application/json (parameters such as charset allowed)."""
    return req_headers.get(b"content-type", b"").split(b";")[0].strip().lower() == JSON_TYPE


def preflight(cors: bytes) -> bytes:
    return (b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: " + cors +
            b"\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
            b"Access-Control-Allow-Headers: Content-Type\r\nAccess-Control-Max-Age: 86400\r\n"
            b"Content-Length: 0\r\n\r\n")


class _Request:
    __slots__ = ("method", "url", "headers", "body", "keep_alive", "too_large")

    def __init__(self):
        self.method = b""
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body = bytearray()
        self.keep_alive = True
        self.too_large = False


class _Parser:
    """httptools callbacks collecting complete requests. in_head: the next bytes belong to a
    request line or header block (head_bytes of it fed so far, counted by the caller)."""

    def __init__(self, max_body: int):
        self.max_body = max_body
        self.done: list[_Request] = []
        self.cur = _Request()
        self.in_head = True
        self.head_bytes = 0
        self.p = httptools.HttpRequestParser(self)

    def on_message_begin(self):
        self.cur = _Request()

    def on_url(self, url: bytes):
        self.cur.url += url

    def on_header(self, name: bytes, value: bytes):
        self.cur.headers[name.lower()] = value

    def on_headers_complete(self):
        self.in_head = False
        self.head_bytes = 0
        cl = self.cur.headers.get(b"content-length")
        if cl is not None and cl.isdigit() and int(cl) > self.max_body:
            self.cur.too_large = True

    def on_body(self, body: bytes):
        if self.cur.too_large or len(self.cur.body) + len(body) > self.max_body:
            self.cur.too_large = True
            return
        self.cur.body += body

    def on_message_complete(self):
        self.in_head = True
        self.head_bytes = 0
        self.cur.method = self.p.get_method()
        self.cur.keep_alive = self.p.should_keep_alive()
        self.done.append(self.cur)


_BUSY = float("inf")


class _Live:
    """One open connection for the reaper: its cancel scope, when it last waited for a
    request (monotonic seconds; _BUSY while a request is being answered) and when the
    header block now arriving began (_BUSY when none is)."""

    __slots__ = ("scope", "last", "head_since")

    def __init__(self):
        self.scope = trio.CancelScope()
        self.last = time.monotonic()
        self.head_since = _BUSY


Handler = Callable[[bytes], Awaitable[bytes | None]]


class HttpServer:
    """Serves a JSON-RPC dispatcher plus /health, /metrics and the /ws upgrade."""

    def __init__(self, rpc: Handler, *, health: Callable[[], dict], metrics: Callable[[], str],
                 ws: Callable | None = None, max_body: int = 5 * 1024 * 1024, cors: list[str] | None = None,
                 vhosts: list[str] | None = None, idle_timeout: float = 120.0, max_connections: int = 1000,
                 max_header: int = 1 << 20, max_url: int = 8192, header_timeout: float = 10.0):
        """cors: the origins whose pages may call (`*`: any); none by default. vhosts: the
        Host names served besides LOCAL_HOSTS and the bound address (`*`: any)."""
        self.rpc = rpc
        self.health = health
        self.metrics = metrics
        self.ws = ws
        self.max_body = max_body
        self.origins = {o.encode() for o in cors or ()}
        self.any_origin = b"*" in self.origins
        self.vhosts = set(LOCAL_HOSTS) | {h.lower() for h in vhosts or ()}
        self.any_host = "*" in self.vhosts
        self.cors = b"*" if self.any_origin else None  # the header every reply carries, if any
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.max_header = max_header
        self.max_url = max_url
        self.header_timeout = header_timeout
        self.connections = 0
        self.refused = 0  # connections refused past max_connections
        self._live: set[_Live] = set()
        self._busy = response(503, orjson.dumps({"error": f"too many connections (at most {max_connections})"}),
                              keep_alive=False, cors=self.cors)
        # The head of a keep-alive 200 reply; the length and body follow.
        self._ok_head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + (b"Access-Control-Allow-Origin: " + self.cors + b"\r\n" if self.cors else b"")
                         + b"Content-Length: ")

    def cors_for(self, req: _Request) -> bytes | None:
        """The Access-Control-Allow-Origin value for req: `*`, its Origin if named, else None."""
        if self.any_origin:
            return b"*"
        origin = req.headers.get(b"origin")
        return origin if origin is not None and origin in self.origins else None

    def refusal(self, req: _Request, path: bytes) -> bytes | None:
        """The reply refusing req before it is served, or None: 403 for a Host not allowed,
        415 for a JSON-RPC POST whose body is not declared application/json."""
        host = req.headers.get(b"host")
        if host is not None and not self.any_host and host_name(host) not in self.vhosts:
            return response(403, orjson.dumps({"error": f"Host {host.decode('latin-1')!r} is not allowed "
                                                        "(--http-vhosts)"}), keep_alive=False, cors=None)
        if req.method == b"POST" and path in (b"/", b"") and not is_json(req.headers):
            return response(415, b'{"error":"JSON-RPC requests need Content-Type: application/json"}',
                            keep_alive=False, cors=self.cors_for(req))
        return None

    async def serve(self, host: str, port: int, task_status=trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(port, host=host)
        self.vhosts.add(host_name(host.encode()))
        task_status.started(listeners[0].socket.getsockname()[1])
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reap_idle)
            await trio.serve_listeners(self._conn, listeners)

    async def _reap_idle(self) -> None:
        """Close connections idle (no request being read or answered) for idle_timeout
        seconds, and those whose header block has been arriving for header_timeout seconds
        (a client sending a byte now and then keeps the idle timer fresh). One sweep every
        few seconds instead of a timer around every read: a per-read timeout scope cost
        about 16 us a request, a sixth of a status call."""
        while True:
            await trio.sleep(max(0.05, min(5.0, self.idle_timeout / 4, self.header_timeout / 4)))
            now = time.monotonic()
            idle_cutoff = now - self.idle_timeout
            head_cutoff = now - self.header_timeout
            for conn in list(self._live):
                if conn.last < idle_cutoff or conn.head_since < head_cutoff:
                    conn.scope.cancel()

    async def _conn(self, stream: trio.SocketStream) -> None:
        """One connection. Nothing a client does may stop the server: every error of a
        connection (resets, protocol violations, also inside exception groups) ends only
        that connection; cancellation still propagates. Past max_connections a new
        connection gets 503 and a close at once (its descriptor is freed, the store keeps
        the ones it needs)."""
        if self.connections >= self.max_connections:
            await self._refuse(stream)
            return
        self.connections += 1
        conn = _Live()
        self._live.add(conn)
        try:
            with conn.scope:
                await self._serve_conn(stream, conn)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        except Exception as exc:  # includes ExceptionGroup of connection errors
            log.debug("connection ended: %r", exc)
        finally:
            self._live.discard(conn)
            self.connections -= 1
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def _refuse(self, stream: trio.SocketStream) -> None:
        """503 and close, without waiting for the client: what it sent is read and
        discarded first (so that the close is a FIN, not a reset), the reply written only
        if the socket takes it now."""
        self.refused += 1
        fd = stream.socket.fileno()
        with contextlib.suppress(OSError):
            for _ in range(4):  # what is there now, not what a client keeps sending
                if not os.read(fd, 65536):
                    break
        with contextlib.suppress(OSError):
            os.write(fd, self._busy)
        with trio.CancelScope(shield=True):
            await stream.aclose()

    async def _serve_conn(self, stream: trio.SocketStream, conn: _Live) -> None:
        parser = _Parser(self.max_body)
        feed = parser.p.feed_data
        done = parser.done
        fd = stream.socket.fileno()
        waited = True
        while True:
            if not waited:
                # The last read found its bytes there already (a pipelining client, or a
                # body streaming in): let the other connections have a turn first.
                await trio.lowlevel.checkpoint()
            conn.last = time.monotonic()
            data, waited = await _recv(fd, 65536)
            if not data:
                return
            conn.last = _BUSY
            if parser.in_head:
                parser.head_bytes += len(data)
                if conn.head_since == _BUSY:
                    conn.head_since = time.monotonic()
            try:
                feed(data)
            except httptools.HttpParserUpgrade as up:
                conn.head_since = _BUSY  # the header block is complete: what follows is not HTTP
                offset = up.args[0] if up.args else len(data)
                req = parser.cur
                req.method = parser.p.get_method()
                refused = self.refusal(req, b"/ws")
                origin = req.headers.get(b"origin")
                if refused is None and origin is not None and self.cors_for(req) is None:
                    refused = response(403, b'{"error":"this Origin may not open a WebSocket (--cors)"}',
                                       keep_alive=False, cors=None)
                if refused is not None:
                    await _send_all(fd, refused)
                elif self.ws is not None and req.url.split(b"?")[0] == b"/ws":
                    await self.ws(stream, req.headers, data[offset:])
                else:
                    await _send_all(fd, response(404, b'{"error":"no upgrade here"}', keep_alive=False))
                return
            except httptools.HttpParserError as exc:
                await _send_all(fd, response(400, orjson.dumps({"error": f"bad HTTP: {exc}"}), keep_alive=False))
                return
            if not parser.in_head or not parser.head_bytes:
                conn.head_since = _BUSY  # no header block under way (its deadline is met)
            too_long = self._head_too_long(parser)
            if too_long is not None:
                await _send_all(fd, too_long)
                return
            if parser.cur.too_large and not done:
                # Declared or received more than max_body: answer now, read no further.
                await _send_all(fd, response(413, orjson.dumps({"error": f"request body exceeds {self.max_body} bytes"}),
                                        keep_alive=False, cors=self.cors_for(parser.cur)))
                await self._linger(stream)
                return
            if not done:
                continue
            # Answer every complete (pipelined) request in order, in one write.
            out = []
            keep = True
            while done and keep:
                req = done.pop(0)
                if (req.method == b"POST" and not req.too_large and req.url in (b"/", b"")
                        and self.refusal(req, req.url) is None):
                    keep = req.keep_alive
                    body = await self.rpc(bytes(req.body))
                    cors = self.cors_for(req)
                    if body is None:
                        out.append(response(204, b"", keep_alive=keep, cors=cors))
                    elif keep and cors == self.cors:
                        out.append(self._ok_head + b"%d\r\n\r\n" % len(body) + body)
                    else:
                        out.append(response(200, body, keep_alive=keep, cors=cors))
                else:
                    reply, keep = await self._respond(req)
                    out.append(reply)
            await _send_all(fd, out[0] if len(out) == 1 else b"".join(out))
            if not keep:
                return

    def _head_too_long(self, parser: _Parser) -> bytes | None:
        """The 414 or 431 reply (and a close) for a URL or header block over its limit."""
        if len(parser.cur.url) > self.max_url:  # also when the whole request came in one read
            return response(414, orjson.dumps({"error": f"URL longer than {self.max_url} bytes"}), keep_alive=False,
                            cors=self.cors)
        if parser.in_head and parser.head_bytes > self.max_header:
            return response(431, orjson.dumps({"error": f"request line and headers over {self.max_header} bytes"}),
                            keep_alive=False, cors=self.cors)
        return None

    async def _linger(self, stream: trio.SocketStream, max_bytes: int = 16 << 20, seconds: float = 2.0) -> None:
        """Half-close and discard what the client is still sending (bounded), so that it
        reads our error reply instead of a connection reset."""
        try:
            await stream.send_eof()
            with trio.move_on_after(seconds):
                got = 0
                while got < max_bytes:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    got += len(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def _respond(self, req: _Request) -> tuple[bytes, bool]:
        keep = req.keep_alive
        path = req.url.split(b"?")[0]
        cors = self.cors_for(req)
        if req.too_large:
            return response(413, orjson.dumps({"error": f"request body exceeds {self.max_body} bytes"}),
                            keep_alive=False, cors=cors), False
        refused = self.refusal(req, path)
        if refused is not None:
            return refused, False
        if req.method == b"POST" and path in (b"/", b""):
            body = await self.rpc(bytes(req.body))
            if body is None:
                return response(204, b"", keep_alive=keep, cors=cors), keep
            return response(200, body, keep_alive=keep, cors=cors), keep
        if req.method == b"OPTIONS":
            if cors is None:
                return response(403, b'{"error":"this Origin is not allowed (--cors)"}', keep_alive=keep,
                                cors=None), keep
            return preflight(cors), keep
        if req.method == b"GET" and path == b"/health":
            return response(200, orjson.dumps(self.health()), keep_alive=keep, cors=cors), keep
        if req.method == b"GET" and path == b"/metrics":
            return response(200, self.metrics().encode(), b"text/plain; version=0.0.4", keep_alive=keep,
                            cors=cors), keep
        if path in (b"/", b""):
            return response(405, b'{"error":"use POST for JSON-RPC"}', keep_alive=keep, cors=cors), keep
        return response(404, b'{"error":"not found"}', keep_alive=keep, cors=cors), keep
