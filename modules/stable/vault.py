"""The stable token's vault: custodian mint and burn, the instant exit of eligible tranche
units, purchases out of the vault, the floor redemption, and the collateral ratio.

State: modules/stable/keeper.py (the keys and typed access; the records in records.py).
Prices: a unit's value walks the pool's value (its assets valued now, plus unallocated
cash) senior to junior (modules/tranches/waterfall.py); with queued oracle moves the
protocol buys at the lower and sells at the higher of the current and queued valuations.
"""

from __future__ import annotations

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import (
    InsufficientFunds,
    InvalidState,
    LimitExceeded,
    NotFound,
    StaleFeed,
)
from rwachain.modules.core.fixed import WAD
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.stable import keeper
from rwachain.modules.stable.keeper import (  # noqa: F401 (the vault's names for the keys, kept for its callers)
    CR,
    CUSTODIAN,
    DEFAULT_PARAMS,
    MINTED,
    PARAMS,
    UNITS,
    USE,
    params,
)
from rwachain.modules.stable.records import (
    CollateralRatio,
    ExitQuote,
    FloorTerms,
    RecordedRatio,
    RedeemQuote,
    ReserveInput,
    UnitInput,
    UnitPrices,
)
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall
from rwachain.modules.tranches.records import Pool

VAULT = module_address("vault")
RESERVE = module_address("reserve")


def check_params(p: dict) -> list[str]:
    """The hard bounds governance cannot cross: h_base + h_slope < 1, spread >= 0, share <= 1."""
    out = []
    if any(h < 0 or h + p["hSlope"] >= WAD for h in p["hBase"]) or p["hSlope"] < 0:
        out.append("hBase + hSlope must stay below 1 (and both >= 0)")
    if p["spread"] < 0:
        out.append("spread must be >= 0")
    if not 0 <= p["haircutShare"] <= WAD:
        out.append("haircutShare must be within [0, 1]")
    if any(v <= 0 for v in p["ceilings"].values()):
        out.append("ceilings must be positive")
    return out


def denom(ctx: Ctx) -> str:
    token = keeper.info(ctx)
    if token is None:
        raise InvalidState("this chain has no stable token")
    return token.denom


# ----- prices -------------------------------------------------------------------------------
def _pool_of(ctx: Ctx, unit: str) -> tuple[Pool, int]:
    pk = tranches.parse_denom(unit)
    pool = tranches.find(ctx, pk[0]) if pk else None
    if pool is None or pk[1] >= len(pool.tranches):
        raise NotFound(f"{unit} is not a tranche unit")
    return pool, pk[1]


def unit_prices(ctx: Ctx, unit: str, strict: bool = True) -> UnitPrices:
    """The unit's prices now, stable base units per unit (floor). strict: a stale, frozen or
    missing feed raises StaleFeed."""
    pool, k = _pool_of(ctx, unit)
    cur = alt = pool.unallocated
    problems: list[str] = []
    pending = False
    for aid in pool.assets:
        rec = assets.get(ctx, aid)
        v, prob = marks.value_now(ctx, rec)
        problems += [f"asset {aid}: {x}" for x in prob]
        ov = marks.pending_overrides(ctx, rec)
        if ov:
            pending = True
            alt += marks.value_now(ctx, rec, overrides=ov)[0]
        else:
            alt += v
        cur += v
    if strict and problems:
        raise StaleFeed(f"{unit} cannot be priced: {'; '.join(problems)}")
    units = pool.tranches[k].units
    p_cur = waterfall.tranche_values(pool, cur, ctx.block.time)[k] // units
    p_alt = waterfall.tranche_values(pool, alt, ctx.block.time)[k] // units if pending else p_cur
    return UnitPrices(min(p_cur, p_alt), max(p_cur, p_alt), p_cur, p_alt if pending else None, problems)


def eligible(ctx: Ctx, unit: str) -> bool:
    """Every tranche but the junior, once its pool has received a scheduled repayment;
    governance's listing overrides."""
    listed = keeper.listing(ctx, unit)
    if listed is not None:
        return listed
    pool, k = _pool_of(ctx, unit)
    return k < pool.junior and pool.repayments > 0


def pool_grade(ctx: Ctx, pool: Pool) -> int:
    """The worst current grade among the pool's assets (0..4)."""
    return max((assets.get(ctx, a).grade or 0) for a in pool.assets)


