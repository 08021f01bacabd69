"""Governance changes: parameters, oracle policies and the operator set, within hard bounds.

Values are text, parsed strictly (no floats):
    setParams    target: a module (stable, reserve, market, insurance, governance)
                 value: "key=int,key=int;int;int,map.key=int": each key must exist in the
                 module's current parameters with the same shape (int, list, map of ints)
    setPolicy    target: a feed class; value: "field=int,...", merged into its policy
    setOperators target: "oracle"; value: "rwa1...:<bls pubkey hex>:<pop hex>;..." the new set
    setValidator target: "validators"; value: "0x<ed25519 public key hex>:<power>" (0 removes
                 it; modules/governance/validators.py)
Every change is checked when proposed and again when executed; a change that would cross
a hard bound is refused (proposing) or fails (executing). Hard bounds (wad unless noted):
    reserve     budgetShare, discount, premium <= 0.5; redeemFee <= 0.1; redeemLimit <= 1;
                nativePayoutShare <= 0.01; epoch 3,600..2,592,000 s; cooldown <= 7,776,000 s
    market      band 0.01..0.5; minPrice >= 1; makerFee, takerFee <= 500 bps
    both        the reserve's discount and premium <= the market band (its standing orders
                must lie within the band)
    insurance   unbonding 15,638,400 s (181 days: longer than any grace plus the default
                window)..62,208,000 s; feeShare <= 0.5
    governance  votingPeriod 86,400..2,592,000 s; executionDelay 3,600..2,592,000 s;
                quorum 0.01..1
    stable      modules/stable/vault.check_params (hBase + hSlope < 1, shares within 0..1, ...)
    policies    modules/oracle/feeds.check_policy, and quorum <= the operator count
    operators   1..64 operators, each with a valid proof of possession, at least the
                largest policy quorum
    validators  1..100 validators; the old set keeps at least 2/3 of the old and the new power
"""

from __future__ import annotations

from collections.abc import Iterable

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import decode_address
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.governed import governed as declared
from rwachain.modules.governance import validators
from rwachain.modules.market import keeper as market
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.records import Policy
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import vault

