"""Per-block metrics of a chain: one row sampled from a read context, and the series
document (JSON or CSV) that a run of rows makes (docs/outputs.md).

A row maps a column name to an integer (or None when the value does not exist at that
height, e.g. a unit that has never traded). Column names and units:

    height, time                      block height; block time (unix s)
    stable.supply                     stable token supply (stable base units)
    stable.circulating                supply less protocol-held balances (base units)
    stable.cr                         collateral ratio (wad; None when nothing circulates)
    stable.backing                    vault value plus attested reserve (base units)
    stable.vaultValue                 vault's units at their pool-mark prices (base units)
    stable.attestedReserve            custodians' proof-of-reserve feeds (base units)
    reserve.value                     reserve's non-native holdings (base units)
    reserve.budget, reserve.used      the epoch's buyback budget and its use (base units)
    exits.instant                     stable.exit events in the block (count)
    exits.instantQuantity             units swapped by them (units)
    exits.instantOut                  stable paid out by them (base units)
    exits.marketFills                 market.fill events in the block (count)
    exits.marketQuantity              units sold by them (units)
    exits.marketWaitMax               longest wait of a filled sell order: block time less
                                      its placement time (s; a taker sale waits 0)
    exits.marketWaitSum               sum of wait x quantity over the fills whose wait is
                                      known (s x units)
    exits.marketWaitQuantity          the quantity those fills cover (units)
    price.traded:<unit>               last trade price of the unit so far (base units per unit)
    price.computed:<unit>             the unit price from the pool's mark (base units per unit)
    pool.nav:<pool id>                pool mark plus unallocated cash (base units)
    oracle:<feed>                     the feed's current value (its class's unit)

Everything here is integer arithmetic on state reads; the sample does not write.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.app import LAST_KEY, App
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.market import keeper as market
from rwachain.modules.market.records import Order
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import keeper as stable_keeper
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall
from rwachain.modules.tranches.records import Pool
from rwachain.state.store import StoreError, VersionView

Row = dict[str, int | None]

STABLE_COLUMNS = ("stable.supply", "stable.circulating", "stable.cr", "stable.backing", "stable.vaultValue",
                  "stable.attestedReserve")
RESERVE_COLUMNS = ("reserve.value", "reserve.budget", "reserve.used")
EXIT_COLUMNS = ("exits.instant", "exits.instantQuantity", "exits.instantOut", "exits.marketFills",
                "exits.marketQuantity", "exits.marketWaitMax", "exits.marketWaitSum", "exits.marketWaitQuantity")
FIXED_COLUMNS = ("height", "time", *STABLE_COLUMNS, *RESERVE_COLUMNS, *EXIT_COLUMNS)
INT_COLUMNS = ("height", "time")  # JSON numbers in documents; every other value is a decimal string
KIND = "series"
DEFAULT_DECIMALS = 6  # of the stable token, when a document does not say
DEFAULT_SYMBOL = "RUSD"  # the stable token's symbol, when a document does not say

_UNITS = {"height": "height", "time": "unix", "stable.cr": "wad", "exits.instant": "count",
          "exits.marketFills": "count", "exits.instantQuantity": "units", "exits.marketQuantity": "units",
          "exits.marketWaitQuantity": "units", "exits.marketWaitMax": "s", "exits.marketWaitSum": "s*units"}
_FEED_UNITS = {"grade": "grade", "reserve": "base"}


class SeriesError(ValueError):
    """A series or sweep document that does not have the documented shape."""


def unit_of(column: str) -> str:
    """The unit of a column: height, unix (s), s, wad, base (stable base units), units
    (tranche units), count, grade (0..4 for A..E) or s*units."""
    if column in _UNITS:
        return _UNITS[column]
    if column.startswith("oracle:"):
        return _FEED_UNITS.get(feeds.class_of(column[len("oracle:"):]), "wad")
    return "base"


def reader_at(app: App, height: int) -> Ctx | None:
    """A read context of app at a retained height of its store (None when that state is not
    kept); it carries the App's wiring (its module accounts, modules/core/wiring.py)."""
    try:
        view = VersionView(app.store, height)
    except StoreError:
        return None
    last = Ctx(view, BlockInfo(height, 0, b"")).get_obj(LAST_KEY)
    return None if last is None else app.context(view, BlockInfo(height, last["time"], b""))


