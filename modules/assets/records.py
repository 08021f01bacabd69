"""The assets' state records as frozen, slotted dataclasses (the keys: modules/assets/keeper.py).

The keeper updates an asset's map in place and stores it as it is; these records are the
read side: the RPC's answers and the simulation read assets through them. Amounts are
stable base units, rates wad per year, times unix seconds.
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
