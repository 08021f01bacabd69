"""Fixed-point integer arithmetic of the state machine: wad, ray, YEAR and explicit rounding.

Every quantity is a Python int. Three scales are used:

    amount   base units of a denomination (no scale)
    wad      18-decimal fixed point, WAD = 10**18 is 1.0: ratios, annual rates, prices
    ray      27-decimal fixed point, RAY = 10**27 is 1.0: per-second rates and the
             factors compounded from them (discount and survival factors)

No helper here divides without saying which way it rounds: `_down` is the floor, `_up`
the ceiling, `_half_up` rounds to nearest with ties away from zero (all operands are
non-negative, so "half-up"). Callers choose the direction that keeps the protocol on the
safe side (docs/mechanism.md, "Units and arithmetic").

`rpow` is the classic exponentiation by squaring of MakerDAO's `rpow` in base RAY: it
rounds half-up after every multiplication, so its result is a pinned function of
(x, n), not the exact power; docs/mechanism.md and tests/vectors/valuation.json pin it.
"""

from __future__ import annotations

from typing import TypeAlias

Amount: TypeAlias = int  # base units of a denomination
Wad: TypeAlias = int  # 18-decimal fixed point (WAD = 1.0)
Ray: TypeAlias = int  # 27-decimal fixed point (RAY = 1.0)
Seconds: TypeAlias = int  # a duration or a block time, whole seconds

WAD: Wad = 10**18
"""1.0 in wad (18 decimals): ratios, annual rates (APR), prices."""
RAY: Ray = 10**27
"""1.0 in ray (27 decimals): per-second rates and compounded factors."""
HALF_RAY: Ray = RAY // 2
"""Half a ray unit of RAY: the rounding term of ray_mul and rpow."""
WAD_TO_RAY = 10**9
"""RAY // WAD: a wad times this is the same value in ray (exact)."""
YEAR: Seconds = 31_536_000
"""One year in seconds (365 days): annual rates are per YEAR."""


def mul_div_down(a: int, b: int, d: int) -> int:
    """floor(a * b / d) for a, b >= 0 and d > 0."""
    return a * b // d


def mul_div_up(a: int, b: int, d: int) -> int:
    """ceil(a * b / d) for a, b >= 0 and d > 0."""
    return -((-a * b) // d)


def mul_div_half_up(a: int, b: int, d: int) -> int:
    """a * b / d rounded to nearest, ties up, for a, b >= 0 and d > 0.

    (a*b + d//2) // d rounds up exactly when the remainder is at least ceil(d/2), which is
    "at least half" for odd and even d alike."""
    return (a * b + d // 2) // d


def ray_mul(a: Ray, b: Ray) -> Ray:
    """a * b in ray, rounded half-up (a, b >= 0). ray_mul(RAY, x) == x exactly."""
    return (a * b + HALF_RAY) // RAY


def rpow(x: Ray, n: int) -> Ray:
    """x**n in ray by exponentiation by squaring, rounded half-up at every multiplication.

    Exactly MakerDAO's rpow(x, n, RAY): z starts at x if n is odd else RAY; then for each
    remaining bit of n from low to high, x = ray_mul(x, x) and, if the bit is set,
    z = ray_mul(z, x). rpow(x, 0) == RAY (also for x == 0); rpow(0, n) == 0 for n > 0.
    x >= 0 in ray, n >= 0 an integer exponent (here: seconds)."""
    if n < 0:
        raise ValueError("rpow: negative exponent")
    if x == 0:
        return RAY if n == 0 else 0
    z = x if n & 1 else RAY
    n >>= 1
    while n:
        x = (x * x + HALF_RAY) // RAY
        if n & 1:
            z = (z * x + HALF_RAY) // RAY
        n >>= 1
    return z


def rpow_capped(x: Ray, n: int, cap: Ray) -> Ray:
    """min(rpow(x, n), cap) for x >= RAY and cap >= RAY, in at most 64 squarings of numbers
    below cap**2 whatever n < 2**64 (a growth factor over any time gap).

    The same steps as rpow; for x >= RAY every step only grows z and x, and a squared x is
    always multiplied into z later, so the first value above cap proves the result is."""
    if n < 0:
        raise ValueError("rpow_capped: negative exponent")
    z = x if n & 1 else RAY
    n >>= 1
    while n and z <= cap:
        x = (x * x + HALF_RAY) // RAY
        if x > cap:
            return cap
        if n & 1:
            z = (z * x + HALF_RAY) // RAY
        n >>= 1
    return min(z, cap)


def wad_to_ray(w: Wad) -> Ray:
    """The same value in ray (exact): w * 10**9."""
    return w * WAD_TO_RAY


def per_second_ray(apr: Wad) -> Ray:
    """An annual rate (wad per YEAR) as a per-second rate in ray, rounded half-up:
    apr * 10**9 / YEAR. E.g. 5 % APR (5 * 10**16) -> 1585489599188229325 (ray)."""
    return (apr * WAD_TO_RAY + YEAR // 2) // YEAR