DAY = 86_400
MAX_INT = (1 << 255) - 1
BOUNDS: dict[str, dict[str, tuple[int, int]]] = {
    "reserve": {"budgetShare": (0, WAD // 2), "discount": (0, WAD // 2), "premium": (0, WAD // 2),
                "redeemFee": (0, WAD // 10), "redeemLimit": (0, WAD), "epoch": (3600, 30 * DAY),
                "cooldown": (0, 90 * DAY), "nativePayoutShare": (0, WAD // 100)},
    "market": {"band": (WAD // 100, WAD // 2), "minPrice": (1, MAX_INT), "makerFee": (0, 500),
               "takerFee": (0, 500)},
    "insurance": {"unbonding": (181 * DAY, 720 * DAY), "feeShare": (0, WAD // 2)},
    "governance": {"votingPeriod": (DAY, 30 * DAY), "executionDelay": (3600, 30 * DAY), "quorum": (WAD // 100, WAD)},
}


def _int(text: str, where: str) -> int:
    if not text.isdigit() or len(text) > 78:
        raise InvalidState(f"value: {where}: {text!r} is not a non-negative integer")
    v = int(text)
    if v > MAX_INT:
        raise InvalidState(f"value: {where}: too large")
    return v


def parse_assignments(value: str) -> list[tuple[list[str], int | list[int]]]:
    """"a=1,b=2;3,c.d=4" -> [(["a"], 1), (["b"], [2, 3]), (["c", "d"], 4)]."""
    out = []
    for part in value.split(","):
        key, eq, val = part.partition("=")
        if not eq or not key:
            raise InvalidState(f"value: {part!r}: expected key=integer")
        path = key.split(".")
        vals = [_int(v, key) for v in val.split(";")]
        out.append((path, vals if ";" in val else vals[0]))
    return out


def merged_params(current: dict, value: str) -> dict:
    """current with the assignments of value; each must match an existing key's shape."""
    new = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in current.items()}
    for path, v in parse_assignments(value):
        if len(path) > 2:
            raise InvalidState(f"value: {'.'.join(path)}: at most one level of nesting")
        if path[0] not in new:
            raise InvalidState(f"value: {path[0]}: not a parameter (known: {', '.join(sorted(new))})")
        old = new[path[0]]
        if len(path) == 2:
            if not isinstance(old, dict) or path[1] not in old or not isinstance(v, int):
                raise InvalidState(f"value: {'.'.join(path)}: not an integer entry of a map parameter")
            old[path[1]] = v
        elif isinstance(old, list):
            if not isinstance(v, list) or len(v) != len(old):
                raise InvalidState(f"value: {path[0]}: a list of {len(old)} integers separated by ';'")
            new[path[0]] = v
        elif isinstance(old, int) and isinstance(v, int):
            new[path[0]] = v
        else:
            raise InvalidState(f"value: {path[0]}: wrong shape")
    return new


def _check_bounds(ctx: Ctx, module: str, p: dict) -> None:
    check_bounds(module, p, {"market": market.params(ctx), "reserve": reserve.params(ctx)})


def _check_band(module: str, p: dict, others: dict) -> None:
    """The reserve's discount and premium stay within the market band: a standing order
    priced outside it would be refused, and the bid would vanish."""
    if module not in ("reserve", "market"):
        return
    band = (p if module == "market" else others["market"])["band"]
    res = p if module == "reserve" else others["reserve"]
    for k in ("discount", "premium"):
        if res[k] > band:
            raise InvalidState(f"reserve.{k} {res[k]} would exceed the market band {band} (a hard bound: "
                               f"the reserve's standing orders must lie within the band)")


def _policy(ctx: Ctx, cls: str, value: str) -> Policy:
    if cls not in feeds.CLASSES:
        raise InvalidState(f"{cls!r} is not a feed class ({', '.join(feeds.CLASSES)})")
    new = merged_params(oracle.policy(ctx, cls).to_stored(), value)
    problems = feeds.check_policy(cls, new)
    if problems:
        raise InvalidState(f"policy {cls}: {problems[0]}")
    if new["quorum"] > len(oracle.operator_set(ctx).operators):
        raise InvalidState(f"policy {cls}: a quorum of {new['quorum']} exceeds the operator count")
    return Policy.from_stored(new)


def _operators(ctx: Ctx, value: str) -> list[tuple[bytes, bytes, bytes]]:
    ops = []
    for i, item in enumerate(value.split(";")):
        parts = item.split(":")
        if len(parts) != 3:
            raise InvalidState(f"value: operator {i}: expected address:pubkey:pop")
        try:
            ops.append((decode_address(parts[0]), bytes.fromhex(parts[1]), bytes.fromhex(parts[2])))
        except ValueError as exc:
            raise InvalidState(f"value: operator {i}: {exc}") from None
    if not 1 <= len(ops) <= 64:
        raise InvalidState("the operator set holds 1 to 64 operators")
    need = max((oracle.policy(ctx, c).quorum for c in feeds.CLASSES if oracle.has_policy(ctx, c)), default=1)
    if len(ops) < need:
        raise InvalidState(f"{len(ops)} operators cannot meet a policy quorum of {need}")
    return ops


def check(ctx: Ctx, action: str, target: str, value: str, mods: dict[str, Governed]) -> None:
    """Refuse a change that is malformed or crosses a hard bound (nothing is written); mods:
    the governed modules of the App (modules/core/governed.py)."""
    if action == "setParams":
        if target not in mods:
            raise InvalidState(f"setParams: {target!r} has no governed parameters ({', '.join(mods)})")
        _check_bounds(ctx, target, merged_params(mods[target].load(ctx), value))
    elif action == "setPolicy":
        _policy(ctx, target, value)
    elif action == "setOperators":
        if target != "oracle":
            raise InvalidState("setOperators: the target is 'oracle'")
        _operators(ctx, value)
    elif action == "setValidator":
        _validators_target(target)
        validators.check_change(ctx, value)


def _validators_target(target: str) -> None:
    if target != "validators":
        raise InvalidState("setValidator: the target is 'validators'")


def apply(ctx: Ctx, action: str, target: str, value: str, mods: dict[str, Governed]) -> None:
    """Execute a passed change, checked again against the state of the moment; mods: as check's."""
    if action == "setParams":
        new = merged_params(mods[target].load(ctx), value)
        _check_bounds(ctx, target, new)
        ctx.set_obj(mods[target].key, new)
    elif action == "setPolicy":
        oracle.set_policy(ctx, target, _policy(ctx, target, value))
    elif action == "setOperators":
        oracle.set_operators(ctx, _operators(ctx, value))
    elif action == "setValidator":
        _validators_target(target)
        validators.apply_change(ctx, value)


def governed(modules: Iterable) -> dict[str, tuple[bytes, dict]]:
    """{module: (the state key of its parameters, their defaults)} of modules (an App's):
    what setParams changes, and what a genesis may set (genesis "params.<module>")."""
    return {name: (g.key, g.defaults) for name, g in declared(modules).items()}


def governed_units(modules: Iterable) -> dict[str, dict]:
    """{module: the unit of each of its parameters} of modules (each declares them with
    its defaults; genesis/units.py reads and writes them in human units)."""
    return {name: g.units for name, g in declared(modules).items()}


def check_bounds(module: str, p: dict, others: dict | None = None) -> None:
    """Raise InvalidState if the parameters p of module cross a hard bound; others: the
    market's and the reserve's parameters for the bounds across modules (default: their
    defaults)."""
    others = {"market": market.DEFAULT_PARAMS, "reserve": reserve.DEFAULT_PARAMS, **(others or {})}
    if module == "stable":
        problems = vault.check_params(p)
        if problems:
            raise InvalidState(f"stable parameters: {problems[0]} (a hard bound)")
    for k, (lo, hi) in BOUNDS.get(module, {}).items():
        if not lo <= p[k] <= hi:
            raise InvalidState(f"{module}.{k} = {p[k]} is outside its hard bounds [{lo}, {hi}]")
    _check_band(module, p, others)
