"""The bank's genesis section: {"denoms": [{id, symbol, decimals, kind}]}, validated by
genesis/loader.py (the genesis file's top-level "denoms"). Balances and supplies come
with the genesis accounts (App.init_chain), not with this section."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.context import Ctx


def init_genesis(ctx: Ctx, section: dict) -> None:
    """Register every denomination of the section."""
    for d in section["denoms"]:
        keeper.register_denom(ctx, d["id"], d["symbol"], d["decimals"], d["kind"])


def export_genesis(ctx: Ctx) -> dict:
    """The section of the state: every registered denomination, in id order."""
    return {"denoms": [d.to_section() for d in keeper.denoms(ctx)]}
