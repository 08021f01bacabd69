"""Bad input over real HTTP: each gets the right error, and the node keeps serving after it.

JSON-RPC errors (-32700 parse, -32600 invalid request, -32601 method not found, -32602
invalid params), notifications and batches, HTTP limits and paths (413, 404, 405, 400,
CORS refused by default, keep-alive, /health, /metrics), every transaction refusal code over tx_send
(1000 + code with data.name) and the mempool's refusals (-32003 with data.reason).
One devnet node in manual mining mode serves the module; tests that may kill a node
start their own.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import time

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.errors import all_error_classes
from rwachain.modules.core.tx import sign_tx
from rwachain.state.codec import encode
from tests.mech import hx
from tests.rpcnode import RpcNode

KEYS = devnet.dev_keys()
CHAIN = devnet.CHAIN_ID
MAX_BODY = 5 * 1024 * 1024


def _start(home, mining: str = "manual") -> RpcNode:
    n = RpcNode(home, mining=mining)
    n.start()
    return n


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = _start(tmp_path_factory.mktemp("errors") / "home")
    try:
        yield n
    finally:
        n.stop()


# ----- HTTP helpers --------------------------------------------------------------------
def conn(node: RpcNode, timeout: float = 10.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", node.port, timeout=timeout)


def post(node: RpcNode, body: bytes | str, c: http.client.HTTPConnection | None = None):
    """(status, headers, parsed JSON body or None) of one POST /."""
    c = c or conn(node)
    if isinstance(body, str):
        body = body.encode()
    c.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, (json.loads(data) if data else None)


def rpc(node: RpcNode, obj, c=None):
    status, _, body = post(node, json.dumps(obj), c)
    assert status == 200, (status, body)
    return body


def req(method: str, params=None, id_=1) -> dict:
    r = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        r["params"] = params
    return r


def assert_alive(node: RpcNode) -> None:
    assert node.proc.poll() is None, "".join(node.output[-40:])
    assert node.call("chain_status")["chainId"] == CHAIN


def assert_error(resp: dict, code: int, id_=1) -> dict:
    assert set(resp) == {"jsonrpc", "id", "error"}, resp
    assert resp["jsonrpc"] == "2.0" and resp["id"] == id_, resp
    assert resp["error"]["code"] == code, resp
    assert isinstance(resp["error"]["message"], str) and resp["error"]["message"]
    return resp["error"]


def transfer(key: Keypair, nonce: int, *, to: Keypair | None = None, amount: int = 1, fee: int = 5000,
             chain: str = CHAIN, module: str = "bank", call: str = "transfer", args: dict | None = None,
             expiry: int = 0) -> bytes:
    if args is None:
        args = {"to": (to or KEYS[9]).address, "denom": "rwa", "amount": amount}
    return sign_tx(key, chain=chain, nonce=nonce, fee=fee, module=module, call=call, args=args, expiry=expiry)


# ----- JSON-RPC framing ------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    b"{bad", b"", b"   ", b'{"jsonrpc": "2.0", "id": 1, "method": "chain_status"',
    b'{"jsonrpc": "2.0", "id": 1, "method": "chain_\xff\xfe"}', b"[1, 2,]", b"NaN", b"1e999",
    b'{"jsonrpc": "2.0", "id": 1, "method": "chain_status", "params": ["\\ud800"]}',
], ids=["truncated", "empty", "blank", "unclosed", "bad-utf8", "trailing-comma", "nan", "inf", "lone-surrogate"])
def test_malformed_json_is_a_parse_error(node, body):
    status, _, resp = post(node, body)
    assert status == 200
    err = assert_error(resp, -32700, None)
    assert "parse error" in err["message"]
    assert_alive(node)


@pytest.mark.parametrize("body", [
    1, "chain_status", None, True,
    {"id": 1, "method": "chain_status"},  # no "jsonrpc"
    {"jsonrpc": "1.0", "id": 1, "method": "chain_status"},
    {"jsonrpc": "2.0", "id": 1, "method": 42},
    {"jsonrpc": "2.0", "id": 1},
], ids=["number", "string", "null", "bool", "no-version", "wrong-version", "method-number", "no-method"])
def test_invalid_request(node, body):
    resp = rpc(node, body)
    id_ = body.get("id") if isinstance(body, dict) else None
    assert_error(resp, -32600, id_)
    assert_alive(node)


@pytest.mark.parametrize("bad_id", [{"a": 1}, [1], 1.5, True], ids=["object", "array", "fraction", "bool"])
def test_invalid_id_is_an_invalid_request_with_null_id(node, bad_id):
    resp = rpc(node, {"jsonrpc": "2.0", "id": bad_id, "method": "chain_status"})
    assert_error(resp, -32600, None)


def test_ids_are_echoed(node):
    for id_ in (0, -7, 2**53, "abc", "", None):
        resp = rpc(node, req("chain_status", id_=id_))
        assert resp["id"] == id_ and resp["result"]["chainId"] == CHAIN


@pytest.mark.parametrize("method,params,name", [
    ("chain_getBlock", ["one"], "height"),
    ("chain_getBlock", {"height": -1}, "height"),
    ("chain_getBlock", {"height": 1.5}, "height"),
    ("chain_getBlock", {"height": True}, "height"),
    ("chain_getBlock", [1, "yes"], "full"),
    ("chain_getBlock", [], "height"),  # required
    ("chain_getBlockByHash", ["0x1234"], "hash"),
    ("account_get", ["rwa1notanaddress"], "address"),
    ("account_get", [KEYS[0].address_text.upper()[:-1] + "x"], "address"),
    ("account_get", {"address": KEYS[0].address_text, "height": "-3"}, "height"),
    ("bank_balance", [KEYS[0].address_text], "denom"),
    ("bank_balance", [KEYS[0].address_text, 5], "denom"),
    ("tx_send", ["deadbeef"], "tx"),
    ("tx_send", ["0xabc"], "tx"),
    ("tx_send", [{"tx": "0x00"}], "tx"),
    ("tx_sendAndWait", ["0x00", -1], "timeout"),
    ("tx_search", {"attrs": [1]}, "attrs"),
    ("tx_search", {"limit": "ten"}, "limit"),
    ("state_get", [12], "key"),
    ("chain_status", {"foo": 1}, "foo"),  # unknown named parameter
    ("chain_getHeader", [1, 2], "at most"),  # too many positional
    ("chain_status", "notparams", "array or an object"),
    ("chain_status", 7, "array or an object"),
])
def test_invalid_params_name_the_parameter(node, method, params, name):
    resp = rpc(node, req(method, params))
    err = assert_error(resp, -32602)
    assert name in err["message"], err
    assert_alive(node)


def test_unknown_method(node):
    resp = rpc(node, req("chain_nope", [], id_="x"))
    err = assert_error(resp, -32601, "x")
    assert "chain_nope" in err["message"]
    assert_error(rpc(node, req("", id_=2)), -32601, 2)
    assert_alive(node)


def test_notifications_get_no_reply_but_run(node):
    h = node.call("chain_status")["height"]
    for body in [{"jsonrpc": "2.0", "method": "dev_mine"},  # runs: a block is made
                 {"jsonrpc": "2.0", "method": "chain_nope"},
                 {"jsonrpc": "2.0", "method": "chain_getBlock", "params": ["bad"]}]:
        status, _, resp = post(node, json.dumps(body))
        assert status == 204 and resp is None
    assert node.call("chain_status")["height"] == h + 1
    # a batch of only notifications: 204, nothing at all
    status, _, resp = post(node, json.dumps([{"jsonrpc": "2.0", "method": "chain_status"}] * 3))
    assert status == 204 and resp is None
    assert_alive(node)


def test_batches_answer_in_order(node):
    batch = [
        req("tx_sendAndWait", [hx(transfer(Keypair.dev(30_000), 0)), 0.3], id_="slow"),  # refused: cannot pay
        req("chain_status", id_=1),
        {"jsonrpc": "2.0", "method": "chain_status"},  # notification: no reply
        req("chain_nope", id_="b"),
        7,
        req("chain_getBlock", ["x"], id_=3),
        {"jsonrpc": "2.0", "id": 4},
        req("bank_supply", ["rwa"], id_=5),
    ]
    resp = rpc(node, batch)
    assert isinstance(resp, list)
    assert [r["id"] for r in resp] == ["slow", 1, "b", None, 3, 4, 5]
    assert resp[0]["error"]["code"] == 1014
    assert resp[1]["result"]["chainId"] == CHAIN
    assert [r.get("error", {}).get("code") for r in resp[2:]] == [-32601, -32600, -32602, -32600, None]
    assert resp[6]["result"].isdigit()

    # the order holds when the first call is the slowest one (a batch runs concurrently)
    key = Keypair.dev(30_001)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    slow = req("tx_sendAndWait", [hx(transfer(key, 0)), 0.5], id_="slow")  # manual mining: times out
    resp = rpc(node, [slow] + [req("chain_status", id_=i) for i in range(5)])
    assert [r["id"] for r in resp] == ["slow", 0, 1, 2, 3, 4]
    assert resp[0]["error"]["code"] == -32004
    assert_alive(node)


def test_batch_of_invalid_items_only(node):
    resp = rpc(node, [1, "x", None])
    assert len(resp) == 3
    for r in resp:
        assert_error(r, -32600, None)


def test_empty_batch(node):
    assert_error(rpc(node, []), -32600, None)
    assert_alive(node)


def test_oversize_batch_one_error_and_connection_kept(node):
    c = conn(node)
    status, headers, resp = post(node, json.dumps([req("chain_status", id_=i) for i in range(1001)]), c)
    assert status == 200 and isinstance(resp, dict)
    err = assert_error(resp, -32600, None)
    assert "1001" in err["message"]
    sock = c.sock
    assert sock is not None and headers.get("connection") != "close"
    # the same connection serves the next request; a batch at the limit is answered in full
    status, _, resp = post(node, json.dumps([req("chain_status", id_=i) for i in range(1000)]), c)
    assert status == 200 and [r["id"] for r in resp] == list(range(1000))
    assert c.sock is sock
    c.close()


def test_deeply_nested_json(node):
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                 b'{"jsonrpc": "2.0", "id": 1, "method": "chain_status", "params": [' + b"[" * 50_000 + b"]" * 50_001 + b"}"):
        status, _, resp = post(node, body)
        assert status == 200
        assert resp["error"]["code"] in (-32700, -32600, -32602), resp
        assert_alive(node)


# ----- HTTP ----------------------------------------------------------------------------------
def test_huge_body_is_413_and_node_alive(node):
    c = conn(node)
    status, headers, resp = post(node, b" " * (MAX_BODY + 1), c)
    assert status == 413 and headers.get("connection") == "close"
    assert "exceeds" in resp["error"]
    c.close()
    # chunked, with no Content-Length to judge by
    c = conn(node)
    c.request("POST", "/", body=(b" " * (1 << 20) for _ in range(6)), encode_chunked=True,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 413
    c.close()
    # exactly at the limit is still read and parsed
    status, _, resp = post(node, json.dumps(req("chain_status")).encode().ljust(MAX_BODY))
    assert status == 200 and resp["result"]["chainId"] == CHAIN
    assert_alive(node)


def test_oversize_content_length_is_refused_before_the_body(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=1.5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (1 << 30) + b"[" * 1000)
        try:
            head = s.recv(200)
        except TimeoutError:
            head = b""
    assert head.startswith(b"HTTP/1.1 413")


def test_paths_and_verbs(node):
    c = conn(node)
    for verb, path, status in [("GET", "/", 405), ("GET", "/?x=1", 405), ("PUT", "/", 405), ("DELETE", "/", 405),
                               ("GET", "/nope", 404), ("POST", "/nope", 404), ("GET", "/health/x", 404),
                               ("POST", "/health", 404)]:
        c.request(verb, path, body=b"{}" if verb in ("POST", "PUT") else None)
        r = c.getresponse()
        body = r.read()
        assert r.status == status, (verb, path, r.status, body)
        assert "error" in json.loads(body)
    # a query string on POST / is still the RPC endpoint
    c.request("POST", "/?a=b", body=json.dumps(req("chain_status")), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["result"]["chainId"] == CHAIN
    c.close()
    assert_alive(node)


def test_cors(node):
    """No CORS header by default (--cors names the origins that get one): a preflight from
    any origin is refused without one, and replies carry none."""
    c = conn(node)
    c.request("OPTIONS", "/", headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    r = c.getresponse()
    r.read()
    assert r.status == 403 and r.getheader("Access-Control-Allow-Origin") is None
    c.request("POST", "/", body=json.dumps(req("chain_status")),
              headers={"Origin": "http://example.test", "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 200 and r.getheader("Access-Control-Allow-Origin") is None
    c.close()


def _metrics(node: RpcNode) -> tuple[str, dict[str, float]]:
    c = conn(node)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/plain")
    c.close()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return text, samples


def test_health_and_metrics(node):
    key = Keypair.dev(30_002)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    node.call("tx_send", [hx(transfer(key, 0))])  # manual mining: stays in the mempool
    c = conn(node)
    c.request("GET", "/health")
    r = c.getresponse()
    health = json.loads(r.read())
    assert r.status == 200 and health["status"] == "ok"
    assert health["height"] == node.call("chain_status")["height"]
    assert health["mempool"] >= 1

    text, s = _metrics(node)
    for name in ("rwachain_height", "rwachain_mempool_size", "rwachain_tx_per_second", "rwachain_rpc_latency_seconds"):
        assert re.search(rf"^# TYPE {name} (gauge|histogram)$", text, re.M), name
    assert s["rwachain_height"] == health["height"]
    assert s["rwachain_mempool_size"] == health["mempool"]
    assert s["rwachain_tx_per_second"] >= 0
    for name in ("rwachain_block_gil_offers_total", "rwachain_block_gil_offer_seconds_total",
                 "rwachain_block_hooks_run_total", "rwachain_block_hooks_skipped_total"):
        assert re.search(rf"^# TYPE {name} counter$", text, re.M) and s[name] >= 0, name
    for name in ("rwachain_tx_handler_faults_total", "rwachain_block_hook_faults_total"):
        assert re.search(rf"^# TYPE {name} counter$", text, re.M) and s[name] == 0, name  # none on a sound chain
    turns = s["rwachain_block_hooks_run_total"] + s["rwachain_block_hooks_skipped_total"]
    buckets = [(k, v) for k, v in s.items() if k.startswith("rwachain_rpc_latency_seconds_bucket")]
    counts = [v for _, v in buckets]
    assert buckets[-1][0] == 'rwachain_rpc_latency_seconds_bucket{le="+Inf"}'
    assert counts == sorted(counts) and counts[-1] == s["rwachain_rpc_latency_seconds_count"] > 0
    assert s["rwachain_rpc_latency_seconds_sum"] >= 0
    before = s["rwachain_rpc_latency_seconds_count"]
    node.call("chain_status")
    node.call("dev_mine")
    _, s = _metrics(node)
    assert s["rwachain_rpc_latency_seconds_count"] >= before + 2
    assert s["rwachain_height"] == node.call("chain_status")["height"] == health["height"] + 1
    assert s["rwachain_mempool_size"] < health["mempool"]
    assert s["rwachain_block_hooks_run_total"] + s["rwachain_block_hooks_skipped_total"] > turns  # the new block's


def test_keep_alive_many_requests_one_connection(node):
    c = conn(node)
    c.request("GET", "/health")
    c.getresponse().read()
    sock = c.sock
    for i in range(20):
        kind = i % 4
        if kind == 0:
            assert rpc(node, req("chain_status", id_=i), c)["id"] == i
        elif kind == 1:
            c.request("GET", "/metrics")
            assert c.getresponse().read().startswith(b"# HELP")
        elif kind == 2:
            assert len(rpc(node, [req("chain_status", id_=j) for j in range(3)], c)) == 3
        else:
            c.request("GET", "/missing")
            r = c.getresponse()
            r.read()
            assert r.status == 404
        assert c.sock is sock, "the server closed a keep-alive connection"
    c.close()


def _read_response(f) -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 response with a Content-Length, read from a socket file."""
    status = int(f.readline().split()[1])
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, f.read(length)


