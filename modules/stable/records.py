"""The stable token's state records as frozen, slotted dataclasses (the keys:
modules/stable/keeper.py).

The keeper returns and takes these records; `to_stored` writes exactly the map that is
stored (keys in canonical order). Amounts are stable base units, ratios wad, times unix
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StableToken:
    """The stable token (stable/custodian): its denomination, the proof-of-reserve value
    attested at genesis and what custodians had minted at genesis (the genesis balances of
    the denomination, base units)."""

    denom: str
    attestedReserve: int  # noqa: N815 (the stored field's name)
    custodianMinted: int  # noqa: N815

    @classmethod
    def from_stored(cls, v: dict) -> StableToken:
        return cls(v["denom"], v["attestedReserve"], v["custodianMinted"])

    def to_stored(self) -> dict:
        return {"attestedReserve": self.attestedReserve, "custodianMinted": self.custodianMinted, "denom": self.denom}


@dataclass(frozen=True, slots=True)
class RecordedRatio:
    """The collateral ratio as of the end of the last block (stable/cr): cr (wad; None when
    nothing circulated), the block's time, whether every input was fresh, and the last
    fresh ratio (what the floor uses while a feed is stale; None before any)."""

    cr: int | None
    time: int
    fresh: bool
    lastFresh: int | None  # noqa: N815 (the stored field's name)

    @classmethod
    def from_stored(cls, v: dict) -> RecordedRatio:
        return cls(v["cr"], v["time"], v["fresh"], v["lastFresh"])

    def to_stored(self) -> dict:
        return {"cr": self.cr, "fresh": self.fresh, "lastFresh": self.lastFresh, "time": self.time}
