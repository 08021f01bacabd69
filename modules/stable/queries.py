"""The stable token's RPC methods (stable_*), declared with their schemas
(modules/core/queries.py): the vault and the collateral ratio, quotes, parameters."""

from __future__ import annotations

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    BOOL,
    STR,
    Optional,
    Query,
    QueryError,
    QueryParam,
    anyof,
    anything,
    arr,
    enum,
    mapof,
    nullable,
    obj,
)
from rwachain.modules.stable import keeper, vault
from rwachain.modules.stable.records import ReserveInput, UnitInput

JSON = anything()  # any JSON value
CEILINGS = mapof(AMOUNT)
STABLE_INFO = obj(denom=STR, supply=AMOUNT, circulating=AMOUNT,
                  vault=obj(account=ADDR, basket=mapof(AMOUNT), value=AMOUNT, problems=arr(STR)),
                  attestedReserve=AMOUNT, backing=AMOUNT, cr=nullable(AMOUNT), fresh=BOOL,
                  inputs=arr(obj(input=STR, value=AMOUNT, fresh=BOOL, quantity=Optional(AMOUNT),
                                 counted=Optional(AMOUNT))), recorded=mapof(JSON),
                  mintedAgainstUnits=AMOUNT, ceilings=CEILINGS, use=mapof(AMOUNT))
STABLE_PARAMS = obj(hBase=arr(AMOUNT), hSlope=AMOUNT, spread=AMOUNT, haircutShare=AMOUNT, ceilings=CEILINGS)
STABLE_QUOTE = anyof(
    obj(price=AMOUNT, spread=AMOUNT, cost=AMOUNT, queued=nullable(JSON), explanation=STR),  # buy
    obj(value=AMOUNT, haircut=AMOUNT, out=AMOUNT, reserveShare=AMOUNT, u0=AMOUNT, u1=AMOUNT, grade=AMOUNT,
        price=AMOUNT, queued=nullable(JSON), explanation=STR),  # exit
    obj(cr=nullable(AMOUNT), vaultValue=nullable(AMOUNT), stale=BOOL, amount=AMOUNT, mode=enum("par", "proRata", "stale"),
        explanation=STR, circulating=AMOUNT, basket=mapof(AMOUNT), stable=AMOUNT, worth=AMOUNT,
        burn=AMOUNT))  # redeem
EXIT_WHY = ("out = value x (1 - haircut): value at the lower of the current and queued unit prices; the haircut is "
            "the average of the grade's convex curve from the most used ceiling's utilization u0 to u1 (after this "
            "exit); reserveShare of the haircut goes to the reserve")
BUY_WHY = ("cost = quantity x price x (1 + spread), rounded up, price the higher of the current and queued unit "
           "prices; the stable tokens paid are burned")
REDEEM_WHY = {"par": "CR >= 1: the vault's holdings worth the amount at the protocol's sell prices",
              "proRata": "CR < 1: amount / circulating supply of every vault holding",
              "stale": "a feed is stale: the pro-rata share scaled by min(1, 1 / the last fresh CR)"}
REDEEM_PAID = ("; units floor, the vault's stable tokens pay the fractions; burned: only the stable worth what is paid "
               "(a slice that rounds to nothing is refused)")


def _text(v):
    return str(v) if type(v) is int else v


def _info(ctx: Ctx) -> dict:
    d = vault.denom(ctx)
    value, problems = vault.vault_value(ctx)
    c = vault.collateral_ratio(ctx)
    rec = keeper.recorded_ratio(ctx)
    use = {_ceiling_name(ceiling): str(used) for ceiling, used in keeper.uses(ctx)}
    basket = {u: str(q) for u, q in bank.balances_of(ctx, vault.VAULT).items() if u != d}
    return {"denom": d, "supply": str(bank.supply(ctx, d)), "circulating": str(c.circulating),
            "vault": {"account": encode_address(vault.VAULT), "basket": basket, "value": str(value),
                      "problems": problems},
            "attestedReserve": str(vault.attested(ctx)), "backing": str(c.backing),
            "cr": None if c.cr is None else str(c.cr), "fresh": c.fresh, "inputs": [_input_json(i) for i in c.inputs],
            "recorded": {} if rec is None else {k: _text(v) for k, v in rec.to_stored().items()},
            "mintedAgainstUnits": str(keeper.minted_against_units(ctx)),
            "ceilings": {k: str(v) for k, v in keeper.params(ctx)["ceilings"].items()}, "use": use}


