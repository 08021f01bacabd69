"""The tranches' genesis section: pools as in state (an export), with their payout
checkpoints; checked with field-named errors into Pool records, imported and exported
(Module.genesis_json, modules/core/sections.py)."""

from __future__ import annotations

from typing import Any

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.sections import (
    GenesisError,
    Section,
    address_field,
    hex_field,
    int_field,
    list_field,
    object_field,
)
from rwachain.modules.tranches import keeper
from rwachain.modules.tranches.records import POOL_INTS, TRANCHE_INTS, Pool, Tranche


def check(raw: Any, checked: dict) -> dict:
    """The tranches section: pools as in state (an export, read into Pool records), with
    their payout checkpoints."""
    s = object_field("tranches", raw, {"pools"}, {"next", "payouts"})
    pools = []
    for i, p in enumerate(list_field("tranches.pools", s["pools"])):
        q = f"tranches.pools[{i}]"
        p = object_field(q, p, set(POOL_INTS) | {"originator", "account", "assets", "status", "tranches"})
        ints = {f: int_field(f"{q}.{f}", p[f], 0, 1 << 255) for f in POOL_INTS}
        originator = address_field(f"{q}.originator", p["originator"])
        account = address_field(f"{q}.account", p["account"])
        ids = tuple(int_field(f"{q}.assets[{j}]", a, 1) for j, a in enumerate(list_field(f"{q}.assets", p["assets"])))
        if p["status"] not in ("active", "closed"):
            raise GenesisError(f"{q}.status: active or closed")
        tranches = []
        for k, t in enumerate(list_field(f"{q}.tranches", p["tranches"])):
            r = f"{q}.tranches[{k}]"
            t = object_field(r, t, set(TRANCHE_INTS) | {"denom"})
            tranches.append(Tranche(denom=t["denom"], **{f: int_field(f"{r}.{f}", t[f], 0, 1 << 255) for f in TRANCHE_INTS}))
        pools.append(Pool(**ints, originator=originator, account=account, assets=ids, status=p["status"],
                          tranches=tuple(tranches)))
    payouts = []
    for i, e in enumerate(list_field("tranches.payouts", s.get("payouts", []))):
        if type(e) is not list or len(e) != 3:
            raise GenesisError(f"tranches.payouts[{i}]: expected [key, checkpoint, owed]")
        payouts.append([hex_field(f"tranches.payouts[{i}][0]", e[0]), int_field(f"tranches.payouts[{i}][1]", e[1], 0, 1 << 255),
                        int_field(f"tranches.payouts[{i}][2]", e[2], 0, 1 << 255)])
    return {"next": int_field("tranches.next", s.get("next", len(pools) + 1), 1), "pools": pools, "payouts": payouts}


def to_json(section: dict) -> dict | None:
    """The JSON form of an exported section (None: no pools, left out)."""
    if not section.get("pools"):
        return None
    pools = []
    for p in section["pools"]:
        j = {f: str(getattr(p, f)) for f in POOL_INTS}
        j.update(originator=encode_address(p.originator), account=encode_address(p.account),
                 assets=[str(a) for a in p.assets], status=p.status,
                 tranches=[{"denom": t.denom, **{f: str(getattr(t, f)) for f in TRANCHE_INTS}} for t in p.tranches])
        pools.append(j)
    return {"next": section["next"], "pools": pools,
            "payouts": [["0x" + k.hex(), str(c), str(o)] for k, c, o in section["payouts"]]}


SECTION = Section(check, to_json)


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {next, pools: [Pool], payouts: [[key suffix, ckpt, owed]]} as exported."""
    for p in section.get("pools", []):
        keeper.put(ctx, p)
        keeper.index_live(ctx, p)
        bank.register_module_account(ctx, p.account, f"pool/{p.id}")
    for key, ckpt, owed in section.get("payouts", []):
        ctx.set_int(keeper.CKPT + key, ckpt)
        ctx.set_int(keeper.OWED + key, owed)
    if section.get("next"):
        ctx.set_int(keeper.NEXT, section["next"])


def export_genesis(ctx: Ctx) -> dict:
    pools = [keeper.get(ctx, i) for i in keeper.ids(ctx, 0, 1 << 30)]
    if not pools:
        return {}
    keys = sorted({k[len(keeper.CKPT):] for k, _ in ctx.iter_prefix(keeper.CKPT)}
                  | {k[len(keeper.OWED):] for k, _ in ctx.iter_prefix(keeper.OWED)})
    payouts = [[k, ctx.get_int(keeper.CKPT + k), ctx.get_int(keeper.OWED + k)] for k in keys]
    return {"next": ctx.get_int(keeper.NEXT), "pools": pools, "payouts": payouts}
