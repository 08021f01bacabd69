"""Ed25519 checks of raw transactions in child processes.

Threads overlap libsodium with Python only while the Python side is idle: during block
execution a verify thread that comes back from libsodium waits for the GIL (up to the
5 ms switch interval) and verification crawls. Child processes have GILs of their own,
so a large block's signatures are checked on the other core while this process decodes
and executes. A child's answer is only "this signature verifies over these body bytes";
the executing process still decodes every transaction canonically, so a verdict is used
only for bytes that decode to the same pubkey, body and signature.

The children are plain `python -m rwachain.node.sigcheck` processes (no multiprocessing: nothing
of the caller's __main__ is re-imported). Protocol on their stdin/stdout: frames of
[length (4 bytes, big-endian)][payload]; a request payload is a msgpack array of signed
transactions, a reply one byte per transaction (1 valid, 0 not), in request order. A
request may instead be a map {"bls": [[keys, message, signature], ...]}: aggregate BLS
signatures (oracle reports) checked with FastAggregateVerify, one verdict byte each.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future

import msgpack
import nacl.bindings
import nacl.exceptions

SIGN_DOMAIN = b"rwachain/tx/v1\x00"  # the same as modules/core/tx.py (a test checks)


def verify_slice(raws: list[bytes]) -> bytes:
    """One byte per transaction: 1 if its signature verifies over its body, else 0."""
    out = bytearray(len(raws))
    for i, raw in enumerate(raws):
        try:
            body, sig = msgpack.unpackb(raw, raw=True)
            pubkey = msgpack.unpackb(body, raw=False, strict_map_key=False)["pubkey"]
            nacl.bindings.crypto_sign_open(sig + SIGN_DOMAIN + body, pubkey)
            out[i] = 1
        except (ValueError, TypeError, KeyError, msgpack.UnpackException, nacl.exceptions.CryptoError):
            pass
    return bytes(out)


def verify_bls_slice(jobs: list) -> bytes:
    """One byte per (keys, message, signature) job: 1 if FastAggregateVerify holds, else 0."""
    from rwachain.modules.core import bls  # loaded in the child only when reports arrive

    out = bytearray(len(jobs))
    for i, job in enumerate(jobs):
        try:
            pks, msg, sig = job
            out[i] = 1 if bls.fast_aggregate_verify(list(pks), msg, sig) else 0
        except (ValueError, TypeError):
            pass
    return bytes(out)


def _read_exact(f, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class _Child:
    def __init__(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "rwachain.node.sigcheck"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self.lock = threading.Lock()
        self.pending: collections.deque[Future] = collections.deque()
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, name="sigcheck-reader", daemon=True).start()
        threading.Thread(target=self._write, name="sigcheck-writer", daemon=True).start()

    def submit(self, raws: list[bytes] | dict) -> Future:
        """Queue a slice; never blocks (a writer thread feeds the pipe)."""
        fut: Future = Future()
        payload = msgpack.packb(raws, use_bin_type=True)
        with self.lock:
            if self.proc.poll() is not None:
                fut.set_exception(RuntimeError("signature checker process is gone"))
                return fut
            self.pending.append(fut)
            self.outbox.put(len(payload).to_bytes(4, "big") + payload)
        return fut

    def _write(self) -> None:
        while True:
            frame = self.outbox.get()
            if frame is None:
                break
            try:
                self.proc.stdin.write(frame)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                break  # the reader fails what is pending
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self.proc.stdin.close()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            head = _read_exact(out, 4)
            data = None if head is None else _read_exact(out, int.from_bytes(head, "big"))
            with self.lock:
                if data is None:
                    while self.pending:
                        self.pending.popleft().set_exception(RuntimeError("signature checker process ended"))
                    return
                fut = self.pending.popleft()
            fut.set_result(data)

    def close(self) -> None:
        self.outbox.put(None)  # the writer closes stdin after what is queued
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class ProcessVerifier:
    """A few lazily started checker processes; submit() round-robins slices over them."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._children: list[_Child] = []
        self._next = itertools.count()
        self._lock = threading.Lock()

    def submit(self, raws: list[bytes]) -> Future:
        with self._lock:
            if not self._children:
                self._children = [_Child() for _ in range(self.workers)]
            child = self._children[next(self._next) % len(self._children)]
        return child.submit(raws)

    def submit_bls(self, jobs: list[tuple[list[bytes], bytes, bytes]]) -> Future:
        """Queue (keys, message, signature) jobs; the future's result is one verdict byte each."""
        return self.submit({"bls": [list(j) for j in jobs]})

    def close(self) -> None:
        with self._lock:
            for c in self._children:
                c.close()
            self._children = []


def _serve() -> None:
    """The child's loop: read request frames, answer verdicts, until stdin closes."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(inp, 4)
        if head is None:
            return
        req = msgpack.unpackb(_read_exact(inp, int.from_bytes(head, "big")), raw=True)
        verdicts = verify_bls_slice(req[b"bls"]) if isinstance(req, dict) else verify_slice(req)
        out.write(len(verdicts).to_bytes(4, "big") + verdicts)
        out.flush()


if __name__ == "__main__":
    _serve()
