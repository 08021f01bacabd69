"""One yield point: where long work off the event loop offers the loop a turn.

A block run in a worker thread (execution, tree update, commit, block records) passes a
YieldPoint down through the store, the app and the chain, and calls its pause() at points
it passes often. NEVER, the default everywhere, does nothing; node/pacing.py's Pacer is
the one that yields. A yield point must return quickly unless a yield is due, and never
touch state: a paced block commits exactly what an unpaced one does.
"""

from __future__ import annotations

from collections.abc import Iterable

PAUSE_EVERY_MASK = 255  # long loops call pause once every 256 items


class YieldPoint:
    """A point long work passes often; this one never yields (subclasses do)."""

    __slots__ = ()

    def pause(self) -> None:
        """Offer the event loop a turn if one is due (here: never)."""

    def paced(self, items: Iterable) -> Iterable:
        """items, calling pause once every PAUSE_EVERY_MASK + 1 of them."""
        for n, item in enumerate(items):
            if not n & PAUSE_EVERY_MASK:
                self.pause()
            yield item


class _Never(YieldPoint):
    """The yield point of work that runs on its own (tests, tools, small blocks)."""

    __slots__ = ()

    def paced(self, items: Iterable) -> Iterable:
        """items as they are: nothing to call between them."""
        return items


NEVER: YieldPoint = _Never()
"""The default yield point: pause() does nothing, paced() adds no step."""
