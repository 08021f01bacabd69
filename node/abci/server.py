"""The ABCI socket server: CometBFT's connections to the app, in trio.

CometBFT opens four connections (consensus, mempool, query, snapshot) to the address in
its proxy_app setting, tcp://HOST:PORT or unix://PATH. On each it sends requests framed as
[uvarint length][protobuf Request] and reads the responses in the same order. As in
CometBFT's own Go server, responses are buffered and written when a Flush request is
answered, and one lock serialises the app across all connections, so the app sees one
request at a time.

Echo and Flush are answered here. Every other request goes to the app's method of the
same name (RequestFinalizeBlock -> app.finalize_block(request)), which returns the
matching Response* message (or an awaitable of it). A request that does not decode, or an
app method that raises, is answered with ResponseException and the connection closes:
CometBFT stops on it rather than run on an app in an unknown state.

EmptyApp is the stand-in app until the chain's block transition serves FinalizeBlock: it
passes the handshake (Info at height 0 with an empty app hash), accepts InitChain and
produces empty-state blocks whose app hash stays empty.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import socket
from dataclasses import dataclass

import trio

from rwachain.node.abci import types as t
from rwachain.node.abci.codec import MAX_FRAME_BYTES, FrameReader, WireError, frame

RECEIVE_BYTES = 1 << 16  # bytes read from a connection per receive
APP_METHODS: dict[type, str] = {
    t.RequestInfo: "info", t.RequestInitChain: "init_chain", t.RequestQuery: "query",
    t.RequestCheckTx: "check_tx", t.RequestCommit: "commit",
    t.RequestListSnapshots: "list_snapshots", t.RequestOfferSnapshot: "offer_snapshot",
    t.RequestLoadSnapshotChunk: "load_snapshot_chunk",
    t.RequestApplySnapshotChunk: "apply_snapshot_chunk",
    t.RequestPrepareProposal: "prepare_proposal", t.RequestProcessProposal: "process_proposal",
    t.RequestExtendVote: "extend_vote", t.RequestVerifyVoteExtension: "verify_vote_extension",
    t.RequestFinalizeBlock: "finalize_block",
}


class AppFault(Exception):
    """The app could not answer a request; the connection answers ResponseException."""


@dataclass(frozen=True, slots=True)
class Address:
    """Where the server listens: scheme "tcp" with host and port, or "unix" with path."""
    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, text: str) -> Address:
        """tcp://HOST:PORT or unix://PATH (CometBFT's proxy_app forms)."""
        scheme, sep, rest = text.partition("://")
        if sep and scheme == "unix" and rest:
            return cls("unix", path=rest)
        host, colon, port = rest.rpartition(":")
        if sep and scheme == "tcp" and colon and host and port.isdigit() and int(port) < 65536:
            return cls("tcp", host=host.strip("[]"), port=int(port))
        raise ValueError(f"ABCI address must be tcp://HOST:PORT or unix://PATH, not {text!r}")

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.scheme == "unix" else f"tcp://{self.host}:{self.port}"


