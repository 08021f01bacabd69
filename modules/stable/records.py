"""The stable token's records as frozen, slotted dataclasses.

State records (the keys: modules/stable/keeper.py, which returns and takes them):
StableToken and RecordedRatio; `to_stored` writes exactly the map that is stored (keys in
canonical order). The vault's answers, computed and never stored (modules/stable/vault.py):
UnitPrices, ExitQuote, UnitInput, ReserveInput, CollateralRatio, FloorTerms, RedeemQuote.
Amounts are stable base units, prices stable base units per unit, ratios wad,
times unix seconds.
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


# ----- the vault's answers (computed, never stored) --------------------------------------------
@dataclass(frozen=True, slots=True)
class UnitPrices:
    """A tranche unit's prices now (floor): buy, what the protocol pays (the lower of the
    current and queued valuations); sell, what it asks (the higher); current; queued (None:
    no oracle move queued); problems, the stale, frozen or missing feeds met."""

    buy: int
    sell: int
    current: int
    queued: int | None
    problems: list[str]


@dataclass(frozen=True, slots=True)
class ExitQuote:
    """What an exit pays now: the unit price paid (the buy price), the value taken in (price
    x quantity), the haircut (wad of the value, rounded up), out (what the holder receives),
    the reserve's share of the haircut, the binding ceiling's utilization before and after
    (u0, u1, wad), the pool's grade (0..4) and the queued unit price (None: none queued)."""

    price: int
    value: int
    haircut: int
    out: int
    reserve_share: int
    u0: int
    u1: int
    grade: int
    queued: int | None


@dataclass(frozen=True, slots=True)
class UnitInput:
    """A unit the vault holds, as the collateral ratio counts it: the unit denomination, the
    quantity held, its value at the mark price, and whether every mark behind it is fresh."""

    input: str
    quantity: int
    value: int
    fresh: bool


@dataclass(frozen=True, slots=True)
class ReserveInput:
    """A custodian's proof-of-reserve feed, as the collateral ratio counts it: the feed, its
    last value, whether it is fresh (neither stale nor frozen), and the value counted (zero
    unless fresh: fail closed)."""

    input: str
    value: int
    fresh: bool
    counted: int


@dataclass(frozen=True, slots=True)
class CollateralRatio:
    """The collateral ratio now: cr = backing / circulating (wad; None when nothing
    circulates), backing (the vault's units at their marks plus the counted reserve), the
    circulating supply, whether every input is fresh, and the inputs (units, then reserves)."""

    cr: int | None
    backing: int
    circulating: int
    fresh: bool
    inputs: list[UnitInput | ReserveInput]


@dataclass(frozen=True, slots=True)
class FloorTerms:
    """The floor's pricing now: the units the vault holds {unit: quantity}, its cash (stable
    base units), the unit prices used, worth (all of it at those prices), the rate (rn, rd):
    vault value per stable base unit redeemed, the mode (par, proRata or stale), the
    collateral ratio now, the circulating supply (at least 1), and the problems met (stale
    or frozen feeds: the stale mode)."""

    held: dict[str, int]
    cash: int
    prices: dict[str, int]
    worth: int
    rate: tuple[int, int]
    mode: str
    cr: int | None
    circulating: int
    problems: list[str]


@dataclass(frozen=True, slots=True)
class RedeemQuote:
    """What a floor redemption pays now: the units paid {unit: quantity}, the vault's stable
    tokens paid, worth (the value paid at the floor's prices), burn (the stable burned: only
    what the payment is worth), and the terms it was priced on."""

    paid: dict[str, int]
    stable: int
    worth: int
    burn: int
    terms: FloorTerms
