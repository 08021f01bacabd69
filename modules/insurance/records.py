"""The insurance fund's state records as frozen, slotted dataclasses (the keys:
modules/insurance/keeper.py).

The keeper reads and writes them (from_stored, to_stored: the stored maps, keys in
canonical order); an update is a new record (dataclasses.replace). Native amounts are
native base units, stable amounts stable base units, reward indexes ray (x 10^27) per
bonded share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class _Shares:
    """A pool of native (native) divided into shares (shares)."""

    __slots__ = ()
    native: int
    shares: int

    def value(self, shares: int) -> int:
        """Native value of shares, rounded down (0 while the pool has no shares)."""
        return shares * self.native // self.shares if self.shares else 0


@dataclass(frozen=True, slots=True)
class Fund(_Shares):
    """The fund (insurance/fund): its native, its shares (bonded and unbonding), the bonded
    shares, its era, the slashes and the governance snapshots taken so far."""

    native: int
    shares: int
    bonded: int
    era: int
    slashes: int
    snapshots: int

    @classmethod
    def from_stored(cls, v: dict) -> Fund:
        """(A field a stored fund lacks is 0.)"""
        g = v.get
        return cls(g("native", 0), g("shares", 0), g("bonded", 0), g("era", 0), g("slashes", 0), g("snapshots", 0))

    def to_stored(self) -> dict:
        return {"bonded": self.bonded, "era": self.era, "native": self.native, "shares": self.shares,
                "slashes": self.slashes, "snapshots": self.snapshots}

    def snapshot(self) -> Snapshot:
        """The fund as governance's snapshot keeps it."""
        return Snapshot(self.native, self.shares, self.bonded, self.era)


def read_only(m: Mapping[str, int]) -> Mapping[str, int]:
    """A read-only view of a copy of m (a record's map field)."""
    return MappingProxyType(dict(m))


def sorted_map(m: Mapping[str, int]) -> dict[str, int]:
    """m as a dict in key order, as a stored map must be (put_record packs it as it is): a
    settlement adds a denomination new to a staker after those it already had."""
    return dict(sorted(m.items()))


@dataclass(frozen=True, slots=True)
class Stake:
    """A staker's record (insurance/stake/<addr>): its bonded shares, the reward index of
    each denomination at its last settlement (snap) and the rewards settled and not yet
    claimed (owed), its era, all its shares (held: bonded and unbonding; None in a record
    from before slashes were tracked), the slashes counted for it (gen) and the snapshots
    taken at its last change of bonded shares (since). The maps are read-only views."""

    shares: int
    snap: Mapping[str, int]
    owed: Mapping[str, int]
    era: int
    held: int | None
    gen: int
    since: int

    @classmethod
    def from_stored(cls, v: dict) -> Stake:
        """(Fields a record from before them lacks: era, gen and since 0, held None.)"""
        g = v.get
        return cls(v["shares"], MappingProxyType(v["snap"]), MappingProxyType(v["owed"]), g("era", 0), g("held"),
                   g("gen", 0), g("since", 0))

    def to_stored(self) -> dict:
        return {"era": self.era, "gen": self.gen, "held": self.held, "owed": sorted_map(self.owed),
                "shares": self.shares, "since": self.since, "snap": sorted_map(self.snap)}


NO_STAKE = Stake(0, MappingProxyType({}), MappingProxyType({}), 0, None, 0, 0)
"""The record of an account that never staked."""


@dataclass(frozen=True, slots=True)
class Slash:
    """A cover's slash (insurance/slash/<gen>): the pool's account, the fund's shares then,
    the native taken (lost), the stable paid (covered), the recoveries received for it and
    what of them its stakers were paid."""

    pool: bytes
    shares: int
    lost: int
    covered: int
    recovered: int
    paid: int

    @classmethod
    def from_stored(cls, v: dict) -> Slash:
        return cls(v["pool"], v["shares"], v["lost"], v["covered"], v["recovered"], v["paid"])

    def to_stored(self) -> dict:
        return {"covered": self.covered, "lost": self.lost, "paid": self.paid, "pool": self.pool,
                "recovered": self.recovered, "shares": self.shares}


@dataclass(frozen=True, slots=True)
class Claim:
    """An account's part of a slash (insurance/claim/<addr><gen>): the shares it held at
    the slash and what of the slash's recoveries it was paid."""

    shares: int
    paid: int

    @classmethod
    def from_stored(cls, v: dict) -> Claim:
        return cls(v["shares"], v["paid"])

    def to_stored(self) -> dict:
        return {"paid": self.paid, "shares": self.shares}


@dataclass(frozen=True, slots=True)
class EraEnd:
    """An era's end (insurance/era/<era>): the reward indexes and the slash count then."""

    index: Mapping[str, int]
    slashes: int

    @classmethod
    def from_stored(cls, v: dict) -> EraEnd:
        return cls(MappingProxyType(v["index"]), v["slashes"])

    def to_stored(self) -> dict:
        return {"index": sorted_map(self.index), "slashes": self.slashes}


@dataclass(frozen=True, slots=True)
class Snapshot(_Shares):
    """The fund when governance took snapshot <id> (insurance/snapshot/<id>): its native,
    shares, bonded shares and era."""

    native: int
    shares: int
    bonded: int
    era: int

    @classmethod
    def from_stored(cls, v: dict) -> Snapshot:
        return cls(v["native"], v["shares"], v["bonded"], v["era"])

    def to_stored(self) -> dict:
        return {"bonded": self.bonded, "era": self.era, "native": self.native, "shares": self.shares}


@dataclass(frozen=True, slots=True)
class Bonded:
    """An account's bonded shares and their era (insurance/votes/<addr><id>: as held up to
    snapshot id)."""

    shares: int
    era: int

    @classmethod
    def from_stored(cls, v: dict) -> Bonded:
        return cls(v["shares"], v["era"])

    def to_stored(self) -> dict:
        return {"era": self.era, "shares": self.shares}
