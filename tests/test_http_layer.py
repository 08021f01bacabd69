"""rpc/server/http.py on a real loopback socket: idle connections are closed, a slow answer is
not cut off by the idle timeout, pipelined requests are answered in order, a large reply
is written whole to a slow reader, and a pipelining flood on one connection does not
starve another (reads that find their bytes there already are followed by a yield)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import trio

from rwachain.rpc.server.http import HttpServer


def _post(body: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)


def _read_replies(sock: socket.socket, n: int, timeout: float = 5.0) -> list[bytes]:
    """The bodies of the next n replies (Content-Length framed)."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, "server closed the connection early"
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(buf) < length:
            buf += sock.recv(65536)
        out.append(buf[:length])
        buf = buf[length:]
    return out


def _serve_and(check, *, idle_timeout: float, handler_delay: float = 0.0) -> None:
    """Run an HttpServer on a free port while check(port) runs in a thread."""
    async def handler(body: bytes) -> bytes:
        if handler_delay:
            await trio.sleep(handler_delay)
        return b'{"echo":' + body + b"}"

    async def main():
        server = HttpServer(handler, health=lambda: {"status": "ok"}, metrics=lambda: "",
                            idle_timeout=idle_timeout)
        async with trio.open_nursery() as nursery:
            port = await nursery.start(server.serve, "127.0.0.1", 0)
            await trio.to_thread.run_sync(check, port)
            nursery.cancel_scope.cancel()

    trio.run(main)


def test_an_idle_connection_is_closed_after_the_timeout():
    def check(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(_post(b"1"))
        assert _read_replies(s, 1) == [b'{"echo":1}']
        t0 = time.monotonic()
        s.settimeout(10)
        assert s.recv(10) == b""  # closed by the server, not by our timeout
        waited = time.monotonic() - t0
        assert 0.3 <= waited < 5.0, waited
        s.close()

    _serve_and(check, idle_timeout=0.4)


@pytest.mark.slow
def test_a_slow_answer_outlives_the_idle_timeout():
    def check(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(_post(b"2"))
        assert _read_replies(s, 1) == [b'{"echo":2}']  # answered after 1.0 s > 0.3 s idle limit
        s.close()

    _serve_and(check, idle_timeout=0.3, handler_delay=1.0)


def test_pipelined_requests_are_answered_in_order_on_one_connection():
    def check(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"".join(_post(b"%d" % i) for i in range(20)))
        assert _read_replies(s, 20) == [b'{"echo":%d}' % i for i in range(20)]
        s.sendall(_post(b"99"))  # the connection is still usable
        assert _read_replies(s, 1) == [b'{"echo":99}']
        s.close()

    _serve_and(check, idle_timeout=30)


def test_a_large_reply_is_written_whole_to_a_slow_reader():
    big = b'"' + b"x" * (3 << 20) + b'"'  # a 3 MiB JSON string, echoed back: many partial writes

    def check(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(_post(big))
        time.sleep(0.3)  # the server fills our small buffer and has to wait
        assert _read_replies(s, 1, timeout=20) == [b'{"echo":' + big + b"}"]
        s.sendall(_post(b"7"))
        assert _read_replies(s, 1) == [b'{"echo":7}']
        s.close()

    _serve_and(check, idle_timeout=30)


def test_a_pipelining_flood_does_not_starve_another_connection():
    """One client keeps its connection full of pipelined requests (and reads the replies);
    a request on a second connection is answered while the flood goes on."""
    flood = b"".join(_post(b"%d" % i) for i in range(2000))

    def check(port):
        a = socket.create_connection(("127.0.0.1", port))
        stop = threading.Event()
        sent = [0]

        def write():
            with contextlib.suppress(OSError):  # closed under it at the end
                while not stop.is_set():
                    a.sendall(flood)
                    sent[0] += 1

        def drain():
            a.settimeout(30)
            with contextlib.suppress(OSError):
                while not stop.is_set():
                    if not a.recv(1 << 20):
                        return

        threads = [threading.Thread(target=write, daemon=True), threading.Thread(target=drain, daemon=True)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            b = socket.create_connection(("127.0.0.1", port))
            t0 = time.monotonic()
            b.sendall(_post(b"42"))
            assert _read_replies(b, 1, timeout=10) == [b'{"echo":42}']
            answered_in = time.monotonic() - t0
            b.close()
            assert not stop.is_set() and sent[0] >= 1  # the flood was still running
            assert answered_in < 2.0, answered_in
        finally:
            stop.set()
            a.shutdown(socket.SHUT_RDWR)
            for t in threads:
                t.join(10)
            a.close()

    _serve_and(check, idle_timeout=30)
