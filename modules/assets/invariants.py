"""The assets' invariants, checked after every genesis import and every simulated block."""

from __future__ import annotations

from rwachain.modules.assets import keeper
from rwachain.modules.core.context import Ctx


def invariants(ctx: Ctx) -> list[str]:
    """Every asset is listed under its own status, and under no other (the status index
    is what the due-time checks, the RPC's listing and the simulation read)."""
    listed: dict[bytes, list[str]] = {}
    for status in keeper.STATUSES:
        p = keeper.status_prefix(status)
        for k, _ in ctx.iter_prefix(p):
            listed.setdefault(k[len(p):], []).append(status)
    out = []
    for rec in keeper.each(ctx):
        if listed.pop(keeper.idb(rec.id), None) != [rec.status]:
            out.append(f"assets {rec.id}: not listed under its status {rec.status!r} alone")
    out += [f"assets: index entry {b.hex()} names no asset" for b in sorted(listed)]
    return out
