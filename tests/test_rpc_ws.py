"""The WebSocket at /ws against a real node: JSON-RPC, subscriptions, limits, pings.

The client is wsproto (sans-IO) over a plain blocking socket (WsClient below). The node
runs with --mining manual, so blocks appear only on dev_mine and every notification a
test expects is in the connection's queue before the dev_mine/tx_send HTTP call returns.
WsClient.sync() makes a round trip over the WebSocket: the server answers in order, so
every notification queued before that reply has arrived when sync() returns.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import itertools
import json
import re
import socket
import struct
import threading
import time
import urllib.request

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from tests.rpcnode import RpcError, RpcNode, node_fixture, open_connections

KEYS = devnet.dev_keys()
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600
MAX_SUBSCRIPTIONS = 64
MAX_MESSAGE = 1 << 20
IDLE = 0.02  # seconds for the server's writer to finish a send before the client sends a close frame


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class WsClient:
    """A minimal blocking JSON-RPC-over-WebSocket client."""

    def __init__(self, port: int, *, path: str = "/ws", timeout: float = 10.0, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if rcvbuf is not None:  # before connect: a small, fixed window (no autotuning)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events: collections.deque = collections.deque()
        self.notes: list[dict] = []
        self.pongs: list[bytes] = []
        self._ids = itertools.count(1)
        self.sock.sendall(self.ws.send(Request(host=f"127.0.0.1:{port}", target=path)))
        ev = self.next_event()
        if isinstance(ev, RejectConnection):
            raise AssertionError(f"handshake refused: {ev.status_code}")
        assert isinstance(ev, AcceptConnection), ev

    # ----- transport ---------------------------------------------------------------
    def next_event(self):
        while not self.events:
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self.events.extend(self.ws.events())
            if not data and not self.events:
                raise EOFError("connection closed")
        return self.events.popleft()

    def send_raw(self, event) -> None:
        self.sock.sendall(self.ws.send(event))

    def send_text(self, text: str) -> None:
        self.send_raw(TextMessage(data=text))

    def recv_message(self):
        """The next whole JSON message; answers server pings, records pongs."""
        parts: list[str] = []
        while True:
            ev = self.next_event()
            if isinstance(ev, TextMessage):
                parts.append(ev.data)
                if ev.message_finished:
                    return json.loads("".join(parts))
            elif isinstance(ev, Ping):
                self.send_raw(ev.response())
            elif isinstance(ev, Pong):
                self.pongs.append(bytes(ev.payload))
            elif isinstance(ev, CloseConnection):
                raise Closed(ev.code, ev.reason)
            else:
                raise AssertionError(f"unexpected event {ev!r}")

    # ----- JSON-RPC ----------------------------------------------------------------
    def request(self, method: str, params=None) -> dict:
        """Send a request and return its response; notifications meanwhile go to .notes."""
        id_ = next(self._ids)
        req = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            req["params"] = params
        self.send_text(json.dumps(req))
        return self.wait_reply(id_)

    def wait_reply(self, id_):
        while True:
            msg = self.recv_message()
            if isinstance(msg, dict) and msg.get("method") == "chain_subscription":
                self.notes.append(msg["params"])
            elif isinstance(msg, dict) and msg.get("id") == id_:
                return msg
            else:
                raise AssertionError(f"unexpected message {msg!r}")

    def call(self, method: str, params=None):
        resp = self.request(method, params)
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def subscribe(self, kind: str, **kw) -> str:
        sid = self.call("chain_subscribe", {"kind": kind, **kw})
        assert isinstance(sid, str) and sid
        return sid

    def sync(self) -> list[dict]:
        """Everything notified so far (a round trip flushes the queue); clears .notes."""
        self.call("chain_status")
        out, self.notes = self.notes, []
        return out

    def close(self) -> None:
        """The closing handshake: send a close frame, wait for the server's, then close.

        A close right after a reply is covered by test_node_survives_close_right_after_a_reply.
        """
        try:
            self.send_raw(CloseConnection(code=1000, reason="bye"))
            self.sock.settimeout(2.0)
            while not isinstance(self.next_event(), CloseConnection):
                pass
        except Exception:
            pass
        self.sock.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----- fixtures and helpers -------------------------------------------------------------
node = node_fixture("ws", mining="manual")


@pytest.fixture
def fresh_node(tmp_path):
    """A node of its own, for tests that may bring the server down."""
    with RpcNode(tmp_path / "home", mining="manual") as n:
        yield n


def transfer(node: RpcNode, sender, recipient, amount: int, denom: str = "rwa") -> str:
    nonce = node.call("account_get", [sender.address_text])["pendingNonce"]
    raw = sign_tx(sender, chain=devnet.CHAIN_ID, nonce=nonce, fee=5000, module="bank", call="transfer",
                  args={"to": recipient.address, "denom": denom, "amount": amount})
    return node.call("tx_send", ["0x" + raw.hex()])


def http_get(node: RpcNode, path: str) -> bytes:
    with urllib.request.urlopen(node.url + path, timeout=10) as resp:
        return resp.read()


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, return what the server sends until it has sent a full HTTP head."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


# ----- handshake and plain JSON-RPC -----------------------------------------------------
def test_handshake_answers_with_the_rfc6455_accept_key(node):
    # RFC 6455 section 1.3: this key must be answered with this accept value
    reply = raw_exchange(node.port, b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                    b"Sec-WebSocket-Version: 13\r\n\r\n")
    head = reply.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0].startswith(b"HTTP/1.1 101 ")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(b":", 1) for h in head[1:])}
    assert headers[b"upgrade"].lower() == b"websocket"
    assert headers[b"connection"].lower() == b"upgrade"
    assert headers[b"sec-websocket-accept"] == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    with WsClient(node.port) as ws:  # wsproto checks the accept key of its random key too
        assert ws.call("chain_status")["chainId"] == devnet.CHAIN_ID
        time.sleep(IDLE)  # see WsClient.close
        ws.send_raw(CloseConnection(code=1000, reason="done"))
        ev = ws.next_event()
        assert isinstance(ev, CloseConnection) and ev.code == 1000  # the server echoes the close


def test_bad_upgrades_are_refused(node):
    no_key = raw_exchange(node.port, b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert no_key.startswith(b"HTTP/1.1 400 ")
    key = base64.b64encode(b"0123456789abcdef")
    elsewhere = raw_exchange(node.port, b"GET /other HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                             b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert elsewhere.startswith(b"HTTP/1.1 404 ")
    ws = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(ws.send(Request(host="localhost", target="/nowhere")))
        events = []
        while not events:
            data = s.recv(65536)
            ws.receive_data(data or None)
            events = [e for e in ws.events() if not isinstance(e, RejectData)]
        assert isinstance(events[0], RejectConnection) and events[0].status_code == 404


def test_any_json_rpc_method_works_over_the_websocket(node):
    with WsClient(node.port) as ws:
        status = ws.call("chain_status")
        assert status["chainId"] == devnet.CHAIN_ID
        assert status == node.call("chain_status")
        assert ws.call("bank_balance", [KEYS[9].address_text, "rusd"]) == str(devnet.STABLE_EACH)
        assert ws.call("rpc.discover")["openrpc"] == "1.3.2"
        # a batch answers in order
        ws.send_text(json.dumps([{"jsonrpc": "2.0", "id": "a", "method": "chain_status"},
                                 {"jsonrpc": "2.0", "id": "b", "method": "no_such_method"}]))
        batch = ws.recv_message()
        assert [r["id"] for r in batch] == ["a", "b"]
        assert batch[0]["result"]["chainId"] == devnet.CHAIN_ID and batch[1]["error"]["code"] == -32601
        # invalid JSON: the standard parse error, and the connection stays usable
        ws.send_text("{not json")
        assert ws.recv_message()["error"]["code"] == -32700
        # a notification (no id) gets no answer: the next message is the next reply
        ws.send_text(json.dumps({"jsonrpc": "2.0", "method": "chain_status"}))
        assert ws.request("chain_status", [])["id"] is not None
        bad = ws.request("bank_balance", ["not-an-address", "rwa"])
        assert bad["error"]["code"] == INVALID_PARAMS


# ----- subscriptions ---------------------------------------------------------------------
def test_new_heads_notifies_each_mined_block(node):
    with WsClient(node.port) as ws:
        sid = ws.subscribe("newHeads")
        assert ws.sync() == []
        heights = node.call("dev_mine", {"blocks": 2})
        notes = ws.sync()
        assert [n["subscription"] for n in notes] == [sid, sid]
        assert [n["result"]["height"] for n in notes] == heights
        for n in notes:
            header = node.call("chain_getHeader", [n["result"]["height"]])
            assert n["result"] == header
            assert re.fullmatch(r"0x[0-9a-f]{64}", n["result"]["hash"])
        assert notes[1]["result"]["parent"] == notes[0]["result"]["hash"]


def test_pending_transactions_notifies_the_hash_on_tx_send(node):
    with WsClient(node.port) as ws:
        sid = ws.subscribe("pendingTransactions")
        h = transfer(node, KEYS[6], KEYS[7], 5)
        assert ws.sync() == [{"subscription": sid, "result": h}]
        node.call("dev_mine")
        assert node.call("tx_getReceipt", [h])["code"] == 0
        assert ws.sync() == []  # inclusion is not a pending transaction


def test_events_subscription_filters_by_type_and_attrs(node):
    with WsClient(node.port) as ws:
        to_two = ws.subscribe("events", eventType="bank.transfer", attrs={"recipient": KEYS[2].address_text})
        every = ws.subscribe("events", eventType="bank.transfer")
        none = ws.subscribe("events", eventType="bank.transfer",
                            attrs={"recipient": KEYS[2].address_text, "denom": "rusd"})
        fees = ws.subscribe("events", eventType="tx.fee", attrs={"payer": KEYS[0].address_text})
        h2 = transfer(node, KEYS[0], KEYS[2], 11)
        h3 = transfer(node, KEYS[0], KEYS[3], 12)
        [height] = node.call("dev_mine")
        notes = ws.sync()
        by_sub = collections.defaultdict(list)
        for n in notes:
            by_sub[n["subscription"]].append(n["result"])
        receipt = node.call("tx_getReceipt", [h2])
        assert by_sub[to_two] == [{"height": height, "index": receipt["index"], "txHash": h2, "type": "bank.transfer",
                                   "attrs": {"sender": KEYS[0].address_text, "recipient": KEYS[2].address_text,
                                             "denom": "rwa", "amount": "11"}}]
        assert sorted(e["txHash"] for e in by_sub[every]) == sorted([h2, h3])
        assert sorted(e["txHash"] for e in by_sub[fees]) == sorted([h2, h3])
        assert none not in by_sub
        assert set(by_sub) == {to_two, every, fees}


def test_unsubscribe_stops_notifications(node):
    with WsClient(node.port) as ws:
        gone = ws.subscribe("newHeads")
        kept = ws.subscribe("newHeads")
        assert ws.call("chain_unsubscribe", {"subscription": gone}) is True
        assert ws.call("chain_unsubscribe", [gone]) is False  # already removed
        assert ws.call("chain_unsubscribe", ["0xdoesnotexist"]) is False
        [height] = node.call("dev_mine")
        notes = ws.sync()
        assert [(n["subscription"], n["result"]["height"]) for n in notes] == [(kept, height)]
        assert ws.call("chain_unsubscribe", [kept]) is True
        node.call("dev_mine")
        assert ws.sync() == []


def test_subscription_ids_are_per_connection(node):
    with WsClient(node.port) as a, WsClient(node.port) as b:
        sid = a.subscribe("newHeads")
        assert b.call("chain_unsubscribe", [sid]) is False  # b cannot cancel a's subscription
        node.call("dev_mine")
        assert len(a.sync()) == 1 and b.sync() == []


@pytest.mark.parametrize("params", [
    {"kind": "oldHeads"},
    {"kind": ""},
    {"kind": 5},
    {},
    {"kind": "events"},  # events needs eventType
    {"kind": "newHeads", "unknown": 1},
    ["newHeads", None, None, "extra"],
    "newHeads",
])
def test_invalid_subscriptions_are_invalid_params(node, params):
    with WsClient(node.port) as ws:
        resp = ws.request("chain_subscribe", params)
        assert "result" not in resp
        assert resp["error"]["code"] == INVALID_PARAMS, resp
        assert resp["id"] == 1


def test_subscription_limit_per_connection(node):
    with WsClient(node.port) as ws:
        ids = [ws.subscribe("newHeads") for _ in range(MAX_SUBSCRIPTIONS)]
        assert len(set(ids)) == MAX_SUBSCRIPTIONS
        over = ws.request("chain_subscribe", {"kind": "pendingTransactions"})
        assert over["error"]["code"] == INVALID_REQUEST
        assert str(MAX_SUBSCRIPTIONS) in over["error"]["message"]
        # the limit is on live subscriptions, and per connection
        assert ws.call("chain_unsubscribe", [ids[0]]) is True
        ws.subscribe("pendingTransactions")
        with WsClient(node.port) as other:
            other.subscribe("newHeads")
        [height] = node.call("dev_mine")
        notes = ws.sync()
        assert len(notes) == MAX_SUBSCRIPTIONS - 1
        assert {n["result"]["height"] for n in notes} == {height}


def test_subscribe_over_http_says_websocket_only(node):
    for method, params in (("chain_subscribe", {"kind": "newHeads"}), ("chain_unsubscribe", ["0x1"])):
        resp = node.raw_call(method, params)
        assert "result" not in resp
        assert resp["error"]["code"] == INVALID_REQUEST
        assert "WebSocket" in resp["error"]["message"]


# ----- limits, pings, disconnects -------------------------------------------------------
def _padded_request(size: int, pad_char: str = "x") -> str:
    head = '{"jsonrpc":"2.0","id":7,"method":"chain_status","pad":"'
    tail = '"}'
    return head + pad_char * (size - len(head) - len(tail)) + tail


def test_message_at_the_limit_is_answered(node):
    with WsClient(node.port) as ws:
        msg = _padded_request(MAX_MESSAGE)
        assert len(msg.encode()) == MAX_MESSAGE
        ws.send_text(msg)
        assert ws.wait_reply(7)["result"]["chainId"] == devnet.CHAIN_ID


def _expect_close(ws: WsClient, *payload):
    """Send payload from a thread (the server may stop reading midway); the close code,
    or "answered" if a reply comes instead."""
    def send():
        try:
            for p in payload:
                ws.send_raw(p)
        except OSError:
            pass  # the server closed before reading all of it

    t = threading.Thread(target=send, daemon=True)
    t.start()
    try:
        while True:
            try:
                ev = ws.next_event()
            except (ConnectionResetError, EOFError) as exc:
                raise AssertionError("connection dropped without a close frame") from exc
            if isinstance(ev, CloseConnection):
                return ev.code
            if isinstance(ev, TextMessage):
                return "answered"
    finally:
        t.join(10)
        ws.sock.close()


def test_message_over_the_limit_closes_with_1009(node):
    ws = WsClient(node.port)
    assert _expect_close(ws, TextMessage(data=_padded_request(MAX_MESSAGE + 1))) == 1009
    assert node.call("chain_status")["chainId"] == devnet.CHAIN_ID


def test_fragmented_message_over_the_limit_closes_with_1009(node):
    ws = WsClient(node.port)
    msg = _padded_request(MAX_MESSAGE + 1)
    half = len(msg) // 2
    assert _expect_close(ws, TextMessage(data=msg[:half], message_finished=False),
                         TextMessage(data=msg[half:], message_finished=True)) == 1009
    assert node.call("chain_status")["chainId"] == devnet.CHAIN_ID


def test_message_limit_counts_bytes_not_characters(node):
    ws = WsClient(node.port)
    msg = _padded_request(600_000, pad_char="\u00e9")  # 'é': 2 bytes in UTF-8
    assert len(msg.encode()) > MAX_MESSAGE
    assert _expect_close(ws, TextMessage(data=msg)) == 1009


def test_client_that_falls_behind_is_closed_with_1008(node):
    ws = WsClient(node.port, rcvbuf=4096)  # a small window: the kernel does not hold the replies instead
    try:
        n = 6000  # more replies than the outgoing queue holds (4096 messages, 256 KiB)
        req = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_status"})
        ws.sock.sendall(b"".join(ws.ws.send(TextMessage(data=req)) for _ in range(n)))
        replies = 0
        with pytest.raises(Closed) as info:
            while True:
                assert ws.recv_message()["id"] == 1
                replies += 1
        assert info.value.code == 1008
        assert replies < n
    finally:
        ws.sock.close()
    assert node.call("chain_status")["chainId"] == devnet.CHAIN_ID


def test_server_answers_a_ping_with_a_pong(node):
    with WsClient(node.port) as ws:
        ws.send_raw(Ping(payload=b"are-you-there"))
        ev = ws.next_event()
        assert isinstance(ev, Pong) and bytes(ev.payload) == b"are-you-there"
        assert ws.call("chain_status")["chainId"] == devnet.CHAIN_ID  # still open


def _abrupt(sock: socket.socket, reset: bool) -> None:
    if reset:  # RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _wait_released(node: RpcNode, count: int) -> None:
    deadline = time.monotonic() + 5
    while open_connections(node.port) > count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert open_connections(node.port) <= count, "connections of disconnected clients were not released"


def _still_serving(node: RpcNode) -> None:
    """The node process is alive after a moment and answers HTTP and new WebSockets."""
    deadline = time.monotonic() + 1.0
    while node.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if node.proc.poll() is not None:
        out = node.proc.stdout.read()
        errors = [ln.strip(" |") for ln in out.splitlines() if re.match(r"[\s|]*[\w.]+(Error|Exception): ", ln)]
        raise AssertionError(f"the node exited with status {node.proc.returncode}: {' / '.join(errors[-2:])}")
    h = transfer(node, KEYS[8], KEYS[9], 3)
    [height] = node.call("dev_mine")
    assert node.call("tx_getReceipt", [h])["code"] == 0
    assert json.loads(http_get(node, "/health"))["status"] == "ok"
    with WsClient(node.port) as ws:
        sid = ws.subscribe("newHeads")
        [height] = node.call("dev_mine")
        assert [(n["subscription"], n["result"]["height"]) for n in ws.sync()] == [(sid, height)]


@pytest.mark.slow
def test_node_keeps_serving_after_websocket_clients_vanish(node):
    """Clients that close the TCP connection (FIN) without a close frame, mid-frame, or
    mid-handshake: the server releases them and keeps serving."""
    before = open_connections(node.port)
    clients = []
    for _ in range(4):
        ws = WsClient(node.port)
        ws.subscribe("newHeads")
        ws.subscribe("pendingTransactions")
        ws.subscribe("events", eventType="bank.transfer")
        clients.append(ws)
    clients[1].sock.sendall(clients[1].ws.send(TextMessage(data="x" * 1000))[:20])  # half a frame
    half = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    half.sendall(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n")  # half a handshake
    for ws in clients:
        _abrupt(ws.sock, reset=False)
    _abrupt(half, reset=True)  # before the upgrade a reset is plain HTTP's business
    _wait_released(node, before)
    _still_serving(node)


CRASH = "trio nurseries raise ExceptionGroup (strict exception groups, trio 0.35) and "


@pytest.mark.slow
def test_node_survives_a_websocket_client_reset(fresh_node):
    ws = WsClient(fresh_node.port)
    ws.subscribe("newHeads")
    _abrupt(ws.sock, reset=True)
    _still_serving(fresh_node)


@pytest.mark.slow
def test_node_survives_a_request_followed_by_close(fresh_node):
    ws = WsClient(fresh_node.port)
    req = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_status"})
    ws.sock.sendall(ws.ws.send(TextMessage(data=req)) + ws.ws.send(CloseConnection(code=1000)))
    ws.sock.settimeout(2)
    with contextlib.suppress(OSError, EOFError):
        while not isinstance(ws.next_event(), CloseConnection):
            pass
    ws.sock.close()
    _still_serving(fresh_node)


@pytest.mark.slow
def test_node_survives_close_right_after_a_reply(fresh_node):
    for _ in range(200):  # the race is lost within a few rounds; 200 clean rounds mean it is gone
        if fresh_node.proc.poll() is not None:
            break
        try:
            ws = WsClient(fresh_node.port, timeout=2)
            ws.call("chain_status")
            ws.send_raw(CloseConnection(code=1000))
            with contextlib.suppress(OSError, EOFError):
                while not isinstance(ws.next_event(), CloseConnection):
                    pass
            ws.sock.close()
        except (OSError, EOFError, Closed):
            break  # the node went away mid-round
    _still_serving(fresh_node)


@pytest.mark.slow
def test_node_survives_a_ping_while_replies_are_backed_up(fresh_node):
    ws = WsClient(fresh_node.port, rcvbuf=16384)
    try:
        batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "rpc.discover"} for i in range(50)])
        for _ in range(16):  # ~13 MB of replies that the client does not read
            ws.send_text(batch)
        time.sleep(0.5)
        ws.send_raw(Ping(payload=b"still there?"))
        _still_serving(fresh_node)
    finally:
        _abrupt(ws.sock, reset=False)


def test_subscribe_as_a_notification_gets_no_reply(node):
    with WsClient(node.port) as ws:
        ws.send_text(json.dumps({"jsonrpc": "2.0", "method": "chain_subscribe", "params": {"kind": "newHeads"}}))
        assert ws.request("chain_status")["id"] == 1  # the next message is this reply


def test_subscribe_inside_a_batch_over_the_websocket(node):
    with WsClient(node.port) as ws:
        ws.send_text(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "chain_subscribe",
                                  "params": {"kind": "newHeads"}}]))
        [resp] = ws.recv_message()
        assert "result" in resp, resp
