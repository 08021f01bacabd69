"""Monte-Carlo paths that drive a simulation: a seeded mean-reverting benchmark rate, a
credit factor that moves the default intensities, and defaults drawn with a one-factor
Gaussian copula over the assets' grades. MarketModel turns them into steps
(genesis/sim/simulate.py): quorum-signed oracle reports, and the servicer's repayments,
defaults, recoveries and write-offs.

Floats live only here, in the tooling: every value sent to the chain is an int (wad).

Rate (discrete Ornstein-Uhlenbeck, the Vasicek short rate), per report interval dt years:
    r' = max(0, r + kappa (theta - r) dt + sigma sqrt(dt) Z),  Z ~ N(0, 1)
Credit factor (daily AR(1), stationary variance 1): F' = phi F + sqrt(1 - phi^2) Z; the
intensity reported for grade g is lambda_g(genesis) x exp(beta F - beta^2 / 2).
Defaults: when an installment of asset i comes due, with p_i = 1 - exp(-lambda_g x period
/ YEAR) its grade's default probability over the period (lambda_g: the chain's current
intensity/G feed), the asset defaults if
    sqrt(rho) M + sqrt(1 - rho) e_i < Phi^-1(p_i),    M, e_i ~ N(0, 1) independent,
with one common M per block: a one-factor Gaussian copula, so defaults cluster in bad
blocks while each asset's marginal probability stays p_i. Otherwise the servicer pays the
installments due. A defaulted asset recovers (1 - LGD_g) of its outstanding after
recoveryDelay seconds and is then written off.

Stresses (times in s after the first block; each is off at its default):
    rate shock        rateShock is added to the rate path's value at rateShockAt (and
                      reported at once); the path then reverts towards theta
    default shock     from defaultShockAt for defaultShockFor seconds the intensities are
                      multiplied by defaultShock: reported at the shock's start and end, and
                      the copula's default probabilities use at least the shocked intensity
                      (whatever the oracle has accepted so far)
    redemption wave   from redeemWaveAt for redeemWaveFor seconds, every holder (and dev7,
                      dev8) redeems stable.redeem a redeemWave share of the stable balance it
                      had when the wave began, in equal slices per block
    oracle outage     from outageAt for outageFor seconds the driver reports nothing, so
                      feeds go stale (stale prices stop exits and valuations)
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from statistics import NormalDist

from rwachain.genesis.sim.steps import CUSTODIAN, SERVICER, STABLE, Step, actor_address
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import decode_address
from rwachain.modules.core.fixed import WAD
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.records import FeedState
from rwachain.modules.stable import keeper as stable_keeper
from rwachain.state.codec import decode

YEAR = 31_536_000
DAY = 86_400
_N = NormalDist()


@dataclass(frozen=True)
class MarketConfig:
    """Parameters of the paths (floats: tooling only). theta, sigma: annual, as fractions
    (0.045 = 4.5 %); kappa: mean reversion per year; rateEvery: s between rate reports;
    rho: the copula's factor loading (asset correlation); phi, beta: the credit factor's
    daily persistence and its effect on log intensity; recoveryDelay: s from default to
    recovery; the stresses' fields as in the module's docstring (FIELDS gives every
    field's unit)."""

    theta: float = 0.045
    kappa: float = 0.5
    sigma: float = 0.01
    rate_every: int = 6 * 3600
    rho: float = 0.2
    phi: float = 0.98
    beta: float = 0.5
    recovery_delay: int = 60 * DAY
    rate_shock: float = 0.0
    rate_shock_at: int = 0
    default_shock: float = 1.0
    default_shock_at: int = 0
    default_shock_for: int = 30 * DAY
    redeem_wave: float = 0.0
    redeem_wave_at: int = 0
    redeem_wave_for: int = DAY
    outage_at: int = 0
    outage_for: int = 0

    def problems(self) -> list[str]:
        """What is out of range, each naming the field (camelCase, as in FIELDS)."""
        checks = [("kappa", self.kappa >= 0), ("sigma", self.sigma >= 0), ("rateEvery", self.rate_every > 0),
                  ("rho", 0 <= self.rho < 1), ("phi", -1 < self.phi < 1), ("beta", self.beta >= 0),
                  ("defaultShock", self.default_shock >= 0), ("redeemWave", 0 <= self.redeem_wave <= 1),
                  ("redeemWaveFor", self.redeem_wave_for > 0)]
        checks += [(camel(f), getattr(self, f) >= 0) for f in FIELDS if FIELDS[f][1] == "s"]
        checks += [(camel(f), math.isfinite(getattr(self, f))) for f in FIELDS if FIELDS[f][0] is float]
        return [f"mc.{name}: {getattr(self, snake(name))!r} is out of range ({FIELDS[snake(name)][2]})"
                for name, ok in checks if not ok]

    def shock_multiplier(self, elapsed: int) -> float:
        """The default shock's multiplier of the intensities at `elapsed` s (1 outside it)."""
        inside = self.default_shock_at <= elapsed < self.default_shock_at + self.default_shock_for
        return self.default_shock if inside else 1.0

    def in_outage(self, elapsed: int) -> bool:
        return self.outage_at <= elapsed < self.outage_at + self.outage_for

    def in_redeem_wave(self, elapsed: int) -> bool:
        return self.redeem_wave > 0 and self.redeem_wave_at <= elapsed < self.redeem_wave_at + self.redeem_wave_for


# Every MarketConfig field: (type, unit, what). Units: "per year" (annual fractions),
# "s" (seconds), "ratio" (a plain number), "x" (a multiplier).
FIELDS: dict[str, tuple[type, str, str]] = {
    "theta": (float, "per year", "long-run rate, 0.045 = 4.5 %"),
    "kappa": (float, "per year", "mean reversion speed, >= 0"),
    "sigma": (float, "per year", "rate volatility (per sqrt year), >= 0"),
    "rate_every": (int, "s", "seconds between rate reports, > 0"),
    "rho": (float, "ratio", "asset correlation of the copula, in [0, 1)"),
    "phi": (float, "ratio", "daily persistence of the credit factor, in (-1, 1)"),
    "beta": (float, "ratio", "the credit factor's effect on log intensity, >= 0"),
    "recovery_delay": (int, "s", "seconds from a default to its recovery, >= 0"),
    "rate_shock": (float, "per year", "added to the rate at rateShockAt, 0.03 = +3 points"),
    "rate_shock_at": (int, "s", "when the rate shock hits, s after the start, >= 0"),
    "default_shock": (float, "x", "intensity multiplier during the default shock, >= 0 (1: none)"),
    "default_shock_at": (int, "s", "start of the default shock, s after the start, >= 0"),
    "default_shock_for": (int, "s", "length of the default shock, >= 0"),
    "redeem_wave": (float, "ratio", "share of their stable that holders redeem in the wave, in [0, 1]"),
    "redeem_wave_at": (int, "s", "start of the redemption wave, >= 0"),
    "redeem_wave_for": (int, "s", "length of the redemption wave, > 0"),
    "outage_at": (int, "s", "start of the oracle outage, >= 0"),
    "outage_for": (int, "s", "length of the oracle outage, >= 0 (0: none)"),
}


def camel(field_name: str) -> str:
    """rate_every -> rateEvery."""
    head, *rest = field_name.split("_")
    return head + "".join(w.title() for w in rest)


def snake(name: str) -> str:
    """rateEvery -> rate_every."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


class RatePath:
    """The benchmark rate as a discrete Ornstein-Uhlenbeck process; values in wad."""

    def __init__(self, rng: Random, r0: float, theta: float, kappa: float, sigma: float, dt_years: float):
        self.rng, self.r = rng, r0
        self.theta, self.kappa, self.sigma, self.dt = theta, kappa, sigma, dt_years

    def next(self) -> int:
        z = self.rng.gauss(0.0, 1.0)
        self.r = max(0.0, self.r + self.kappa * (self.theta - self.r) * self.dt + self.sigma * math.sqrt(self.dt) * z)
        return to_wad(self.r)


def to_wad(x: float) -> int:
    """A fraction as wad, rounded to 1e-12 (the float's noise below that is dropped)."""
    return round(x * 10**12) * 10**6


def period_default_probability(intensity: int, seconds: int) -> float:
    """1 - exp(-lambda x t / YEAR): the chance of default within `seconds` at an annual
    intensity lambda (wad)."""
    return 1.0 - math.exp(-(intensity / WAD) * seconds / YEAR)


def copula_defaults(rng: Random, probs: list[float], rho: float) -> list[bool]:
    """One-factor Gaussian copula: one common draw M, one idiosyncratic draw per name;
    name i defaults when sqrt(rho) M + sqrt(1 - rho) e_i < Phi^-1(p_i)."""
    m = rng.gauss(0.0, 1.0)
    a, b = math.sqrt(rho), math.sqrt(1.0 - rho)
    out = []
    for p in probs:
        x = a * m + b * rng.gauss(0.0, 1.0)
        out.append(p >= 1.0 or (p > 0.0 and x < _N.inv_cdf(p)))
    return out


class MarketModel:
    """The steps the paths call for at each block: oracle reports (rate path, intensities,
    keeping every feed fresh) and the servicer's payments and defaults."""

    def __init__(self, rng: Random, cfg: MarketConfig, block_time: int, holders: int = 0):
        self.rng, self.cfg, self.block_time = rng, cfg, block_time
        self.redeemers = ["dev7", "dev8"] + [f"holder{i}" for i in range(holders)]
        self.t0: int | None = None  # time of the first block
        self.rate_shocked = False
        self.shock = 1.0  # the default shock's multiplier at the last block
        self.wave_start: dict[str, int] = {}  # redeemer -> stable balance when the wave began
        self.rate: RatePath | None = None
        self.base: dict[str, int] = {}  # genesis intensity per grade (wad)
        self.factor = 0.0
        self.next_rate = 0
        self.next_credit = 0
        self.next_scan = 0
        self.dues: list[tuple[int, int]] = []  # (due time, asset id) heap of installments to settle
        self.recoveries: dict[int, int] = {}  # asset id -> time of its recovery
        self.reporter = 0

    def steps(self, block: int, now: int, ctx: Ctx) -> list:
        out: list[Step] = []
        if self.t0 is None:
            self.t0 = now
        elapsed = now - self.t0
        silent = self.cfg.in_outage(elapsed)

        def report(feed: str, value: int) -> None:
            if silent:
                return
            self.reporter = (self.reporter + 1) % 4
            out.append(Step(block, f"dev{6 + self.reporter}", "oracle", "report",
                            {"feed": feed, "value": value, "signers": [0, 1, 2], "age": 0}))

        if self.rate is None:
            r0 = oracle.state_of(ctx, "rate").value / WAD
            self.rate = RatePath(self.rng, r0, self.cfg.theta, self.cfg.kappa, self.cfg.sigma,
                                 self.cfg.rate_every / YEAR)
            self.base = {g: oracle.state_of(ctx, f"intensity/{g}").value for g in feeds.GRADES}
            self.next_rate = now + self.cfg.rate_every
            self.next_credit = now + DAY
        if self.cfg.rate_shock and not self.rate_shocked and elapsed >= self.cfg.rate_shock_at:
            self.rate_shocked = True
            self.rate.r = max(0.0, self.rate.r + self.cfg.rate_shock)
            self.next_rate = now
        if now >= self.next_rate:
            self.next_rate = now + self.cfg.rate_every
            report("rate", self.rate.next())
        shock = self.cfg.shock_multiplier(elapsed)
        if shock != self.shock:  # the default shock begins or ends: report at once
            self.shock, self.next_credit = shock, now
        if now >= self.next_credit:
            self.next_credit = now + DAY
            z = self.rng.gauss(0.0, 1.0)
            self.factor = self.cfg.phi * self.factor + math.sqrt(1 - self.cfg.phi**2) * z
            for g in feeds.GRADES:
                report(f"intensity/{g}", self._intensity(g))
        stale = self._stalest(ctx, now) if block % 4 == 0 else None
        if stale is not None:
            report(*stale)
        out += self._servicer(block, now, ctx)
        out += self._redemptions(block, elapsed, ctx)
        return out

    def _intensity(self, grade: str) -> int:
        """The model's intensity of a grade now (wad): genesis x credit factor x default shock."""
        mult = math.exp(self.cfg.beta * self.factor - self.cfg.beta**2 / 2) * self.shock
        return min(WAD, int(self.base[grade] * mult))

    def _redemptions(self, block: int, elapsed: int, ctx: Ctx) -> list:
        """The redemption wave's slices this block: stable.redeem by every redeemer."""
        if not self.cfg.in_redeem_wave(elapsed):
            return []
        if not self.wave_start:
            self.wave_start = {a: bank.balance(ctx, actor_address(a), STABLE) for a in self.redeemers}
        slices = max(1, self.cfg.redeem_wave_for // self.block_time)
        out = []
        for a in self.redeemers:
            amount = int(self.wave_start[a] * self.cfg.redeem_wave) // slices
            if amount > 0:
                out.append(Step(block, a, "stable", "redeem", {"amount": amount}))
        return out

    def _stalest(self, ctx: Ctx, now: int) -> tuple[str, int] | None:
        """The feed closest to going stale, if past half its maximum age: its value again
        (the reserve feed grows ahead of the custodian's mints)."""
        worst, best = 0.5, None
        max_age = {c: oracle.policy(ctx, c).maxAge for c in feeds.CLASSES}
        n = len(oracle.FEED)
        for key, raw in ctx.iter_prefix(oracle.FEED):
            feed = key[n:].decode()
            value, observed, frozen = _feed_brief(raw)
            if frozen:
                continue
            age = (now - observed) / max_age[feeds.class_of(feed)]
            if age > worst:
                worst, best = age, (feed, value)
        if best is None:
            return None
        feed, value = best
        if feed.startswith("reserve/"):
            minted = stable_keeper.minted(ctx, _custodian(feed))
            value = max(value, min(minted * 6 // 5, value * 6 // 5))
        return feed, value

    def _servicer(self, block: int, now: int, ctx: Ctx) -> list:
        if now >= self.next_scan:
            self.next_scan = now + DAY
            self._rescan(ctx, now)
        due: list[tuple[int, int, int]] = []  # (asset id, grade, amount due now)
        while self.dues and self.dues[0][0] <= now:
            _, aid = heapq.heappop(self.dues)
            rec = assets.find(ctx, aid)
            if rec is None or rec.status not in ("verified", "pooled", "overdue"):
                continue
            sched = assets.schedule_of(ctx, aid)
            amount = sum(p + i - paid for d, p, i, paid in sched if d <= now and paid < p + i)
            if amount:
                due.append((aid, rec.grade or 0, amount))
            nxt = next((d for d, p, i, paid in sched if d > now and paid < p + i), None)
            if nxt is not None:
                heapq.heappush(self.dues, (nxt, aid))
        out = []
        probs = []
        for _aid, g, _ in due:
            lam = oracle.state_of(ctx, f"intensity/{feeds.GRADES[g]}").value
            if self.shock != 1.0:
                lam = max(lam, self._intensity(feeds.GRADES[g]))
            probs.append(period_default_probability(lam, 30 * DAY))
        defaults = copula_defaults(self.rng, probs, self.cfg.rho) if due else []
        pay = sum(a for (_, _, a), d in zip(due, defaults, strict=True) if not d)
        if pay and bank.balance(ctx, actor_address(SERVICER), STABLE) < pay:
            out.append(Step(block, CUSTODIAN, "stable", "mint", {"to": actor_address(SERVICER), "amount": 2 * pay}))
        for (aid, _, amount), d in zip(due, defaults, strict=True):
            if d:
                out.append(Step(block, SERVICER, "assets", "markDefault", {"id": aid}))
                self.recoveries[aid] = now + self.cfg.recovery_delay
            else:
                out.append(Step(block, SERVICER, "assets", "repay", {"id": aid, "amount": amount}))
        for aid, when in sorted(self.recoveries.items()):
            if when > now:
                continue
            del self.recoveries[aid]
            rec = assets.find(ctx, aid)
            if rec is None or rec.status != "defaulted":
                continue
            lgd = oracle.state_of(ctx, f"lgd/{feeds.GRADES[rec.grade or 0]}").value
            back = assets.outstanding(assets.schedule_of(ctx, aid)) * (WAD - lgd) // WAD
            if back:
                out.append(Step(block, SERVICER, "assets", "recover", {"id": aid, "amount": back}))
            out.append(Step(block, SERVICER, "assets", "writeOff", {"id": aid}))
        return out

    def _rescan(self, ctx: Ctx, now: int) -> None:
        """Rebuild the due heap from the performing assets; schedule recoveries of defaults."""
        heap = []
        for status in ("verified", "pooled", "overdue"):
            for aid in assets.ids_by(ctx, assets.status_prefix(status), 0, 1000):
                d = assets.oldest_unpaid_due(assets.schedule_of(ctx, aid))
                if d is not None:
                    heap.append((max(d, now), aid))
        heapq.heapify(heap)
        self.dues = heap
        for aid in assets.ids_by(ctx, assets.status_prefix("defaulted"), 0, 1000):
            self.recoveries.setdefault(aid, now + self.cfg.recovery_delay)


@lru_cache(maxsize=4096)
def _feed_brief(raw: bytes) -> tuple[int, int, bool]:
    """(value, observedAt, frozen) of a feed's encoded state (memoized by its bytes)."""
    st = FeedState.from_stored(decode(raw))
    return st.value, st.observedAt, st.frozen


def _custodian(feed: str) -> bytes:
    return decode_address(feed[len("reserve/"):])
