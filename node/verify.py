"""Signature checks off the caller's thread: libsodium releases the GIL while verifying."""

from __future__ import annotations

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
