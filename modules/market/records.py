"""The market's state records as frozen, slotted dataclasses (the keys: modules/market/keeper.py).

The keeper's matching loop updates an order's `filled` in place and stores the map as it
is; these records are the read side: the RPC's answers, the genesis section and the
simulation read orders and trades through them.
"""

from __future__ import annotations

from dataclasses import dataclass

ORDER_INTS = ("id", "price", "quantity", "filled", "expiry", "createdAt")
"""The integer fields of an order (its genesis entry writes them as decimal strings)."""
TRADE_INTS = ("price", "quantity", "time", "height")
"""The integer fields of a trade."""


@dataclass(frozen=True, slots=True)
class Order:
    """A resting order (market/order/<id>): price in stable base units per unit, quantity
    and filled in units, expiry and createdAt in unix seconds (expiry 0: none)."""

    id: int
    denom: str
    side: str
    owner: bytes
    price: int
    quantity: int
    filled: int
    expiry: int
    createdAt: int  # noqa: N815 (the stored field's name)

    @classmethod
    def from_stored(cls, v: dict) -> Order:
        return cls(v["id"], v["denom"], v["side"], v["owner"], v["price"], v["quantity"], v["filled"], v["expiry"],
                   v["createdAt"])

    def stored(self) -> dict:
        return {"id": self.id, "denom": self.denom, "side": self.side, "owner": self.owner, "price": self.price,
                "quantity": self.quantity, "filled": self.filled, "expiry": self.expiry, "createdAt": self.createdAt}


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of a unit's market (market/trade/<denom>\\x00<n>): n its number in that
    market, price in stable base units per unit, quantity in units, the taker's side,
    time (unix seconds) and height of its block."""

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

    def stored(self) -> dict:
        return {"price": self.price, "quantity": self.quantity, "buyer": self.buyer, "seller": self.seller,
                "taker": self.taker, "time": self.time, "height": self.height}
