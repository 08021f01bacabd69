"""The ABCI socket server over real sockets, and the real CometBFT binary driving it.

The last test is the proof that codec and transport are right: a single-validator
CometBFT node connects to the server, passes the handshake (Info, InitChain) and commits
blocks through FinalizeBlock and Commit, as its own RPC /status reports on loopback.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import urllib.request

import pytest
import trio

from rwachain.node.abci import types as t
from rwachain.node.abci.codec import FrameReader, frame
from rwachain.node.abci.server import AbciServer, Address, EmptyApp
from tests.cometbft import binary, free_port


def _requests(*msgs) -> bytes:
    return b"".join(frame(t.encode_request(m)) for m in msgs)


async def _read_responses(stream, count: int) -> list:
    reader, got = FrameReader(), []
    while len(got) < count:
        data = await stream.receive_some(1 << 16)
        assert data, f"connection closed after {len(got)} of {count} responses"
        reader.feed(data)
        got += [t.decode_response(body) for body in reader.frames()]
    return got


async def _with_server(app, address: str, client) -> AbciServer:
    server = AbciServer(app)
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(server.serve, address)
        await client(bound)
        nursery.cancel_scope.cancel()
    return server


async def _connect(bound: Address):
    if bound.scheme == "unix":
        return await trio.open_unix_socket(bound.path)
    return await trio.open_tcp_stream(bound.host, bound.port)


async def _echo_info_flush(bound: Address) -> None:
    stream = await _connect(bound)
    async with stream:
        await stream.send_all(_requests(t.RequestEcho("ping ✓"), t.RequestInfo(version="x")))
        with trio.move_on_after(0.2) as waited:  # nothing is written before a Flush
            await stream.receive_some(1)
        assert waited.cancelled_caught
        await stream.send_all(_requests(t.RequestFlush()))
        assert await _read_responses(stream, 3) == [
            t.ResponseEcho("ping ✓"), t.ResponseInfo(data="rwachain", version="0"),
            t.ResponseFlush()]


def test_echo_info_and_flush_over_tcp():
    server = trio.run(_with_server, EmptyApp(), "tcp://127.0.0.1:0", _echo_info_flush)
    assert server.connections == 1


def test_echo_info_and_flush_over_a_unix_socket(tmp_path):
    path = str(tmp_path / "app.sock")
    trio.run(_with_server, EmptyApp(), f"unix://{path}", _echo_info_flush)
    assert not os.path.exists(path)  # the socket file goes with the server


def test_several_connections_are_answered_each_in_its_own_order():
    async def client(bound):
        streams = [await _connect(bound) for _ in range(4)]
        for i, stream in enumerate(streams):  # interleave the writes across connections
            await stream.send_all(_requests(t.RequestEcho(f"c{i}-a")))
        for i, stream in enumerate(streams):
            await stream.send_all(_requests(t.RequestEcho(f"c{i}-b"), t.RequestFlush()))
        for i, stream in enumerate(streams):
            assert await _read_responses(stream, 3) == [
                t.ResponseEcho(f"c{i}-a"), t.ResponseEcho(f"c{i}-b"), t.ResponseFlush()]
            await stream.aclose()

    server = trio.run(_with_server, EmptyApp(), "tcp://127.0.0.1:0", client)
    assert server.connections == 4


def _answers_exception_then_closes(payload: bytes, match: str):
    async def client(bound):
        stream = await _connect(bound)
        async with stream:
            await stream.send_all(payload)
            [response] = await _read_responses(stream, 1)
            assert type(response) is t.ResponseException
            assert re.search(match, response.error), response.error
            assert await stream.receive_some(1) == b""  # and the connection is closed
    return client


def test_a_malformed_request_gets_an_exception_and_the_connection_closes():
    bad = frame(b"\x0a\x05\x0a\x03\xff\xfe\xfd")  # Echo whose message is not UTF-8
    trio.run(_with_server, EmptyApp(), "tcp://127.0.0.1:0",
             _answers_exception_then_closes(bad, "UTF-8"))


class FailingApp(EmptyApp):
    """Fails on CheckTx, and answers Query with the wrong response type."""

    def check_tx(self, request):
        raise RuntimeError("admission broke")

    def query(self, request):
        return t.ResponseCommit()


def test_an_app_failure_gets_an_exception_and_the_connection_closes():
    trio.run(_with_server, FailingApp(), "tcp://127.0.0.1:0", _answers_exception_then_closes(
        _requests(t.RequestCheckTx(b"tx"), t.RequestFlush()), "check_tx: RuntimeError: admission broke"))
    trio.run(_with_server, FailingApp(), "tcp://127.0.0.1:0", _answers_exception_then_closes(
        _requests(t.RequestQuery(), t.RequestFlush()), "query answered ResponseCommit"))


def test_a_connection_dropped_mid_frame_leaves_the_server_serving():
    async def client(bound):
        stream = await _connect(bound)
        await stream.send_all(_requests(t.RequestEcho("x"))[:-1])
        await stream.aclose()
        await _echo_info_flush(bound)

    server = trio.run(_with_server, EmptyApp(), "tcp://127.0.0.1:0", client)
    assert server.connections == 2


@pytest.mark.parametrize("text, expected", [
    ("tcp://127.0.0.1:26658", Address("tcp", host="127.0.0.1", port=26658)),
    ("tcp://[::1]:0", Address("tcp", host="::1", port=0)),
    ("unix:///tmp/app.sock", Address("unix", path="/tmp/app.sock")),
])
def test_addresses_parse(text, expected):
    assert Address.parse(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:26658", "tcp://127.0.0.1", "tcp://:1",
                                  "tcp://h:70000", "grpc://h:1", "unix://"])
def test_bad_addresses_are_refused(text):
    with pytest.raises(ValueError, match="tcp://HOST:PORT or unix://PATH"):
        Address.parse(text)


# ----- the real CometBFT ------------------------------------------------------------------
class RecordingApp(EmptyApp):
    """EmptyApp that keeps the handshake, admission and block requests CometBFT sent it."""

    def __init__(self):
        super().__init__()
        self.seen: list = []

    def info(self, request):
        self.seen.append(request)
        return super().info(request)

    def init_chain(self, request):
        self.seen.append(request)
        return super().init_chain(request)

    def check_tx(self, request):
        self.seen.append(request)
        return super().check_tx(request)

    def finalize_block(self, request):
        self.seen.append(request)
        return super().finalize_block(request)

    def blocks(self) -> list[t.RequestFinalizeBlock]:
        return [r for r in self.seen if type(r) is t.RequestFinalizeBlock]


def _rpc(port: int, path: str) -> dict | None:
    """CometBFT's JSON-RPC result for a GET on loopback, or None while it is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=2) as reply:
            return json.load(reply).get("result")
    except OSError:
        return None