def _input_json(i: UnitInput | ReserveInput) -> dict:
    if isinstance(i, UnitInput):
        return {"input": i.input, "quantity": str(i.quantity), "value": str(i.value), "fresh": i.fresh}
    return {"input": i.input, "value": str(i.value), "fresh": i.fresh, "counted": str(i.counted)}


def _ceiling_name(ceiling: bytes) -> str:
    """A ceiling as stable_info names it: originator/<address text>, or its key's text."""
    if ceiling.startswith(b"originator/"):
        return "originator/" + encode_address(ceiling[len(b"originator/"):])
    return ceiling.decode(errors="replace")


def _exit(ctx: Ctx, unit: str, quantity: int) -> dict:
    q = vault.quote_exit(ctx, unit, quantity)
    return {"price": str(q.price), "value": str(q.value), "haircut": str(q.haircut), "out": str(q.out),
            "reserveShare": str(q.reserve_share), "u0": str(q.u0), "u1": str(q.u1), "grade": str(q.grade),
            "queued": None if q.queued is None else str(q.queued), "explanation": EXIT_WHY}


def _buy(ctx: Ctx, unit: str, quantity: int) -> dict:
    pr = vault.unit_prices(ctx, unit)
    spread = keeper.params(ctx)["spread"]
    cost = -(-pr.sell * quantity * (vault.WAD + spread) // vault.WAD)
    return {"price": str(pr.sell), "spread": str(spread), "cost": str(cost),
            "queued": None if pr.queued is None else str(pr.queued), "explanation": BUY_WHY}


def _redeem(ctx: Ctx, amount: int) -> dict:
    q = vault.quote_redeem(ctx, amount)
    f = q.terms
    return {"cr": None if f.cr is None else str(f.cr),
            "vaultValue": None if f.problems else str(f.worth), "stale": f.mode == "stale",
            "amount": str(amount), "mode": f.mode, "explanation": REDEEM_WHY[f.mode] + REDEEM_PAID,
            "circulating": str(f.circulating), "basket": {u: str(n) for u, n in q.paid.items() if n},
            "stable": str(q.stable), "worth": str(q.worth), "burn": str(q.burn)}


def _quote(ctx: Ctx, kind: str, unit: str | None, quantity: int | None, amount: int | None) -> dict:
    try:
        if kind == "redeem":
            return _redeem(ctx, amount or 0)
        return (_exit if kind == "exit" else _buy)(ctx, unit or "", quantity or 0)
    except InvalidTransaction as exc:
        raise QueryError("invalid_state", exc.message, {"name": exc.name}) from None


def _params(ctx: Ctx) -> dict:
    p = keeper.params(ctx)
    return {"hBase": [str(x) for x in p["hBase"]], "hSlope": str(p["hSlope"]), "spread": str(p["spread"]),
            "haircutShare": str(p["haircutShare"]), "ceilings": {k: str(v) for k, v in p["ceilings"].items()}}


QUERIES = (
    Query("stable_info", _info, (), "info", STABLE_INFO,
          "The stable token: supply, circulating supply, the vault's basket and value, attested reserve, the "
          "collateral ratio (now and as recorded at the last block) with the freshness of every input (a stale "
          "proof of reserve counts as zero), ceilings and their use."),
    Query("stable_quote", _quote, (
        QueryParam("kind", "choice", "what to quote", choices=("exit", "buy", "redeem")),
        QueryParam("unit", "string", "tranche unit (exit, buy)", required=False),
        QueryParam("quantity", "u64", "units (exit, buy)", required=False),
        QueryParam("amount", "u64", "stable base units (redeem)", required=False)),
          "quote", STABLE_QUOTE, "What an exit, a purchase from the vault or a floor redemption would give now, with "
          "its terms (price, haircut, utilization, spread, slice).", errors=("invalid_state",)),
    Query("stable_params", _params, (), "params", STABLE_PARAMS,
          "Haircut curve (h_base per grade, h_slope), spread, haircut share, ceilings (wad or base units)."),
)
