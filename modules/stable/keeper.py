"""The stable token's identity record, read by every module that pays in it.

State: stable/custodian, a canonical msgpack map {denom, attestedReserve, custodianMinted}
(modules/stable/module.py writes it at genesis). Kept apart from the vault so that the
modules the vault itself reads (tranches) can name the stable denomination without
importing it.
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

CUSTODIAN = b"stable/custodian"


def info(ctx: Ctx) -> dict | None:
    """The stable token's record; None before genesis names one."""
    return ctx.get_obj(CUSTODIAN)
