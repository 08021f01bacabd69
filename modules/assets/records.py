"""The assets' state records as frozen, slotted dataclasses (the keys: modules/assets/keeper.py).

The keeper reads and writes these records (from_stored / to_stored: the stored map, its
keys in canonical order); the module's code updates them with dataclasses.replace. Amounts
are stable base units, rates wad per year, times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset (assets/a/<id>): kind, originator and owner, principal, rate (wad APR),
    grace (s), document hash, status, grade index (None until verified), verifier, the
    times it was registered and verified, its pool (None: unpooled), what was repaid and
    recovered, the payments recorded, and its next due-time check (0: none)."""

    id: int
    kind: str
    originator: bytes
    owner: bytes
    principal: int
    rate: int
    grace: int
    docHash: bytes  # noqa: N815 (the stored field's name)
    status: str
    grade: int | None
    verifier: bytes | None
    registeredAt: int  # noqa: N815
    verifiedAt: int  # noqa: N815
    pool: int | None
    repaid: int
    recovered: int
    payments: int
    check: int

    @classmethod
    def from_stored(cls, v: dict) -> Asset:
        return cls(v["id"], v["kind"], v["originator"], v["owner"], v["principal"], v["rate"], v["grace"],
                   v["docHash"], v["status"], v["grade"], v["verifier"], v["registeredAt"], v["verifiedAt"], v["pool"],
                   v["repaid"], v["recovered"], v["payments"], v["check"])

    def to_stored(self) -> dict:
        return {"check": self.check, "docHash": self.docHash, "grace": self.grace, "grade": self.grade,
                "id": self.id, "kind": self.kind, "originator": self.originator, "owner": self.owner,
                "payments": self.payments, "pool": self.pool, "principal": self.principal, "rate": self.rate,
                "recovered": self.recovered, "registeredAt": self.registeredAt, "repaid": self.repaid,
                "status": self.status, "verifiedAt": self.verifiedAt, "verifier": self.verifier}


@dataclass(frozen=True, slots=True)
class Payment:
    """One entry of an asset's payment history (assets/h/<id><n 4B>): repay or recover,
    the amount, the block's time and height."""

    kind: str
    amount: int
    time: int
    height: int

    @classmethod
    def from_stored(cls, v: dict) -> Payment:
        return cls(v["kind"], v["amount"], v["time"], v["height"])

    def to_stored(self) -> dict:
        return {"amount": self.amount, "height": self.height, "kind": self.kind, "time": self.time}


@dataclass(frozen=True, slots=True)
class Mark:
    """An asset's last revaluation (assets/mark/<id>): its value at that time, whether a
    feed it used was stale, frozen or missing, and when it is next recomputed (0: never)."""

    value: int
    time: int
    stale: bool
    next: int

    @classmethod
    def from_stored(cls, v: dict) -> Mark:
        return cls(v["value"], v["time"], v["stale"], v["next"])

    def to_stored(self) -> dict:
        return {"next": self.next, "stale": self.stale, "time": self.time, "value": self.value}


@dataclass(frozen=True, slots=True)
class PoolMark:
    """A pool's mark (assets/poolmark/<pool>): the sum of its assets' mark values and how
    many of those marks are stale."""

    value: int
    stale: int

    @classmethod
    def from_stored(cls, v: dict) -> PoolMark:
        return cls(v["value"], v["stale"])

    def to_stored(self) -> dict:
        return {"stale": self.stale, "value": self.value}

    def plus(self, mark: Mark, sign: int) -> PoolMark:
        """This pool mark with an asset's mark added (sign 1) or taken away (sign -1)."""
        return PoolMark(self.value + sign * mark.value, self.stale + sign * int(bool(mark.stale)))


NO_POOL_MARK = PoolMark(0, 0)
"""The mark of a pool none of whose assets has a mark yet."""
