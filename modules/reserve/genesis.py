"""The reserve's genesis section: every reserve/ record, typed (modules/core/records.py)."""

from __future__ import annotations

from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.reserve.keeper import (
    EPOCH,
    HOLDER,
    NATIVE_EPOCH,
    NEXT,
    QUEUE,
    QUEUED,
    TREASURY_EPOCH,
)

NAME = "reserve"

GENESIS = (
    Record("epoch", EPOCH, value={"epoch": "int", "budget": "int", "used": "int"}),
    Record("native", NATIVE_EPOCH, value={"epoch": "int", "limit": "int", "used": "int"}),
    Record("treasury", TREASURY_EPOCH, value={"epoch": "int", "cap": "int", "used": "int"}),
    Record("queued", QUEUED, value="int"),
    Record("next", NEXT, value="int"),
    Record("redemptions", QUEUE, (("id", "u64"),), {"holder": "addr", "amount": "int", "filled": "int",
                                                   "release": "int"}),
    Record("holderIndex", HOLDER, (("holder", "addr"), ("id", "u64")), "true", field="queued"),
)
"""The typed genesis section (modules/core/records.py): every reserve/ record."""
init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"reserve/",))
