"""Room ahead of LevelDB's log, so that a small synced commit overwrites blocks in place.

Opt-in (rwad --log-preallocate; Store(log_room=True)), off by default: it relies on two
LevelDB behaviours LevelDB does not document (below). If a release changes either, the
failure is silent loss of synced writes at recovery (docs/operations.md, "Durability").

LevelDB appends every write batch to its log (`NNNNNN.log`) and, for a synced batch, then
calls `fdatasync`. After an append, `fdatasync` must also commit the file's new size to
the file system's journal; on this machine's ext4 that made the synced write of a
one-transaction block 0.46-2 ms, against 0.15-0.35 ms to overwrite blocks the file already
has (docs/performance.md). Two properties of LevelDB's log make room ahead of it safe:
- its writer writes at its own file position (the log is not opened for appending), so
  records land over whatever the file holds past that position;
- its reader takes a zeroed region for preallocated space and skips it (LevelDB's mmap
  writer once preallocated logs; `log_reader.cc` keeps the case).
So after a commit, when LevelDB has begun a new log with a small batch, zeros are written
past the log's end (`ROOM` bytes, then `fsync`, once per log), and the next commits'
records overwrite them: their `fdatasync` no longer changes the file's size. When
LevelDB's records pass the zeros (a log that outgrows the room), they are topped up.
A log begun by a large batch (a big block, a genesis chunk) gets none: the next memtable
switch is near. Best effort: an error here never fails a commit (the log is then
appended to, as without it). tests/test_logroom.py checks both LevelDB properties on the
installed library and recovery after SIGKILL.

Call after_write() from the thread that writes, after a write and before the next one:
LevelDB writes its log only inside a write, so the log is quiet while the zeros go in.
"""

from __future__ import annotations

import os

ROOM = 6 << 20  # bytes of zeros ahead of the log: LevelDB switches logs at about 4 MiB (its write buffer)
LARGE_START = 1 << 20  # a log already this large when first seen was begun by a large batch: no room
RESCAN_EVERY = 64  # writes between directory scans when the directory's mtime did not move
_CHUNK = 1 << 20  # bytes of zeros per write (allocated for a fill only)


class LogRoom:
    """Keeps zeros ahead of the current log of the LevelDB database in `directory`."""

    def __init__(self, directory: str, room: int = ROOM, large_start: int = LARGE_START):
        self.dir = directory
        self.room = room
        self.large_start = large_start
        self.log: str | None = None  # file name of the current log, once seen
        self.end = 0  # where the zeros written ahead of it end (0: none written)
        self.fills = 0  # times zeros were written (a new log, or a top-up)
        self._mtime = None
        self._writes = 0

    def after_write(self) -> None:
        """Find a new log and give it room, or top up the current one when LevelDB's
        records have passed its zeros."""
        try:
            self._writes += 1
            mtime = os.stat(self.dir).st_mtime_ns
            if mtime != self._mtime or not self._writes % RESCAN_EVERY:
                self._mtime = mtime
                newest = max((n for n in os.listdir(self.dir) if n.endswith(".log") and n[:-4].isdigit()),
                             key=lambda n: int(n[:-4]), default=None)
                if newest != self.log:
                    self.log, self.end = newest, 0
                    if newest is None:
                        return
                    path = os.path.join(self.dir, newest)
                    size = os.path.getsize(path)
                    if size < self.large_start:
                        self._fill(path, size)
                    return
            if self.log is None or not self.end:
                return
            path = os.path.join(self.dir, self.log)
            size = os.path.getsize(path)
            if size > self.end:  # LevelDB wrote past the zeros: appending again
                self._fill(path, size)
        except OSError:
            self.end = 0  # no room known: LevelDB appends, as it would without this

    def _fill(self, path: str, size: int) -> None:
        """Zeros from size (the end of LevelDB's records) to size + room, made durable."""
        fd = os.open(path, os.O_WRONLY)
        try:
            end = size + self.room
            zeros = bytes(min(_CHUNK, self.room))
            at = size
            while at < end:
                at += os.pwrite(fd, zeros[: end - at], at)
            os.fsync(fd)  # the new size and the blocks: later fdatasyncs write data only
        finally:
            os.close(fd)
        self.end = end
        self.fills += 1