# ----- supply and the collateral ratio ---------------------------------------------------------
def protocol_accounts(ctx: Ctx) -> list[bytes]:
    accts = [module_address(n) for n in ctx.wiring.accounts]  # the App's module accounts
    return accts + [tranches.pool_account(i) for i in tranches.ids(ctx, 0, 1 << 30)]


def circulating(ctx: Ctx) -> int:
    """Stable supply minus what protocol accounts hold (pools, vault, reserve, treasury, fund)."""
    d = denom(ctx)
    return bank.supply(ctx, d) - sum(bank.balance(ctx, a, d) for a in protocol_accounts(ctx))


def reserve_inputs(ctx: Ctx) -> list[ReserveInput]:
    """Each custodian's proof-of-reserve feed; a stale or frozen attestation counts as zero
    (fail closed)."""
    out = []
    for feed in oracle.list_feeds(ctx, "reserve/"):
        fv = oracle.read(ctx, feed)
        ok = not fv.stale and not fv.frozen
        out.append(ReserveInput(feed, fv.value, ok, fv.value if ok else 0))
    return out


def attested(ctx: Ctx) -> int:
    """Off-chain reserve: the sum of the custodians' fresh proof-of-reserve feeds."""
    return sum(i.counted for i in reserve_inputs(ctx))


def mark_price(ctx: Ctx, unit: str) -> tuple[int, bool]:
    """(unit price from the pool's mark: its assets' last revaluations, at most a day old,
    plus unallocated cash, walked over the tranches; whether any of those marks is stale)."""
    pool, k = _pool_of(ctx, unit)
    pm = assets.pool_mark(ctx, pool.id)
    values = waterfall.tranche_values(pool, pm.value + pool.unallocated, ctx.block.time)
    return values[k] // pool.tranches[k].units, pm.stale > 0


def _vault_units(ctx: Ctx) -> dict[str, int]:
    return {u: q for u, q in bank.balances_under(ctx, VAULT, tranches.UNIT_PREFIX).items()
            if tranches.parse_denom(u) is not None}


def unit_inputs(ctx: Ctx) -> list[UnitInput]:
    """Each unit the vault holds, valued at its mark price."""
    out = []
    for d, q in _vault_units(ctx).items():
        p, stale = mark_price(ctx, d)
        out.append(UnitInput(d, q, p * q, not stale))
    return out


def vault_value(ctx: Ctx) -> tuple[int, list[str]]:
    """(value of the vault's unit holdings at their mark prices, the units priced with stale
    feeds). Cheap: a pool mark per holding, whatever the size of the pool."""
    inputs = unit_inputs(ctx)
    problems = [f"{i.input}: priced with stale or frozen feeds" for i in inputs if not i.fresh]
    return sum(i.value for i in inputs), problems


def collateral_ratio(ctx: Ctx) -> CollateralRatio:
    """The ratio now: backing = the vault's units at their marks + the fresh attested
    reserve, over the circulating supply."""
    units, reserves = unit_inputs(ctx), reserve_inputs(ctx)
    backing = sum(i.value for i in units) + sum(i.counted for i in reserves)
    circ = circulating(ctx)
    inputs = [*units, *reserves]
    return CollateralRatio(None if circ <= 0 else backing * WAD // circ, backing, circ, all(i.fresh for i in inputs),
                           inputs)


def record_cr(ctx: Ctx) -> None:
    """End-block: the ratio as of this block (the last fresh one is what a stale floor uses)."""
    c = collateral_ratio(ctx)
    prev = keeper.recorded_ratio(ctx)
    last_fresh = c.cr if c.fresh else None if prev is None else prev.lastFresh
    keeper.put_recorded_ratio(ctx, RecordedRatio(c.cr, ctx.block.time, c.fresh, last_fresh))


def _require_cr_at_least_one(ctx: Ctx) -> None:
    cr = collateral_ratio(ctx).cr
    if cr is not None and cr < WAD:
        raise LimitExceeded(f"the collateral ratio is {cr * 100 // WAD} % (below 100 %): minting stops")


