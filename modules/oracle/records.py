"""The oracle's state records as frozen, slotted dataclasses (the keys: modules/oracle/keeper.py).

The keeper's report path updates a feed's map in place and stores it as it is; these
records are the read side: the RPC's answers and the simulation read feeds and policies
through them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PendingMove:
    """A queued move (a step beyond the policy): its value, round, observation time (s)
    and the time it applies (s)."""

    value: int
    round: int
    observedAt: int  # noqa: N815 (the stored field's name)
    activatesAt: int  # noqa: N815

    @classmethod
    def from_stored(cls, v: dict | None) -> PendingMove | None:
        return None if v is None else cls(v["value"], v["round"], v["observedAt"], v["activatesAt"])


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed (oracle/feed/<id>): its value in the class's scale, the last applied round,
    observation and update times (s), the window's id and its first value (the base of a
    relative step), whether it is frozen, and its queued move."""

    value: int
    round: int
    observedAt: int  # noqa: N815
    updatedAt: int  # noqa: N815
    windowId: int  # noqa: N815
    windowValue: int  # noqa: N815
    frozen: bool
    pending: PendingMove | None

    @classmethod
    def from_stored(cls, v: dict) -> FeedState:
        return cls(v["value"], v["round"], v["observedAt"], v["updatedAt"], v["windowId"], v["windowValue"],
                   v["frozen"], PendingMove.from_stored(v["pending"]))


@dataclass(frozen=True, slots=True)
class Policy:
    """A feed class's policy (oracle/policy/<class>): signers needed, the longest age of a
    value (s), the step window (s), the step allowed per window (absolute, and relative in
    wad of the window's first value), the delay of a larger move (s), the hard bounds."""

    quorum: int
    maxAge: int  # noqa: N815
    window: int
    stepAbs: int  # noqa: N815
    stepRel: int  # noqa: N815
    delay: int
    lo: int
    hi: int

    @classmethod
    def from_stored(cls, v: dict) -> Policy:
        return cls(v["quorum"], v["maxAge"], v["window"], v["stepAbs"], v["stepRel"], v["delay"], v["lo"], v["hi"])
