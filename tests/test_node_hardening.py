"""Node hardening on real node processes: atomic dev_loadState, decompression bombs,
browser-safe HTTP defaults (Content-Type, Host, CORS, WebSocket Origin), safe init and
start, snapshot pins across restarts, keystore KDF limits and keyring permissions."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import random
import socket
import stat
import subprocess
import sys
import threading
import time
import zlib

import msgpack
import nacl.pwhash.argon2id as argon2id
import plyvel
import pytest

from rwachain.genesis import devnet
from rwachain.rpc.cli import keystore
from tests.mech import hx, transfer
from tests.rpcnode import ROOT, RWAD, RpcError, RpcNode, node_fixture, rwad

KEYS = devnet.dev_keys()
with open(devnet.PATH, "rb") as _f:
    DEVNET_BYTES = _f.read()


def _one_line_error(p: subprocess.CompletedProcess, *words: str) -> str:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr + p.stdout, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.startswith("rwad: ")]
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _head(node: RpcNode) -> tuple:
    s = node.call("chain_status")
    return s["height"], s["hash"], s["stateRoot"]


# ----- 1. dev_loadState: atomic under SIGKILL, bombs refused ------------------------------------
@pytest.mark.slow
def test_flaw_load_state_killed_midway_leaves_old_or_new(tmp_path):
    """SIGKILL at random moments while dumps are being loaded back to back: after each
    restart the chain is one of the dumps (or the state before the first load), whole,
    never genesis or a mix."""
    node = RpcNode(tmp_path / "home", mining="manual").start()
    try:
        node.call("dev_mine", [30])
        dump_a, head_a = node.call("dev_dumpState"), _head(node)
        for n in range(20):
            node.call("tx_send", [hx(transfer(KEYS[0], n, KEYS[1], 1000 + n))])
            node.call("dev_mine", [1])
        node.call("dev_mine", [40])
        dump_b, head_b = node.call("dev_dumpState"), _head(node)
        wholes = {head_a, head_b}
        rng = random.Random(18)
        deadline = time.monotonic() + 40
        rounds = 0
        while rounds < 25 and time.monotonic() < deadline:
            stop = threading.Event()

            def load_forever(n=node, stop=stop):
                i = 0
                while not stop.is_set():
                    with contextlib.suppress(Exception):
                        n.call("dev_loadState", [(dump_a, dump_b)[i % 2]], timeout=5)
                    i += 1

            t = threading.Thread(target=load_forever, daemon=True)
            t.start()
            time.sleep(rng.uniform(0.02, 0.15))
            node.kill()
            stop.set()
            t.join(10)
            node.start()
            assert _head(node) in wholes, f"round {rounds}: the chain is neither dump after a kill during a load"
            rounds += 1
        assert rounds >= 10
    finally:
        node.kill()


def _vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def _bomb(decompressed: int) -> str:
    """A zlib stream of one msgpack [key, value] pair whose value is `decompressed` zero bytes."""
    z = zlib.compressobj(9)
    head = b"\x92" + msgpack.packb(b"fkey") + b"\xc6" + decompressed.to_bytes(4, "big")
    parts = [z.compress(head)]
    chunk = bytes(1 << 20)
    for _ in range(decompressed >> 20):
        parts.append(z.compress(chunk))
    parts.append(z.flush())
    return "0x" + b"".join(parts).hex()


def _pairs_bomb(total: int) -> str:
    """A zlib stream of well-formed 1 KiB [key, value] pairs adding up to about total bytes."""
    z = zlib.compressobj(9)
    pair = msgpack.packb([b"fkey", bytes(1024)])
    block = pair * 1024
    return "0x" + (b"".join(z.compress(block) for _ in range(total // len(block))) + z.flush()).hex()


@pytest.mark.slow
def test_flaw_load_state_bomb_refused_without_memory(tmp_path):
    """A 200 KB dump that inflates to 200 MB is refused with a JSON-RPC error naming the
    limit; the node's peak RSS grows by less than 50 MB and its chain is untouched. So is
    one of well-formed pairs past --max-load-size, and nothing of it stays on disk."""
    bomb = _bomb(200 << 20)
    assert len(bomb) // 2 < 250_000
    home = tmp_path / "home"
    with RpcNode(home, "--max-load-size", str(32 << 20), mining="manual") as node:
        node.call("dev_mine", [3])
        before_head = _head(node)
        node.call("dev_loadState", [node.call("dev_dumpState")])  # warm the dump/load path
        before = _vm_hwm_kb(node.proc.pid)
        for dump, words in ((bomb, "entry decompresses to more than"), (_pairs_bomb(100 << 20), "--max-load-size")):
            with pytest.raises(RpcError) as err:
                node.call("dev_loadState", [dump])
            grown_mb = (_vm_hwm_kb(node.proc.pid) - before) / 1024
            assert grown_mb < 50, f"peak RSS grew {grown_mb:.0f} MB for a refused bomb"
            assert err.value.code == -32602 and words in err.value.message, err.value.message
        assert _head(node) == before_head
        assert [d for d in os.listdir(home / "data") if d.endswith(".ldb")] == [
            (home / "data" / "STATE").read_text().strip()]


# ----- 6. browser-safe HTTP defaults --------------------------------------------------------------
def _exchange(port: int, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """One raw HTTP/1.1 request (head without the blank line); (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    lines = top.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


SNAPSHOT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "dev_snapshot"}).encode()


