"""The store's key spaces, storage format and errors (state/store/).

Key spaces in the one LevelDB (each a one-byte prefix):
    f<key>                 latest value of a state key (what execution reads)
    n<version><depth><path> internal tree nodes (state/tree.py)
    l<version><depth><path> tree leaves
    r<version>             root slot of the tree at version (height)
    s<version><node key>   stale index: node replaced at version, pruned later
    u<version>             undo log of block version: [[key, old value or nil], ...],
                           kept for the retained versions (and above pins): listings at
                           past heights and dev reverts replay them backwards
    m<name>                store metadata (current version, pins, storage format)
    b...                   reserved for the node's block store (written via `extra`)
Version v is the state after block v; genesis is version initial_height - 1.
"""

from __future__ import annotations

import plyvel

FLAT = b"f"
ROOT = b"r"
STALE = b"s"
UNDO = b"u"
META = b"m"
META_VERSION = META + b"version"
META_PINS = META + b"pins"
META_PRUNED = META + b"pruned"
META_FORMAT = META + b"format"
# The storage format this build writes and reads (the layout of the key spaces above;
# state roots do not depend on it). 2: leaves under their own prefix (1 kept them among
# the internal nodes). A database in another format is refused with StoreFormatError.
FORMAT = 2

# Bits per key of LevelDB's bloom filters: a point read skips the tables that cannot hold
# its key instead of reading (through the file mapping) a data block of each.
BLOOM_BITS = 10
# LevelDB keeps every table in its table cache memory-mapped, and the pages a read touches
# stay mapped (on this kernel a whole 2 MiB table's folio per touch), counted in the
# node's RSS. Its smallest table cache (74 files, 64 of them tables) bounds that at about
# 128 MiB instead of the whole database; a 10,000-transfer block at 1M accounts took the
# same time with it (docs/performance.md, section 3).
MAX_OPEN_FILES = 74


class StoreError(Exception):
    """A request the store cannot serve (unknown or pruned version, corrupt data)."""


class StoreFormatError(StoreError):
    """The data was written in a storage format this build does not read."""


NODE_FAULTS: tuple[type[BaseException], ...] = (MemoryError, OSError, StoreError, plyvel.Error)
"""Failures of this node's process or storage, not of the state machine: another node on
the same state would not meet them, so they are never turned into a receipt or a hook
fault (the block fails and the node stops)."""


def check_format(raw: bytes | None, what: str) -> None:
    """Refuse state written in another storage format (raw: its META_FORMAT value)."""
    found = 1 if raw is None else int.from_bytes(raw, "big")
    if found != FORMAT:
        raise StoreFormatError(
            f"{what} holds state in storage format {found}, and this build reads format {FORMAT} "
            "only: start from a fresh data directory (to keep the state, export it to a genesis "
            "file with the build that wrote it and import that)")


# LevelDB's write buffer (memtable) of a throwaway store, in bytes (its default: 4 MiB).
# Until it fills, writes go to the log and memory only: no table is written, so no
# compaction runs. A sweep run writes about 21 KiB a block (10 MiB in 480 blocks), and the
# buffer grows only as far as it is written.
THROWAWAY_WRITE_BUFFER = 64 << 20


def open_db(path: str, *, throwaway: bool = False) -> plyvel.DB:
    """The LevelDB at path; a throwaway one keeps THROWAWAY_WRITE_BUFFER bytes of writes in
    memory before it writes a table."""
    extra = {"write_buffer_size": THROWAWAY_WRITE_BUFFER} if throwaway else {}
    return plyvel.DB(path, create_if_missing=True, bloom_filter_bits=BLOOM_BITS,
                     max_open_files=MAX_OPEN_FILES, **extra)


def prefix_end(prefix: bytes) -> bytes | None:
    """The least key greater than every key that starts with prefix (None: there is none)."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else None
