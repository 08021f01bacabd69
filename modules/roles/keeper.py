"""The roles registry's state and the only code that reads and writes it.

State keys (values canonical msgpack):
    roles/<role>\\x00<addr 20B>   true   addr holds role (absent: it does not)
Genesis seeds it; only governance changes it, through grant/revoke. Every privileged call
uses require().
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import Unauthorized
from rwachain.modules.roles.records import PREFIX, ROLES, Grant


def has_role(ctx: Ctx, role: str, addr: bytes) -> bool:
    return ctx.get(Grant(role, addr).key()) is not None


def require(ctx: Ctx, role: str, addr: bytes) -> None:
    """Raise Unauthorized unless addr holds role."""
    if not has_role(ctx, role, addr):
        raise Unauthorized(f"this call needs the {role} role")


def seed(ctx: Ctx, role: str, addr: bytes) -> None:
    """Record that addr holds role, emitting nothing (a genesis import)."""
    ctx.set_obj(Grant(role, addr).key(), True)


def grant(ctx: Ctx, role: str, addr: bytes) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    seed(ctx, role, addr)
    ctx.emit("roles.granted", role=role, account=addr)


def revoke(ctx: Ctx, role: str, addr: bytes) -> None:
    ctx.delete(Grant(role, addr).key())
    ctx.emit("roles.revoked", role=role, account=addr)


def holders(ctx: Ctx, role: str) -> list[bytes]:
    """The accounts holding role, in address order."""
    p = PREFIX + role.encode() + b"\x00"
    return [k[len(p):] for k, _ in ctx.iter_prefix(p)]


def roles_of(ctx: Ctx, addr: bytes) -> list[str]:
    return [r for r in ROLES if has_role(ctx, r, addr)]


def grants(ctx: Ctx) -> list[Grant | None]:
    """Every roles key in key order, as its grant (None: a key that is no grant)."""
    return [Grant.from_key(k) for k, _ in ctx.iter_prefix(PREFIX)]