web_node = node_fixture("web", mining="manual")


def test_flaw_text_plain_post_is_refused_415(web_node):
    """A cross-site form or fetch() may send text/plain without a preflight: refused."""
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{web_node.port}\r\nOrigin: http://evil.test\r\n"
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        status, headers, body = _exchange(web_node.port, head, SNAPSHOT)
        assert status == 415, (ctype, status, body)
        assert "access-control-allow-origin" not in headers
    status, _, body = _exchange(web_node.port, f"POST / HTTP/1.1\r\nHost: localhost:{web_node.port}\r\n"
                                               "Content-Type: application/json; charset=utf-8\r\n", SNAPSHOT)
    assert status == 200 and "result" in json.loads(body)


def test_flaw_foreign_host_is_refused(web_node, tmp_path):
    """DNS rebinding: a request whose Host is not a local name is refused (403), also the
    WebSocket upgrade; --http-vhosts names other hosts, or '*' for any."""
    for host in ("evil.test", f"evil.test:{web_node.port}", "10.1.2.3"):
        status, _, body = _exchange(web_node.port, f"POST / HTTP/1.1\r\nHost: {host}\r\n"
                                                   "Content-Type: application/json\r\n", SNAPSHOT)
        assert status == 403 and b"Host" in body, (host, status, body)
    status, _, _ = _exchange(web_node.port, "GET /ws HTTP/1.1\r\nHost: evil.test\r\nUpgrade: websocket\r\n"
                                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                            "Sec-WebSocket-Version: 13\r\n")
    assert status == 403
    for host in ("localhost", f"127.0.0.1:{web_node.port}", "[::1]:1"):
        status, _, _ = _exchange(web_node.port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n")
        assert status == 200, host
    with RpcNode(tmp_path / "h2", "--http-vhosts", "node.example", mining="manual") as n:
        ok, _, _ = _exchange(n.port, "GET /health HTTP/1.1\r\nHost: node.example:8545\r\n")
        bad, _, _ = _exchange(n.port, "GET /health HTTP/1.1\r\nHost: evil.test\r\n")
        assert (ok, bad) == (200, 403)
    with RpcNode(tmp_path / "h3", "--http-vhosts", "*", mining="manual") as n:
        assert _exchange(n.port, "GET /health HTTP/1.1\r\nHost: anything.test\r\n")[0] == 200


def test_flaw_no_cors_header_unless_origins_are_named(web_node, tmp_path):
    c = http.client.HTTPConnection("127.0.0.1", web_node.port, timeout=10)
    c.request("OPTIONS", "/", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"})
    r = c.getresponse()
    r.read()
    assert r.getheader("Access-Control-Allow-Origin") is None
    c.request("POST", "/", body=SNAPSHOT, headers={"Content-Type": "application/json", "Origin": "http://evil.test"})
    r = c.getresponse()
    r.read()
    assert r.status == 200 and r.getheader("Access-Control-Allow-Origin") is None
    c.close()
    with RpcNode(tmp_path / "home", "--cors", "http://app.test", mining="manual") as n:
        c = http.client.HTTPConnection("127.0.0.1", n.port, timeout=10)
        c.request("OPTIONS", "/", headers={"Origin": "http://app.test", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
        r = c.getresponse()
        r.read()
        assert r.status == 204 and r.getheader("Access-Control-Allow-Origin") == "http://app.test"
        assert "content-type" in r.getheader("Access-Control-Allow-Headers").lower()
        for origin, allowed in (("http://app.test", "http://app.test"), ("http://evil.test", None)):
            c.request("POST", "/", body=SNAPSHOT, headers={"Content-Type": "application/json", "Origin": origin})
            r = c.getresponse()
            r.read()
            assert r.getheader("Access-Control-Allow-Origin") == allowed, origin
        c.close()


def test_flaw_websocket_from_foreign_origin_is_refused(web_node):
    """Browsers open WebSockets to any origin without CORS: a page's Origin not named by
    --cors is refused the upgrade (403); clients that send no Origin are not browsers."""
    up = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{web_node.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
    assert _exchange(web_node.port, up + "Origin: http://evil.test\r\n")[0] == 403
    with socket.create_connection(("127.0.0.1", web_node.port), timeout=10) as s:
        s.sendall(up.encode() + b"\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 101")


# ----- 7. safe init and start ------------------------------------------------------------------
def _start_home(home, timeout: float = 30) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(RWAD + ["start", "--home", str(home), "--port", "0", "--mining", "manual"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    out = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "".join(out)
        out.append(line)
        if "listening on http://" in line:
            return proc, int(line.split("http://")[1].split(":")[1].split()[0])
    raise AssertionError("".join(out))


def test_flaw_init_without_dev_makes_a_fresh_validator_and_no_dev_accounts(tmp_path):
    before = int(time.time())
    p = rwad("init", "--home", str(tmp_path / "n"))
    assert p.returncode == 0, p.stderr
    assert "fresh validator key" in p.stdout and "genesis time" in p.stdout, p.stdout
    with open(tmp_path / "n" / "validator.key") as f:
        seed = bytes.fromhex(json.load(f)["ed25519Seed"])
    assert seed != devnet.validator_key().seed
    with open(tmp_path / "n" / "genesis.json") as f:
        doc = json.load(f)
    assert before - 5 <= doc["genesisTime"] <= int(time.time()) + 5
    text = json.dumps(doc)
    assert not any(k.address_text in text for k in KEYS), "a public dev account is in a non-dev genesis"
    assert doc["validator"]["pubkey"] != "0x" + devnet.validator_key().pubkey.hex()
    proc, port = _start_home(tmp_path / "n")
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/", body=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_status"}),
                  headers={"Content-Type": "application/json"})
        status = json.loads(c.getresponse().read())["result"]
        assert status["time"] >= before - 5
    finally:
        proc.terminate()
        proc.wait(15)
        proc.stdout.close()
    p = rwad("init", "--dev", "--home", str(tmp_path / "d"))
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "d" / "validator.key") as f:
        assert json.load(f)["ed25519Seed"] == devnet.validator_key().seed.hex()


@pytest.mark.slow
def test_flaw_restart_with_another_genesis_is_refused(tmp_path):
    home = tmp_path / "home"
    with RpcNode(home, mining="manual") as n:
        first = _head(n)
    built_from = (home / "genesis.json").read_bytes()
    p = rwad("devnet", "--home", str(home), "--port", "0", "--genesis", devnet.PATH, timeout=60)
    line = _one_line_error(p, devnet.CHAIN_ID, hashlib.sha256(built_from).hexdigest()[:16],
                           hashlib.sha256(DEVNET_BYTES).hexdigest()[:16])
    assert "genesis" in line
    assert (home / "genesis.json").read_bytes() == built_from
    with RpcNode(home, mining="manual") as n:  # the same home without --genesis still serves its chain
        assert _head(n) == first
    # a fresh home started on --genesis keeps that file as its genesis.json
    other = tmp_path / "other"
    with RpcNode(other, mining="manual", genesis=devnet.PATH):
        pass
    assert (other / "genesis.json").read_bytes() == DEVNET_BYTES
    with RpcNode(other, mining="manual", genesis=devnet.PATH):  # the same genesis again: fine
        pass


def test_flaw_port_in_use_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = rwad("devnet", "--port", str(port), timeout=60)
    _one_line_error(p, str(port), "--port")


# ----- 8. snapshot pins across restarts ----------------------------------------------------------
def _undo_logs(data_dir) -> int:
    db = plyvel.DB(str(data_dir / "data" / "state.ldb"))
    try:
        return sum(1 for _ in db.iterator(prefix=b"u", include_value=False))
    finally:
        db.close()


def test_flaw_snapshot_pins_released_on_restart(tmp_path):
    """Snapshot ids live as long as the node process; a restart releases their pins, so
    undo logs are pruned to the retention window again."""
    home = tmp_path / "home"
    node = RpcNode(home, "--keep-versions", "5", mining="manual").start()
    try:
        node.call("dev_mine", [2])
        sid = node.call("dev_snapshot")
        node.call("dev_mine", [3])
        node.kill()
        node.start()
        with pytest.raises(RpcError):
            node.call("dev_revert", [sid])
        node.call("dev_mine", [60])
        node.stop()
        assert _undo_logs(home) <= 5 + 1
    finally:
        node.kill()


# ----- 9. keystore -------------------------------------------------------------------------------
@pytest.mark.slow
def test_flaw_key_file_with_extreme_kdf_cost_is_refused(tmp_path):
    ring = keystore.Keyring(str(tmp_path / "ring"))
    info = ring.create("k", "pw", opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)
    with open(info.path) as f:
        doc = json.load(f)
    env = {"RWAD_KEYRING": ring.dir, "RWAD_PASSPHRASE": "pw"}
    ok = rwad("keys", "export", "k", "--unsafe", env=env)
    assert ok.returncode == 0, ok.stderr
    for ops, mem in ((1000, argon2id.MEMLIMIT_MIN), (argon2id.OPSLIMIT_MIN, 2 << 30)):
        doc["kdf"]["opslimit"], doc["kdf"]["memlimit"] = ops, mem
        os.chmod(info.path, 0o600)
        with open(info.path, "w") as f:
            json.dump(doc, f)
        _one_line_error(rwad("keys", "export", "k", "--unsafe", env=env), "opslimit", "memlimit")
    with pytest.raises(keystore.KeystoreError, match="opslimit"):
        ring.create("k2", "pw", opslimit=1000, memlimit=argon2id.MEMLIMIT_MIN)


def test_flaw_keyring_with_wide_permissions_is_tightened(tmp_path):
    ring = tmp_path / "ring"
    ring.mkdir(mode=0o755)
    os.chmod(ring, 0o777)
    p = rwad("keys", "list", env={"RWAD_KEYRING": str(ring)})
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(ring).st_mode) == 0o700
    assert "permissions" in p.stderr, p.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
