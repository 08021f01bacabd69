"""The tranches' state records as frozen, slotted dataclasses: the one place their fields
are declared (the keys: modules/tranches/keeper.py).

The keeper reads and writes pools as these records (from_stored / to_stored), the waterfall
maps a pool to a new one, and the RPC's answers and the genesis section read them too.
to_stored writes the stored map exactly as it has always been stored (the same keys, in
canonical order, and value types), so the state's bytes do not depend on the records.
Amounts are stable base units, rates wad per year, times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

POOL_INTS = ("id", "par", "unitSize", "cashReceived", "unallocated", "repayments", "coverOwed", "createdAt",
             "lastAccrual")
"""The integer fields of a pool (its genesis entry writes them as decimal strings)."""
TRANCHE_INTS = ("face", "outstanding", "rate", "interest", "units", "retained", "allocated", "claimed", "index",
                "carry", "writtenDown", "covered")
"""The integer fields of a tranche."""


@dataclass(frozen=True, slots=True)
class Tranche:
    """One tranche of a pool (a map in the pool record, senior first, junior last).

    denom        its units' bank denomination, unit/p<pool>/t<k> (indivisible)
    face         original face, base units
    outstanding  face not yet repaid or written down, base units
    rate         APR, wad (the junior's is unused: it takes the residual)
    interest     interest accrued and not yet paid, base units
    units        units issued
    retained     of those, the junior units the pool's account holds for the originator
                 (the retention; 0 above the junior and once the pool closes)
    allocated    cash allocated to the tranche so far, base units
    claimed      of that, paid out to holders, base units
    index        cumulative cash per unit, ray (x 10^27) base units per unit
    carry        what the index could not take yet: (cash x RAY) mod units
    writtenDown  face written down by losses and not yet restored by later cash, base units
    covered      of that, paid back by the insurance fund, base units
    """

    denom: str
    face: int
    outstanding: int
    rate: int
    interest: int
    units: int
    retained: int
    allocated: int
    claimed: int
    index: int
    carry: int
    writtenDown: int  # noqa: N815 (the stored field's name)
    covered: int

    @classmethod
    def from_stored(cls, v: dict) -> Tranche:
        return cls(v["denom"], v["face"], v["outstanding"], v["rate"], v["interest"], v["units"], v["retained"],
                   v["allocated"], v["claimed"], v["index"], v["carry"], v["writtenDown"], v["covered"])

    def to_stored(self) -> dict:
        """The stored map, keys in canonical order."""
        return {"allocated": self.allocated, "carry": self.carry, "claimed": self.claimed, "covered": self.covered,
                "denom": self.denom, "face": self.face, "index": self.index, "interest": self.interest,
                "outstanding": self.outstanding, "rate": self.rate, "retained": self.retained, "units": self.units,
                "writtenDown": self.writtenDown}


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool (tranches/pool/<id>).

    id            the pool id (ids start at 1)
    par           the pooled assets' outstanding principal at creation, base units
    unitSize      face per unit, base units
    cashReceived  cash received and kept (not passed on to the insurance fund), base units:
                  the tranches' allocated plus unallocated
    unallocated   cash received and not yet allocated, base units
    repayments    scheduled repayments received (its non-junior units are live from the first)
    coverOwed     insurance cover paid into the pool and not yet repaid to the fund, base units
    createdAt     creation time
    lastAccrual   time up to which the tranches' interest has accrued
    originator    the originator's address (20 bytes)
    account       the pool's module account (20 bytes): holds its cash and the retention
    assets        the pooled asset ids
    status        "active", or "closed" once every asset is repaid or written off
    tranches      its tranches, senior first, junior last
    """

    id: int
    par: int
    unitSize: int  # noqa: N815
    cashReceived: int  # noqa: N815
    unallocated: int
    repayments: int
    coverOwed: int  # noqa: N815
    createdAt: int  # noqa: N815
    lastAccrual: int  # noqa: N815
    originator: bytes
    account: bytes
    assets: tuple[int, ...]
    status: str
    tranches: tuple[Tranche, ...]

    @classmethod
    def from_stored(cls, v: dict) -> Pool:
        return cls(v["id"], v["par"], v["unitSize"], v["cashReceived"], v["unallocated"], v["repayments"],
                   v["coverOwed"], v["createdAt"], v["lastAccrual"], v["originator"], v["account"],
                   tuple(v["assets"]), v["status"], tuple(map(Tranche.from_stored, v["tranches"])))

    def to_stored(self) -> dict:
        """The stored map, keys in canonical order (tranches as a list of maps)."""
        return {"account": self.account, "assets": list(self.assets), "cashReceived": self.cashReceived,
                "coverOwed": self.coverOwed, "createdAt": self.createdAt, "id": self.id,
                "lastAccrual": self.lastAccrual, "originator": self.originator, "par": self.par,
                "repayments": self.repayments, "status": self.status,
                "tranches": [t.to_stored() for t in self.tranches], "unallocated": self.unallocated,
                "unitSize": self.unitSize}

    @property
    def junior(self) -> int:
        """The junior tranche's index (the last)."""
        return len(self.tranches) - 1

    def with_tranche(self, k: int, t: Tranche) -> Pool:
        """This pool with tranche k replaced by t."""
        return replace(self, tranches=(*self.tranches[:k], t, *self.tranches[k + 1:]))
