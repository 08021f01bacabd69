"""The buyback reserve (first part): an epoch budget and standing orders on the books.

At the first block of each epoch (block time // epoch) the budget is budgetShare of the
reserve's non-native holdings (stable tokens plus units at their pool-mark prices). At the
start of every block the reserve's orders are refreshed: a standing bid on every eligible
tranche (modules/stable/vault.eligible) at its reference price x (1 - discount), sized so
that filling every bid, fees included, stays within what is left of the budget; and an ask
at the reference price x (1 + premium) for every unit it holds (resale). Every fill of a
reserve bid counts against the budget (a hook of the market module), so the reserve never
spends beyond it (the module's invariant).

State keys: reserve/epoch {epoch, budget, used}; params/reserve {budgetShare, discount,
premium (wad), epoch (s)}.
"""

from __future__ import annotations

from modules.bank import keeper as bank
from modules.context import Ctx
from modules.crypto import module_address
from modules.errors import InvalidTransaction
from modules.market import keeper as market
from modules.registry import Module
from modules.stable import vault
from modules.tranches import keeper as tranches
from state.overlay import Overlay

NAME = "reserve"
RESERVE = module_address("reserve")
EPOCH = b"reserve/epoch"
PARAMS = b"params/reserve"
WAD = 10**18
DEFAULT_PARAMS = {"budgetShare": WAD // 10, "discount": 3 * WAD // 100, "premium": 2 * WAD // 100, "epoch": 86_400}


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def holdings_value(ctx: Ctx) -> int:
    """Non-native holdings: stable tokens plus tranche units at their pool-mark prices."""
    total = 0
    d = vault.denom(ctx)
    for denom, q in bank.balances_of(ctx, RESERVE).items():
        if denom == d:
            total += q
        elif tranches.parse_denom(denom) is not None:
            total += vault.mark_price(ctx, denom)[0] * q
    return total


def epoch_state(ctx: Ctx) -> dict:
    return ctx.get_obj(EPOCH) or {"epoch": -1, "budget": 0, "used": 0}


def _eligible_units(ctx: Ctx) -> list[str]:
    out = []
    for pid in tranches.ids(ctx, 0, 1 << 30):
        pool = tranches.get(ctx, pid)
        if pool["status"] != "active":
            continue
        for t in pool["tranches"]:
            if vault.eligible(ctx, t["denom"]):
                out.append(t["denom"])
    return out


def begin_block(ctx: Ctx) -> None:
    if ctx.get(vault.CUSTODIAN) is None:
        return
    prm = params(ctx)
    st = epoch_state(ctx)
    e = ctx.block.time // prm["epoch"]
    if st["epoch"] != e:
        st = {"epoch": e, "budget": holdings_value(ctx) * prm["budgetShare"] // WAD, "used": 0}
        ctx.set_obj(EPOCH, st)
        ctx.emit("reserve.epoch", epoch=e, budget=st["budget"])
    for o in market.orders_of(ctx, RESERVE):
        market.cancel(ctx, RESERVE, o["id"])
    fee = market.params(ctx)["takerFee"]
    units = _eligible_units(ctx)
    left = st["budget"] - st["used"]
    stable = vault.denom(ctx)
    for u in units:
        try:
            ref = market.reference_price(ctx, u)
        except InvalidTransaction:
            continue  # stale or missing: no standing bid (fail closed)
        bid = ref * (WAD - prm["discount"]) // WAD
        share = min(left // len(units), bank.balance(ctx, RESERVE, stable))
        qty = share * market.BPS // (bid * (market.BPS + fee)) if bid else 0
        if qty:
            _try_place(ctx, u, market.BUY, bid, qty, stable)
    for u, q in bank.balances_of(ctx, RESERVE).items():
        if tranches.parse_denom(u) is None or not q:
            continue
        try:
            ask = -(-market.reference_price(ctx, u) * (WAD + prm["premium"]) // WAD)
        except InvalidTransaction:
            continue
        _try_place(ctx, u, market.SELL, ask, q, stable)


def _try_place(ctx: Ctx, unit: str, side: str, price: int, qty: int, stable: str) -> None:
    """Place a reserve order on an overlay of its own: a refusal leaves nothing behind."""
    sub = Ctx(Overlay(ctx.state), ctx.block)
    try:
        market.place(sub, RESERVE, unit, side, price, qty, 0, RESERVE, stable)
    except InvalidTransaction:
        return
    sub.state.merge_into_parent()
    ctx.events.extend(sub.events)


def on_fill(ctx: Ctx, fill: dict) -> None:
    """Market hook: a fill of a reserve bid is an outlay against the epoch budget."""
    if fill["buyer"] == RESERVE:
        st = epoch_state(ctx)
        st["used"] += fill["cost"] + fill["buyerFee"]
        ctx.set_obj(EPOCH, st)


def invariants(ctx: Ctx) -> list[str]:
    st = epoch_state(ctx)
    return [f"reserve: spent {st['used']} of a budget of {st['budget']}"] if st["used"] > st["budget"] else []


def init_genesis(ctx: Ctx, section: dict) -> None:
    """section: {raw: [[key, value]]}: the reserve's records as an export wrote them."""
    for k, v in section.get("raw", []):
        ctx.set(k, v)


def export_genesis(ctx: Ctx) -> dict:
    raw = [[k, v] for k, v in ctx.iter_prefix(b"reserve/")]
    return {"raw": raw} if raw else {}


def module() -> Module:
    market.on_fill(NAME, on_fill)
    m = Module(NAME, begin_block=begin_block, invariants=invariants, init_genesis=init_genesis,
               export_genesis=export_genesis)
    m.queries["budget"] = epoch_state
    return m
