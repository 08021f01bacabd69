"""The tranches' state records as frozen, slotted dataclasses (the keys: modules/tranches/keeper.py).

The keeper and the waterfall update a pool's map in place and store it as it is; these
records are the read side: the RPC's answers and the genesis section read pools through
them. Amounts are stable base units, rates wad per year, times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

POOL_INTS = ("id", "par", "unitSize", "cashReceived", "unallocated", "repayments", "coverOwed", "createdAt",
             "lastAccrual")
"""The integer fields of a pool (its genesis entry writes them as decimal strings)."""
TRANCHE_INTS = ("face", "outstanding", "rate", "interest", "units", "retained", "allocated", "claimed", "index",
                "carry", "writtenDown", "covered")
"""The integer fields of a tranche."""


@dataclass(frozen=True, slots=True)
class Tranche:
    """One tranche of a pool: its unit denomination; face and outstanding face, the rate
    (wad APR) and the interest due; units issued and retained by the originator; payouts
    allocated and claimed, the per-unit payout index and its carry; written-down face and
    the part of it the insurance covered."""

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
        return cls(v["denom"], *(v[f] for f in TRANCHE_INTS))


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool (tranches/pool/<id>): its originator and module account, the pooled asset
    ids, par, unit size, the cash ledger (received, unallocated, repayments), the cover the
    insurance is owed, creation and last accrual times, status and tranches senior first."""

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
        return cls(*(v[f] for f in POOL_INTS), v["originator"], v["account"], tuple(v["assets"]), v["status"],
                   tuple(Tranche.from_stored(t) for t in v["tranches"]))
