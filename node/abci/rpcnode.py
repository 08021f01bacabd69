"""What the JSON-RPC server serves in ABCI mode: the chain of an ABCI app, with CometBFT
ordering the blocks.

AbciNode offers the surface the RPC front-end uses of a devnet's Node: the chain and its
readers, admission (submit: checked here for the same typed errors, then forwarded to
CometBFT's broadcast_tx_sync on loopback, which runs CheckTx again through the mempool
connection), inclusion waits and new-head listeners (fired when the app commits a
block). It has no clock of its own, no mining and no dev_* operations. Its mempool holds
only what this node forwarded and no block has included yet (CometBFT's mempool is the
real one); a crash forgets it, while CometBFT keeps its own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time as _time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import trio

from rwachain.modules.core import accounts
from rwachain.modules.core.app import MEMPOOL, BlockResult
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.node.abci.app import ChainApp, Executed, comet_hash_at
from rwachain.node.block import Block
from rwachain.node.inclusion import InclusionWaiters
from rwachain.node.mempool import Mempool, MempoolError

FORWARD_TIMEOUT = 10.0  # s CometBFT has to answer a broadcast_tx_sync
MAX_TIME_AHEAD = 100 * 365 * 86400  # s: as a devnet, the furthest a time may be past the last block


@dataclass
class AbciOptions:
    dev: bool = False  # no dev_* methods: CometBFT makes the blocks
    mining: str = "cometbft"


def _error_classes() -> dict[int, type[InvalidTransaction]]:
    """Every InvalidTransaction subclass by its code."""
    out, todo = {}, [InvalidTransaction]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return out


class AbciNode:
    """The RPC's view of a chain served to CometBFT (see the module docstring)."""

    def __init__(self, app: ChainApp, comet_rpc: str):
        self.abci = app
        self.chain = app.chain
        self.comet_rpc = comet_rpc.rstrip("/")  # http://127.0.0.1:PORT
        self.options = AbciOptions()
        self.mempool = Mempool()
        self.gil_offers = 0
        self.gil_offer_seconds = 0.0
        self._errors = _error_classes()
        self._inclusion = InclusionWaiters(self.chain.blocks)
        self._head_listeners: list[Callable[[Block, BlockResult], None]] = []
        self._pending_listeners: list[Callable[[bytes], None]] = []
        self._block_times: deque[tuple[float, int]] = deque(maxlen=64)
        app.on_commit.append(self._after_block)

    # ----- listeners ---------------------------------------------------------------------
    def on_new_head(self, fn: Callable[[Block, BlockResult], None]) -> Callable[[], None]:
        self._head_listeners.append(fn)
        return lambda: self._head_listeners.remove(fn)

    def on_revert(self, fn: Callable[[int], None]) -> Callable[[], None]:
        return lambda: None  # a committed block is final under CometBFT: nothing reverts

    def on_pending_tx(self, fn: Callable[[bytes], None]) -> Callable[[], None]:
        self._pending_listeners.append(fn)
        return lambda: self._pending_listeners.remove(fn)

    def _after_block(self, done: Executed) -> None:
        result = done.result
        reader = self.chain.app.reader()
        nonces = {r.sender: accounts.nonce(reader, r.sender) for r in result.receipts if r.sender is not None}
        self.mempool.on_block(result.tx_hashes, nonces)
        self._block_times.append((_time.monotonic(), len(result.tx_hashes)))
        self._inclusion.included(result.tx_hashes)
        for fn in list(self._head_listeners):
            fn(done.block, result)

    # ----- time (the last block's: the chain has no other clock here) ----------------------
    def now(self) -> int:
        return self.chain.last_time()

    def latest_allowed_time(self) -> int:
        return self.chain.last_time() + MAX_TIME_AHEAD

    def tx_rate(self) -> float:
        """Transactions per second over the recent blocks (0 when idle)."""
        if len(self._block_times) < 2:
            return 0.0
        (t0, _), (t1, _) = self._block_times[0], self._block_times[-1]
        n = sum(c for _, c in list(self._block_times)[1:])
        return n / (t1 - t0) if t1 > t0 else 0.0

    # ----- admission ---------------------------------------------------------------------
    async def submit(self, raw: bytes) -> bytes:
        """Check raw against the latest state (a typed InvalidTransaction if refused), then
        forward it to CometBFT's mempool; its hash once CometBFT admitted it (MempoolError
        if CometBFT would not take it)."""
        res = self.chain.app.check_tx(raw, MEMPOOL)
        reply = await trio.to_thread.run_sync(self._broadcast, raw)
        if "error" in reply:
            detail = reply["error"].get("data") or reply["error"].get("message", "")
            raise MempoolError("consensus_refused", f"CometBFT refused the transaction: {detail}")
        result = reply.get("result") or {}
        if result.get("code"):
            cls = self._errors.get(result["code"], InvalidTransaction)
            raise cls(result.get("log", ""))
        tx = res.tx
        state_nonce = accounts.nonce(self.chain.app.reader(), tx.sender)
        if tx.hash not in self.mempool and tx.nonce >= state_nonce:
            with contextlib.suppress(MempoolError):  # CometBFT holds it; it is just not listed here
                self.mempool.add(tx.hash, raw, tx.sender, tx.nonce, tx.fee, state_nonce)
        for fn in list(self._pending_listeners):
            fn(tx.hash)
        return tx.hash

    async def submit_many(self, raws: list[bytes]) -> list[bytes | Exception]:
        out: list[bytes | Exception] = []
        for raw in raws:
            try:
                out.append(await self.submit(raw))
            except (InvalidTransaction, MempoolError) as exc:
                out.append(exc)
        return out

    def _broadcast(self, raw: bytes) -> dict:
        """CometBFT's JSON-RPC reply to broadcast_tx_sync (worker thread: CometBFT calls
        this process's CheckTx before it answers)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
                           "params": {"tx": base64.b64encode(raw).decode()}}).encode()
        request = urllib.request.Request(self.comet_rpc, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as reply:
                return json.load(reply)
        except (OSError, ValueError) as exc:
            return {"error": {"message": f"CometBFT at {self.comet_rpc} did not answer: {exc}"}}

    async def wait_included(self, tx_hash: bytes, timeout: float) -> tuple[int, int] | None:
        """Wait until tx_hash is in a committed block: its (height, index), or None on timeout."""
        return await self._inclusion.wait(tx_hash, timeout)

    # ----- CometBFT ------------------------------------------------------------------------
    def consensus_head(self) -> dict:
        """{height, hash} of the last block committed here, as CometBFT names it."""
        height = self.abci.last_height()
        h = comet_hash_at(self.chain, height) if height else None
        return {"height": height, "hash": h}

