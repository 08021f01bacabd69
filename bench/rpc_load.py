"""HTTP/1.1 load generator for bench_rpc.py: worker processes with keep-alive connections.

Each worker is a separate process (`python bench/rpc_load.py`, spec as one JSON line on
stdin). It builds every request's bytes and opens its connections first, prints
"ready", waits for "go" on stdin, then drives its connections from one epoll loop and
prints one JSON line of results. Nothing is parsed beyond the status line, the
Content-Length header and a count of "result" / "error" members, so a worker spends a
few microseconds per reply. Every loop is bounded in count and in time; only loopback
addresses are accepted.

Modes
  list        send each request of a pre-built list exactly once (bodies from a msgpack
              file, this worker's slice k::n), `depth` requests in flight per connection
  repeat      one constant request, closed loop, until max_seconds or max_requests
  latency     one connection, one request every `interval` seconds (open loop), until
              "stop" arrives on stdin or max_seconds; each latency counts from the
              request's scheduled time, so a stalled server is not under-sampled
              (no coordinated omission); records (scheduled time, latency, the
              "height" in the reply, latency from the actual send)
  eth_roundtrip  one connection: eth_sendRawTransaction, then eth_getTransactionReceipt
              until it has a result, one transaction at a time (or, with "sync",
              eth_sendRawTransactionSync)

The parent side (LoadRun, run_workers) starts workers, releases them together and
collects their results; time.monotonic() is system-wide on Linux, so workers' start
and end times compare directly.
"""

from __future__ import annotations

import json
import os
import resource
import select
import socket
import subprocess
import sys
import time
from collections import deque

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def http_post(host: str, body: bytes, path: bytes = b"/") -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path, host.encode(), len(body))) + body


def http_get(host: str, path: bytes) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host.encode())


class _Conn:
    __slots__ = ("sock", "reqs", "next", "inflight", "buf", "sent_at")

    def __init__(self, sock: socket.socket, reqs: list[bytes] | None):
        self.sock = sock
        self.reqs = reqs
        self.next = 0
        self.inflight = 0
        self.buf = bytearray()
        self.sent_at: deque[float] = deque()


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _content_length(head: bytes) -> int:
    """Content-Length of a lower-cased response head (0 if absent)."""
    i = head.find(b"content-length:")
    if i < 0:
        return 0
    j = head.find(b"\r\n", i)
    return int(head[i + 15 : j if j > 0 else len(head)])


def _connect(host: str, port: int) -> socket.socket:
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)  # blocking sends (a batch may exceed the socket buffer); reads via epoll
    return s


def _load_bodies(spec: dict) -> list[bytes]:
    import msgpack

    with open(spec["bodies_file"], "rb") as f:
        bodies = msgpack.unpackb(f.read(), raw=False)
    k, n = spec.get("slice", (0, 1))
    return bodies[k::n]


