"""Retention: the store serves the last keep_versions versions (and pinned ones); the tree
nodes and undo logs only older versions need are deleted as blocks commit (a part of Store).

A node written at version u and replaced at version w serves versions u..w-1. Each commit
indexes the nodes it replaced under the stale key space (s<w><node key>); once w falls
to the retention floor, pruning deletes them, unless a pin p with u <= p < w holds them.
Small blocks committed by this process keep those keys in memory (`_stale_log`), so that
pruning them needs no LevelDB iterator.
"""

from __future__ import annotations

from rwachain.state.store.keys import META_PINS, META_PRUNED, ROOT, STALE, UNDO, StoreError

STALE_LOG_MAX = 256  # a block replacing at most this many nodes keeps their keys in memory for pruning


class Retention:
    """Pruning and pins (a part of Store: it sets up the attributes in __init__)."""

    def _retire_replaced(self, wb, v: int, stale: list[bytes], final: bool, yield_point) -> list[bytes]:
        """Add to wb what becomes of the nodes block v replaced (stale): indexed for later
        pruning, or deleted at once when nothing older is served; the node keys indexed."""
        vb = v.to_bytes(8, "big")
        if final and v <= v - self.keep_versions + 1:
            # keep_versions == 1: nothing older is served, so what this block
            # replaced goes now (unless a pin needs it), not one block later.
            indexed = []
            for k in yield_point.paced(stale):
                u = int.from_bytes(k[1:9], "big")
                if any(u <= p < v for p in self.pins):
                    wb.put(STALE + vb + k, b"")
                    indexed.append(k)
                else:
                    wb.delete(k)
                    self._node_cache.discard(k)
            return indexed
        for k in yield_point.paced(stale):
            wb.put(STALE + vb + k, b"")
        return stale

    def _remember_stale(self, v: int, indexed: list[bytes], final: bool) -> None:
        """After block v's batch is durable: keep the node keys it indexed in memory when
        few (pruning then reads them here), else forget them."""
        if final and v != self.version and len(indexed) <= STALE_LOG_MAX:
            self._stale_log[v] = list(indexed)
        else:  # a genesis chunk, or a large block: pruning lists this version from LevelDB
            self._stale_log.pop(v, None)

    def _prune_into(self, wb, version: int) -> tuple[int, list[bytes] | None]:
        """Add to wb the deletions that the retention window allows: (the new floor, the
        node keys at it that pins hold, for _note_pruned once wb is written; None when
        nothing was pruned)."""
        floor = version - self.keep_versions + 1  # oldest version still served
        start = self.pruned_below
        if floor <= start:
            return start, None
        low_pin = min(self.pins, default=floor)
        for v in range(start, floor):
            if v not in self.pins:
                wb.delete(ROOT + v.to_bytes(8, "big"))
            if v < low_pin:  # undo logs above a pin stay: revert to it needs them
                wb.delete(UNDO + v.to_bytes(8, "big"))
        held = self._prune_stale(wb, start, floor)
        wb.put(META_PRUNED, floor.to_bytes(8, "big"))
        return floor, held

    def _prune_stale(self, wb, lo: int, floor: int) -> list[bytes]:
        """Delete nodes replaced at versions in [lo, floor] that no pinned version needs;
        return the node keys replaced at floor that a pin holds (they stay indexed).

        A node written at version u and replaced at version w serves versions u..w-1, so
        it may go once w <= floor, unless some pin p has u <= p < w.
        """
        pins = sorted(self.pins)
        log = self._stale_log
        if all(w in log for w in range(lo, floor + 1)):
            entries = [(w, node) for w in range(lo, floor + 1) for node in log[w]]
        else:
            hi = STALE + floor.to_bytes(8, "big") + b"\xff"
            entries = [(int.from_bytes(k[1:9], "big"), k[9:])
                       for k in self.db.iterator(start=STALE + lo.to_bytes(8, "big"), stop=hi, include_value=False)]
        held = []
        for w, node in entries:
            if pins:
                u = int.from_bytes(node[1:9], "big")  # the version that wrote the node
                if any(u <= p < w for p in pins):
                    if w == floor:
                        held.append(node)
                    continue  # held by a pin; unpin() walks it again
            wb.delete(node)
            wb.delete(STALE + w.to_bytes(8, "big") + node)
            self._node_cache.discard(node)
        return held

    def _note_pruned(self, floor: int, held: list[bytes]) -> None:
        """After a pruning batch is written: versions below floor have nothing indexed that
        pruning will visit again; at floor only what pins hold remains."""
        log = self._stale_log
        for w in [w for w in log if w < floor]:
            del log[w]
        log[floor] = held

    def _write_pins(self, wb) -> None:
        wb.put(META_PINS, b"".join(p.to_bytes(8, "big") for p in sorted(self.pins)))

    def pin(self, version: int) -> None:
        """Keep version servable until unpinned (dev snapshots)."""
        if not self.has_version(version):
            raise StoreError(f"no state at version {version}")
        self.pins.add(version)
        with self.db.write_batch(transaction=True, sync=self.sync) as wb:
            self._write_pins(wb)

    def unpin(self, version: int) -> None:
        """Release a pin; what only it held is deleted now."""
        self.pins.discard(version)
        with self.db.write_batch(transaction=True, sync=self.sync) as wb:
            self._write_pins(wb)
            held = None
            if version < self.pruned_below:
                wb.delete(ROOT + version.to_bytes(8, "big"))
                held = self._prune_stale(wb, 0, self.pruned_below)
            keep_from = min(min(self.pins, default=self.pruned_below), self.pruned_below)
            for k in self.db.iterator(start=UNDO, stop=UNDO + keep_from.to_bytes(8, "big"), include_value=False):
                wb.delete(k)
        if held is not None:
            self._note_pruned(self.pruned_below, held)
