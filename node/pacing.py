"""Cooperative GIL hand-offs from a block running in a worker thread to the event loop.

Why the interpreter's own switching is not enough: a thread waiting for the GIL asks the
holder to drop it only after a whole switch interval passes with no release, and every
release restarts that wait. A block thread releases the GIL for each LevelDB read (a few
microseconds) and takes it straight back, before the woken waiter gets to run, so the event
loop could wait 10-100 ms for a turn while a large block ran.

So the block thread offers the GIL itself. It pauses at a Pacer (its yield point,
state/yieldpoint.py) at points it passes often;
every `period` seconds the Pacer sleeps `rest` seconds, which lets an event loop that has
woken with work take the GIL, and then keeps resting (up to `max_wait` seconds) while the
loop is in the middle of a round, so a request is answered in one turn rather than losing
the GIL again at each of its system calls. A LoopWatch, a trio instrument, tells whether
the loop is in a round or idle in a blocking wait for I/O.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import time

import trio

from rwachain.state.yieldpoint import YieldPoint

PERIOD = 0.002  # s of block work between two offers of the GIL
REST = 0.00005  # s one offer sleeps (the loop wakes and takes the GIL meanwhile)
MAX_WAIT = 0.004  # s an offer waits at most for the loop to finish its round

_PR_SET_TIMERSLACK, _PR_GET_TIMERSLACK = 29, 30
_FINE_SLACK = 1_000  # ns: a 50 us sleep then lasts about 90 us here, not 170 (Linux's default slack: 50 us)


class LoopWatch(trio.abc.Instrument):
    """Whether the trio loop is in a round (running tasks) or idle in a blocking I/O wait."""

    def __init__(self) -> None:
        self.busy = True

    def before_io_wait(self, timeout: float) -> None:
        self.busy = timeout <= 0  # a zero timeout: tasks are runnable, the round goes on

    def after_io_wait(self, timeout: float) -> None:
        self.busy = True


class Pacer(YieldPoint):
    """The yield point of a block in a worker thread: its pause() returns at once unless
    an offer of the GIL is due. It never touches state; it only sleeps."""

    def __init__(self, watch: LoopWatch, period: float = PERIOD, rest: float = REST, max_wait: float = MAX_WAIT):
        self.watch = watch
        self.period = period
        self.rest = rest
        self.max_wait = max_wait
        self._due = time.perf_counter() + period
        self.offers = 0  # GIL offers made
        self.rested = 0.0  # s slept in them

    def pause(self) -> None:
        if time.perf_counter() >= self._due:
            self._offer()

    def _offer(self) -> None:
        t0 = time.perf_counter()
        time.sleep(self.rest)
        limit = t0 + self.max_wait
        now = time.perf_counter()
        while self.watch.busy and now < limit:
            time.sleep(self.rest)
            now = time.perf_counter()
        self._due = now + self.period
        self.offers += 1
        self.rested += now - t0


@contextlib.contextmanager
def fine_timer_slack():
    """Shorten the calling thread's timer slack for the block (Linux; a no-op elsewhere)."""
    prctl = _prctl()
    old = prctl(_PR_GET_TIMERSLACK, 0, 0, 0, 0) if prctl else -1
    if old > 0:
        prctl(_PR_SET_TIMERSLACK, _FINE_SLACK, 0, 0, 0)
    try:
        yield
    finally:
        if old > 0:
            prctl(_PR_SET_TIMERSLACK, old, 0, 0, 0)


@functools.cache
def _prctl():
    """libc's prctl, or None where there is none."""
    try:
        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
