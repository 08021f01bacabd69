"""Governance's state records as frozen, slotted dataclasses (the keys: modules/governance/
keeper.py). Votes, pauses and the validator set are scalars (a weight, a flag, a power);
the parameters stay a map (named by path in a genesis: params.governance)."""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("unpause", "unfreeze", "grantRole", "revokeRole")
"""What propose may do (modules/governance/module.py)."""
CHANGES = ("setParams", "setPolicy", "setOperators", "setValidator")
"""What proposeChange may do (modules/governance/changes.py)."""
STATUSES = ("voting", "passed", "rejected", "executed", "failed")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposal (gov/prop/<id>): its id and proposer; the action (ACTIONS or CHANGES),
    its target, the account of a role action (b"" otherwise) and the value of a change
    ("" otherwise); when its vote started and ends (unix s); the yes and no weights cast
    (native base units of bonded stake); its status (STATUSES) and, once passed, when it
    executes (unix s, 0 before); snapshot: the insurance fund's snapshot of bonded stake
    its voters vote with (None for a proposal stored before snapshots: the field is
    absent, and the stake bonded now votes)."""

    id: int
    proposer: bytes
    action: str
    target: str
    account: bytes
    value: str
    start: int
    end: int
    yes: int
    no: int
    status: str
    executeAt: int  # noqa: N815 (the stored field's name)
    snapshot: int | None

    @classmethod
    def from_stored(cls, v: dict) -> Proposal:
        return cls(v["id"], v["proposer"], v["action"], v["target"], v["account"], v["value"], v["start"], v["end"],
                   v["yes"], v["no"], v["status"], v["executeAt"], v.get("snapshot"))

    def to_stored(self) -> dict:
        """The stored map: the fields in key order (snapshot only when it is known)."""
        out = {"account": self.account, "action": self.action, "end": self.end, "executeAt": self.executeAt,
               "id": self.id, "no": self.no, "proposer": self.proposer}
        if self.snapshot is not None:
            out["snapshot"] = self.snapshot
        out.update(start=self.start, status=self.status, target=self.target, value=self.value, yes=self.yes)
        return out
