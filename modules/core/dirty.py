"""Topics that changed in this block, for end-block work that depends on them.

A module marks a topic (b"feed/rate", b"asset/<id 8B>") while a transaction or hook
runs; the end-block hook that cares takes them all at once. The marks live in the
block's overlay under dirty/, so a failing transaction's marks roll back with its
other writes, and they are deleted in the same block: they never reach committed state.
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

PREFIX = b"dirty/"
_MARK = b"\xc0"


def mark(ctx: Ctx, topic: bytes) -> None:
    ctx.set(PREFIX + topic, _MARK)


def is_marked(ctx: Ctx, topic: bytes) -> bool:
    return ctx.get(PREFIX + topic) is not None


def take(ctx: Ctx) -> list[bytes]:
    """Every marked topic, in byte order; the marks are removed."""
    topics = [k[len(PREFIX):] for k, _ in ctx.iter_prefix(PREFIX)]
    for t in topics:
        ctx.delete(PREFIX + t)
    return topics
