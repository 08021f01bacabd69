"""The oracle's invariants, checked after every genesis import and every simulated block.
(That every unfrozen value lies within its class's bounds is a chain-wide check:
genesis/checks.py, oracle-bounds.)"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.oracle import feeds, keeper


def invariants(ctx: Ctx) -> list[str]:
    """Every feed has a policy for its class (a report is checked against it)."""
    by_class: dict[str, list[str]] = {}
    for feed in keeper.list_feeds(ctx):
        by_class.setdefault(feeds.class_of(feed), []).append(feed)
    return [f"oracle {feed}: no policy for its class {cls!r}" for cls, fs in by_class.items()
            if not keeper.has_policy(ctx, cls) for feed in fs]
