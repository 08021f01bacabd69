"""Bank state and the only ways to move, mint or burn tokens.

State keys (values canonical msgpack):
    bank/bal/<addr 20B><denom>   int   balance in base units (absent = 0)
    bank/supply/<denom>          int   total supply in base units
    bank/denom/<denom>           map   {symbol, decimals, kind}; kind is native, stable or unit
    bank/modacct/<addr 20B>      str   name of the module owning that account
Balances are keyed address first, so one account's balances are contiguous (export).
Other modules call transfer/mint/burn; plain transfers into module accounts (every
module-derived address, is_module_account) are refused by the bank's own call
(modules/bank/module.py) and the custodian's mint, never here.
"""

from __future__ import annotations

from rwachain.modules.bank.records import Denom
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import is_module_address
from rwachain.modules.core.errors import InsufficientFunds, UnknownDenom
from rwachain.state.codec import unpack_int

BAL = b"bank/bal/"
SUPPLY = b"bank/supply/"
DENOM = b"bank/denom/"
MODACCT = b"bank/modacct/"


SETTLE = "bank.settle"
"""Wiring slot (modules/core/wiring.py): settle(ctx, denom, holders) offered under a
denomination prefix runs before holders' balances of a denomination with that prefix
change (tranche units settle their payouts: modules/tranches)."""


def _settle(ctx: Ctx, denom: str, holders: list[bytes]) -> None:
    for prefix, fn in ctx.wiring.each(SETTLE):
        if denom.startswith(prefix):
            fn(ctx, denom, holders)


def bal_key(addr: bytes, denom: str) -> bytes:
    return BAL + addr + denom.encode()


def native_denom(ctx: Ctx) -> str:
    """The chain's native token (fees, stake, governance), as its genesis named it."""
    return ctx.get_obj(b"chain/genesis")["nativeDenom"]


def balance(ctx: Ctx, addr: bytes, denom: str) -> int:
    """Balance of addr in denom, base units."""
    return ctx.get_int(BAL + addr + denom.encode())


def supply(ctx: Ctx, denom: str) -> int:
    return ctx.get_int(SUPPLY + denom.encode())


def denom_info(ctx: Ctx, denom: str) -> dict | None:
    return ctx.get_obj(DENOM + denom.encode())


def kind_of(ctx: Ctx, denom: str) -> str | None:
    """The kind of a registered denomination (native, stable or unit: a tranche unit), None
    if it is not registered."""
    info = ctx.get_obj(DENOM + denom.encode())
    return None if info is None else info["kind"]


def require_denom(ctx: Ctx, denom: str) -> None:
    """Raise UnknownDenom unless denom is registered."""
    if ctx.get(DENOM + denom.encode()) is None:
        raise UnknownDenom(f"denomination {denom!r} does not exist")


def is_module_account(ctx: Ctx, addr: bytes) -> bool:
    """Whether addr belongs to a module, now or once created (a pool's account before its
    pool exists): every module-derived address carries the module tag, so no registry is
    needed (modules/crypto.is_module_address)."""
    return is_module_address(addr) or ctx.get(MODACCT + addr) is not None


def register_denom(ctx: Ctx, denom: str, symbol: str, decimals: int, kind: str) -> None:
    ctx.set_obj(DENOM + denom.encode(), Denom(denom, symbol, decimals, kind).stored())


def denoms(ctx: Ctx) -> list[Denom]:
    """Every registered denomination, in id (key) order."""
    n = len(DENOM)
    return [Denom.from_stored(k[n:].decode(), ctx.get_obj(k)) for k, _ in ctx.iter_prefix(DENOM)]


def register_module_account(ctx: Ctx, addr: bytes, module: str) -> None:
    ctx.set_obj(MODACCT + addr, module)


def _check_amount(amount: int) -> None:
    if type(amount) is not int or amount < 0:
        raise ValueError(f"amounts are non-negative integers, got {amount!r}")  # a caller's bug


def transfer(ctx: Ctx, sender: bytes, recipient: bytes, denom: str, amount: int) -> None:
    """Move amount (>= 0) of denom; raises InsufficientFunds and changes nothing if short."""
    _check_amount(amount)
    skey = BAL + sender + denom.encode()
    have = ctx.get_int(skey)
    if have < amount:
        raise InsufficientFunds(f"balance of {denom} is {have}, needs {amount}")
    if sender == recipient:
        return
    _settle(ctx, denom, [sender, recipient])
    rkey = BAL + recipient + denom.encode()
    ctx.set_int(skey, have - amount)
    ctx.set_int(rkey, ctx.get_int(rkey) + amount)


def mint(ctx: Ctx, recipient: bytes, denom: str, amount: int) -> None:
    """Create amount (>= 0) of denom in recipient's balance; supply follows."""
    _check_amount(amount)
    _settle(ctx, denom, [recipient])
    d = denom.encode()
    ctx.set_int(BAL + recipient + d, ctx.get_int(BAL + recipient + d) + amount)
    ctx.set_int(SUPPLY + d, ctx.get_int(SUPPLY + d) + amount)


def burn(ctx: Ctx, holder: bytes, denom: str, amount: int) -> None:
    """Destroy amount (>= 0) of denom from holder; raises InsufficientFunds if short."""
    _check_amount(amount)
    d = denom.encode()
    have = ctx.get_int(BAL + holder + d)
    if have < amount:
        raise InsufficientFunds(f"balance of {denom} is {have}, cannot burn {amount}")
    _settle(ctx, denom, [holder])
    ctx.set_int(BAL + holder + d, have - amount)
    ctx.set_int(SUPPLY + d, ctx.get_int(SUPPLY + d) - amount)


def balances_of(ctx: Ctx, addr: bytes) -> dict[str, int]:
    """Every non-zero balance of addr, by denomination."""
    return balances_under(ctx, addr, "")


def balances_under(ctx: Ctx, addr: bytes, denom_prefix: str) -> dict[str, int]:
    """addr's non-zero balances in the denominations that start with denom_prefix (a
    listing of only those keys: reading none of addr's other balances)."""
    n = len(BAL) + 20
    return {k[n:].decode(): unpack_int(v) for k, v in ctx.iter_prefix(BAL + addr + denom_prefix.encode())}