# ----- custodian mint and burn ------------------------------------------------------------------
def custodian_mint(ctx: Ctx, custodian: bytes, to: bytes, amount: int) -> None:
    from rwachain.modules.core.crypto import encode_address

    fv = oracle.fresh(ctx, f"reserve/{encode_address(custodian)}")
    minted = keeper.minted(ctx, custodian)
    if minted + amount > fv.value:
        raise LimitExceeded(f"minting {amount} would take this custodian to {minted + amount}, above its proof "
                            f"of reserve {fv.value}")
    _require_cr_at_least_one(ctx)
    keeper.set_minted(ctx, custodian, minted + amount)
    bank.mint(ctx, to, denom(ctx), amount)
    ctx.emit("stable.minted", custodian=custodian, to=to, amount=amount)


def custodian_burn(ctx: Ctx, custodian: bytes, amount: int) -> int:
    """Burn the custodian's own stable tokens; returns the off-chain payout owed (pro rata
    below CR 1)."""
    minted = keeper.minted(ctx, custodian)
    if amount > minted:
        raise InvalidState(f"this custodian minted {minted}; it cannot burn {amount} against its reserve")
    bank.burn(ctx, custodian, denom(ctx), amount)
    keeper.set_minted(ctx, custodian, minted - amount)
    cr = collateral_ratio(ctx).cr
    payout = amount if cr is None or cr >= WAD else amount * cr // WAD
    ctx.emit("stable.burned", custodian=custodian, amount=amount, offchainPayout=payout)
    return payout


# ----- the instant exit ---------------------------------------------------------------------------
def _ceilings(ctx: Ctx, pool: Pool, unit: str, grade: int) -> list[tuple[bytes, int]]:
    """(ceiling, cap) of the four ceilings an exit of unit counts against, global to tranche."""
    c = params(ctx)["ceilings"]
    return [(keeper.GLOBAL, c["global"]), (keeper.originator_ceiling(pool.originator), c["originator"]),
            (keeper.grade_ceiling(grade), c["grade"]), (keeper.tranche_ceiling(unit), c["tranche"])]


