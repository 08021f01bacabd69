"""The reserve's invariants: the epoch's outlays within its budget, the treasury's native
payouts within their cap."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.reserve import keeper


def invariants(ctx: Ctx) -> list[str]:
    """Outlays in the epoch <= its budget; the treasury's native payouts <= their cap."""
    out = []
    st = keeper.epoch_state(ctx)
    if st.used > st.budget:
        out.append(f"reserve: spent {st.used} of a budget of {st.budget}")
    tr = keeper.stored_payouts(ctx)
    if tr is not None and tr.used > tr.cap:
        out.append(f"treasury: paid {tr.used} native of a cap of {tr.cap}")
    return out