class AbciServer:
    """Serves one app to CometBFT's connections. connections counts those accepted."""

    def __init__(self, app, *, max_frame_bytes: int = MAX_FRAME_BYTES):
        self.app = app
        self.max_frame_bytes = max_frame_bytes
        self.connections = 0
        self._lock = trio.Lock()

    async def serve(self, address: str, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Listen on address until cancelled; task_status.started gets the bound Address
        (with the actual port when the given one was 0)."""
        where = Address.parse(address)
        listeners = await _listen(where)
        bound = where
        if where.scheme == "tcp":
            host, port = listeners[0].socket.getsockname()[:2]
            bound = Address("tcp", host=host, port=port)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.serve_listeners, self.handle, listeners)
                task_status.started(bound)
        finally:
            if where.scheme == "unix":
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(where.path)

    async def handle(self, stream: trio.abc.Stream) -> None:
        """Answer one connection's requests in order until it closes or a request fails."""
        self.connections += 1
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await self._converse(stream)

    async def _converse(self, stream: trio.abc.Stream) -> None:
        reader = FrameReader(self.max_frame_bytes)
        pending = bytearray()
        async with stream:
            while True:
                data = await stream.receive_some(RECEIVE_BYTES)
                if not data:
                    return
                reader.feed(data)
                try:
                    for body in reader.frames():
                        request = t.decode_request(body)
                        pending += frame(t.encode_response(await self.respond(request)))
                        if type(request) is t.RequestFlush:
                            await stream.send_all(pending)
                            pending.clear()
                except (WireError, AppFault) as exc:
                    pending += frame(t.encode_response(t.ResponseException(str(exc))))
                    await stream.send_all(pending)
                    return

    async def respond(self, request):
        """The response to one decoded request (AppFault if the app fails on it)."""
        kind = type(request)
        if kind is t.RequestEcho:
            return t.ResponseEcho(request.message)
        if kind is t.RequestFlush:
            return t.ResponseFlush()
        async with self._lock:
            try:
                response = getattr(self.app, APP_METHODS[kind])(request)
                if inspect.isawaitable(response):
                    response = await response
            except Exception as exc:  # any app failure becomes CometBFT's exception
                raise AppFault(f"{APP_METHODS[kind]}: {type(exc).__name__}: {exc}") from exc
        # Each Response's oneof number is its Request's plus one.
        if t.RESPONSE_FIELDS.get(type(response)) != t.REQUEST_FIELDS[kind] + 1:
            raise AppFault(f"{APP_METHODS[kind]} answered {type(response).__name__}")
        return response


async def _listen(where: Address) -> list[trio.SocketListener]:
    if where.scheme == "tcp":
        return await trio.open_tcp_listeners(where.port, host=where.host)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(where.path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    await sock.bind(where.path)
    sock.listen()
    return [trio.SocketListener(sock)]


class NoExtensionsNoSnapshots:
    """The ABCI answers of an app that uses neither vote extensions nor state sync: an
    empty extension, every extension accepted, no snapshots offered, any offered refused."""

    def extend_vote(self, request: t.RequestExtendVote) -> t.ResponseExtendVote:
        return t.ResponseExtendVote()

    def verify_vote_extension(self, request) -> t.ResponseVerifyVoteExtension:
        return t.ResponseVerifyVoteExtension(t.VerifyStatus.ACCEPT)

    def list_snapshots(self, request) -> t.ResponseListSnapshots:
        return t.ResponseListSnapshots()

    def offer_snapshot(self, request) -> t.ResponseOfferSnapshot:
        return t.ResponseOfferSnapshot(t.OfferSnapshotResult.REJECT)

    def load_snapshot_chunk(self, request) -> t.ResponseLoadSnapshotChunk:
        return t.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(self, request) -> t.ResponseApplySnapshotChunk:
        return t.ResponseApplySnapshotChunk(t.ApplySnapshotChunkResult.ABORT)


class EmptyApp(NoExtensionsNoSnapshots):
    """A chain with no state: every block is accepted and the app hash stays empty.

    It answers the handshake (Info: the last committed height, empty app hash) and lets
    CometBFT produce blocks; transactions are admitted and included without effect.
    """

    def __init__(self):
        self.last_height = 0  # last committed block height
        self._finalized = 0  # height finalized but not yet committed

    def info(self, request: t.RequestInfo) -> t.ResponseInfo:
        return t.ResponseInfo(data="rwachain", version="0", last_block_height=self.last_height)

    def init_chain(self, request: t.RequestInitChain) -> t.ResponseInitChain:
        return t.ResponseInitChain()

    def query(self, request: t.RequestQuery) -> t.ResponseQuery:
        return t.ResponseQuery(code=1, log="no state", height=self.last_height)

    def check_tx(self, request: t.RequestCheckTx) -> t.ResponseCheckTx:
        return t.ResponseCheckTx()

    def prepare_proposal(self, request: t.RequestPrepareProposal) -> t.ResponsePrepareProposal:
        return t.ResponsePrepareProposal(request.txs)

    def process_proposal(self, request: t.RequestProcessProposal) -> t.ResponseProcessProposal:
        return t.ResponseProcessProposal(t.ProposalStatus.ACCEPT)

    def finalize_block(self, request: t.RequestFinalizeBlock) -> t.ResponseFinalizeBlock:
        self._finalized = request.height
        return t.ResponseFinalizeBlock(tx_results=tuple(t.ExecTxResult() for _ in request.txs))

    def commit(self, request: t.RequestCommit) -> t.ResponseCommit:
        self.last_height = self._finalized
        return t.ResponseCommit()