def test_pipelined_requests(node):
    one = json.dumps(req("chain_status", id_=1)).encode()
    two = json.dumps(req("bank_supply", ["rwa"], id_=2)).encode()
    msg = b"".join(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(b), b) for b in (one, two))
    msg += b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with socket.create_connection(("127.0.0.1", node.port), timeout=5) as s, s.makefile("rb") as f:
        s.sendall(msg)
        replies = [_read_response(f) for _ in range(3)]
    assert [st for st, _ in replies] == [200, 200, 200]
    assert [json.loads(b)["id"] for _, b in replies[:2]] == [1, 2]
    assert json.loads(replies[2][1])["status"] == "ok"


@pytest.mark.parametrize("garbage", [b"\x00\xff\x13garbage\r\n\r\n", b"GET / HTTP/9.9.9\r\n\r\n",
                                     b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
                                     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64)],
                         ids=["binary", "bad-version", "bad-length", "tls-hello"])
def test_garbage_bytes_get_400_and_close(node, garbage):
    with socket.create_connection(("127.0.0.1", node.port), timeout=5) as s:
        s.sendall(garbage)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break  # the server closed the connection
            data += chunk
    assert data.startswith(b"HTTP/1.1 400"), data
    assert b"Connection: close" in data
    assert_alive(node)