def _height(status: dict | None) -> int:
    return int((status or {}).get("sync_info", {}).get("latest_block_height", 0))


def _cometbft_home(tmp_path) -> str:
    home = str(tmp_path / "cometbft")
    subprocess.run([binary(), "init", "--home", home], check=True, capture_output=True)
    config = os.path.join(home, "config", "config.toml")
    with open(config) as f:
        text = f.read()
    text = re.sub(r'^timeout_commit = ".*"$', 'timeout_commit = "100ms"', text, flags=re.M)
    text = re.sub(r'^timeout_propose = ".*"$', 'timeout_propose = "1s"', text, flags=re.M)
    with open(config, "w") as f:
        f.write(text)
    return home


def _run_node(home: str, app, log_path, drive) -> tuple[AbciServer, str]:
    """Serve app to a cometbft node on home until `await drive(rpc_port)` returns (at most
    25 s); the server and the node's log."""
    rpc_port = free_port()

    async def run(bound: Address):
        command = [binary(), "start", "--home", home, "--proxy_app", str(bound),
                   "--rpc.laddr", f"tcp://127.0.0.1:{rpc_port}",
                   "--p2p.laddr", f"tcp://127.0.0.1:{free_port()}"]
        with open(log_path, "ab") as log:
            node = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            with trio.move_on_after(25):
                await drive(rpc_port)
        finally:
            node.terminate()
            await trio.to_thread.run_sync(node.wait, 10)

    server = trio.run(_with_server, app, "tcp://127.0.0.1:0", run)
    return server, log_path.read_text()[-3000:]