def _slope_part(h_slope: int, used: int, value: int, cap: int) -> int:
    """value x h_slope x (u0^2 + u0 u1 + u1^2) / 3 for one ceiling, u = exposure / cap, in
    stable base units rounded up: h_slope x ((used + value)^3 - used^3) / (3 cap^2), the
    integral of h_slope x u^2 over the exposure taken in (exactly additive along a path)."""
    return -(-h_slope * ((used + value) ** 3 - used**3) // (3 * cap * cap * WAD))


def exit_haircut(prm: dict, grade: int, uses: list[tuple[int, int]], value: int) -> int:
    """The haircut of an exit taking in value (stable base units, rounded up: the protocol
    buys) with each applicable ceiling at (used, cap): value x h_base(grade) plus the largest
    over the ceilings of the convex curve's integral over the exit's path. Each ceiling's
    integral adds up exactly over consecutive parts and a sum of maxima is at least the
    maximum of sums, so splitting an exit never lowers its haircut."""
    base = -(-prm["hBase"][grade] * value // WAD)
    return base + max(_slope_part(prm["hSlope"], used, value, cap) for used, cap in uses)


def quote_exit(ctx: Ctx, unit: str, quantity: int) -> ExitQuote:
    """What an exit of quantity units pays now, with its terms; raises when it cannot happen."""
    if not eligible(ctx, unit):
        raise InvalidState(f"{unit} is not eligible for the instant exit (a junior tranche, or its pool has "
                           f"received no scheduled repayment yet)")
    pool, _ = _pool_of(ctx, unit)
    prm = params(ctx)
    pr = unit_prices(ctx, unit)
    value = pr.buy * quantity
    grade = pool_grade(ctx, pool)
    uses = []
    for ceiling, cap in _ceilings(ctx, pool, unit, grade):
        used = keeper.use(ctx, ceiling)
        if used + value > cap:
            raise LimitExceeded(f"the exit would take {ceiling.decode(errors='replace')} to {used + value}, "
                                f"above its ceiling {cap}")
        uses.append((used, cap))
    cut = exit_haircut(prm, grade, uses, value)
    used, cap = max(uses, key=lambda uc: _slope_part(prm["hSlope"], uc[0], value, uc[1]))  # the binding one
    out = max(0, value - cut)
    share = min(cut, value) * prm["haircutShare"] // WAD
    return ExitQuote(pr.buy, value, -(-cut * WAD // max(value, 1)), out, share, used * WAD // cap,
                     (used + value) * WAD // cap, grade, pr.queued)


def exit_units(ctx: Ctx, holder: bytes, unit: str, quantity: int, min_out: int) -> ExitQuote:
    """Swap eligible units into the stable token at price x (1 - h)."""
    _require_cr_at_least_one(ctx)
    q = quote_exit(ctx, unit, quantity)
    if q.out == 0:
        raise LimitExceeded("the exit would pay out zero")
    if q.out < min_out:
        raise LimitExceeded(f"the exit pays {q.out}, below the minimum {min_out} asked")
    if bank.balance(ctx, holder, unit) < quantity:
        raise InsufficientFunds(f"holding {bank.balance(ctx, holder, unit)} units of {unit}, exiting {quantity}")
    pool, _ = _pool_of(ctx, unit)
    _take_exposure(ctx, pool, unit, q.grade, q.value)
    d = denom(ctx)
    bank.transfer(ctx, holder, VAULT, unit, quantity)
    bank.mint(ctx, holder, d, q.out)
    if q.reserve_share:
        bank.mint(ctx, RESERVE, d, q.reserve_share)
    keeper.set_minted_against_units(ctx, keeper.minted_against_units(ctx) + q.out + q.reserve_share)
    ctx.emit("stable.exit", holder=holder, unit=unit, quantity=quantity, price=q.price, haircut=q.haircut,
             out=q.out, reserveShare=q.reserve_share)
    return q


# ----- ceiling use: the exposure the vault holds ---------------------------------------------------
def _by_grade(ctx: Ctx, pool: Pool, unit: str) -> list[int]:
    """The tranche's exposure by the grade it was taken in at (a record written from this
    rule on; without one, all of it at the pool's grade now)."""
    buckets = keeper.by_grade(ctx, unit)
    if buckets is not None:
        return buckets
    out = [0] * keeper.GRADES
    out[pool_grade(ctx, pool)] = keeper.use(ctx, keeper.tranche_ceiling(unit))
    return out


def _take_exposure(ctx: Ctx, pool: Pool, unit: str, grade: int, value: int) -> None:
    """An exit's value counts against each of its ceilings, and in the tranche's by-grade record."""
    buckets = _by_grade(ctx, pool, unit)
    buckets[grade] += value
    keeper.put_by_grade(ctx, unit, buckets)
    for ceiling, _ in _ceilings(ctx, pool, unit, grade):
        keeper.add_use(ctx, ceiling, value)


def release_exposure(ctx: Ctx, unit: str, quantity: int, held: int) -> None:
    """quantity of the held units of unit leave the vault: each ceiling's use falls by their
    share, quantity / held of the tranche's exposure (all of it when none stay), taken from the
    grades it was counted in."""
    pool, _ = _pool_of(ctx, unit)
    buckets = _by_grade(ctx, pool, unit)
    gone = [b if quantity >= held else b * quantity // held for b in buckets]
    total = sum(gone)
    if not total:
        return
    for g, r in enumerate(gone):
        if r:
            keeper.add_use(ctx, keeper.grade_ceiling(g), -r)
    for ceiling in (keeper.GLOBAL, keeper.originator_ceiling(pool.originator), keeper.tranche_ceiling(unit)):
        keeper.add_use(ctx, ceiling, -total)
    left = [b - r for b, r in zip(buckets, gone, strict=True)]
    if any(left):
        keeper.put_by_grade(ctx, unit, left)
    else:
        keeper.drop_by_grade(ctx, unit)


def buy_units(ctx: Ctx, buyer: bytes, unit: str, quantity: int, max_in: int) -> int:
    """Buy units out of the vault at price x (1 + spread), burning the stable tokens paid."""
    held = bank.balance(ctx, VAULT, unit)
    if held < quantity:
        raise InsufficientFunds(f"the vault holds {held} units of {unit}")
    prm = params(ctx)
    pr = unit_prices(ctx, unit)
    cost = -(-pr.sell * quantity * (WAD + prm["spread"]) // WAD)
    if cost > max_in:
        raise LimitExceeded(f"the purchase costs {cost}, above the maximum {max_in} offered")
    d = denom(ctx)
    bank.burn(ctx, buyer, d, cost)
    bank.transfer(ctx, VAULT, buyer, unit, quantity)
    keeper.set_minted_against_units(ctx, max(0, keeper.minted_against_units(ctx) - cost))
    release_exposure(ctx, unit, quantity, held)
    ctx.emit("stable.bought", buyer=buyer, unit=unit, quantity=quantity, cost=cost, price=pr.sell)
    return cost


# ----- the floor ----------------------------------------------------------------------------------
def _floor_terms(ctx: Ctx) -> FloorTerms:
    """The floor's pricing now. par (CR >= 1): sell prices, rate 1; proRata (CR < 1): sell prices, rate worth /
    circulating; stale (a stale feed): mark prices, rate worth / circulating x min(1, 1 / the
    last fresh CR)."""
    held = _vault_units(ctx)
    cash = bank.balance(ctx, VAULT, denom(ctx))
    circ = max(circulating(ctx), 1)
    _, problems = vault_value(ctx)
    prices = None
    if not problems:
        try:
            prices = {u: unit_prices(ctx, u).sell for u in held}
        except StaleFeed as exc:
            problems = [exc.message]
    if problems:
        prices = {u: mark_price(ctx, u)[0] for u in held}
    worth = sum(prices[u] * q for u, q in held.items()) + cash
    cr = collateral_ratio(ctx).cr
    if problems:
        recorded = keeper.recorded_ratio(ctx)
        last = (None if recorded is None else recorded.lastFresh) or WAD
        rate, mode = (worth * min(WAD, WAD * WAD // last), circ * WAD), "stale"
    elif cr is not None and cr >= WAD:
        rate, mode = (1, 1), "par"
    else:
        rate, mode = (worth, circ), "proRata"
    return FloorTerms(held, cash, prices, worth, rate, mode, cr, circ, problems)


def quote_redeem(ctx: Ctx, amount: int) -> RedeemQuote:
    """What redeeming amount of the stable token pays now (_floor_terms for the pricing): the
    slice owed is worth owed = min(amount x rate, worth), the fraction owed / worth of every
    holding; units floor, and the vault's cash pays the rest of owed as far as it goes. It
    burns min(amount, floor(worth paid / rate)): only the stable worth what is paid."""
    f = _floor_terms(ctx)
    rn, rd = f.rate
    den = f.worth * rd
    num = min(amount * rn, den)  # the slice: num / den of every holding
    paid = {u: q * num // den for u, q in sorted(f.held.items())} if den else {}
    in_units = sum(f.prices[u] * q for u, q in paid.items())
    stable = min(f.cash, num // rd - in_units)
    worth = in_units + stable
    burn = min(amount, worth * rd // rn) if rn else 0
    return RedeemQuote(paid, stable, worth, burn, f)


def redeem(ctx: Ctx, holder: bytes, amount: int) -> RedeemQuote:
    """Burn at most amount of the stable token for a slice of every vault holding (quote_redeem):
    worth par at CR >= 1 (as far as the vault goes), the pro-rata share below 1; with a stale
    feed, the pro-rata share scaled by min(1, 1 / the last fresh CR). Burns only the stable worth
    what it pays; a slice that rounds to nothing is refused, nothing burned. Never paused."""
    d = denom(ctx)
    circ = circulating(ctx)
    if amount > circ or bank.balance(ctx, holder, d) < amount:
        raise InsufficientFunds(f"redeeming {amount}: the balance is {bank.balance(ctx, holder, d)}")
    q = quote_redeem(ctx, amount)
    if not q.worth or not q.burn:
        raise LimitExceeded(f"the redemption of {amount} rounds to nothing in the vault's holdings: refused, "
                            f"nothing burned")
    bank.burn(ctx, holder, d, q.burn)
    keeper.set_minted_against_units(ctx, max(0, keeper.minted_against_units(ctx) - q.burn))
    for u, n in q.paid.items():
        if n:
            release_exposure(ctx, u, n, q.terms.held[u])
            bank.transfer(ctx, VAULT, holder, u, n)
    if q.stable:
        bank.transfer(ctx, VAULT, holder, d, q.stable)
    ctx.emit("stable.redeemed", holder=holder, amount=amount, burned=q.burn, stable=q.stable,
             units=",".join(f"{u}:{n}" for u, n in q.paid.items() if n), stale=q.terms.mode == "stale")
    return q