# ----- one row ---------------------------------------------------------------------------------
def sample(ctx: Ctx, events: Iterable[dict] = (), prev: Ctx | None = None) -> Row:
    """The metrics after the block of `ctx` (its height and time).

    events: that block's events ({type, attrs}, attributes as the modules emit them), for
    the exit counts; prev: a reader at the height before, to time fills of resting sell
    orders that the block removed (without it their waits count as unknown)."""
    row: Row = {"height": ctx.block.height, "time": ctx.block.time}
    row.update(_stable(ctx))
    row.update(_reserve(ctx))
    row.update(_exits(ctx, list(events), prev))
    for pid in tranches.ids(ctx, 0, 1 << 30):
        row.update(_pool(ctx, tranches.get(ctx, pid)))
    for feed in oracle.list_feeds(ctx):
        row[f"oracle:{feed}"] = oracle.state_of(ctx, feed).value
    return row


def _has_stable(ctx: Ctx) -> bool:
    return stable_keeper.has_token(ctx)


def _stable(ctx: Ctx) -> Row:
    if not _has_stable(ctx):
        return dict.fromkeys(STABLE_COLUMNS)
    d = vault.denom(ctx)
    value, _ = vault.vault_value(ctx)
    c = vault.collateral_ratio(ctx)
    return {"stable.supply": bank.supply(ctx, d), "stable.circulating": c.circulating, "stable.cr": c.cr,
            "stable.backing": c.backing, "stable.vaultValue": value,
            "stable.attestedReserve": vault.attested(ctx)}


def _reserve(ctx: Ctx) -> Row:
    if not _has_stable(ctx):
        return dict.fromkeys(RESERVE_COLUMNS)
    st = reserve.epoch_state(ctx)
    return {"reserve.value": reserve.holdings_value(ctx), "reserve.budget": st.budget, "reserve.used": st.used}


def _pool(ctx: Ctx, pool: Pool) -> Row:
    nav = assets.pool_mark(ctx, pool.id).value + pool.unallocated
    values = waterfall.tranche_values(pool, nav, ctx.block.time)
    row: Row = {f"pool.nav:{pool.id}": nav}
    for t, v in zip(pool.tranches, values, strict=True):
        row[f"price.traded:{t.denom}"] = last_trade_price(ctx, t.denom)
        row[f"price.computed:{t.denom}"] = v // t.units
    return row


def last_trade_price(ctx: Ctx, denom: str) -> int | None:
    """The price of the unit's latest trade (base units per unit), None before the first."""
    t = market.last_trade(ctx, denom)
    return None if t is None else t.price


def _order_created(ctx: Ctx | None, oid: int) -> Order | None:
    return None if ctx is None else market.find(ctx, oid)


def _exits(ctx: Ctx, events: list[dict], prev: Ctx | None) -> Row:
    row: Row = dict.fromkeys(EXIT_COLUMNS, 0)
    row["exits.marketWaitMax"] = None
    now = ctx.block.time
    for e in events:
        a = e["attrs"]
        if e["type"] == "stable.exit":
            row["exits.instant"] += 1
            row["exits.instantQuantity"] += a["quantity"]
            row["exits.instantOut"] += a["out"]
        elif e["type"] == "market.fill":
            row["exits.marketFills"] += 1
            row["exits.marketQuantity"] += a["quantity"]
            wait = _fill_wait(ctx, prev, a, now)
            if wait is not None:
                row["exits.marketWaitSum"] += wait * a["quantity"]
                row["exits.marketWaitQuantity"] += a["quantity"]
                row["exits.marketWaitMax"] = max(row["exits.marketWaitMax"] or 0, wait)
    return row


def _fill_wait(ctx: Ctx, prev: Ctx | None, fill: dict, now: int) -> int | None:
    """Seconds the seller's order waited for this fill; None when it cannot be known."""
    maker = _order_created(ctx, fill["maker"]) or _order_created(prev, fill["maker"])
    if maker is None:
        # gone now and absent before: placed and filled within this block (or no prev)
        return 0 if prev is not None else None
    if maker.owner != fill["seller"]:
        return 0  # the seller was the taker: sold on placement
    return now - maker.createdAt