def worker(spec: dict, stdin, stdout) -> dict:
    host, port = spec["host"], int(spec["port"])
    if host not in LOOPBACK:
        raise SystemExit(f"rpc_load: refusing non-loopback host {host!r}")
    mode = spec["mode"]
    nconn = max(1, int(spec.get("conns", 1)))
    depth = max(1, int(spec.get("depth", 1)))
    max_seconds = float(spec.get("max_seconds", 30.0))
    max_requests = int(spec.get("max_requests", 10_000_000))
    record = bool(spec.get("record_latency", False))
    if mode == "eth_roundtrip":
        return _eth_roundtrip(spec, stdin, stdout)
    if mode == "latency":
        return _latency(spec, stdin, stdout)

    if mode == "list":
        bodies = _load_bodies(spec)
        reqs = [http_post(host, b) for b in bodies]
        per = [reqs[i::nconn] for i in range(nconn)]
        total = len(reqs)
        const = None
    else:
        const = http_get(host, spec["get"].encode()) if spec.get("get") else http_post(host, spec["body"].encode())
        per = [None] * nconn
        total = max_requests
    conns = [_Conn(_connect(host, port), per[i]) for i in range(nconn)]
    conns = [c for c in conns if c.reqs is None or c.reqs]
    ep = select.epoll()
    by_fd = {}
    for c in conns:
        ep.register(c.sock.fileno(), select.EPOLLIN)
        by_fd[c.sock.fileno()] = c
    stdout.write("ready\n")
    stdout.flush()
    if stdin.readline().strip() != "go":
        return {"aborted": True}

    mono = time.monotonic
    t0 = mono()
    cpu0 = _cpu()
    deadline = t0 + max_seconds
    sent = done = ok_calls = err_calls = non200 = 0
    errors: list[str] = []
    lat: list = []
    stopping = False
    t_last = t0

    def send_more(c: _Conn) -> None:
        nonlocal sent
        while c.inflight < depth and not stopping:
            if c.reqs is not None:
                if c.next >= len(c.reqs):
                    return
                data = c.reqs[c.next]
                c.next += 1
            else:
                if sent >= total:
                    return
                data = const
            sent += 1
            c.inflight += 1
            if record:
                c.sent_at.append(mono())
            c.sock.sendall(data)

    for c in conns:
        send_more(c)
    open_conns = len(conns)
    timed_out = False
    while open_conns and any(c.inflight for c in conns):
        now = mono()
        if now >= deadline:
            if not stopping:
                stopping, timed_out = True, mode == "list"
                deadline = now + 10.0  # let what is in flight come back, bounded
            else:
                break
        events = ep.poll(min(1.0, max(0.0, deadline - now)))
        for fd, _ in events:
            c = by_fd[fd]
            data = c.sock.recv(1 << 18)
            if not data:
                non200 += c.inflight
                c.inflight = 0
                ep.unregister(fd)
                open_conns -= 1
                if len(errors) < 5:
                    errors.append("connection closed by the server")
                continue
            buf = c.buf
            buf += data
            pos = 0
            while True:
                he = buf.find(b"\r\n\r\n", pos)
                if he < 0:
                    break
                head = bytes(buf[pos:he]).lower()
                end = he + 4 + _content_length(head)
                if len(buf) < end:
                    break
                body = bytes(buf[he + 4 : end])
                if head[9:12] != b"200":
                    non200 += 1
                    if len(errors) < 5:
                        errors.append(bytes(head[:40]).decode(errors="replace") + " " + body[:200].decode(errors="replace"))
                else:
                    e = body.count(b'"error":{')  # a JSON-RPC error object (receipts have "error":"")
                    if e:
                        err_calls += e
                        if len(errors) < 5:
                            errors.append(body[:300].decode(errors="replace"))
                    ok_calls += body.count(b'"result"') + (1 if spec.get("get") else 0)
                pos = end
                done += 1
                c.inflight -= 1
                t_last = mono()
                if record:
                    ts = c.sent_at.popleft()
                    lat.append(round(t_last - ts, 7))
            if pos:
                del buf[:pos]
            send_more(c)
    for c in conns:
        c.sock.close()
    unsent = sum(len(c.reqs) - c.next for c in conns if c.reqs is not None)
    return {"cpu": _cpu() - cpu0, "t0": t0, "t1": t_last, "sent": sent, "done": done, "ok_calls": ok_calls, "err_calls": err_calls,
            "non200": non200, "errors": errors, "lat": lat if record else None, "timed_out": timed_out,
            "unsent": unsent}


def _rpc_once(sock: socket.socket, host: str, body: bytes, buf: bytearray) -> bytes:
    sock.sendall(http_post(host, body))
    return _read_reply(sock, buf)


def _read_reply(sock: socket.socket, buf: bytearray) -> bytes:
    """The body of the next complete reply on a blocking socket (buf keeps the rest)."""
    while True:
        he = buf.find(b"\r\n\r\n")
        if he >= 0:
            cl = _content_length(bytes(buf[:he]).lower())
            if len(buf) >= he + 4 + cl:
                out = bytes(buf[he + 4 : he + 4 + cl])
                del buf[: he + 4 + cl]
                return out
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("closed")
        buf += data


def _latency(spec: dict, stdin, stdout) -> dict:
    host, port = spec["host"], int(spec["port"])
    interval = float(spec.get("interval", 0.001))
    req = http_post(host, spec["body"].encode())
    sock = _connect(host, port)
    ep = select.epoll()
    ep.register(stdin.fileno(), select.EPOLLIN)
    buf = bytearray()
    stdout.write("ready\n")
    stdout.flush()
    if stdin.readline().strip() != "go":
        return {"aborted": True}
    mono = time.monotonic
    t0 = mono()
    cpu0 = _cpu()
    deadline = t0 + float(spec.get("max_seconds", 30.0))
    max_requests = int(spec.get("max_requests", 1_000_000))
    lat = []
    errors: list[str] = []
    err = 0
    nxt = t0
    while len(lat) < max_requests:
        now = mono()
        if now >= deadline or ep.poll(max(0.0, min(nxt - now, deadline - now)) if now < nxt else 0):
            break
        if mono() < nxt:
            continue
        scheduled, nxt = nxt, nxt + interval
        sent_at = mono()
        sock.sendall(req)
        body = _read_reply(sock, buf)
        t = mono()
        if b'"error":{' in body:
            err += 1
            if len(errors) < 5:
                errors.append(body[:300].decode(errors="replace"))
        i = body.find(b'"height":')  # which head answered (chain_status); -1 if none
        h = int(body[i + 9 : body.find(b",", i)]) if i >= 0 else -1
        lat.append((round(scheduled, 6), round(t - scheduled, 7), h, round(t - sent_at, 7)))
    sock.close()
    return {"cpu": _cpu() - cpu0, "t0": t0, "t1": mono(), "sent": len(lat), "done": len(lat), "ok_calls": len(lat) - err, "err_calls": err,
            "non200": 0, "errors": errors, "lat": lat, "timed_out": False, "unsent": 0}


