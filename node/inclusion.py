"""Waiting for a transaction to be included: callers park on its hash until a committed
block names it (the devnet's producer and the ABCI node's front both tell it)."""

from __future__ import annotations

import trio

from rwachain.node.blockstore import BlockStore


class InclusionWaiters:
    """tx hash -> the events of the callers waiting for it; bounded by the callers, since
    each waiter removes itself when it times out."""

    def __init__(self, blocks: BlockStore):
        self.blocks = blocks
        self._waiting: dict[bytes, list[trio.Event]] = {}

    async def wait(self, tx_hash: bytes, timeout: float) -> tuple[int, int] | None:
        """Wait until tx_hash is in a committed block: its (height, index), or None after
        timeout seconds."""
        loc = self.blocks.tx_location(tx_hash)
        if loc is not None:
            return loc
        ev = trio.Event()
        self._waiting.setdefault(tx_hash, []).append(ev)
        with trio.move_on_after(timeout):
            await ev.wait()
        waiters = self._waiting.get(tx_hash)
        if waiters is not None and ev in waiters:
            waiters.remove(ev)
            if not waiters:
                del self._waiting[tx_hash]
        return self.blocks.tx_location(tx_hash)

    def included(self, tx_hashes: list[bytes]) -> None:
        """A block with these transactions was committed: wake their waiters."""
        for h in tx_hashes:
            for ev in self._waiting.pop(h, []):
                ev.set()
