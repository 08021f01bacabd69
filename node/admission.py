"""Admission: signed transactions checked (check_tx) and put into the mempool.

Transactions that arrive together are checked as one batch in a worker thread (their
signatures, for a large batch, in the checker processes of node/sigcheck.py), instead of
one thread hop and one GIL convoy each; one that arrives alone is checked on the event
loop. An admitted transaction is answered once it is durable (node/durability.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from rwachain.modules.core import accounts
from rwachain.modules.core.app import MEMPOOL, CheckResult
from rwachain.modules.core.errors import InvalidTransaction, ReplayedNonce
from rwachain.node.chain import Chain
from rwachain.node.mempool import Mempool, MempoolError

BATCH_VERIFY_MIN = 64  # admission batches at least this large verify in the checker processes
CHECK_PARALLEL = 2  # admission batches in flight at once


class Admission:
    """check_tx, batched, into the mempool; wake(): the producer; durable(raws, hashes):
    returns once those admitted transactions are on disk."""

    def __init__(self, chain: Chain, mempool: Mempool, wake: Callable[[], None],
                 durable: Callable[[list[bytes], list[bytes]], Awaitable[None]]):
        self.chain = chain
        self.mempool = mempool
        self._wake_producer = wake
        self._durable = durable
        self._queue: list = []  # slots [raw, CheckResult, error, done event] waiting for a batch
        self._in_flight = 0  # batches being checked
        self._submitting = 0  # submit calls between their start and their answer
        self._wake = trio.Event()
        self._pending_listeners: list[Callable[[bytes], None]] = []

    def on_pending_tx(self, fn: Callable[[bytes], None]) -> Callable[[], None]:
        self._pending_listeners.append(fn)
        return lambda: self._pending_listeners.remove(fn)

    async def submit(self, raw: bytes) -> bytes:
        """Admit a signed transaction: checked, in the mempool and durable; its hash.

        Raises InvalidTransaction or MempoolError.
        """
        self._submitting += 1
        try:
            res = await self._check(raw, alone=self._submitting == 1)
            h = self._to_mempool(raw, res, self.chain.app.reader())
            await self._announce([raw], [h])
        finally:
            self._submitting -= 1
        return h

    async def submit_many(self, raws: list[bytes]) -> list[bytes | Exception]:
        """Admit several signed transactions as one batch (a JSON-RPC batch of tx_send):
        one admission batch and one journal write for all; per transaction its hash, or
        the InvalidTransaction or MempoolError that refused it, in order."""
        slots = [[raw, None, None, trio.Event()] for raw in raws]
        self._queue.extend(slots)
        self._wake.set()
        for slot in slots:
            await slot[3].wait()
        out: list[bytes | Exception] = []
        admitted: list[bytes] = []
        reader = self.chain.app.reader()
        for raw, res, err, _ in slots:
            if err is None:
                try:
                    out.append(self._to_mempool(raw, res, reader))
                    admitted.append(raw)
                    continue
                except (InvalidTransaction, MempoolError) as exc:
                    err = exc
            out.append(err)
        if admitted:
            await self._announce(admitted, [h for h in out if type(h) is bytes])
        return out

    def readmit(self, raws: list[bytes]) -> int:
        """Put raws back into the mempool, checked against the current state (after a
        restart, a rewind or a load); those no longer valid are dropped. How many stayed."""
        app = self.chain.app
        kept = 0
        for raw in raws:
            try:
                res = app.check_tx(raw, MEMPOOL)
                n = accounts.nonce(app.reader(), res.tx.sender)
                self.mempool.add(res.tx.hash, raw, res.tx.sender, res.tx.nonce, res.tx.fee, n)
                kept += 1
            except (InvalidTransaction, MempoolError):
                pass
        return kept

    def _to_mempool(self, raw: bytes, res: CheckResult, reader) -> bytes:
        """Put a checked transaction into the mempool; its hash. Raises ReplayedNonce when
        a block used its nonce while it was being checked, or MempoolError."""
        tx = res.tx
        state_nonce = accounts.nonce(reader, tx.sender)
        if tx.nonce < state_nonce:  # a block landed while we checked
            raise ReplayedNonce(f"nonce {tx.nonce} is used; the account's next nonce is {state_nonce}")
        self.mempool.add(tx.hash, raw, tx.sender, tx.nonce, tx.fee, state_nonce)
        return tx.hash

    async def _announce(self, raws: list[bytes], hashes: list[bytes]) -> None:
        """Wake the producer, wait until raws are durable (the block may start while the
        fsync runs), then tell subscribers."""
        self._wake_producer()
        await self._durable(raws, hashes)
        for h in hashes:
            for fn in list(self._pending_listeners):
                fn(h)

    async def _check(self, raw: bytes, alone: bool = False) -> CheckResult:
        """check_tx, batched: transactions that arrive together are checked in one
        worker-thread call (signatures of a large batch in the checker processes), instead
        of one thread hop and one GIL convoy each; one that arrives alone is checked here."""
        if alone and not self._queue and not self._in_flight:
            # No other submission in progress: check here, without the two thread switches
            # of a worker hop (about 0.2 ms each way on a small VM; a sequential round trip
            # pays them). Under concurrent load the signature checks stay off the event
            # loop (worker thread, checker processes), in parallel with it. Not for
            # transactions with an aggregate signature to verify: those go to the checker
            # processes from the worker thread.
            app = self.chain.app
            if app.signature_job(raw) is None:
                return app.check_tx(raw, MEMPOOL)
        slot: list = [raw, None, None, trio.Event()]
        self._queue.append(slot)
        self._wake.set()
        await slot[3].wait()
        if slot[2] is not None:
            raise slot[2]
        return slot[1]

    async def run(self) -> None:
        """Take what waits for admission as one batch; up to CHECK_PARALLEL batches run at
        once (a batch mostly waits for checker processes), so arrivals do not queue behind
        a batch in flight."""
        limiter = trio.Semaphore(CHECK_PARALLEL)

        async def check(batch: list) -> None:
            self._in_flight += 1
            try:
                await trio.to_thread.run_sync(self.check_batch, batch)
            finally:
                self._in_flight -= 1
                limiter.release()
                for slot in batch:
                    slot[3].set()

        async with trio.open_nursery() as nursery:
            while True:
                await self._wake.wait()
                await limiter.acquire()
                self._wake = trio.Event()
                batch, self._queue = self._queue, []
                if batch:
                    nursery.start_soon(check, batch)
                else:
                    limiter.release()

    def check_batch(self, batch: list) -> None:
        """Worker thread: check each raw of the batch, storing a result or an error."""
        app = self.chain.app
        if len(batch) >= BATCH_VERIFY_MIN:
            # Ed25519 first, split over the checker processes: the aggregate step below
            # decodes every transaction through precheck, which would otherwise verify
            # each signature here, one after another.
            raws = [slot[0] for slot in batch]
            verifier = self.chain.verifier
            n = max(1, min(verifier.workers, len(raws) // BATCH_VERIFY_MIN))
            size = -(-len(raws) // n)
            try:
                parts = [(raws[i:i + size], verifier.submit(raws[i:i + size])) for i in range(0, len(raws), size)]
                for part, fut in parts:
                    app.note_signatures_verified(part, fut.result())
            except RuntimeError:
                pass  # no checker process: precheck verifies in this thread below
        self._verify_aggregates(batch)
        for slot in batch:
            try:
                slot[1] = app.check_tx(slot[0], MEMPOOL)
            except InvalidTransaction as exc:
                slot[2] = exc

    def _verify_aggregates(self, batch: list) -> None:
        """BLS aggregate signatures of the batch (oracle reports) are verified in the checker
        processes, whose GILs leave this process's event loop and block thread alone; the
        verdicts go to the app's cache, so check_tx and the block do not verify again."""
        app = self.chain.app
        jobs = [j for j in (app.signature_job(slot[0]) for slot in batch) if j is not None]
        if not jobs:
            return
        verifier = self.chain.verifier
        n = max(1, min(verifier.workers, len(jobs)))
        size = -(-len(jobs) // n)  # one slice per checker process, verified in parallel
        try:
            futures = [verifier.submit_bls([job for _, job in jobs[i:i + size]]) for i in range(0, len(jobs), size)]
            verdicts = b"".join(f.result() for f in futures)
        except RuntimeError:
            return  # no checker process: check_tx verifies in this thread
        for (call, job), ok in zip(jobs, verdicts, strict=False):
            if ok:
                app.note_signature_job(call, job)
