"""Signature checks off the caller's thread: libsodium releases the GIL while verifying."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from modules.errors import InvalidTransaction


def _precheck_slice(app, raws: list[bytes]) -> int:
    bad = 0
    for raw in raws:
        try:
            app.precheck(raw)
        except InvalidTransaction:
            bad += 1
    return bad


def precheck_parallel(app, raws: list[bytes], pool: ThreadPoolExecutor, workers: int) -> int:
    """Run app.precheck over raws in `workers` slices on pool; returns how many failed.

    Results land in the app's verified cache, which finalize_block then reuses.
    """
    if not raws:
        return 0
    step = (len(raws) + workers - 1) // workers
    futures = [pool.submit(_precheck_slice, app, raws[i : i + step]) for i in range(0, len(raws), step)]
    return sum(f.result() for f in futures)


class PipelinedPrecheck:
    """Signature checks in slices on a pool while the block executes in order.

    wait(i) blocks until the slice holding transaction i has been checked, so execution
    overlaps verification instead of following it.
    """

    def __init__(self, app, raws: list[bytes], pool: ThreadPoolExecutor, workers: int, slice_size: int = 256):
        self.slice = max(16, min(slice_size, (len(raws) + workers - 1) // max(1, workers) or 1))
        # Slices admitted through the mempool were verified then: they need no thread
        # (handing a one-transaction block to a worker cost more than executing it).
        self.futures = []
        for i in range(0, len(raws), self.slice):
            part = raws[i : i + self.slice]
            done = all(app.is_prechecked(r) for r in part)
            self.futures.append(None if done else pool.submit(_precheck_slice, app, part))
        self._done = 0  # slices known finished

    def wait(self, i: int) -> None:
        k = i // self.slice
        while self._done <= k:
            fut = self.futures[self._done]
            if fut is not None:
                fut.result()
            self._done += 1


class ProcessPipelinedPrecheck:
    """Signatures of a large block checked in worker processes while it executes.

    wait(i) blocks until the slice holding transaction i has its verdicts and records
    the valid ones with the app, so execution skips their signature check; an invalid
    one is checked again in process and refused with its precise error.
    """

    def __init__(self, app, raws: list[bytes], verifier, slice_size: int = 1000):
        self.app = app
        self.raws = raws
        self.slice = slice_size
        # Transactions admitted through the mempool were verified then: only the others go.
        self.futures = []
        for i in range(0, len(raws), slice_size):
            part = raws[i : i + slice_size]
            if all(app.is_prechecked(r) for r in part):
                self.futures.append(None)
            else:
                self.futures.append(verifier.submit(part))
        self._done = 0

    def wait(self, i: int) -> None:
        k = i // self.slice
        while self._done <= k:
            fut = self.futures[self._done]
            if fut is None:
                self._done += 1
                continue
            verdicts = fut.result()
            base = self._done * self.slice
            for j, ok in enumerate(verdicts):
                if ok:
                    self.app.note_signature_verified(hashlib.sha256(self.raws[base + j]).digest())
            self._done += 1
