"""The roles registry (MECHANISM.md, Roles): who may do which privileged call.

State: roles/<role>\\x00<addr 20B> -> True. Genesis seeds it; only governance (a later
module) changes it, through grant/revoke below. Every privileged call uses require().
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import Unauthorized
from rwachain.modules.core.registry import Module

NAME = "roles"
ROLES = ("originator", "verifier", "servicer", "custodian", "operator", "guardian")
PREFIX = b"roles/"


def _key(role: str, addr: bytes) -> bytes:
    return PREFIX + role.encode() + b"\x00" + addr


def has_role(ctx: Ctx, role: str, addr: bytes) -> bool:
    return ctx.get(_key(role, addr)) is not None


def require(ctx: Ctx, role: str, addr: bytes) -> None:
    """Raise Unauthorized unless addr holds role."""
    if not has_role(ctx, role, addr):
        raise Unauthorized(f"this call needs the {role} role")


def grant(ctx: Ctx, role: str, addr: bytes) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    ctx.set_obj(_key(role, addr), True)
    ctx.emit("roles.granted", role=role, account=addr)


def revoke(ctx: Ctx, role: str, addr: bytes) -> None:
    ctx.delete(_key(role, addr))
    ctx.emit("roles.revoked", role=role, account=addr)


def holders(ctx: Ctx, role: str) -> list[bytes]:
    p = PREFIX + role.encode() + b"\x00"
    return [k[len(p):] for k, _ in ctx.iter_prefix(p)]


def roles_of(ctx: Ctx, addr: bytes) -> list[str]:
    return [r for r in ROLES if has_role(ctx, r, addr)]


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {role: [20-byte addresses]}."""
    for role in ROLES:
        for addr in section.get(role, []):
            ctx.set_obj(_key(role, addr), True)


def export_genesis(ctx: Ctx) -> dict:
    return {role: holders(ctx, role) for role in ROLES if holders(ctx, role)}


def module() -> Module:
    m = Module(NAME, init_genesis=init_genesis, export_genesis=export_genesis)
    return m
