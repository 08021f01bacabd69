"""Order books: one per tranche unit against the stable token.

Prices are stable base units per unit (integers: a trade of q units at price p moves
p x q base units, exactly). Orders do not lock funds: a fill checks that the seller still
holds the units and the buyer the stable tokens (with the fee); a resting order that can
no longer pay or deliver is cancelled when it would fill (reason "unfunded").

State keys (canonical msgpack values):
    market/next                         int   the next order id (ids start at 1)
    market/order/<id 8B>                map   an Order (modules/market/records.py)
    market/book/<denom>\\x00<side><key 16B><id 8B>   nil   resting orders in priority order:
                                               asks by price ascending, bids by price
                                               descending (key = 2^128 - 1 - price), then id
    market/owner/<owner><id 8B>         nil   resting orders by owner
    market/trade/<denom>\\x00<n 8B>      map   a Trade (records.py; n is the key's)
    market/trades/<denom>               int   trades so far in that market
    params/market                       map   {band (wad), minPrice, makerFee, takerFee (bps)}
Order expiry runs through the due-time index (module "market"). Orders and trades are
read and written here only, as the records of records.py.
"""

from __future__ import annotations

from itertools import islice

from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import due, fees
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import (
    InsufficientFunds,
    InvalidState,
    LimitExceeded,
    NotFound,
    StaleFeed,
    Unauthorized,
)
from rwachain.modules.core.fixed import WAD
from rwachain.modules.market.records import Order, Trade
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall
from rwachain.state.store import BoundedCache

