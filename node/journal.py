"""The mempool journal: every admitted transaction is on disk before tx_send answers.

File format: records of [length (4 bytes, big-endian)][signed tx bytes]. Appends are
fsynced in groups (one fsync covers every transaction admitted meanwhile). After each
block the journal is rewritten with only what is still pending (write, fsync, rename).
On start the node replays it through admission: each transaction is then either pending
again or already included (refused as a replayed nonce). A torn final record, from a
crash mid-append, is ignored: its sender had not been answered yet.
"""

from __future__ import annotations

import os


class Journal:
    def __init__(self, path: str):
        self.path = path
        self._f = open(path, "ab")  # noqa: SIM115 - held open for the node's lifetime

    def read(self) -> list[bytes]:
        """Every complete record, in order."""
        out = []
        with open(self.path, "rb") as f:
            data = f.read()
        pos = 0
        while pos + 4 <= len(data):
            n = int.from_bytes(data[pos : pos + 4], "big")
            if pos + 4 + n > len(data):
                break
            out.append(data[pos + 4 : pos + 4 + n])
            pos += 4 + n
        return out

    def append(self, raws: list[bytes]) -> None:
        """Write records and fsync (blocking: call from a worker thread)."""
        if not raws:
            return
        self._f.write(b"".join(len(r).to_bytes(4, "big") + r for r in raws))
        self._f.flush()
        os.fsync(self._f.fileno())

    def rewrite(self, raws: list[bytes]) -> None:
        """Atomically replace the journal with exactly raws (blocking)."""
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"".join(len(r).to_bytes(4, "big") + r for r in raws))
            f.flush()
            os.fsync(f.fileno())
        self._f.close()
        os.replace(tmp, self.path)
        dfd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._f = open(self.path, "ab")  # noqa: SIM115

    def close(self) -> None:
        self._f.close()
