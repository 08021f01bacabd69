"""The due-time index: modules schedule items at a block time; hooks take what is due.

Keys: b"due/" || module || 0x00 || due time (8 bytes, big-endian, unix seconds) || item.
Ordered by time, so taking what is due reads only due entries: never a scan of state.
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

PREFIX = b"due/"
_MARK = b"\xc0"  # msgpack nil: presence is what matters


def _prefix(module: str) -> bytes:
    return PREFIX + module.encode() + b"\x00"


def schedule(ctx: Ctx, module: str, due_time: int, item: bytes) -> None:
    """Index item under module at due_time (unix seconds)."""
    ctx.set(_prefix(module) + due_time.to_bytes(8, "big") + item, _MARK)


def cancel(ctx: Ctx, module: str, due_time: int, item: bytes) -> None:
    ctx.delete(_prefix(module) + due_time.to_bytes(8, "big") + item)


def any_scheduled(ctx: Ctx, module: str) -> bool:
    """Whether module has anything in the index (one seek)."""
    return next(iter(ctx.iter_prefix(_prefix(module))), None) is not None


def take_due(ctx: Ctx, module: str, now: int, limit: int = 10_000) -> list[tuple[int, bytes]]:
    """Remove and return up to limit (due time, item) of module with due time <= now."""
    p = _prefix(module)
    n = len(p)
    out = []
    for key, _ in ctx.iter_prefix(p):
        t = int.from_bytes(key[n : n + 8], "big")
        if t > now or len(out) >= limit:
            break
        out.append((t, key[n + 8 :]))
    for t, item in out:
        ctx.delete(p + t.to_bytes(8, "big") + item)
    return out
