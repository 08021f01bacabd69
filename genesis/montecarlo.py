"""Monte-Carlo paths that drive a simulation: a seeded mean-reverting benchmark rate, a
credit factor that moves the default intensities, and defaults drawn with a one-factor
Gaussian copula over the assets' grades. MarketModel turns them into steps
(genesis/simulate.py): quorum-signed oracle reports, and the servicer's repayments,
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
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from statistics import NormalDist

from modules.assets import keeper as assets
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import decode_address
from modules.oracle import feeds
from modules.oracle import keeper as oracle
from modules.stable import vault
from state.codec import decode

WAD = 10**18
YEAR = 31_536_000
DAY = 86_400
_N = NormalDist()


@dataclass(frozen=True)
class MarketConfig:
    """Parameters of the paths (floats: tooling only). theta, sigma: annual, as fractions
    (0.045 = 4.5 %); kappa: mean reversion per year; rateEvery: s between rate reports;
    rho: the copula's factor loading (asset correlation); phi, beta: the credit factor's
    daily persistence and its effect on log intensity; recoveryDelay: s from default to
    recovery."""

    theta: float = 0.045
    kappa: float = 0.5
    sigma: float = 0.01
    rate_every: int = 6 * 3600
    rho: float = 0.2
    phi: float = 0.98
    beta: float = 0.5
    recovery_delay: int = 60 * DAY


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

    def __init__(self, rng: Random, cfg: MarketConfig, block_time: int):
        self.rng, self.cfg, self.block_time = rng, cfg, block_time
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
        from genesis.steps import Step

        out: list[Step] = []

        def report(feed: str, value: int) -> None:
            self.reporter = (self.reporter + 1) % 4
            out.append(Step(block, f"dev{6 + self.reporter}", "oracle", "report",
                            {"feed": feed, "value": value, "signers": [0, 1, 2], "age": 0}))

        if self.rate is None:
            r0 = oracle.state_of(ctx, "rate")["value"] / WAD
            self.rate = RatePath(self.rng, r0, self.cfg.theta, self.cfg.kappa, self.cfg.sigma,
                                 self.cfg.rate_every / YEAR)
            self.base = {g: oracle.state_of(ctx, f"intensity/{g}")["value"] for g in feeds.GRADES}
            self.next_rate = now + self.cfg.rate_every
            self.next_credit = now + DAY
        if now >= self.next_rate:
            self.next_rate = now + self.cfg.rate_every
            report("rate", self.rate.next())
        if now >= self.next_credit:
            self.next_credit = now + DAY
            z = self.rng.gauss(0.0, 1.0)
            self.factor = self.cfg.phi * self.factor + math.sqrt(1 - self.cfg.phi**2) * z
            mult = math.exp(self.cfg.beta * self.factor - self.cfg.beta**2 / 2)
            for g in feeds.GRADES:
                report(f"intensity/{g}", min(WAD, int(self.base[g] * mult)))
        stale = self._stalest(ctx, now) if block % 4 == 0 else None
        if stale is not None:
            report(*stale)
        out += self._servicer(block, now, ctx)
        return out

    def _stalest(self, ctx: Ctx, now: int) -> tuple[str, int] | None:
        """The feed closest to going stale, if past half its maximum age: its value again
        (the reserve feed grows ahead of the custodian's mints)."""
        worst, best = 0.5, None
        max_age = {c: oracle.policy(ctx, c)["maxAge"] for c in feeds.CLASSES}
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
            minted = ctx.get_int(vault.MINTED + _custodian(feed))
            value = max(value, min(minted * 6 // 5, value * 6 // 5))
        return feed, value

    def _servicer(self, block: int, now: int, ctx: Ctx) -> list:
        from genesis.steps import CUSTODIAN, SERVICER, STABLE, Step, actor_address

        if now >= self.next_scan:
            self.next_scan = now + DAY
            self._rescan(ctx, now)
        due: list[tuple[int, int, int]] = []  # (asset id, grade, amount due now)
        while self.dues and self.dues[0][0] <= now:
            _, aid = heapq.heappop(self.dues)
            rec = assets.find(ctx, aid)
            if rec is None or rec["status"] not in ("verified", "pooled", "overdue"):
                continue
            sched = assets.schedule_of(ctx, aid)
            amount = sum(p + i - paid for d, p, i, paid in sched if d <= now and paid < p + i)
            if amount:
                due.append((aid, rec["grade"] or 0, amount))
            nxt = next((d for d, p, i, paid in sched if d > now and paid < p + i), None)
            if nxt is not None:
                heapq.heappush(self.dues, (nxt, aid))
        out = []
        probs = []
        for _aid, g, _ in due:
            lam = oracle.state_of(ctx, f"intensity/{feeds.GRADES[g]}")["value"]
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
            if rec is None or rec["status"] != "defaulted":
                continue
            lgd = oracle.state_of(ctx, f"lgd/{feeds.GRADES[rec['grade'] or 0]}")["value"]
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
    st = decode(raw)
    return st["value"], st["observedAt"], st["frozen"]


def _custodian(feed: str) -> bytes:
    return decode_address(feed[len("reserve/"):])
