"""Amounts held per account until a release time (insurance unbondings, native redemptions).

Keys: prefix || account (20 bytes) || release time (8 bytes, big-endian, unix seconds);
value: int. One account's entries are one key range, in release order.
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx


def _key(prefix: bytes, account: bytes, release: int) -> bytes:
    return prefix + account + release.to_bytes(8, "big")


def add(ctx: Ctx, prefix: bytes, account: bytes, release: int, amount: int) -> None:
    """Hold amount for account until release (added to what is already held then)."""
    key = _key(prefix, account, release)
    ctx.set_int(key, ctx.get_int(key) + amount)


def entries(ctx: Ctx, prefix: bytes, account: bytes) -> list[tuple[int, int]]:
    """(release time, amount) of every entry of the account, in release order."""
    n = len(prefix) + 20
    return [(int.from_bytes(k[n:], "big"), ctx.get_int(k)) for k, _ in ctx.iter_prefix(prefix + account)]


def take_matured(ctx: Ctx, prefix: bytes, account: bytes, now: int) -> int | None:
    """Remove the account's entries released by now; their total, or None if there are none."""
    due = [(t, a) for t, a in entries(ctx, prefix, account) if t <= now]
    if not due:
        return None
    for t, _ in due:
        ctx.delete(_key(prefix, account, t))
    return sum(a for _, a in due)


def total(ctx: Ctx, prefix: bytes) -> int:
    """Everything held under prefix, every account."""
    return sum(ctx.get_int(k) for k, _ in ctx.iter_prefix(prefix))
