"""The oracle's state records as frozen, slotted dataclasses (the keys: modules/oracle/keeper.py).

The keeper reads and writes the operator set, policies and feeds only as these records:
from_stored builds one from its stored map, to_stored writes exactly the map stored (keys
in canonical order, so the encoder packs it as it is).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operator:
    """An oracle operator: its account, BLS public key (48 bytes) and proof of possession
    of that key (96 bytes)."""

    address: bytes
    pubkey: bytes
    pop: bytes


@dataclass(frozen=True, slots=True)
class OperatorSet:
    """The operator set (oracle/set): its epoch (0: none yet) and operators in bitmap
    order, stored as [[address, pubkey, pop], ...]."""

    epoch: int
    operators: tuple[Operator, ...]

    @classmethod
    def from_stored(cls, v: dict) -> OperatorSet:
        return cls(v["epoch"], tuple(Operator(a, pk, pop) for a, pk, pop in v["operators"]))

    def to_stored(self) -> dict:
        return {"epoch": self.epoch, "operators": [[o.address, o.pubkey, o.pop] for o in self.operators]}


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

    def to_stored(self) -> dict:
        return {"activatesAt": self.activatesAt, "observedAt": self.observedAt, "round": self.round,
                "value": self.value}


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed (oracle/feed/<id>): its value in the class's scale, the last applied round,
    observation and update times (s), the step window's id (block time // window) and its
    first value (the base of a relative step), whether it is frozen, and its queued move."""

    value: int
    round: int
    observedAt: int  # noqa: N815
    updatedAt: int  # noqa: N815
    windowId: int  # noqa: N815
    windowValue: int  # noqa: N815
    frozen: bool
    pending: PendingMove | None

    @property
    def last_round(self) -> int:
        """The round a new report must exceed: the queued move's, else the applied one's."""
        return self.round if self.pending is None else self.pending.round

    @classmethod
    def from_stored(cls, v: dict) -> FeedState:
        return cls(v["value"], v["round"], v["observedAt"], v["updatedAt"], v["windowId"], v["windowValue"],
                   v["frozen"], PendingMove.from_stored(v["pending"]))

    def to_stored(self) -> dict:
        return {"frozen": self.frozen, "observedAt": self.observedAt,
                "pending": None if self.pending is None else self.pending.to_stored(), "round": self.round,
                "updatedAt": self.updatedAt, "value": self.value, "windowId": self.windowId,
                "windowValue": self.windowValue}


@dataclass(frozen=True, slots=True)
class Policy:
    """A feed class's policy (oracle/policy/<class>; the fields: modules/oracle/feeds.py):
    signers needed, the longest age of a value (s), the step window (s), the step allowed
    per window (absolute, and relative in wad of the window's first value), the delay of a
    larger move (s), the hard bounds."""

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

    def to_stored(self) -> dict:
        return {"delay": self.delay, "hi": self.hi, "lo": self.lo, "maxAge": self.maxAge, "quorum": self.quorum,
                "stepAbs": self.stepAbs, "stepRel": self.stepRel, "window": self.window}