def test_client_vanishing_mid_request(node):
    for partial in (b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"jso", b"POST / HTT", b""):
        s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
        s.sendall(partial)
        s.close()
    # a client that sends a request and leaves before the answer
    s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
    body = json.dumps(req("tx_sendAndWait", [hx(transfer(Keypair.dev(30_003), 0)), 0.2]))
    s.sendall(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
    s.close()
    time.sleep(0.3)
    assert_alive(node)


# ----- transaction refusals -------------------------------------------------------------------
ADMISSION = {c.name: c.code for c in all_error_classes() if 2 <= c.code < 50}


def _refusal_cases(node: RpcNode, key: Keypair) -> dict[str, bytes]:
    """One refused transaction per admission error name (key is funded, its nonce 0 is used)."""
    good = transfer(key, 1)
    return {
        "malformed": encode([encode({"nonce": 1}), bytes(64)]),
        "non_canonical_encoding": b"\xdc\x00\x02" + good[1:],  # array16 header where fixarray is canonical
        "oversize": transfer(key, 1, args={"to": KEYS[9].address, "denom": "rwa", "amount": 1, "memo": "x" * 17_000}),
        "wrong_chain_id": transfer(key, 1, chain="rwa-othernet-9"),
        "bad_signature": good[:-1] + bytes([good[-1] ^ 1]),
        "unknown_module": transfer(key, 1, module="nope", call="transfer"),
        "unknown_call": transfer(key, 1, call="mint"),
        "bad_arguments": transfer(key, 1, args={"to": KEYS[9].address, "denom": "rwa"}),
        "replayed_nonce": transfer(key, 0, amount=2),
        "nonce_gap": transfer(key, 1 + 64),
        "fee_too_low": transfer(key, 1, fee=10),
        "expired": transfer(key, 1, expiry=1),
        "cannot_pay_fee": transfer(Keypair.dev(30_010), 0),
    }


@pytest.fixture(scope="module")
def refusals(node):
    key = Keypair.dev(30_004)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    node.call("tx_send", [hx(transfer(key, 0))])
    node.call("dev_mine")  # nonce 0 used; the head is past height 1 (for the expiry case)
    return _refusal_cases(node, key)


def test_every_admission_error_is_covered(refusals):
    assert set(refusals) == set(ADMISSION)


@pytest.mark.parametrize("name", sorted(ADMISSION))
def test_tx_refusal_maps_to_1000_plus_code(node, refusals, name):
    raw = refusals[name]
    for method in ("tx_send", "tx_sendAndWait"):
        resp = rpc(node, req(method, [hx(raw)]))
        err = assert_error(resp, 1000 + ADMISSION[name])
        assert err["data"]["name"] == name, err
        assert err["data"]["txCode"] == ADMISSION[name]
    # nothing was admitted
    assert_error(rpc(node, req("tx_get", ["0x" + hashlib.sha256(raw).hexdigest()])), -32001)
    assert_alive(node)


def test_a_batch_of_tx_send_answers_each_call_as_alone(node, refusals):
    """A batch made only of tx_send is admitted as one batch (one check batch, one journal
    write); each call gets what tx_send alone gives, in order: hashes, refusals with their
    codes, the mempool's refusals, invalid params."""
    key = Keypair.dev(30_050)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    good = [transfer(key, n) for n in range(3)]
    bad_chain, low_fee = refusals["wrong_chain_id"], refusals["fee_too_low"]
    batch = [req("tx_send", [hx(good[0])], id_="a"), req("tx_send", [hx(bad_chain)], id_=2),
             req("tx_send", {"tx": hx(good[1])}, id_=None), req("tx_send", ["zz"], id_=4),
             req("tx_send", [hx(low_fee)], id_=5), req("tx_send", [hx(good[2])], id_=6),
             req("tx_send", [hx(good[0])], id_=7)]  # the same bytes as "a": already known
    resp = rpc(node, batch)
    assert [r["id"] for r in resp] == ["a", 2, None, 4, 5, 6, 7]
    for r, raw in ((resp[0], good[0]), (resp[2], good[1]), (resp[5], good[2])):
        assert r["result"] == "0x" + hashlib.sha256(raw).hexdigest(), r
    assert_error(resp[1], 1000 + ADMISSION["wrong_chain_id"], 2)
    assert resp[1]["error"]["data"]["name"] == "wrong_chain_id"
    assert_error(resp[3], -32602, 4)
    assert_error(resp[4], 1000 + ADMISSION["fee_too_low"], 5)
    err = assert_error(resp[6], -32003, 7)
    assert err["data"]["reason"] == "known"
    # the admitted ones are pending, in nonce order, and a block includes them
    assert node.call("account_get", [key.address_text])["pendingNonce"] == 3
    node.call("dev_mine")
    assert node.call("account_get", [key.address_text])["nonce"] == 3
    assert_alive(node)


def test_mempool_refusals(node):
    key = Keypair.dev(30_005)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    first = node.call("tx_send", [hx(transfer(key, 0))])
    raw = transfer(key, 1, fee=5000)
    h = node.call("tx_send", [hx(raw)])

    err = assert_error(rpc(node, req("tx_send", [hx(raw)])), -32003)  # the very same bytes again
    assert err["data"]["reason"] == "known"
    err = assert_error(rpc(node, req("tx_sendAndWait", [hx(raw), 0.1])), -32003)
    assert err["data"]["reason"] == "known"

    cheaper = transfer(key, 1, fee=5400, amount=2)  # same nonce, fee less than 10% higher
    err = assert_error(rpc(node, req("tx_send", [hx(cheaper)])), -32003)
    assert err["data"]["reason"] == "underpriced"
    err = assert_error(rpc(node, req("tx_send", [hx(transfer(key, 1, fee=4000, amount=3))])), -32003)
    assert err["data"]["reason"] == "underpriced"
    assert node.call("tx_get", [h])["status"] == "pending"

    better = transfer(key, 1, fee=5500, amount=4)  # 10% more replaces it
    h2 = node.call("tx_send", [hx(better)])
    assert node.call("tx_get", [h2])["status"] == "pending"
    assert_error(rpc(node, req("tx_get", [h])), -32001)
    assert node.call("account_get", [key.address_text])["pendingNonce"] == 2
    node.call("dev_mine")
    assert node.call("tx_getReceipt", [first])["code"] == 0
    assert node.call("tx_getReceipt", [h2])["fee"] == "5500"
    assert_alive(node)


def test_replacing_an_accounts_only_pending_tx_gets_mined(node):
    key = Keypair.dev(30_006)
    node.call("dev_setBalance", [key.address_text, "rwa", 10**9])
    node.call("tx_send", [hx(transfer(key, 0, fee=5000))])
    h2 = node.call("tx_send", [hx(transfer(key, 0, fee=6000, amount=2))])
    assert node.call("tx_get", [h2])["status"] == "pending"
    try:
        assert node.call("account_get", [key.address_text])["pendingNonce"] == 1
        node.call("dev_mine")
        assert node.call("tx_get", [h2])["status"] == "included"
    finally:
        assert_alive(node)


# ----- numbers beyond what the chain stores ----------------------------------------------------
BIG = str(2**64)


@pytest.mark.parametrize("method,params", [
    ("chain_getBlock", [BIG]), ("chain_getHeader", [BIG]), ("state_get", ["0x00", BIG]),
    ("tx_search", {"sender": KEYS[0].address_text, "fromHeight": BIG}),
    ("tx_search", {"sender": KEYS[0].address_text, "cursor": BIG + ":0"}),
], ids=["getBlock", "getHeader", "state_get", "search-from", "search-cursor"])
def test_heights_beyond_u64_get_a_client_error(node, method, params):
    try:
        resp = rpc(node, req(method, params))
        assert resp.get("error", {}).get("code") in (-32001, -32002, -32602), resp
    finally:
        assert_alive(node)


@pytest.mark.slow
@pytest.mark.parametrize("method,params", [
    ("dev_setTime", [BIG]), ("dev_advanceTime", [BIG]), ("dev_mine", {"time": BIG}),
], ids=["setTime", "advanceTime", "mine"])
def test_times_beyond_u64_are_refused_and_the_node_survives(tmp_path, method, params):
    n = _start(tmp_path / "home")
    try:
        try:
            resp = rpc(n, req(method, params))
        except (http.client.HTTPException, OSError) as exc:
            pytest.fail(f"no reply: {exc!r}")
        assert resp.get("error", {}).get("code") in (-32602, -32006), resp
        time.sleep(0.2)
        assert_alive(n)
    finally:
        n.kill()
