"""The block store: blocks, receipts and their indexes, in the state's LevelDB.

Records are returned as a dict for Store.commit's `extra`, so the block, its receipts,
indexes and the head pointer land in the same synced batch as the state they produced.
    bB<height 8B>      block (node/block.py encoding)
    bR<height 8B>      receipts: canonical msgpack list of receipt maps
    bh<block hash>     height (8B)
    bt<tx hash>        height (8B) || index (4B)
    bhead              height (8B) of the last committed block
    bs<sender 20B><height 8B><index 4B>          index: transactions by sender
    bm<module>\x00<height 8B><index 4B>         index: transactions by module
    be<event type>\x00<height 8B><index 4B>     index: transactions by event type
"""

from __future__ import annotations

from rwachain.modules.core.app import encode_receipt
from rwachain.node.block import Block
from rwachain.state.codec import decode_stored, encode, encode_array_of_encoded
from rwachain.state.yieldpoint import NEVER, YieldPoint

BLOCK = b"bB"
RECEIPTS = b"bR"
BY_HASH = b"bh"
BY_TX = b"bt"
HEAD = b"bhead"
BY_SENDER = b"bs"
BY_MODULE = b"bm"
BY_EVENT = b"be"
EVENTS = b"bE"  # <height 8B> -> the block's own events (begin- and end-block hooks), in order
BLOCK_EVENTS_INDEX = (1 << 32) - 2  # the index of a block's own events in the event index


def _h(height: int) -> bytes:
    return height.to_bytes(8, "big")


