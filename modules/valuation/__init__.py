"""valuation: pure pricing functions; no state of its own.

dcf: the discounted cash flow of an asset's unpaid installments with a default hazard
(MECHANISM "Valuation"; the pinned definition is in modules/valuation/dcf.py and
docs/mechanism.md).
"""

from rwachain.modules.valuation.dcf import (
    DEFAULTED,
    PERFORMING,
    STATUSES,
    WRITTEN_OFF,
    Inputs,
    explain,
    value,
)

__all__ = ["DEFAULTED", "PERFORMING", "STATUSES", "WRITTEN_OFF", "Inputs", "explain", "value"]
