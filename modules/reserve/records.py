"""The reserve's state records as frozen, slotted dataclasses (the keys:
modules/reserve/keeper.py), and a direct sale's quote.

The keeper reads and writes them (from_stored, to_stored: the stored maps, keys in
canonical order); an update is a new record (dataclasses.replace). Stable amounts are
stable base units, native amounts native base units, epochs block time // the epoch
parameter, times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Budget:
    """The buyback budget (reserve/epoch): its epoch (-1: none yet), the budget (stable)
    and what its outlays used of it."""

    epoch: int
    budget: int
    used: int

    @classmethod
    def from_stored(cls, v: dict) -> Budget:
        return cls(v["epoch"], v["budget"], v["used"])

    def to_stored(self) -> dict:
        return {"budget": self.budget, "epoch": self.epoch, "used": self.used}

    @property
    def left(self) -> int:
        """What the epoch may still spend (stable base units)."""
        return self.budget - self.used


@dataclass(frozen=True, slots=True)
class RedeemLimit:
    """The epoch's native redemption limit (reserve/native): its epoch, the limit and what
    the queue's fills used of it (native)."""

    epoch: int
    limit: int
    used: int

    @classmethod
    def from_stored(cls, v: dict) -> RedeemLimit:
        return cls(v["epoch"], v["limit"], v["used"])

    def to_stored(self) -> dict:
        return {"epoch": self.epoch, "limit": self.limit, "used": self.used}


@dataclass(frozen=True, slots=True)
class PayoutCap:
    """The epoch's cap on the treasury's native payouts (reserve/treasury): its epoch, the
    cap and what payouts used of it (native)."""

    epoch: int
    cap: int
    used: int

    @classmethod
    def from_stored(cls, v: dict) -> PayoutCap:
        return cls(v["epoch"], v["cap"], v["used"])

    def to_stored(self) -> dict:
        return {"cap": self.cap, "epoch": self.epoch, "used": self.used}


@dataclass(frozen=True, slots=True)
class Redemption:
    """A queued native redemption (reserve/rq/<id>; id is the key's, not stored): its
    holder, the native handed in, what of it was filled, and when its cool-down ends."""

    id: int
    holder: bytes
    amount: int
    filled: int
    release: int

    @classmethod
    def from_stored(cls, rid: int, v: dict) -> Redemption:
        return cls(rid, v["holder"], v["amount"], v["filled"], v["release"])

    def to_stored(self) -> dict:
        return {"amount": self.amount, "filled": self.filled, "holder": self.holder, "release": self.release}

    @property
    def unfilled(self) -> int:
        """Native still waiting in the queue."""
        return self.amount - self.filled


@dataclass(frozen=True, slots=True)
class Quote:
    """What a direct sale to the reserve pays now (computed, not stored): the price per
    unit, the value (stable), what is paid out (in the currency asked for) and the native
    backing b (wad stable per native base unit)."""

    price: int
    value: int
    out: int
    backing: int
