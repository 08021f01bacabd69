"""The stable token's vault: custodian mint and burn, the instant exit of eligible tranche
units, purchases out of the vault, the floor redemption, and the collateral ratio.

State keys (canonical msgpack values):
    stable/custodian          {denom, attestedReserve, custodianMinted} (genesis; module.py)
    stable/minted/<custodian> int   stable minted by that custodian, base units
    stable/units              int   stable minted against units (exits, haircut share included)
    stable/use/<kind>/<key>   int   exposure (gross value taken in) per ceiling:
                                    global/-, originator/<addr>, grade/<0..4>, tranche/<denom>
    stable/cr                 {cr (wad), time, fresh}: the ratio at the end of the last block
    stable/eligible/<denom>   bool  governance's listing (absent: the default rule)
    params/stable             PARAMS below
Prices: a unit's value walks the pool's value (its assets valued now, plus unallocated
cash) senior to junior (modules/tranches/waterfall.py); with queued oracle moves the
protocol buys at the lower and sells at the higher of the current and queued valuations.
"""

from __future__ import annotations

from modules.assets import keeper as assets
from modules.assets import marks
from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import module_address
from modules.errors import InsufficientFunds, InvalidState, LimitExceeded, NotFound, StaleFeed
from modules.oracle import keeper as oracle
from modules.tranches import keeper as tranches
from modules.tranches import waterfall