async def _until_height(rpc_port: int, height: int) -> dict:
    while True:
        status = await trio.to_thread.run_sync(_rpc, rpc_port, "status")
        if _height(status) >= height:
            return status
        await trio.sleep(0.1)


def test_cometbft_handshakes_and_commits_blocks_through_the_server(tmp_path):
    home = _cometbft_home(tmp_path)
    with open(os.path.join(home, "config", "genesis.json")) as f:
        genesis = json.load(f)
    app, status, tx = RecordingApp(), {}, b"rwachain-tx-1"

    async def drive(rpc_port):
        await _until_height(rpc_port, 2)
        sent = await trio.to_thread.run_sync(_rpc, rpc_port, f"broadcast_tx_sync?tx=0x{tx.hex()}")
        assert sent["code"] == 0
        while not any(tx in b.txs for b in app.blocks()):
            await trio.sleep(0.1)
        status.update(await _until_height(rpc_port, app.blocks()[-1].height + 1))

    server, log = _run_node(home, app, tmp_path / "cometbft.log", drive)
    assert _height(status) >= 3, log
    assert status["sync_info"]["latest_app_hash"] == ""
    assert server.connections >= 4, log  # consensus, mempool, query, snapshot
    assert app.last_height >= 3

    info, init = app.seen[0], app.seen[1]
    assert info == t.RequestInfo(version=binary_version(), block_version=11, p2p_version=8,
                                 abci_version="2.0.0")
    assert type(init) is t.RequestInitChain and init.chain_id == genesis["chain_id"]
    [validator] = genesis["validators"]
    assert init.validators == (t.ValidatorUpdate(
        t.PublicKey(ed25519=base64.b64decode(validator["pub_key"]["value"])), 10),)
    assert init.consensus_params.block == t.BlockParams(max_bytes=22020096, max_gas=-1)
    assert t.RequestCheckTx(tx=tx, type=t.CheckTxType.NEW) in app.seen
    blocks = app.blocks()
    assert [b.height for b in blocks] == list(range(1, len(blocks) + 1))
    assert [b.txs for b in blocks].count((tx,)) == 1
    assert all(b.proposer_address == bytes.fromhex(validator["address"]) for b in blocks)
    times = [(b.time.seconds, b.time.nanos) for b in blocks]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_cometbft_replays_its_blocks_to_an_app_that_lost_them(tmp_path):
    home, log_path = _cometbft_home(tmp_path), tmp_path / "cometbft.log"
    first = RecordingApp()

    async def three_blocks(rpc_port):
        await _until_height(rpc_port, 3)

    _run_node(home, first, log_path, three_blocks)
    stored = first.last_height
    assert stored >= 3
    second = RecordingApp()  # starts again from height 0: Info says so

    async def past_stored(rpc_port):
        await _until_height(rpc_port, stored + 1)

    _, log = _run_node(home, second, log_path, past_stored)
    heights = [b.height for b in second.blocks()]
    assert heights[:stored + 1] == list(range(1, stored + 2)), log
    assert [type(r) for r in second.seen[:2]] == [t.RequestInfo, t.RequestInitChain]
    replayed = second.blocks()[:stored]
    assert [(b.height, b.hash, b.time) for b in replayed] == [
        (b.height, b.hash, b.time) for b in first.blocks()[:stored]]


def binary_version() -> str:
    return subprocess.run([binary(), "version"], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_without_go_the_cometbft_tests_skip_with_a_one_line_reason(tmp_path, monkeypatch):
    from tests import cometbft

    monkeypatch.setattr(cometbft, "TOOLS", tmp_path)  # no binary built here
    monkeypatch.setenv("PATH", str(tmp_path))  # and no go on the PATH
    with pytest.raises(pytest.skip.Exception, match="go not found") as skipped:
        cometbft.binary()
    assert "\n" not in str(skipped.value)