# ----- the series document ------------------------------------------------------------------------
def columns_of(rows: Iterable[Row]) -> list[str]:
    """Every column of the rows: the fixed ones first, then the others in first-seen order."""
    out = list(FIXED_COLUMNS)
    seen = set(out)
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                out.append(k)
    return out


def json_value(column: str, v: Any) -> Any:
    """A value as documents carry it: height and time as numbers, others as decimal strings."""
    if v is None:
        return None
    if type(v) is not int:
        raise SeriesError(f"column {column}: expected an integer, got {type(v).__name__}")
    return v if column in INT_COLUMNS else str(v)


def document(rows: list[Row], chain_id: str, decimals: int = DEFAULT_DECIMALS, symbol: str = DEFAULT_SYMBOL) -> dict:
    """{"kind": "series", "chainId", "decimals", "symbol", "columns", "units", "rows"}: height
    and time as JSON numbers, every other value a decimal string or null (a column a row lacks
    is null); decimals and symbol: of the stable token (base units per whole token = 10^decimals)."""
    cols = columns_of(rows)
    return {"kind": KIND, "chainId": chain_id, "decimals": decimals, "symbol": symbol, "columns": cols,
            "units": {c: unit_of(c) for c in cols}, "rows": [[json_value(c, r.get(c)) for c in cols] for r in rows]}


def stable_decimals(ctx: Ctx) -> int:
    """Decimals of the chain's stable token (DEFAULT_DECIMALS without one)."""
    if not _has_stable(ctx):
        return DEFAULT_DECIMALS
    info = bank.denom_info(ctx, vault.denom(ctx))
    return DEFAULT_DECIMALS if info is None else info["decimals"]


def json_row(row: Row) -> dict[str, Any]:
    """A row as a JSON object in the document conventions (chain_metrics answers this)."""
    return {c: json_value(c, v) for c, v in row.items()}


def rows_of(doc: Any) -> list[Row]:
    """The rows of a series document as integer rows; SeriesError names what is wrong."""
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise SeriesError('not a series document: expected an object with "kind": "series"')
    cols, rows = doc.get("columns"), doc.get("rows")
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
        raise SeriesError('"columns" must be a list of distinct names')
    if "height" not in cols or "time" not in cols:
        raise SeriesError('"columns" must include height and time')
    if not isinstance(rows, list):
        raise SeriesError('"rows" must be a list of rows')
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, list) or len(r) != len(cols):
            raise SeriesError(f"row {i}: expected a list of {len(cols)} values")
        out.append({c: parse_int(v, f"row {i}, column {c}") for c, v in zip(cols, r, strict=True)})
    return out


def parse_int(v: Any, where: str) -> int | None:
    """An integer cell (number or decimal string; null or empty is None); SeriesError names where."""
    if v is None or v == "":
        return None
    if type(v) is int:
        return v
    if isinstance(v, str) and (v.isdigit() or (v[:1] == "-" and v[1:].isdigit())):
        return int(v)
    raise SeriesError(f"{where}: expected an integer or a decimal string, got {v!r}")


def write_json(doc: dict, out: io.TextIOBase) -> None:
    json.dump(doc, out, indent=None, separators=(",", ":"))
    out.write("\n")


def write_csv(doc: dict, out: io.TextIOBase) -> None:
    """The same columns as the JSON document; a header line, then one line per row, null empty."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(doc["columns"])
    for r in doc["rows"]:
        w.writerow(["" if v is None else v for v in r])


def read_csv(text: str, chain_id: str = "", decimals: int = DEFAULT_DECIMALS) -> dict:
    """A series document from CSV text written by write_csv."""
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        raise SeriesError("empty CSV")
    cols = lines[0]
    rows = []
    for i, r in enumerate(lines[1:]):
        if len(r) != len(cols):
            raise SeriesError(f"line {i + 2}: expected {len(cols)} values, got {len(r)}")
        rows.append({c: parse_int(v, f"line {i + 2}, column {c}") for c, v in zip(cols, r, strict=True)})
    if not rows:
        raise SeriesError("the CSV has a header but no rows")
    return document(rows, chain_id, decimals)