def _eth_roundtrip(spec: dict, stdin, stdout) -> dict:
    """Sequential: eth_sendRawTransaction, then poll eth_getTransactionReceipt (no sleep);
    with spec["sync"], eth_sendRawTransactionSync (EIP-7966: answers with the receipt)."""
    host, port = spec["host"], int(spec["port"])
    raws = _load_bodies(spec)  # here: 0x-hex raw transactions
    sock = _connect(host, port)
    buf = bytearray()
    stdout.write("ready\n")
    stdout.flush()
    if stdin.readline().strip() != "go":
        return {"aborted": True}
    mono = time.monotonic
    t0 = mono()
    cpu0 = _cpu()
    deadline = t0 + float(spec.get("max_seconds", 30.0))
    done = polls = err = 0
    errors: list[str] = []
    lat = []
    for i, raw in enumerate(raws):
        if mono() >= deadline:
            break
        ts = mono()
        method = "eth_sendRawTransactionSync" if spec.get("sync") else "eth_sendRawTransaction"
        r = json.loads(_rpc_once(sock, host, json.dumps({"jsonrpc": "2.0", "id": i, "method": method,
                                                           "params": [raw]}).encode(), buf))
        if "error" in r:  # parsed JSON: the JSON-RPC error member
            err += 1
            if len(errors) < 5:
                errors.append(json.dumps(r)[:300])
            continue
        if spec.get("sync"):
            done += 1
            lat.append(mono() - ts)
            continue
        q = json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [r["result"]]}).encode()
        while mono() < deadline:
            polls += 1
            rr = json.loads(_rpc_once(sock, host, q, buf))
            if rr.get("result"):
                done += 1
                lat.append(mono() - ts)
                break
    sock.close()
    t1 = mono()
    return {"cpu": _cpu() - cpu0, "t0": t0, "t1": t1, "sent": done + err, "done": done, "ok_calls": done, "err_calls": err, "non200": 0,
            "errors": errors, "lat": lat, "polls": polls, "timed_out": False, "unsent": 0}


# ----- parent side -------------------------------------------------------------------------
class LoadRun:
    """Worker processes started, connected and ready; go() releases them together."""

    def __init__(self, specs: list[dict]):
        self.procs: list[subprocess.Popen] = []
        self.t_go = None
        try:
            for spec in specs:
                p = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
                p.stdin.write(json.dumps(spec) + "\n")
                p.stdin.flush()
                self.procs.append(p)
            for p in self.procs:
                line = p.stdout.readline()
                if line.strip() != "ready":
                    raise RuntimeError(f"load worker did not start: {line!r}")
        except BaseException:
            self.kill()
            raise
        self.max_seconds = max(float(s.get("max_seconds", 30.0)) for s in specs)

    def go(self) -> float:
        self.t_go = time.monotonic()
        for p in self.procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        return self.t_go

    def stop(self) -> None:
        """Ask latency workers to finish (others ignore stdin once running)."""
        for p in self.procs:
            try:
                p.stdin.write("stop\n")
                p.stdin.flush()
            except (BrokenPipeError, OSError):
                pass

    def results(self) -> list[dict]:
        out = []
        try:
            for p in self.procs:
                try:
                    line, _ = p.communicate(timeout=self.max_seconds + 40)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
                    raise RuntimeError("a load worker overran its time bound") from None
                if p.returncode != 0 or not line.strip():
                    raise RuntimeError(f"load worker failed (exit {p.returncode})")
                out.append(json.loads(line.strip().splitlines()[-1]))
        finally:
            self.kill()
        return out

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def run_workers(specs: list[dict]) -> tuple[float, list[dict]]:
    run = LoadRun(specs)
    t_go = run.go()
    return t_go, run.results()


def merge(results: list[dict]) -> dict:
    """Totals over workers; rate = replies / (last reply - first start)."""
    t0 = min(r["t0"] for r in results)
    t1 = max(r["t1"] for r in results)
    tot = {k: sum(r.get(k, 0) for r in results)
           for k in ("sent", "done", "ok_calls", "err_calls", "non200", "unsent", "cpu")}
    tot["errors"] = [e for r in results for e in r.get("errors", [])][:5]
    tot["timed_out"] = any(r.get("timed_out") for r in results)
    tot["t0"], tot["t1"], tot["seconds"] = t0, t1, max(1e-9, t1 - t0)
    lats = [x for r in results if r.get("lat") for x in r["lat"]]
    tot["lat"] = lats
    return tot


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    res = worker(spec, sys.stdin, sys.stdout)
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