class BlockStore:
    """Read side of the block store and the records that a commit writes."""

    CACHE = 8  # blocks and receipt lists kept per kind (the head is read on every status call)

    def __init__(self, db):
        self.db = db
        self._blocks: dict[int, Block] = {}
        self._receipts: dict[int, list[dict]] = {}  # decoded
        self._encoded: dict[int, list[bytes]] = {}  # each receipt's stored encoding (blocks made here)

    def forget(self) -> None:
        """Drop decoded records (after a revert or a state load rewrote the store)."""
        self._blocks.clear()
        self._receipts.clear()
        self._encoded.clear()

    def note_committed(self, block: Block, encoded_receipts: list[bytes]) -> None:
        """Remember a block this process just committed, and its receipts as encoded for
        the store, so that the first reads after it decode nothing large: the head block
        is read by every status call, and one receipt of a 10,000-transaction block is then
        decoded alone (decoding the whole list held the event loop for about 30 ms)."""
        h = block.header.height
        self._receipts.pop(h, None)
        self._keep(self._blocks, h, block)
        self._keep(self._encoded, h, encoded_receipts)

    def _keep(self, cache: dict, height: int, value) -> None:
        """Remember a decoded record; the oldest goes first. Readers on the event loop and
        the block thread may race here: losing an entry only costs a decode."""
        while len(cache) >= self.CACHE:
            try:
                cache.pop(next(iter(cache)))
            except (RuntimeError, StopIteration, KeyError):
                break
        cache[height] = value

    @staticmethod
    def records(block: Block, receipts: list[dict], senders: list, modules: list,
                encoded_receipts: list[bytes] | None = None, block_hash: bytes | None = None,
                yield_point: YieldPoint = NEVER, events: list[dict] | None = None) -> dict[bytes, bytes]:
        """The records a block writes; encoded_receipts and block_hash (the header's hash),
        when given, are used as they are; yield_point pauses every few hundred receipts
        (Chain.produce); events: the block's own events (begin- and end-block
        hooks), stored beside the receipts and indexed by type at BLOCK_EVENTS_INDEX."""
        h = block.header.height
        if encoded_receipts is None:
            encoded_receipts = [encode_receipt(r) for r in receipts]
        out = {
            BLOCK + _h(h): block.encode(),
            RECEIPTS + _h(h): encode_array_of_encoded(encoded_receipts),
            BY_HASH + (block.header.hash if block_hash is None else block_hash): _h(h),
            HEAD: _h(h),
        }
        for i, r in enumerate(yield_point.paced(receipts)):
            loc = _h(h) + i.to_bytes(4, "big")
            out[BY_TX + r["tx"]] = loc
            if senders[i] is not None:
                out[BY_SENDER + senders[i] + loc] = b""
            if modules[i] is not None:
                out[BY_MODULE + modules[i].encode() + b"\x00" + loc] = b""
            for t in {e["type"] for e in r["events"]}:
                out[BY_EVENT + t.encode() + b"\x00" + loc] = b""
        if events:
            out[EVENTS + _h(h)] = encode(events)
            loc = _h(h) + BLOCK_EVENTS_INDEX.to_bytes(4, "big")
            for t in {e["type"] for e in events}:
                out[BY_EVENT + t.encode() + b"\x00" + loc] = b""
        return out

    def events(self, height: int) -> list[dict]:
        """The block's own events (begin- and end-block hooks), in order; [] if none."""
        raw = self.db.get(EVENTS + _h(height))
        return [] if raw is None else decode_stored(raw)

    def iter_index(self, prefix: bytes, from_height: int, to_height: int):
        """(height, index) entries of one index between two heights, ascending."""
        start = prefix + _h(from_height)
        stop = prefix + _h(to_height + 1)
        n = len(prefix)
        for k in self.db.iterator(start=start, stop=stop, include_value=False):
            yield int.from_bytes(k[n : n + 8], "big"), int.from_bytes(k[n + 8 : n + 12], "big")

    def keys_of(self, height: int) -> list[bytes]:
        """Every block-store key that block `height` wrote (to rewind it)."""
        from rwachain.modules.core.errors import InvalidTransaction
        from rwachain.modules.core.tx import decode_tx

        block = self.block(height)
        receipts = self.receipts(height) or []
        senders, modules = [], []
        for raw in block.txs:
            try:
                t = decode_tx(raw, 1 << 30)
                senders.append(t.sender)
                modules.append(t.module)
            except InvalidTransaction:
                senders.append(None)
                modules.append("dev" if raw[:1] == b"\x95" else None)
        return [k for k in self.records(block, receipts, senders, modules, events=self.events(height)) if k != HEAD]

    def head(self) -> int | None:
        raw = self.db.get(HEAD)
        return None if raw is None else int.from_bytes(raw, "big")

    def block(self, height: int) -> Block | None:
        b = self._blocks.get(height)
        if b is None:
            raw = self.db.get(BLOCK + _h(height))
            if raw is None:
                return None
            b = Block.decode(raw)
            self._keep(self._blocks, height, b)
        return b

    def height_of(self, block_hash: bytes) -> int | None:
        raw = self.db.get(BY_HASH + block_hash)
        return None if raw is None else int.from_bytes(raw, "big")

    def receipts(self, height: int) -> list[dict] | None:
        """Every receipt of block `height` (decoded once, then cached), or None."""
        rs = self._receipts.get(height)
        if rs is None:
            encoded = self._encoded.get(height)
            if encoded is not None:
                rs = [decode_stored(e) for e in encoded]
            else:
                raw = self.db.get(RECEIPTS + _h(height))
                if raw is None:
                    return None
                rs = decode_stored(raw)
            self._keep(self._receipts, height, rs)
        return rs

    def receipt(self, height: int, index: int) -> dict | None:
        """Receipt `index` of block `height`, or None (decodes that one receipt alone when
        the block was committed by this process and is still remembered)."""
        encoded = self._encoded.get(height)
        if encoded is not None and height not in self._receipts:
            return decode_stored(encoded[index]) if 0 <= index < len(encoded) else None
        rs = self.receipts(height)
        return rs[index] if rs is not None and 0 <= index < len(rs) else None

    def tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        raw = self.db.get(BY_TX + tx_hash)
        return None if raw is None else (int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big"))