NEXT = b"market/next"
ORDER = b"market/order/"
BOOK = b"market/book/"
OWNER = b"market/owner/"
TRADE = b"market/trade/"
TRADES = b"market/trades/"
PARAMS = b"params/market"
DUE = "market"
BUY, SELL = "buy", "sell"
PRICE_MAX = (1 << 128) - 1
BPS = 10_000
DEFAULT_PARAMS = {"band": WAD // 10, "minPrice": 1, "makerFee": 10, "takerFee": 20}
PARAM_UNITS = {"band": "ratio", "minPrice": "stable", "makerFee": "bps", "takerFee": "bps"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""
MAX_FILLS = 100  # resting orders one incoming order may fill (bounds a transaction's work)
_ref_memo = BoundedCache(4096)  # reference prices by (denom, time, pool bytes, pool mark bytes)
_NIL = b"\xc0"


# Wiring slots (modules/core/wiring.py) the market calls; the reserve offers all three.
FILL = "market.fill"
"""fn(ctx, fill) after every fill, offered under the listener's name (the reserve counts its outlays)."""
BUY_LIMIT = "market.buyLimit"
"""fn(ctx) -> stable base units owner may still spend on fills, offered under the owner's
address: every fill in which that owner buys is cut to it (the reserve's budget)."""
GUARD = "market.guard"
"""fn(ctx, denom) offered under an owner's address: a resting order of that owner on a denom
for which it is True is cancelled (reason "repricing") instead of filled, its price being
older than the data it depends on."""


def buy_limit(ctx: Ctx, owner: bytes) -> int | None:
    """Stable base units owner may still spend on fills; None: no limit."""
    fn = ctx.wiring.get(BUY_LIMIT, owner)
    return None if fn is None else fn(ctx)


def params(ctx: Ctx) -> dict:
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def _ob(oid: int) -> bytes:
    return oid.to_bytes(8, "big")


def _side_byte(side: str) -> bytes:
    return b"b" if side == BUY else b"s"


def _book_key(o: Order) -> bytes:
    p = o.price if o.side == SELL else PRICE_MAX - o.price
    return BOOK + o.denom.encode() + b"\x00" + _side_byte(o.side) + p.to_bytes(16, "big") + _ob(o.id)


def book_prefix(denom: str, side: str) -> bytes:
    return BOOK + denom.encode() + b"\x00" + _side_byte(side)


def find(ctx: Ctx, oid: int) -> Order | None:
    """The resting order oid, or None."""
    return ctx.get_record(ORDER + _ob(oid), Order)


def get(ctx: Ctx, oid: int) -> Order:
    """The resting order oid; NotFound when there is none."""
    o = find(ctx, oid)
    if o is None:
        raise NotFound(f"no open order {oid}")
    return o


def _put(ctx: Ctx, o: Order) -> None:
    ctx.put_record(ORDER + _ob(o.id), o)


def _trade_key(denom: str, n: int) -> bytes:
    return TRADE + denom.encode() + b"\x00" + n.to_bytes(8, "big")


def put_trade(ctx: Ctx, denom: str, t: Trade) -> None:
    """Store trade number t.n of denom's market (a fill, or a genesis import)."""
    ctx.put_record(_trade_key(denom, t.n), t)


def reference_price(ctx: Ctx, denom: str) -> int:
    """The unit price computed from oracle data: the pool's mark (its assets' values at their
    last revaluation, at most a day old) plus unallocated cash, walked senior to junior;
    value / units, floor. Fails closed when a mark of the pool is stale."""
    pk = tranches.parse_denom(denom)
    raw_pool = ctx.get(tranches.POOL + tranches.pid_b(pk[0])) if pk else None
    raw_mark = ctx.get(assets.POOL_MARK + pk[0].to_bytes(8, "big")) if pk else None
    memo_key = (denom, ctx.block.time, raw_pool, raw_mark)
    hit = _ref_memo.get(memo_key)
    if hit is not None:  # a pure function of these bytes and the time
        return hit
    pool = tranches.find(ctx, pk[0]) if pk else None
    if pool is None or pk[1] >= len(pool.tranches):
        raise NotFound(f"{denom} is not a tranche unit: there is no market for it")
    pm = assets.pool_mark(ctx, pool.id)
    if pm.stale:
        raise StaleFeed(f"{pm.stale} asset(s) of pool {pool.id} are valued with stale or frozen feeds")
    values = waterfall.tranche_values(pool, pm.value + pool.unallocated, ctx.block.time)
    price = values[pk[1]] // pool.tranches[pk[1]].units
    _ref_memo.put(memo_key, price)
    return price


def fee(amount: int, bps: int) -> int:
    """A fee on a stable amount, rounded up (the protocol is paid)."""
    return -(-amount * bps // BPS)


# ----- placing and matching --------------------------------------------------------------------
def place(ctx: Ctx, owner: bytes, denom: str, side: str, price: int, quantity: int, expiry: int,
          reserve: bytes, stable: str) -> tuple[Order, int]:
    """Match an incoming limit order against the book (price-time priority, maker's price),
    rest what is left; returns the order (its `filled` what traded at once) and the number
    of fills made."""
    prm = params(ctx)
    if price < prm["minPrice"]:
        raise LimitExceeded(f"price {price} is below the market's minimum {prm['minPrice']}")
    if expiry and expiry <= ctx.block.time:
        raise InvalidState(f"expiry {expiry} is not after the block time {ctx.block.time}")
    ref = reference_price(ctx, denom)
    if abs(price - ref) * WAD > prm["band"] * ref:
        raise LimitExceeded(f"price {price} is outside the band of {prm['band'] * 100 // WAD} % around the "
                            f"unit price {ref} computed from oracle data")
    if side == SELL and bank.balance(ctx, owner, denom) < quantity:
        raise InsufficientFunds(f"selling {quantity} units of {denom}, holding {bank.balance(ctx, owner, denom)}")
    limit = buy_limit(ctx, owner) if side == BUY else None
    if limit is not None:
        quantity = min(quantity, limit // price)
        if not quantity:
            raise LimitExceeded(f"{price} per unit is more than the buyer may still spend")
    if side == BUY:
        need = price * quantity + (fee(price * quantity, prm["takerFee"]) if owner != reserve else 0)
        if bank.balance(ctx, owner, stable) < need:
            raise InsufficientFunds(f"buying needs {need} {stable} with the fee; the balance is "
                                    f"{bank.balance(ctx, owner, stable)}")
    oid = ctx.get_int(NEXT) or 1
    ctx.set_int(NEXT, oid + 1)
    order = Order(oid, denom, side, owner, price, quantity, 0, expiry, ctx.block.time)
    opp = SELL if side == BUY else BUY
    fills = 0
    prefix = book_prefix(denom, opp)
    limited = True  # stays True only if MAX_FILLS makers were taken and more may cross
    for _ in range(MAX_FILLS):
        if order.filled == quantity:
            limited = False
            break
        key = next((k for k, _ in ctx.iter_prefix(prefix)), None)  # the best resting order now
        if key is None:
            limited = False
            break
        maker = get(ctx, int.from_bytes(key[-8:], "big"))
        if (side == BUY and maker.price > price) or (side == SELL and maker.price < price):
            limited = False
            break
        if maker.owner == owner:
            raise InvalidState(f"the order would trade with your own order {maker.id}: cancel it first")
        traded = _fill(ctx, order, maker, min(order.unfilled, maker.unfilled), prm, reserve, stable)
        if traded:
            order = order.filled_by(traded)
            fills += 1
    other = best(ctx, denom, opp) if limited else None
    crosses = other is not None and (other <= price if side == BUY else other >= price)
    if order.filled < quantity and crosses:  # the fill limit was reached: never rest a crossing order
        ctx.emit("market.cancelled", order=oid, owner=owner, reason="fill limit", unfilled=order.unfilled)
    elif order.filled < quantity:
        _list(ctx, order)
        ctx.emit("market.placed", order=oid, denom=denom, side=side, owner=owner, price=price,
                 quantity=quantity, filled=order.filled)
    else:
        ctx.emit("market.filledOnPlace", order=oid, denom=denom, side=side, owner=owner, quantity=quantity)
    return order, fills


def _fill(ctx: Ctx, taker: Order, maker: Order, q: int, prm: dict, reserve: bytes, stable: str) -> int:
    """Trade up to q units at the maker's price, cut to what a limited buyer may still
    spend; returns the units traded (the maker's record updated or removed), or 0 (and the
    maker cancelled) if the maker can no longer deliver or pay. The fee collector (the
    reserve) pays no fee: it would pay itself."""
    price = maker.price
    guard = ctx.wiring.get(GUARD, maker.owner)
    if guard is not None and guard(ctx, maker.denom):
        _remove(ctx, maker)
        ctx.emit("market.cancelled", order=maker.id, owner=maker.owner, reason="repricing")
        return 0
    buyer, seller = (taker, maker) if taker.side == BUY else (maker, taker)
    limit = buy_limit(ctx, buyer.owner)
    if limit is not None and limit // price < q:
        q = limit // price
        if not q and buyer is maker:
            _remove(ctx, maker)
            ctx.emit("market.cancelled", order=maker.id, owner=maker.owner, reason="budget")
            return 0
    cost = price * q
    if cost == 0:
        raise LimitExceeded("the trade would pay out zero")
    buyer_fee = 0 if buyer.owner == reserve else fee(cost, prm["takerFee"] if buyer is taker else prm["makerFee"])
    seller_fee = 0 if seller.owner == reserve else fee(cost, prm["takerFee"] if seller is taker else prm["makerFee"])
    if cost <= seller_fee:
        raise LimitExceeded("the trade would pay the seller nothing after the fee")
    maker_ok = (bank.balance(ctx, maker.owner, maker.denom) >= q if maker is seller else
                bank.balance(ctx, maker.owner, stable) >= cost + buyer_fee)
    if not maker_ok:
        _remove(ctx, maker)
        ctx.emit("market.cancelled", order=maker.id, owner=maker.owner, reason="unfunded")
        return 0
    denom = taker.denom
    bank.transfer(ctx, seller.owner, buyer.owner, denom, q)
    bank.transfer(ctx, buyer.owner, seller.owner, stable, cost)
    bank.transfer(ctx, buyer.owner, reserve, stable, buyer_fee)
    bank.transfer(ctx, seller.owner, reserve, stable, seller_fee)
    fees.record(ctx, stable, buyer_fee + seller_fee)
    if maker.filled + q == maker.quantity:
        _remove(ctx, maker)
    else:
        _put(ctx, maker.filled_by(q))
    n = ctx.get_int(TRADES + denom.encode())
    ctx.set_int(TRADES + denom.encode(), n + 1)
    put_trade(ctx, denom, Trade(n, price, q, buyer.owner, seller.owner, taker.side, ctx.block.time,
                                ctx.block.height))
    ctx.emit("market.fill", denom=denom, maker=maker.id, taker=taker.id, price=price, quantity=q,
             buyer=buyer.owner, seller=seller.owner, buyerFee=buyer_fee, sellerFee=seller_fee)
    for _, fn in ctx.wiring.each(FILL):
        fn(ctx, {"buyer": buyer.owner, "seller": seller.owner, "cost": cost, "buyerFee": buyer_fee,
                 "sellerFee": seller_fee, "denom": denom, "quantity": q})
    return q


def _list(ctx: Ctx, o: Order) -> None:
    """Store a resting order with its book and owner entries and its expiry."""
    _put(ctx, o)
    ctx.set(_book_key(o), _NIL)
    ctx.set(OWNER + o.owner + _ob(o.id), _NIL)
    if o.expiry:
        due.schedule(ctx, DUE, o.expiry, _ob(o.id))


def restore(ctx: Ctx, o: Order) -> None:
    """Put a resting order back as it was (genesis import of an export)."""
    _list(ctx, o)


def _unlist(ctx: Ctx, o: Order) -> None:
    """Take an order off the book, leaving its expiry entry."""
    ctx.delete(_book_key(o))
    ctx.delete(OWNER + o.owner + _ob(o.id))
    ctx.delete(ORDER + _ob(o.id))


def _remove(ctx: Ctx, o: Order) -> None:
    """Take an order off the book, with its expiry entry."""
    _unlist(ctx, o)
    if o.expiry:
        due.cancel(ctx, DUE, o.expiry, _ob(o.id))


def cancel(ctx: Ctx, owner: bytes, oid: int) -> Order:
    o = get(ctx, oid)
    if o.owner != owner:
        raise Unauthorized(f"order {oid} belongs to another account")
    _remove(ctx, o)
    ctx.emit("market.cancelled", order=oid, owner=owner, reason="owner")
    return o


def expire(ctx: Ctx) -> None:
    """Begin-block: orders whose expiry has come leave the book."""
    for _, item in due.take_due(ctx, DUE, ctx.block.time):
        o = find(ctx, int.from_bytes(item, "big"))
        if o is not None:
            _unlist(ctx, o)  # its due entry is consumed
            ctx.emit("market.cancelled", order=o.id, owner=o.owner, reason="expired")


# ----- queries ---------------------------------------------------------------------------------
def depth(ctx: Ctx, denom: str, side: str, levels: int = 50) -> list[tuple[int, int]]:
    """[(price, open quantity)] best first, aggregated by price, at most `levels` prices."""
    out: list[list[int]] = []
    for key, _ in ctx.iter_prefix(book_prefix(denom, side)):
        o = get(ctx, int.from_bytes(key[-8:], "big"))
        if out and out[-1][0] == o.price:
            out[-1][1] += o.unfilled
        elif len(out) == levels:
            break
        else:
            out.append([o.price, o.unfilled])
    return [(p, q) for p, q in out]


def best(ctx: Ctx, denom: str, side: str) -> int | None:
    """The best price resting on denom's side of the book (None: that side is empty)."""
    for key, _ in ctx.iter_prefix(book_prefix(denom, side)):
        return get(ctx, int.from_bytes(key[-8:], "big")).price
    return None


def trades(ctx: Ctx, denom: str, after: int = -1, limit: int = 100) -> list[Trade]:
    """denom's trades numbered above after, in order; at most limit."""
    if after >= (1 << 64) - 1:
        return []
    out = []
    p = TRADE + denom.encode() + b"\x00"
    for k, _ in ctx.iter_prefix_from(p, p + max(after + 1, 0).to_bytes(8, "big")):
        out.append(Trade.from_stored(int.from_bytes(k[len(p):], "big"), ctx.get_obj(k)))
        if len(out) >= limit:
            break
    return out


def trade_count(ctx: Ctx, denom: str) -> int:
    """Trades so far in denom's market."""
    return ctx.get_int(TRADES + denom.encode())


def set_trade_count(ctx: Ctx, denom: str, count: int) -> None:
    """Set the number of trades so far in denom's market (a genesis import)."""
    ctx.set_int(TRADES + denom.encode(), count)


def last_trade(ctx: Ctx, denom: str) -> Trade | None:
    """denom's latest trade; None before the first."""
    n = trade_count(ctx, denom)
    v = ctx.get_obj(_trade_key(denom, n - 1)) if n else None
    return None if v is None else Trade.from_stored(n - 1, v)


def orders_of(ctx: Ctx, owner: bytes, after: int = -1, limit: int | None = None) -> list[Order]:
    """owner's resting orders with id > after, in id order; at most limit (None: all)."""
    if after >= (1 << 64) - 1:
        return []
    n = len(OWNER) + 20
    p = OWNER + owner
    keys = ctx.iter_prefix_from(p, p + _ob(after + 1))
    return [get(ctx, int.from_bytes(k[n:], "big")) for k, _ in islice(keys, limit)]


def all_orders(ctx: Ctx) -> list[Order]:
    """Every resting order, in id order."""
    return [o for _, o in ctx.iter_records(ORDER, Order)]


def all_trades(ctx: Ctx) -> list[tuple[str, Trade]]:
    """Every trade as (denom, trade), by denom and number."""
    out = []
    for k, _ in ctx.iter_prefix(TRADE):
        denom, n = k[len(TRADE):].split(b"\x00", 1)
        out.append((denom.decode(), Trade.from_stored(int.from_bytes(n, "big"), ctx.get_obj(k))))
    return out


def trade_counts(ctx: Ctx) -> list[tuple[str, int]]:
    """(denom, trades so far) of every market that has traded, by denom."""
    return [(k[len(TRADES):].decode(), ctx.get_int(k)) for k, _ in ctx.iter_prefix(TRADES)]
