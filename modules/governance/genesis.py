"""Governance's typed genesis section (modules/core/records.py): the proposal counter,
proposals, votes, pauses and the validator set (a genesis names the set in its top-level
"validators"; genesis/loader.py). A proposal's due-time entry follows from its status."""

from __future__ import annotations

from rwachain.modules.core import due
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.governance import keeper, validators
from rwachain.modules.governance.records import ACTIONS, CHANGES, STATUSES, Proposal

NAME = "governance"
GENESIS = (
    Record("next", keeper.NEXT, value="int"),
    Record("proposals", keeper.PROP, (("id", "u64"),), {
        "id": "int", "proposer": "addr", "action": ("enum", ACTIONS + CHANGES), "target": "str", "account": "bytes",
        "value": "str", "start": "int", "end": "int", "yes": "int", "no": "int", "status": ("enum", STATUSES),
        "executeAt": "int", "snapshot": "int"}),
    Record("votes", keeper.VOTE, (("id", "u64"), ("voter", "addr")), "int", field="weight"),
    Record("paused", keeper.PAUSE, (("module", "str"),), "true", field="paused"),
    Record("validators", validators.VAL, (("pubkey", "bytes"),), "int", field="power"),
)
"""The typed genesis section: the records of modules/governance/records.py and keeper.py."""


def _derive_due(ctx: Ctx, section: dict) -> None:
    """A proposal's due-time entry follows from its status: the end of its vote while voting,
    its execution time once passed."""
    for entry in section.get("proposals", []):
        p = Proposal.from_stored(entry)
        when = {"voting": p.end, "passed": p.executeAt}.get(p.status)
        if when:
            due.schedule(ctx, keeper.DUE, when, p.id.to_bytes(8, "big"))


init_genesis, export_genesis = typed_genesis(NAME, GENESIS, (b"gov/", keeper.PAUSE), derive=_derive_due)
