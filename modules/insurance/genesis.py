"""The insurance fund's genesis section: every insurance/ record, typed (modules/core/records.py)."""

from __future__ import annotations

from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.insurance.keeper import (
    CLAIM,
    COVER,
    ERA,
    FUND_KEY,
    INDEX,
    SLASH,
    SNAPSHOT,
    STAKE,
    UNBOND,
    VOTES,
)

NAME = "insurance"

GENESIS = (
    Record("fund", FUND_KEY, value={"native": "int", "shares": "int", "bonded": "int", "era": "int", "slashes": "int",
                                    "snapshots": "int"}),
    Record("stakes", STAKE, (("address", "addr"),), {"shares": "int", "snap": ("map", "int"), "owed": ("map", "int"),
                                                     "era": "int", "held": "int", "gen": "int", "since": "int"}),
    Record("indexes", INDEX, (("denom", "str"),), "int", field="index"),
    Record("unbonding", UNBOND, (("address", "addr"), ("release", "u64")), "int", field="shares"),
    Record("slashes", SLASH, (("gen", "u64"),), {"pool": "addr", "shares": "int", "lost": "int", "covered": "int",
                                                 "recovered": "int", "paid": "int"}),
    Record("covers", COVER, (("pool", "addr"), ("gen", "u64")), "int", field="amount"),
    Record("claims", CLAIM, (("address", "addr"), ("gen", "u64")), {"shares": "int", "paid": "int"}),
    Record("eras", ERA, (("era", "u64"),), {"index": ("map", "int"), "slashes": "int"}),
    Record("snapshots", SNAPSHOT, (("id", "u64"),), {"native": "int", "shares": "int", "bonded": "int", "era": "int"}),
    Record("voteLog", VOTES, (("address", "addr"), ("id", "u64")), {"shares": "int", "era": "int"}),
)
"""The typed genesis section (modules/core/records.py): every insurance/ record."""
init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"insurance/",))
