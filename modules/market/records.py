"""The market's state records as frozen, slotted dataclasses (the keys: modules/market/keeper.py).

The keeper reads and writes orders and trades only as these records: from_stored builds
one from its stored map, to_stored writes exactly the map stored (keys in canonical
order, so the encoder packs it as it is).
"""

from __future__ import annotations

from dataclasses import dataclass

ORDER_INTS = ("id", "price", "quantity", "filled", "expiry", "createdAt")
"""The integer fields of an order (its genesis entry writes them as decimal strings)."""
TRADE_INTS = ("price", "quantity", "time", "height")
"""The integer fields of a trade."""


@dataclass(frozen=True, slots=True)
class Order:
    """A resting order (market/order/<id>): side "buy" or "sell", price in stable base
    units per unit, quantity and filled in units, expiry and createdAt in unix seconds
    (expiry 0: none)."""

    id: int
    denom: str
    side: str
    owner: bytes
    price: int
    quantity: int
    filled: int
    expiry: int
    createdAt: int  # noqa: N815 (the stored field's name)

    @property
    def unfilled(self) -> int:
        """Units still open."""
        return self.quantity - self.filled

    def filled_by(self, q: int) -> Order:
        """This order after q more units traded."""
        return Order(self.id, self.denom, self.side, self.owner, self.price, self.quantity, self.filled + q,
                     self.expiry, self.createdAt)

    @classmethod
    def from_stored(cls, v: dict) -> Order:
        return cls(v["id"], v["denom"], v["side"], v["owner"], v["price"], v["quantity"], v["filled"], v["expiry"],
                   v["createdAt"])

    def to_stored(self) -> dict:
        return {"createdAt": self.createdAt, "denom": self.denom, "expiry": self.expiry, "filled": self.filled,
                "id": self.id, "owner": self.owner, "price": self.price, "quantity": self.quantity, "side": self.side}


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of a unit's market (market/trade/<denom>\\x00<n>): n its number in that
    market (the key's, not stored in the map), price in stable base units per unit,
    quantity in units, the taker's side, time (unix seconds) and height of its block."""

    n: int
    price: int
    quantity: int
    buyer: bytes
    seller: bytes
    taker: str
    time: int
    height: int

    @classmethod
    def from_stored(cls, n: int, v: dict) -> Trade:
        return cls(n, v["price"], v["quantity"], v["buyer"], v["seller"], v["taker"], v["time"], v["height"])

    def to_stored(self) -> dict:
        return {"buyer": self.buyer, "height": self.height, "price": self.price, "quantity": self.quantity,
                "seller": self.seller, "taker": self.taker, "time": self.time}
