"""The stable token's invariants: custodian mints within the genesis attestation, ceiling
use only for units the vault holds."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.stable import keeper, vault


def invariants(ctx: Ctx) -> list[str]:
    """Custodian mints within the genesis attestation; a tranche's ceiling use is exposure the
    vault holds now (none once the vault holds none of its units)."""
    out = []
    token = keeper.info(ctx)
    if token is not None and token.custodianMinted > token.attestedReserve:
        out.append(f"stable: custodian minted {token.custodianMinted} above attested reserve {token.attestedReserve}")
    for ceiling, used in keeper.uses(ctx, b"tranche/"):
        unit = ceiling[len(b"tranche/"):].decode()
        if used and not bank.balance(ctx, vault.VAULT, unit):
            out.append(f"stable: ceiling use {used} for {unit}, of which the vault holds nothing")
    return out
