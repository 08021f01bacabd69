"""Account nonces: acct/<addr 20B> -> int, the nonce the account's next transaction needs."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

PREFIX = b"acct/"


def nonce(ctx: Ctx, addr: bytes) -> int:
    return ctx.get_int(PREFIX + addr)


def bump(ctx: Ctx, addr: bytes, current: int) -> None:
    ctx.set_int(PREFIX + addr, current + 1)
