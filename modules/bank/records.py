"""The bank's state records as frozen, slotted dataclasses (the keys: modules/bank/keeper.py)."""

from __future__ import annotations

from dataclasses import dataclass

DENOM_KINDS = ("native", "stable", "unit")


@dataclass(frozen=True, slots=True)
class Denom:
    """A denomination: its id (the bank/denom/<id> key), display symbol, decimals (0..18:
    base units per token = 10^decimals) and kind (DENOM_KINDS)."""

    id: str
    symbol: str
    decimals: int
    kind: str

    def stored(self) -> dict:
        """The value stored under bank/denom/<id> (canonical msgpack map)."""
        return {"decimals": self.decimals, "kind": self.kind, "symbol": self.symbol}

    @classmethod
    def from_stored(cls, denom_id: str, value: dict) -> Denom:
        return cls(denom_id, value["symbol"], value["decimals"], value["kind"])

    def to_section(self) -> dict:
        """The genesis section's entry: id, then the stored fields (in that order: an
        export writes them so)."""
        return {"id": self.id, **self.stored()}
