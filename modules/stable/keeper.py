"""The stable token's state: its keys, typed access, and its parameters.

State keys (canonical msgpack values; the map records are in modules/stable/records.py):
    stable/custodian          StableToken: the denomination, the genesis attestation and mints
    stable/minted/<custodian> int   stable minted by that custodian, base units
    stable/units              int   stable minted against units (exits, haircut share included)
    stable/use/<ceiling>      int   exposure (gross value taken in) per ceiling, the ceilings
                                    global/-, originator/<addr>, grade/<0..4>, tranche/<denom>;
                                    it falls by their share as units leave the vault
    stable/usegrade/<denom>   [int x 5]  the tranche's exposure by the grade it was taken in at
    stable/cr                 RecordedRatio: the collateral ratio at the end of the last block
    stable/eligible/<denom>   bool  governance's listing (absent: the default rule)
    params/stable             DEFAULT_PARAMS below (a governed map)
Kept apart from the vault (modules/stable/vault.py, the rules) so that the modules the vault
itself reads (tranches) can name the stable denomination without importing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.fixed import WAD
from rwachain.modules.stable.records import RecordedRatio, StableToken

CUSTODIAN = b"stable/custodian"
MINTED = b"stable/minted/"
UNITS = b"stable/units"
USE = b"stable/use/"
BY_GRADE = b"stable/usegrade/"
CR = b"stable/cr"
ELIGIBLE = b"stable/eligible/"
PARAMS = b"params/stable"
GRADES = 5  # A..E: the length of a by-grade record
RUSD = 10**6
DEFAULT_PARAMS = {
    "hBase": [2 * WAD // 100, 3 * WAD // 100, 5 * WAD // 100, 8 * WAD // 100, 12 * WAD // 100],  # by grade A..E
    "hSlope": WAD // 10,  # haircut added at full utilization (path average of slope x u^2)
    "spread": WAD // 100,  # sell units out of the vault at price x (1 + spread)
    "haircutShare": WAD // 2,  # of the haircut's value, minted to the reserve
    "ceilings": {"global": 10_000_000 * RUSD, "originator": 5_000_000 * RUSD, "grade": 5_000_000 * RUSD,
                 "tranche": 2_000_000 * RUSD},
}
PARAM_UNITS = {"hBase": ("list", 5, "ratio"), "hSlope": "ratio", "spread": "ratio", "haircutShare": "ratio",
               "ceilings": {k: "stable" for k in DEFAULT_PARAMS["ceilings"]}}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in);
the ceilings are amounts of the stable token."""


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


# ----- the token -------------------------------------------------------------------------------
def info(ctx: Ctx) -> StableToken | None:
    """The stable token's record; None before genesis names one."""
    return ctx.get_record(CUSTODIAN, StableToken)


def has_token(ctx: Ctx) -> bool:
    """Whether genesis named a stable token (cheap: nothing decoded)."""
    return ctx.get(CUSTODIAN) is not None


def put_info(ctx: Ctx, token: StableToken) -> None:
    ctx.put_record(CUSTODIAN, token)


def minted(ctx: Ctx, custodian: bytes) -> int:
    """Stable tokens the custodian minted and has not burned, base units."""
    return ctx.get_int(MINTED + custodian)


def set_minted(ctx: Ctx, custodian: bytes, amount: int) -> None:
    ctx.set_int(MINTED + custodian, amount)


def minted_by_custodians(ctx: Ctx) -> int:
    """What every custodian minted and has not burned, base units."""
    return sum(ctx.get_int(k) for k, _ in ctx.iter_prefix(MINTED))


def minted_against_units(ctx: Ctx) -> int:
    """Stable tokens minted against units (exits, the reserve's share included), less what
    purchases and the floor burned since, base units."""
    return ctx.get_int(UNITS)


def set_minted_against_units(ctx: Ctx, amount: int) -> None:
    ctx.set_int(UNITS, amount)


# ----- ceiling use --------------------------------------------------------------------------------
GLOBAL = b"global/-"
"""The global ceiling's name."""


def originator_ceiling(originator: bytes) -> bytes:
    return b"originator/" + originator


def grade_ceiling(grade: int) -> bytes:
    return b"grade/" + bytes([48 + grade])


def tranche_ceiling(unit: str) -> bytes:
    return b"tranche/" + unit.encode()


def use(ctx: Ctx, ceiling: bytes) -> int:
    """The exposure counted against a ceiling (global/-, originator/<addr>, grade/<0..4>,
    tranche/<denom>), stable base units."""
    return ctx.get_int(USE + ceiling)


def add_use(ctx: Ctx, ceiling: bytes, delta: int) -> None:
    """Move a ceiling's use by delta (never below zero)."""
    ctx.set_int(USE + ceiling, max(0, ctx.get_int(USE + ceiling) + delta))


def uses(ctx: Ctx, kind: bytes = b"") -> Iterator[tuple[bytes, int]]:
    """(ceiling, use) of every ceiling in use whose name starts with kind, in key order."""
    n = len(USE)
    for k, _ in ctx.iter_prefix(USE + kind):
        yield k[n:], ctx.get_int(k)


def by_grade(ctx: Ctx, unit: str) -> list[int] | None:
    """The tranche's exposure by the grade it was taken in at (GRADES buckets), or None
    where no record was written (exposure taken in before the rule)."""
    rec = ctx.get_obj(BY_GRADE + unit.encode())
    return None if rec is None else list(rec)


def put_by_grade(ctx: Ctx, unit: str, buckets: list[int]) -> None:
    ctx.set_obj(BY_GRADE + unit.encode(), buckets)


def drop_by_grade(ctx: Ctx, unit: str) -> None:
    ctx.delete(BY_GRADE + unit.encode())


# ----- the recorded ratio and the listings ---------------------------------------------------------
def recorded_ratio(ctx: Ctx) -> RecordedRatio | None:
    """The collateral ratio as of the end of the last block; None before the first."""
    return ctx.get_record(CR, RecordedRatio)


def recorded_cr(ctx: Ctx) -> int | None:
    """The ratio recorded at the end of the last block (wad); None before the first block or
    when nothing circulated."""
    rec = recorded_ratio(ctx)
    return None if rec is None else rec.cr


def put_recorded_ratio(ctx: Ctx, rec: RecordedRatio) -> None:
    ctx.put_record(CR, rec)


def listing(ctx: Ctx, unit: str) -> bool | None:
    """Governance's listing of a unit for the instant exit; None: not listed (the default
    rule decides)."""
    listed = ctx.get_obj(ELIGIBLE + unit.encode())
    return None if listed is None else bool(listed)
