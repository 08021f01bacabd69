"""Resource limits of a real node process over real sockets (docs/operations.md, "Limits").

Each test is named after the flaw it guards against and failed on the code before its fix:
slow WebSocket subscribers were never dropped, idle connections could take every file
descriptor, a header block or URL of any size was read, a header block could trickle in
forever, a reply had no size limit, dev_setTime far ahead froze the node, and a tx_search
that matched nothing scanned the whole chain in one call.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import resource
import socket
import threading
import time

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from tests.rpcnode import RpcNode, node_fixture, open_connections
from tests.test_rpc_ws import WsClient

KEYS = devnet.dev_keys()
INVALID_PARAMS = -32602
RESPONSE_TOO_LARGE = -32007


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


class KeepAlive:
    """One keep-alive HTTP connection to the node, for JSON-RPC calls."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, payload) -> tuple[int, object]:
        self.conn.request("POST", "/", json.dumps(payload), {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else None

    def call(self, method: str, params=None):
        status, reply = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        assert status == 200 and "result" in reply, reply
        return reply["result"]

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


def _raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send data on a new connection; everything the server sends until it closes (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            s.sendall(data)
        out = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                out += chunk
        return out


# ----- 2. slow WebSocket consumers --------------------------------------------------------
@pytest.mark.slow
def test_flaw_slow_websocket_subscribers_are_never_dropped(tmp_path):
    """Subscribers that stop reading are closed once their queue passes its byte bound (or
    they miss a pong); the node's memory stays flat and a reading client stays fast."""
    n_slow = 20
    with RpcNode(tmp_path / "home", "--ws-max-queue-bytes", "262144", "--ws-ping-interval", "0.5",
                 "--ws-ping-timeout", "2", mining="manual") as node:
        slow = []
        for _ in range(n_slow):
            ws = WsClient(node.port, rcvbuf=4096)
            ws.subscribe("newHeads")
            ws.subscribe("pendingTransactions")
            slow.append(ws)  # never read again
        reader = WsClient(node.port)
        reader.subscribe("newHeads")
        base_conns = open_connections(node.port)
        rss0 = _rss_mb(node.proc.pid)
        peak = [rss0]
        stop = threading.Event()
        lat: list[float] = []
        heights: list[int] = []

        def poll():
            c = KeepAlive(node.port)
            while not stop.is_set():
                t0 = time.perf_counter()
                c.call("chain_status")
                lat.append(time.perf_counter() - t0)
                peak[0] = max(peak[0], _rss_mb(node.proc.pid))
                time.sleep(0.005)
            c.close()

        ended: list[Exception] = []

        def read_heads():
            try:
                while not stop.is_set():
                    msg = reader.recv_message()
                    if msg.get("method") == "chain_subscription":
                        heights.append(msg["params"]["result"]["height"])
            except Exception as exc:
                ended.append(exc)

        threads = [threading.Thread(target=poll), threading.Thread(target=read_heads, daemon=True)]
        for t in threads:
            t.start()
        miner = KeepAlive(node.port)
        try:
            for _ in range(30):  # 3,000 blocks: about 2 MB of notifications per slow subscriber
                miner.call("dev_mine", [100])
            kept = base_conns - n_slow + 2  # this /metrics request, the reader, the poller, the miner
            deadline = time.monotonic() + 10
            while open_connections(node.port) > kept and time.monotonic() < deadline:
                time.sleep(0.2)
            conns = open_connections(node.port)
        finally:
            stop.set()
            threads[0].join(30)
            miner.close()
            for ws in slow:
                ws.sock.close()
        assert conns <= kept, f"{conns} connections open: the slow subscribers were kept"
        assert peak[0] - rss0 < 60, f"RSS grew {peak[0] - rss0:.0f} MB"
        lat.sort()
        p99 = lat[int(len(lat) * 0.99)]
        assert p99 < 0.25, f"a reading client's p99 was {p99 * 1000:.0f} ms"
        assert heights and heights[-1] >= 3000, f"the reading subscriber was dropped or fell behind: {ended}"
        reader.sock.close()


@pytest.mark.slow
def test_websocket_that_never_answers_pings_is_closed_with_1001(tmp_path):
    """A client that reads but never answers pings is closed after the ping timeout (1001)."""
    with RpcNode(tmp_path / "home", "--ws-ping-interval", "0.3", "--ws-ping-timeout", "1",
                 mining="manual") as node:
        ws = WsClient(node.port)
        ws.subscribe("newHeads")
        ws.sock.settimeout(10)
        t0 = time.monotonic()
        code = None
        while code is None:
            ev = ws.next_event()  # pings are seen and not answered
            if type(ev).__name__ == "CloseConnection":
                code = ev.code
        assert code == 1001 and time.monotonic() - t0 < 5
        ws.sock.close()


# ----- 3. connections and file descriptors ------------------------------------------------
def _nofile_1024() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


@pytest.mark.slow
def test_flaw_idle_connections_exhaust_file_descriptors(tmp_path):
    """Under a 1,024-descriptor limit, 2,000 idle connections: past --max-connections new
    ones get 503 at once, and the node keeps serving and committing blocks."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2400
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"needs {want} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    with RpcNode(tmp_path / "home", mining="manual", preexec_fn=_nofile_1024) as node:
        keep = KeepAlive(node.port)
        h0 = keep.call("chain_status")["height"]
        socks = []
        try:
            for _ in range(2000):
                s = socket.socket()
                s.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    s.connect(("127.0.0.1", node.port))
                socks.append(s)
            time.sleep(1.0)
            reply = _raw(node.port, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=5)
            assert reply.startswith(b"HTTP/1.1 503"), reply[:80]
            for _ in range(20):  # blocks keep committing (LevelDB keeps opening its files)
                keep.call("dev_mine", [100])
            assert keep.call("chain_status")["height"] == h0 + 2000
            assert node.proc.poll() is None
        finally:
            for s in socks:
                s.close()
            socks.clear()
        time.sleep(0.5)
        reply = _raw(node.port, b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", timeout=5)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:80]
        keep.close()


def _nofile_512_of_1024() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, 1024))


def test_flaw_soft_descriptor_limit_is_left_low(tmp_path):
    """The node raises its soft RLIMIT_NOFILE to the hard limit at start."""
    with RpcNode(tmp_path / "home", mining="manual", preexec_fn=_nofile_512_of_1024) as node:
        with open(f"/proc/{node.proc.pid}/limits") as f:
            line = next(ln for ln in f if ln.startswith("Max open files"))
        assert line.split()[3:5] == ["1024", "1024"], line


# ----- 4. HTTP limits on every part of a request ------------------------------------------
http_node = node_fixture("limits", "--header-timeout", "1", "--max-response-bytes", "20000", mining="manual")


def test_flaw_header_block_of_any_size_is_accepted(http_node):
    big = b"X-Pad: " + b"a" * (2 << 20) + b"\r\n"  # 2 MiB of headers, over the 1 MiB default
    reply = _raw(http_node.port, b"POST / HTTP/1.1\r\nHost: localhost\r\n" + big + b"Content-Length: 2\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:80]
    assert KeepAlive(http_node.port).call("chain_status")["chainId"] == devnet.CHAIN_ID


def test_flaw_url_of_any_length_is_accepted(http_node):
    for length in (100_000, 10_000):  # over several reads, and within one
        reply = _raw(http_node.port, b"GET /" + b"a" * length + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 414"), reply[:80]


@pytest.mark.slow
def test_flaw_header_block_may_trickle_in_forever(http_node):
    """One byte every 0.2 s keeps the idle timer fresh; the header deadline (1 s here) still
    closes the connection."""
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 200
    with socket.create_connection(("127.0.0.1", http_node.port), timeout=10) as s:
        t0 = time.monotonic()
        closed = False
        for b in request:
            try:
                s.sendall(bytes([b]))
            except OSError:
                closed = True
                break
            s.settimeout(0.2)
            try:
                if s.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed and time.monotonic() - t0 < 8, "the trickling connection was kept"


@pytest.mark.slow
def test_websocket_outlives_the_header_deadline(http_node):
    """The header deadline (1 s here) ends with the upgrade's header block."""
    ws = WsClient(http_node.port)
    time.sleep(2.5)
    assert ws.call("chain_status")["chainId"] == devnet.CHAIN_ID
    ws.close()


def test_flaw_reply_size_has_no_limit(http_node):
    """A batch whose replies pass --max-response-bytes: the calls past it get -32007, as
    geth answers past its batch response limit; a single over-large reply too."""
    c = KeepAlive(http_node.port)
    batch = [{"jsonrpc": "2.0", "id": i, "method": "chain_params", "params": []} for i in range(1000)]
    status, replies = c.post(batch)
    assert status == 200 and len(replies) == 1000
    ok = [r for r in replies if "result" in r]
    refused = [r for r in replies if "error" in r]
    assert ok and refused and all(r["error"]["code"] == RESPONSE_TOO_LARGE for r in refused)
    assert len(json.dumps(ok, separators=(",", ":"))) <= 20_000
    assert sorted(r["id"] for r in replies) == list(range(1000))
    # One reply alone over the limit (a block with 1,000 transactions' worth of receipts
    # would do; the OpenRPC document is quicker).
    status, reply = c.post({"jsonrpc": "2.0", "id": 7, "method": "rpc.discover", "params": []})
    assert status == 200 and reply["error"]["code"] == RESPONSE_TOO_LARGE and reply["id"] == 7
    c.close()


# ----- 5. no unbounded work behind one call -----------------------------------------------
def test_flaw_set_time_far_ahead_freezes_the_node(tmp_path):
    with RpcNode(tmp_path / "home", mining="manual") as node:
        c = KeepAlive(node.port, timeout=20)
        last = c.call("chain_status")["time"]
        far = last + 10**9 * 31_536_000
        for method, params in (("dev_setTime", [far]), ("dev_advanceTime", [far - last]),
                               ("dev_mine", [1, far])):
            status, reply = c.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            msg = reply["error"]["message"]
            assert reply["error"]["code"] == INVALID_PARAMS and ("at most" in msg or "expected 0.." in msg), reply
        # The largest jump allowed, twice: each block after it takes bounded time.
        for _ in range(2):
            w0 = time.monotonic()
            t = c.call("dev_setTime", [c.call("chain_status")["time"] + 100 * 31_536_000])
            t0 = time.monotonic()
            c.call("dev_mine", [1])
            assert time.monotonic() - t0 < 10
            # the node's clock runs on from t: the block is at t, or a few seconds later on a busy machine
            assert t <= c.call("chain_status")["time"] <= t + int(time.monotonic() - w0) + 1
        c.close()


def _send_transfers(node: RpcNode, sender, n: int) -> None:
    nonce = node.call("account_get", [sender.address_text])["pendingNonce"]
    batch = []
    for i in range(n):
        raw = sign_tx(sender, chain=devnet.CHAIN_ID, nonce=nonce + i, fee=5000, module="bank", call="transfer",
                      args={"to": KEYS[9].address, "denom": "rwa", "amount": 1})
        batch.append({"jsonrpc": "2.0", "id": i, "method": "tx_send", "params": ["0x" + raw.hex()]})
    for r in node.post(json.dumps(batch).encode()):
        assert "result" in r, r


@pytest.mark.slow
def test_flaw_tx_search_that_matches_nothing_scans_everything(tmp_path):
    """A search is a bounded scan: a filter that matches nothing returns an empty page with
    a cursor; following the cursors covers the range and finds what is there."""
    with RpcNode(tmp_path / "home", mining="manual") as node:
        for _ in range(50):  # 3,000 transactions of one sender (60 a block: the nonce window is 64)
            _send_transfers(node, KEYS[8], 60)
            node.call("dev_mine")
        page = node.call("tx_search", {"sender": KEYS[8].address_text, "module": "nope"})
        assert page["receipts"] == [] and page["nextCursor"] is not None
        pages = 1
        while page["nextCursor"] is not None:
            page = node.call("tx_search", {"sender": KEYS[8].address_text, "module": "nope",
                                           "cursor": page["nextCursor"]})
            assert page["receipts"] == []
            pages += 1
        assert 2 <= pages <= 10
        # Pages that stop on the budget lose nothing: every transfer is found, once.
        assert len(_all_pages(node, {"sender": KEYS[8].address_text, "module": "bank", "limit": 1000})) == 3000
        # A range of heights with no index to use (no filter) is bounded the same way.
        for _ in range(3):
            node.call("dev_mine", [1000])
        page = node.call("tx_search", {"fromHeight": 60})
        assert page["receipts"] == [] and page["nextCursor"] is not None
        assert _all_pages(node, {"fromHeight": 60}) == []
        everything = _all_pages(node, {})
        assert len(everything) == len(set(everything)) == 3000


def _all_pages(node: RpcNode, query: dict) -> list:
    found, cursor = [], None
    while True:
        page = node.call("tx_search", {**query, **({"cursor": cursor} if cursor else {})})
        found += page["receipts"]
        cursor = page["nextCursor"]
        if cursor is None:
            return [(r["height"], r["index"]) for r in found]