WAD = 10**18
CUSTODIAN = b"stable/custodian"
MINTED = b"stable/minted/"
UNITS = b"stable/units"
USE = b"stable/use/"
CR = b"stable/cr"
ELIGIBLE = b"stable/eligible/"
PARAMS = b"params/stable"
VAULT = module_address("vault")
RESERVE = module_address("reserve")
PROTOCOL_ACCOUNTS = ("vault", "reserve", "treasury", "insurance")
RUSD = 10**6
DEFAULT_PARAMS = {
    "hBase": [2 * WAD // 100, 3 * WAD // 100, 5 * WAD // 100, 8 * WAD // 100, 12 * WAD // 100],  # by grade A..E
    "hSlope": WAD // 10,  # haircut added at full utilization (path average of slope x u^2)
    "spread": WAD // 100,  # sell units out of the vault at price x (1 + spread)
    "haircutShare": WAD // 2,  # of the haircut's value, minted to the reserve
    "ceilings": {"global": 10_000_000 * RUSD, "originator": 5_000_000 * RUSD, "grade": 5_000_000 * RUSD,
                 "tranche": 2_000_000 * RUSD},
}


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


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
    c = ctx.get_obj(CUSTODIAN)
    if c is None:
        raise InvalidState("this chain has no stable token")
    return c["denom"]


# ----- prices -------------------------------------------------------------------------------
def _pool_of(ctx: Ctx, unit: str) -> tuple[dict, int]:
    pk = tranches.parse_denom(unit)
    pool = tranches.find(ctx, pk[0]) if pk else None
    if pool is None or pk[1] >= len(pool["tranches"]):
        raise NotFound(f"{unit} is not a tranche unit")
    return pool, pk[1]


def unit_prices(ctx: Ctx, unit: str, strict: bool = True) -> dict:
    """{buy, sell, current, queued, problems}: per-unit prices in stable base units (floor).

    buy = what the protocol pays (the lower of the current and queued valuations), sell = what
    it asks (the higher). strict: a stale, frozen or missing feed raises StaleFeed."""
    pool, k = _pool_of(ctx, unit)
    cur = alt = pool["unallocated"]
    problems: list[str] = []
    pending = False
    for aid in pool["assets"]:
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
    units = pool["tranches"][k]["units"]
    p_cur = waterfall.tranche_values(pool, cur, ctx.block.time)[k] // units
    p_alt = waterfall.tranche_values(pool, alt, ctx.block.time)[k] // units if pending else p_cur
    return {"buy": min(p_cur, p_alt), "sell": max(p_cur, p_alt), "current": p_cur, "queued": p_alt if pending else None,
            "problems": problems}


def eligible(ctx: Ctx, unit: str) -> bool:
    """Every tranche but the junior, once its pool has received a scheduled repayment;
    governance's listing overrides."""
    listed = ctx.get_obj(ELIGIBLE + unit.encode())
    if listed is not None:
        return bool(listed)
    pool, k = _pool_of(ctx, unit)
    return k < len(pool["tranches"]) - 1 and pool["repayments"] > 0


def pool_grade(ctx: Ctx, pool: dict) -> int:
    """The worst current grade among the pool's assets (0..4)."""
    return max((assets.get(ctx, a)["grade"] or 0) for a in pool["assets"])


# ----- supply and the collateral ratio ---------------------------------------------------------
def protocol_accounts(ctx: Ctx) -> list[bytes]:
    accts = [module_address(n) for n in PROTOCOL_ACCOUNTS]
    return accts + [tranches.pool_account(i) for i in tranches.ids(ctx, 0, 1 << 30)]


def circulating(ctx: Ctx) -> int:
    """Stable supply minus what protocol accounts hold (pools, vault, reserve, treasury, fund)."""
    d = denom(ctx)
    return bank.supply(ctx, d) - sum(bank.balance(ctx, a, d) for a in protocol_accounts(ctx))


def attested(ctx: Ctx) -> int:
    """Off-chain reserve: the sum of the custodians' proof-of-reserve feeds (last values)."""
    total = 0
    for feed in oracle.list_feeds(ctx, "reserve/"):
        total += oracle.state_of(ctx, feed)["value"]
    return total


def mark_price(ctx: Ctx, unit: str) -> tuple[int, bool]:
    """(unit price from the pool's mark: its assets' last revaluations, at most a day old,
    plus unallocated cash, walked over the tranches; whether any of those marks is stale)."""
    pool, k = _pool_of(ctx, unit)
    pm = assets.pool_mark(ctx, pool["id"])
    values = waterfall.tranche_values(pool, pm["value"] + pool["unallocated"], ctx.block.time)
    return values[k] // pool["tranches"][k]["units"], pm["stale"] > 0


def vault_value(ctx: Ctx) -> tuple[int, list[str]]:
    """(value of the vault's unit holdings at their mark prices, the units priced with stale
    feeds). Cheap: a pool mark per holding, whatever the size of the pool."""
    total, problems = 0, []
    for d, q in bank.balances_of(ctx, VAULT).items():
        if tranches.parse_denom(d) is None:
            continue
        p, stale = mark_price(ctx, d)
        total += p * q
        if stale:
            problems.append(f"{d}: priced with stale or frozen feeds")
    return total, problems


def collateral_ratio(ctx: Ctx) -> dict:
    """{cr (wad; None when nothing circulates), backing, circulating, fresh}."""
    v, problems = vault_value(ctx)
    backing = v + attested(ctx)
    circ = circulating(ctx)
    return {"cr": None if circ <= 0 else backing * WAD // circ, "backing": backing, "circulating": circ,
            "fresh": not problems}


def record_cr(ctx: Ctx) -> None:
    """End-block: the ratio as of this block (the last fresh one is what a stale floor uses)."""
    c = collateral_ratio(ctx)
    prev = ctx.get_obj(CR) or {}
    last_fresh = c["cr"] if c["fresh"] else prev.get("lastFresh")
    ctx.set_obj(CR, {"cr": c["cr"], "time": ctx.block.time, "fresh": c["fresh"], "lastFresh": last_fresh})


def _require_cr_at_least_one(ctx: Ctx) -> None:
    c = collateral_ratio(ctx)
    if c["cr"] is not None and c["cr"] < WAD:
        raise LimitExceeded(f"the collateral ratio is {c['cr'] * 100 // WAD} % (below 100 %): minting stops")


# ----- custodian mint and burn ------------------------------------------------------------------
def custodian_mint(ctx: Ctx, custodian: bytes, to: bytes, amount: int) -> None:
    from modules.crypto import encode_address

    fv = oracle.fresh(ctx, f"reserve/{encode_address(custodian)}")
    minted = ctx.get_int(MINTED + custodian)
    if minted + amount > fv.value:
        raise LimitExceeded(f"minting {amount} would take this custodian to {minted + amount}, above its proof "
                            f"of reserve {fv.value}")
    _require_cr_at_least_one(ctx)
    ctx.set_int(MINTED + custodian, minted + amount)
    bank.mint(ctx, to, denom(ctx), amount)
    ctx.emit("stable.minted", custodian=custodian, to=to, amount=amount)


def custodian_burn(ctx: Ctx, custodian: bytes, amount: int) -> int:
    """Burn the custodian's own stable tokens; returns the off-chain payout owed (pro rata
    below CR 1)."""
    minted = ctx.get_int(MINTED + custodian)
    if amount > minted:
        raise InvalidState(f"this custodian minted {minted}; it cannot burn {amount} against its reserve")
    bank.burn(ctx, custodian, denom(ctx), amount)
    ctx.set_int(MINTED + custodian, minted - amount)
    c = collateral_ratio(ctx)
    payout = amount if c["cr"] is None or c["cr"] >= WAD else amount * c["cr"] // WAD
    ctx.emit("stable.burned", custodian=custodian, amount=amount, offchainPayout=payout)
    return payout


# ----- the instant exit ---------------------------------------------------------------------------
def _ceilings(ctx: Ctx, pool: dict, unit: str, grade: int) -> list[tuple[bytes, int]]:
    c = params(ctx)["ceilings"]
    return [(USE + b"global/-", c["global"]), (USE + b"originator/" + pool["originator"], c["originator"]),
            (USE + b"grade/" + bytes([48 + grade]), c["grade"]), (USE + b"tranche/" + unit.encode(), c["tranche"])]


def haircut(prm: dict, grade: int, u0: int, u1: int) -> int:
    """h = h_base(grade) + h_slope x (u0^2 + u0 u1 + u1^2) / 3, wad, rounded up (the protocol
    buys): the average of the convex curve over the trade's path, so splitting saves nothing."""
    path = -(-(u0 * u0 + u0 * u1 + u1 * u1) // (3 * WAD))
    return prm["hBase"][grade] + -(-prm["hSlope"] * path // WAD)


def quote_exit(ctx: Ctx, unit: str, quantity: int) -> dict:
    """What an exit of quantity units pays now, with its terms; raises when it cannot happen."""
    if not eligible(ctx, unit):
        raise InvalidState(f"{unit} is not eligible for the instant exit (a junior tranche, or its pool has "
                           f"received no scheduled repayment yet)")
    pool, _ = _pool_of(ctx, unit)
    prm = params(ctx)
    pr = unit_prices(ctx, unit)
    value = pr["buy"] * quantity
    grade = pool_grade(ctx, pool)
    u0 = u1 = 0
    for key, cap in _ceilings(ctx, pool, unit, grade):
        used = ctx.get_int(key)
        if used + value > cap:
            raise LimitExceeded(f"the exit would take {key[len(USE):].decode(errors='replace')} to {used + value}, "
                                f"above its ceiling {cap}")
        u0, u1 = max(u0, used * WAD // cap), max(u1, (used + value) * WAD // cap)
    h = haircut(prm, grade, u0, u1)
    out = value * (WAD - h) // WAD
    share = (value - out) * prm["haircutShare"] // WAD
    return {"price": pr["buy"], "value": value, "haircut": h, "out": out, "reserveShare": share, "u0": u0, "u1": u1,
            "grade": grade, "queued": pr["queued"]}


def exit_units(ctx: Ctx, holder: bytes, unit: str, quantity: int, min_out: int) -> dict:
    """Swap eligible units into the stable token at price x (1 - h)."""
    _require_cr_at_least_one(ctx)
    q = quote_exit(ctx, unit, quantity)
    if q["out"] == 0:
        raise LimitExceeded("the exit would pay out zero")
    if q["out"] < min_out:
        raise LimitExceeded(f"the exit pays {q['out']}, below the minimum {min_out} asked")
    if bank.balance(ctx, holder, unit) < quantity:
        raise InsufficientFunds(f"holding {bank.balance(ctx, holder, unit)} units of {unit}, exiting {quantity}")
    pool, _ = _pool_of(ctx, unit)
    for key, _ in _ceilings(ctx, pool, unit, q["grade"]):
        ctx.set_int(key, ctx.get_int(key) + q["value"])
    d = denom(ctx)
    bank.transfer(ctx, holder, VAULT, unit, quantity)
    bank.mint(ctx, holder, d, q["out"])
    if q["reserveShare"]:
        bank.mint(ctx, RESERVE, d, q["reserveShare"])
    ctx.set_int(UNITS, ctx.get_int(UNITS) + q["out"] + q["reserveShare"])
    ctx.emit("stable.exit", holder=holder, unit=unit, quantity=quantity, price=q["price"], haircut=q["haircut"],
             out=q["out"], reserveShare=q["reserveShare"])
    return q


def buy_units(ctx: Ctx, buyer: bytes, unit: str, quantity: int, max_in: int) -> int:
    """Buy units out of the vault at price x (1 + spread), burning the stable tokens paid."""
    held = bank.balance(ctx, VAULT, unit)
    if held < quantity:
        raise InsufficientFunds(f"the vault holds {held} units of {unit}")
    prm = params(ctx)
    pr = unit_prices(ctx, unit)
    cost = -(-pr["sell"] * quantity * (WAD + prm["spread"]) // WAD)
    if cost > max_in:
        raise LimitExceeded(f"the purchase costs {cost}, above the maximum {max_in} offered")
    d = denom(ctx)
    bank.burn(ctx, buyer, d, cost)
    bank.transfer(ctx, VAULT, buyer, unit, quantity)
    ctx.set_int(UNITS, max(0, ctx.get_int(UNITS) - cost))
    pool, _ = _pool_of(ctx, unit)
    gone = pr["buy"] * quantity
    for key, _ in _ceilings(ctx, pool, unit, pool_grade(ctx, pool)):
        ctx.set_int(key, max(0, ctx.get_int(key) - gone))
    ctx.emit("stable.bought", buyer=buyer, unit=unit, quantity=quantity, cost=cost, price=pr["sell"])
    return cost


# ----- the floor ----------------------------------------------------------------------------------
def quote_redeem(ctx: Ctx, amount: int) -> dict:
    """What redeeming amount of the stable token pays now: {paid {unit: quantity}, mode (par:
    worth amount at the protocol's sell prices, CR >= 1; proRata: amount / circulating of
    every holding, CR < 1; stale: pro rata scaled by min(1, 1 / the last fresh CR)),
    value (the holdings at sell prices; None when stale), cr, circulating}."""
    circ = circulating(ctx)
    holdings = {u: q for u, q in bank.balances_of(ctx, VAULT).items() if tranches.parse_denom(u) is not None}
    _, problems = vault_value(ctx)
    value = None
    if not problems:  # par is counted at the prices the protocol sells at (fresh, the higher)
        try:
            value = sum(unit_prices(ctx, u)["sell"] * q for u, q in holdings.items())
        except StaleFeed as exc:
            problems = [exc.message]
    c = collateral_ratio(ctx)
    if problems:  # stale: the pro-rata share, scaled by the last fresh ratio
        last = (ctx.get_obj(CR) or {}).get("lastFresh") or WAD
        num, den, mode = amount * min(WAD, WAD * WAD // last), circ * WAD, "stale"
    elif c["cr"] is not None and c["cr"] >= WAD and value > 0:
        num, den, mode = min(amount, value), value, "par"  # par, in vault holdings
    else:
        num, den, mode = amount, max(circ, 1), "proRata"  # pro rata by quantity
    paid = {u: q * num // den for u, q in sorted(holdings.items())}
    return {"paid": paid, "mode": mode, "value": None if problems else value, "cr": c["cr"], "circulating": circ,
            "problems": problems}


def redeem(ctx: Ctx, holder: bytes, amount: int) -> dict[str, int]:
    """Burn amount of the stable token for a slice of every vault holding (quote_redeem):
    worth par at CR >= 1 (as far as the vault goes), the pro-rata share by quantity below 1;
    with a stale feed, the pro-rata share scaled by min(1, 1 / the last fresh CR). Never paused."""
    d = denom(ctx)
    circ = circulating(ctx)
    if amount > circ or bank.balance(ctx, holder, d) < amount:
        raise InsufficientFunds(f"redeeming {amount}: the balance is {bank.balance(ctx, holder, d)}")
    q = quote_redeem(ctx, amount)
    paid, problems = q["paid"], q["problems"]
    if not any(paid.values()):
        raise LimitExceeded("the redemption would pay out zero (the vault holds nothing for it)")
    bank.burn(ctx, holder, d, amount)
    ctx.set_int(UNITS, max(0, ctx.get_int(UNITS) - amount))
    for u, q in paid.items():
        if q:
            bank.transfer(ctx, VAULT, holder, u, q)
    ctx.emit("stable.redeemed", holder=holder, amount=amount, units=",".join(f"{u}:{q}" for u, q in paid.items() if q),
             stale=bool(problems))
    return paid
