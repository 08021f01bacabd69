"""History: the state at a past version (point reads with proofs through the tree, listings
by replaying undo logs) and the rewind to one (dev reverts), a part of Store."""

from __future__ import annotations

from collections.abc import Iterator

from rwachain.state.codec import decode_stored
from rwachain.state.store.keys import FLAT, META_VERSION, ROOT, STALE, UNDO, StoreError
from rwachain.state.tree import LEAF_PREFIX, NODE_PREFIX, Slot, decode_slot, slot_hash


class History:
    """Reads at past versions and revert (a part of Store: it sets up the attributes in __init__)."""

    def _root_slot(self, version: int) -> Slot | None:
        raw = self.db.get(ROOT + version.to_bytes(8, "big"))
        if raw is None:
            raise StoreError(f"no state at version {version}")
        return decode_slot(raw)

    def has_version(self, version: int) -> bool:
        return self.db.get(ROOT + version.to_bytes(8, "big")) is not None

    def root_at(self, version: int) -> bytes:
        return slot_hash(self._root_slot(version))

    def get_at(self, key: bytes, version: int | None = None) -> tuple[bytes | None, dict, bytes]:
        """(value, proof, root hash) of key at version (default: latest)."""
        if version is None:
            version = self.version
        if version is None:
            raise StoreError("the store is empty")
        try:
            slot = self._root_slot(version)
        except StoreError:
            raise StoreError(f"no state at version {version} (kept: the last {self.keep_versions}"
                             " versions and pinned ones)") from None
        value, proof = self.tree.walk(slot, key)
        return value, proof, slot_hash(slot)

    def iter_state(self, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) of the state at version, from the tree (keyhash order)."""
        version = self.version if version is None else version
        return self.tree.iter_leaves(self._root_slot(version))

    def revert(self, target: int, extra_deletes: list[bytes] = (), extra_puts: dict[bytes, bytes] | None = None) -> None:
        """Rewind the state to version target (which must be retained or pinned), in one
        synced batch with the caller's block-store edits. Needs the undo logs of every
        later version (keep_undo)."""
        if self.version is None or target > self.version:
            raise StoreError(f"cannot revert to version {target}: the head is {self.version}")
        if not self.has_version(target):
            raise StoreError(f"no state at version {target} (pruned and not pinned)")
        logs = []
        for v in range(self.version, target, -1):
            raw = self.db.get(UNDO + v.to_bytes(8, "big"))
            if raw is None:
                raise StoreError(f"no undo log for version {v}: revert needs keep_undo from the snapshot on")
            logs.append(decode_stored(raw))
        restore: dict[bytes, bytes | None] = {}
        for log in logs:  # newest first, so the oldest change's old value wins
            for key, old in log:
                restore[key] = old
        first_dead = (target + 1).to_bytes(8, "big")
        self._caches_changing()
        with self.db.write_batch(transaction=True, sync=self.sync) as wb:
            for key, old in restore.items():
                if old is None:
                    wb.delete(FLAT + key)
                else:
                    wb.put(FLAT + key, old)
            for prefix in (NODE_PREFIX, LEAF_PREFIX, ROOT, UNDO, STALE):
                for k in self.db.iterator(start=prefix + first_dead, stop=prefix + b"\xff" * 9, include_value=False):
                    wb.delete(k)
            for k in extra_deletes:
                wb.delete(k)
            for k, val in (extra_puts or {}).items():
                wb.put(k, val)
            wb.put(META_VERSION, target.to_bytes(8, "big"))
        self.pins = {p for p in self.pins if p <= target}
        with self.db.write_batch(sync=self.sync) as wb:
            self._write_pins(wb)
        self._clear_value_caches()
        self._node_cache.clear()
        for w in [w for w in self._stale_log if w > target]:
            del self._stale_log[w]
        self.version = target
        self.root = self._root_slot(target)


class VersionView:
    """Read-only state at one retained version: point reads walk the tree; listings by
    prefix replay undo logs over the latest state (the tree is ordered by key hash)."""

    def __init__(self, store, version: int):
        if store.version is not None and version == store.version:
            self._latest = store
        else:
            self._latest = None
            try:
                self._slot = store._root_slot(version)
            except StoreError:
                raise StoreError(f"no state at version {version} (kept: the last {store.keep_versions}"
                                 " versions and pinned ones)") from None
        self.store = store
        self.version = version

    def get(self, key: bytes) -> bytes | None:
        if self._latest is not None:
            return self._latest.get(key)
        return self.store.tree.walk(self._slot, key)[0]

    def iter_prefix_from(self, prefix: bytes, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) under prefix with key >= start at this version, in key order (a seek
        at the latest version; at an older one the corrected listing, filtered)."""
        if self._latest is not None:
            return self._latest.iter_prefix_from(prefix, start)
        return ((k, v) for k, v in self.iter_prefix(prefix) if k >= start)

    def iter_prefix(self, prefix: bytes):
        """(key, value) under prefix at this version, in key order: the latest listing
        corrected by the undo logs of every later block (cost: the changes since)."""
        if self._latest is not None:
            return self._latest.iter_prefix(prefix)
        store = self.store
        restore: dict[bytes, bytes | None] = {}
        for v in range(store.version, self.version, -1):  # newest first: the oldest wins
            raw = store.db.get(UNDO + v.to_bytes(8, "big"))
            if raw is None:
                raise StoreError(f"listing at version {self.version} needs the undo log of {v}, which is pruned")
            for key, old in decode_stored(raw):
                if key.startswith(prefix):
                    restore[key] = old
        items = {k: v for k, v in store.iter_prefix(prefix) if k not in restore}
        items.update((k, v) for k, v in restore.items() if v is not None)
        return iter(sorted(items.items()))
