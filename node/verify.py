"""Signature checks off the caller's thread: libsodium releases the GIL while verifying."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rwachain.modules.core.errors import InvalidTransaction


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

    Results land in the node's signature cache (Chain.signatures, the app's), which
    finalize_block then reuses.
    """
    if not raws:
        return 0
    step = (len(raws) + workers - 1) // workers
    futures = [pool.submit(_precheck_slice, app, raws[i : i + step]) for i in range(0, len(raws), step)]
    return sum(f.result() for f in futures)


class _SlicedChecks:
    """Checks of a block's transactions in slices, started at once, awaited in order.

    Slices whose transactions were all verified at admission (through the mempool) start
    nothing: handing them to a worker would cost more than executing them. wait(i) blocks
    until the slice holding transaction i is done, so execution overlaps verification.
    """

    def __init__(self, app, raws: list[bytes], slice_size: int, start):
        self.app = app
        self.raws = raws
        self.slice = slice_size
        self.futures = []
        for i in range(0, len(raws), slice_size):
            part = raws[i : i + slice_size]
            self.futures.append(None if all(app.is_prechecked(r) for r in part) else start(part))
        self._done = 0  # slices known finished

    def wait(self, i: int) -> None:
        k = i // self.slice
        while self._done <= k:
            fut = self.futures[self._done]
            if fut is not None:
                self._finished(self._done, fut.result())
            self._done += 1

    def _finished(self, k: int, result) -> None:
        """What slice k's result means for the app (nothing: the check recorded itself)."""


class PipelinedPrecheck(_SlicedChecks):
    """Signature checks (app.precheck, which caches its result) in slices on a thread pool."""

    def __init__(self, app, raws: list[bytes], pool: ThreadPoolExecutor, workers: int, slice_size: int = 256):
        size = max(16, min(slice_size, (len(raws) + workers - 1) // max(1, workers) or 1))
        super().__init__(app, raws, size, lambda part: pool.submit(_precheck_slice, app, part))


class ProcessPipelinedPrecheck(_SlicedChecks):
    """Signatures of a large block checked in worker processes while it executes: each
    slice's valid signatures are recorded with the app, so execution skips their check;
    an invalid one is checked again in process and refused with its precise error."""

    def __init__(self, app, raws: list[bytes], verifier, slice_size: int = 1000):
        super().__init__(app, raws, slice_size, verifier.submit)

    def _finished(self, k: int, verdicts) -> None:
        base = k * self.slice
        self.app.note_signatures_verified(self.raws[base : base + self.slice], verdicts)
