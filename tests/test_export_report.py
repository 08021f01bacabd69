"""Per-block metrics (genesis/sim/series.py, chain_metrics), `rwad export` and `rwad report`:
rows sampled from a real chain, a real devnet node over HTTP, and the HTML they make."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rwachain.genesis import devnet
from rwachain.genesis.sim import series
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core import bls
from rwachain.modules.market import keeper as market
from rwachain.modules.market.records import Order
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.reserve import module as reserve
from rwachain.modules.stable import vault
from rwachain.node.chain import Chain
from rwachain.rpc.cli import main as cli
from rwachain.rpc.cli import oracle as oracle_cli
from rwachain.rpc.cli.report import PLOTS
from rwachain.rpc.client.clients import Client
from tests.mech import KEYS, SERVICER, Driver
from tests.rpcnode import RpcError, RpcNode

SENIOR = "unit/p1/t0"
BUYER, SELLER, BIDDER = KEYS[0], KEYS[7], KEYS[8]  # dev 7 rests asks, dev 8 bids (the devnet demo book)
PNG = b"\x89PNG\r\n\x1a\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----- the sampler on a chain in process ---------------------------------------------------------
def _events(result, receipts) -> list[dict]:
    return [e for r in receipts for e in r.events] + result.events


def _first_order(d: Driver, owner, side: str) -> Order:
    """The owner's oldest resting order on that side (the devnet demo book)."""
    return min((o for o in market.orders_of(d.ctx, owner.address) if o.side == side), key=lambda o: o.id)


def _sample(d: Driver, result, receipts, with_prev: bool = True) -> series.Row:
    prev = series.reader_at(d.chain.app, d.ctx.block.height - 1) if with_prev else None
    return series.sample(d.ctx, _events(result, receipts), prev)


def test_a_row_at_genesis_has_every_fixed_column_and_the_devnet_pool(devnet_chain):
    d = Driver(devnet_chain)
    row = series.sample(d.ctx)
    assert list(row)[:len(series.FIXED_COLUMNS)] == list(series.FIXED_COLUMNS)
    assert row["height"] == 0 and row["time"] == devnet.GENESIS_TIME
    assert row["stable.cr"] == row["stable.backing"] * 10**18 // row["stable.circulating"]
    assert row[f"price.traded:{SENIOR}"] is None  # no trade yet
    assert row[f"price.computed:{SENIOR}"] == market.reference_price(d.ctx, SENIOR)
    assert row["exits.instant"] == row["exits.marketFills"] == 0 and row["exits.marketWaitMax"] is None
    assert [c[len("oracle:"):] for c in row if c.startswith("oracle:")] == oracle.list_feeds(d.ctx)
    assert all(type(v) is int or v is None for v in row.values())


def test_market_sales_are_timed_from_the_placement_of_the_sell_order(devnet_chain):
    d = Driver(devnet_chain)
    t0 = d.time
    ask = _first_order(d, SELLER, "sell")
    assert ask.owner == SELLER.address and ask.side == "sell" and ask.createdAt == t0
    buy = {"denom": SENIOR, "side": "buy", "price": ask.price, "expiry": 0}
    # a partial fill: the maker order still rests, its creation time is read from the block's state
    res, rec = d.block(d.tx(BUYER, "market", "place", {**buy, "quantity": 20}), at=t0 + 3600)
    assert rec[0].code == 0, rec[0].message
    row = _sample(d, res, rec)
    assert (row["exits.marketFills"], row["exits.marketQuantity"]) == (1, 20)
    assert row["exits.marketWaitMax"] == 3600 and row["exits.marketWaitSum"] == 3600 * 20
    assert row[f"price.traded:{SENIOR}"] == ask.price
    # the rest: the order leaves the book; its creation time comes from the height before
    res, rec = d.block(d.tx(BUYER, "market", "place", {**buy, "quantity": 30}), at=t0 + 7200)
    assert rec[0].code == 0, rec[0].message
    row = _sample(d, res, rec)
    assert row["exits.marketWaitMax"] == 7200 and row["exits.marketWaitQuantity"] == 30
    blind = _sample(d, res, rec, with_prev=False)  # without that height the wait is unknown
    assert blind["exits.marketFills"] == 1 and blind["exits.marketWaitQuantity"] == 0
    assert blind["exits.marketWaitMax"] is None
    # a sell order that takes a resting bid sells on placement: it waits 0
    bid = _first_order(d, BIDDER, "buy")
    assert bid.owner == BIDDER.address and bid.side == "buy"
    res, rec = d.block(d.tx(SELLER, "market", "place", {"denom": SENIOR, "side": "sell", "price": bid.price,
                                                         "quantity": 10, "expiry": 0}))
    assert rec[0].code == 0, rec[0].message
    row = _sample(d, res, rec)
    assert row["exits.marketWaitMax"] == 0 and row["exits.marketQuantity"] == 10
    assert row[f"price.traded:{SENIOR}"] == bid.price


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20_000)), min_size=1, max_size=4))
@example([(20, 10), (20, 3600), (20, 0)])  # the third fill takes the last 10 units: the ask leaves the book
def test_every_fill_of_a_resting_ask_waits_since_its_placement(tmp_path_factory, fills):
    """Fills of sizes q at gaps dt against the resting ask 1 (50 units): each block's row
    counts its fill and times it from the ask's creation, whether the fill leaves the ask
    resting or removes it."""
    chain = Chain(str(tmp_path_factory.mktemp("fills") / "c"), devnet.validator_key())
    try:
        chain.init_genesis(devnet.PATH)
        d = Driver(chain)
        ask = _first_order(d, SELLER, "sell")
        left = ask.quantity
        for q, dt in fills:
            q = min(q, left)
            if q == 0:
                break
            res, rec = d.block(d.tx(BUYER, "market", "place", {"denom": SENIOR, "side": "buy", "price": ask.price,
                                                               "quantity": q, "expiry": 0}), dt=dt)
            assert rec[0].code == 0, rec[0].message
            left -= q
            row = _sample(d, res, rec)
            assert (row["exits.marketFills"], row["exits.marketQuantity"]) == (1, q)
            assert row["exits.marketWaitMax"] == d.time - ask.createdAt
            assert row["exits.marketWaitSum"] == q * (d.time - ask.createdAt)
            assert row[f"price.traded:{SENIOR}"] == ask.price and row["exits.instant"] == 0
            assert row["reserve.used"] == reserve.epoch_state(d.ctx).used
    finally:
        chain.close()


def test_instant_exits_are_counted_with_their_payout(devnet_chain):
    d = Driver(devnet_chain)
    assert d.repay_installment(4).code == 0
    before = bank.balance(d.ctx, vault.VAULT, SENIOR)
    res, rec = d.block(d.tx(SELLER, "stable", "exit", {"unit": SENIOR, "quantity": 10, "minOut": 0}),
                       d.tx(BIDDER, "stable", "exit", {"unit": SENIOR, "quantity": 5, "minOut": 0}))
    assert all(r.code == 0 for r in rec), [r.message for r in rec]
    row = _sample(d, res, rec)
    outs = [e["attrs"]["out"] for r in rec for e in r.events if e["type"] == "stable.exit"]
    assert row["exits.instant"] == 2 and row["exits.instantQuantity"] == 15
    assert row["exits.instantOut"] == sum(outs) > 0
    held = bank.balances_of(d.ctx, vault.VAULT)
    assert held[SENIOR] == before + 15
    assert row["stable.vaultValue"] == sum(q * row[f"price.computed:{u}"] for u, q in held.items() if u != "rusd")


# ----- the series document ---------------------------------------------------------------------
_cells = st.one_of(st.none(), st.integers(min_value=-(10**40), max_value=10**40))
_rows = st.lists(st.fixed_dictionaries(
    {"height": st.integers(0, 2**63), "time": st.integers(0, 2**40)},
    optional={c: _cells for c in ("stable.cr", "oracle:rate", "price.traded:unit/p1/t0", "pool.nav:1",
                                  "exits.marketWaitMax")}), min_size=1, max_size=8)


@given(_rows)
def test_documents_round_trip_through_json_and_csv(rows):
    doc = series.document(rows, "rwa-x", 6)
    assert doc["columns"][:len(series.FIXED_COLUMNS)] == list(series.FIXED_COLUMNS)
    via_json = json.loads(json.dumps(doc))
    assert all(type(r[0]) is int and type(r[1]) is int for r in via_json["rows"])
    assert all(v is None or type(v) is str for r in via_json["rows"] for v in r[2:])
    expect = [{c: r.get(c) for c in doc["columns"]} for r in rows]
    assert series.rows_of(via_json) == expect
    buf = io.StringIO()
    series.write_csv(doc, buf)
    assert series.rows_of(series.read_csv(buf.getvalue())) == expect


@pytest.mark.parametrize("doc, words", [
    ({"kind": "table"}, "not a series"),
    ({"kind": "series", "columns": ["height"], "rows": []}, "height and time"),
    ({"kind": "series", "columns": ["height", "time", "time"], "rows": []}, "distinct"),
    ({"kind": "series", "columns": ["height", "time"], "rows": [[1]]}, "row 0"),
    ({"kind": "series", "columns": ["height", "time"], "rows": [[1, "1.5"]]}, "row 0, column time"),
])
def test_malformed_documents_are_refused_with_the_place_named(doc, words):
    with pytest.raises(series.SeriesError, match=words):
        series.rows_of(doc)


def test_units_of_columns():
    assert series.unit_of("stable.cr") == "wad" and series.unit_of("stable.supply") == "base"
    assert series.unit_of("oracle:grade/3") == "grade" and series.unit_of("oracle:spread/B") == "wad"
    assert series.unit_of("oracle:reserve/rwa1xyz") == "base" and series.unit_of("exits.marketWaitMax") == "s"
    assert feeds.class_of("price/rwa") == "price" and series.unit_of("oracle:price/rwa") == "wad"


# ----- a live devnet --------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Every tag's attributes, and the text of every element with an id."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in ("img", "meta", "br", "wbr"):
            self._open.append(a.get("id"))
            if a.get("id"):
                self.text[a["id"]] = ""

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for i in self._open:
            if i:
                self.text[i] += data


def parse_page(text: str) -> _Page:
    p = _Page()
    p.feed(text)
    return p


def rwad(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A devnet with a transfer, an oracle report, a repayment, two market fills and an exit."""
    with RpcNode(tmp_path_factory.mktemp("outputs") / "home") as n, Client(n.url) as c:
        r = c.send_call(KEYS[0], "bank", "transfer", {"to": KEYS[1].address_text, "denom": "rwa", "amount": "5"})
        assert r["code"] == 0, r
        value = devnet.SPREAD[1] * 10**15 + devnet.POLICIES["spread"]["stepAbs"] // 2
        rep = oracle_cli.report_fields(c, "spread/B", value)
        msg = oracle_cli.report_message(rep)
        secrets = [devnet.operator_secret(j) for j in range(3)]
        r = oracle_cli.submit(c, KEYS[6], rep, [(bls.public_key(s), bls.sign(s, msg)) for s in secrets])
        assert r["code"] == 0 and any(e["type"] == "oracle.applied" for e in r["events"]), r
        first = c.call("assets_schedule", [4])[0]
        r = c.send_call(SERVICER, "assets", "repay", {"id": "4", "amount": first["amount"]})
        assert r["code"] == 0, r
        ask = next(o for o in c.call("market_orders", [SELLER.address_text]) if o["denom"] == SENIOR)
        r = c.send_call(BUYER, "market", "place", {"denom": SENIOR, "side": "buy", "price": ask["price"],
                                                   "quantity": "7", "expiry": "0"})
        assert r["code"] == 0 and any(e["type"] == "market.fill" for e in r["events"]), r
        n.fill = (r["height"], int(ask["createdAt"]))
        bid = next(o for o in c.call("market_orders", [BIDDER.address_text]) if o["denom"] == SENIOR)
        r = c.send_call(SELLER, "market", "place", {"denom": SENIOR, "side": "sell", "price": bid["price"],
                                                    "quantity": "3", "expiry": "0"})
        assert r["code"] == 0, r
        r = c.send_call(SELLER, "stable", "exit", {"unit": SENIOR, "quantity": "10", "minOut": "0"})
        assert r["code"] == 0, r
        n.exit = (r["height"], next(e["attrs"] for e in r["events"] if e["type"] == "stable.exit"))
        yield n


def test_chain_metrics_agrees_with_the_module_queries(node):
    head = node.call("chain_status")
    row = node.call("chain_metrics")
    assert row["height"] == head["height"] and row["time"] == head["time"]
    assert row == node.call("chain_metrics", [head["height"]])
    info, res = node.call("stable_info"), node.call("reserve_info")
    assert (row["stable.supply"], row["stable.circulating"], row["stable.cr"]) == (
        info["supply"], info["circulating"], info["cr"])
    assert (row["stable.vaultValue"], row["stable.backing"]) == (info["vault"]["value"], info["backing"])
    assert (row["reserve.value"], row["reserve.budget"], row["reserve.used"]) == (res["value"], res["budget"],
                                                                                 res["used"])
    trades = node.call("market_trades", [SENIOR])
    assert row[f"price.traded:{SENIOR}"] == trades[-1]["price"]
    assert row[f"price.computed:{SENIOR}"] == node.call("market_book", [SENIOR])["referencePrice"]
    assert row["oracle:spread/B"] == node.call("oracle_latest", ["spread/B"])["value"]


def test_chain_metrics_counts_the_exits_of_a_block(node):
    h, ev = node.exit
    row = node.call("chain_metrics", [h])
    assert (row["exits.instant"], row["exits.instantQuantity"], row["exits.instantOut"]) == ("1", "10", ev["out"])
    h, created = node.fill
    row = node.call("chain_metrics", [h])
    block_time = node.call("chain_getHeader", [h])["time"]
    assert row["exits.marketFills"] == "1" and row["exits.marketQuantity"] == "7"
    assert row["exits.marketWaitMax"] == str(block_time - created)
    assert node.call("chain_metrics", [0])["exits.marketFills"] == "0"
    with pytest.raises(RpcError, match="not produced yet"):
        node.call("chain_metrics", [h + 10_000])


def test_export_writes_the_same_rows_as_json_and_csv(node, tmp_path, capsys):
    head = node.call("chain_status")["height"]
    code, _, err = rwad(capsys, "export", "--rpc", node.url, "--out", str(tmp_path / "s.json"))
    assert code == 0, err
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["kind"] == "series" and doc["chainId"] == devnet.CHAIN_ID and doc["decimals"] == 6
    assert [r[0] for r in doc["rows"]] == list(range(head + 1))  # every height, the default range
    last = dict(zip(doc["columns"], doc["rows"][-1], strict=True))
    assert last == {c: node.call("chain_metrics").get(c) for c in doc["columns"]}
    code, _, err = rwad(capsys, "export", "--rpc", node.url, "--from", "2", "--to", "4", "--out",
                        str(tmp_path / "s.csv"))
    assert code == 0, err
    lines = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text())))
    assert lines[0] == doc["columns"] and len(lines) == 4
    assert lines[1:] == [["" if v is None else str(v) for v in r] for r in doc["rows"][2:5]]
    code, out, err = rwad(capsys, "export", "--rpc", node.url, "--from", "1", "--to", "1", "--format", "json")
    assert code == 0 and json.loads(out)["rows"] == doc["rows"][1:2]
    assert "export:" not in err  # no progress unless stderr is a terminal or --progress is given
    code, _, err = rwad(capsys, "export", "--rpc", node.url, "--progress", "--out", str(tmp_path / "p.json"))
    assert code == 0 and f"export: {head + 1}/{head + 1} heights" in err


def test_export_refuses_a_bad_range_in_one_line(node, capsys):
    head = node.call("chain_status")["height"]
    for args, words in ((["--to", str(head + 5)], "beyond the head"), (["--from", "3", "--to", "2"], "after --to")):
        code, out, err = rwad(capsys, "export", "--rpc", node.url, *args)
        assert code == 1 and out == "" and err.startswith("rwad: ") and words in err and err.count("\n") == 1


@pytest.mark.slow
def test_the_report_of_a_live_node_embeds_every_plot_and_the_head_values(node, tmp_path, capsys):
    out = tmp_path / "run.html"
    code, _, err = rwad(capsys, "report", "--rpc", node.url, "--out", str(out))
    assert code == 0, err
    text = out.read_text()
    page = parse_page(text)
    imgs = {a.get("id"): a["src"] for tag, a in page.tags if tag == "img"}
    assert set(imgs) == {f"plot-{p}" for p in PLOTS}
    for src in imgs.values():
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG)
    for tag, a in page.tags:  # nothing is loaded from elsewhere
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
        for k in ("src", "href"):
            if k in a:
                assert a[k].startswith("data:image/png;base64,"), (tag, k, a[k][:40])
    assert "http://" not in text and "https://" not in text and "url(" not in text
    # the final values are the head's
    row = node.call("chain_metrics")
    for c, v in row.items():
        assert page.text[f"final-{c}"] == ("" if v is None else str(v)), c
    info, res = node.call("stable_info"), node.call("reserve_info")
    assert page.text["final-stable.supply"] == info["supply"] and page.text["final-stable.cr"] == info["cr"]
    assert page.text["final-stable.circulating"] == info["circulating"]
    assert page.text["final-reserve.value"] == res["value"] and page.text["final-reserve.used"] == res["used"]
    assert page.text["final-reserve.budget"] == res["budget"]


def test_pruned_heights_are_explained(tmp_path, capsys):
    with RpcNode(tmp_path / "home", "--keep-versions", "3", mining="manual") as n:
        n.call("dev_mine", [6])
        code, out, err = rwad(capsys, "export", "--rpc", n.url, "--from", "0")
        assert code == 1 and "--keep-versions" in err and err.startswith("rwad: ") and out == ""
        code, out, err = rwad(capsys, "export", "--rpc", n.url)  # the default: the oldest kept height
        assert code == 0, err
        heights = [r[0] for r in json.loads(out)["rows"]]
        assert heights[-1] == 6 and heights == list(range(heights[0], 7)) and 1 <= heights[0] <= 4


def test_the_node_never_loads_matplotlib():
    code = "import sys, rwachain.rpc.cli.main, rwachain.rpc.server.serve; print('matplotlib' in sys.modules)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "False", p.stderr


# ----- reports from files -------------------------------------------------------------------------
@pytest.mark.slow
def test_reports_from_a_series_file_json_or_csv(devnet_chain, tmp_path, capsys):
    d = Driver(devnet_chain)
    rows = [series.sample(d.ctx)]
    for _ in range(3):
        d.block(at=d.time + 6 * 3600)  # a day in four blocks: the x axis is time
        rows.append(series.sample(d.ctx))
    doc = series.document(rows, devnet.CHAIN_ID)
    (tmp_path / "s.json").write_text(json.dumps(doc))
    with open(tmp_path / "s.csv", "w") as f:
        series.write_csv(doc, f)
    for name in ("s.json", "s.csv"):
        code, _, err = rwad(capsys, "report", str(tmp_path / name), "--out", str(tmp_path / "r.html"),
                            "--title", "four blocks")
        assert code == 0, err
        page = parse_page((tmp_path / "r.html").read_text())
        assert {a.get("id") for t, a in page.tags if t == "img"} == {f"plot-{p}" for p in PLOTS}
        assert page.text["final-height"] == "3" and page.text["final-stable.cr"] == str(rows[-1]["stable.cr"])


def test_a_sweep_report_plots_each_metric_against_each_parameter(tmp_path, capsys):
    rows = [[d, h, s, str(10**18 + d * 10**16 - s), 3600 * h + s, None if s == 2 else "12.5"]
            for d in (1, 3) for h in (2, 4) for s in (1, 2)]
    doc = {"kind": "sweep", "columns": ["discount", "haircut", "seed", "lowestCr", "timeToExit", "exitPrice"],
           "units": {"lowestCr": "wad"}, "rows": rows}
    (tmp_path / "w.json").write_text(json.dumps(doc))
    code, _, err = rwad(capsys, "report", str(tmp_path / "w.json"), "--out", str(tmp_path / "w.html"))
    assert code == 0, err
    text = (tmp_path / "w.html").read_text()
    page = parse_page(text)
    imgs = {a.get("id"): a["src"] for t, a in page.tags if t == "img"}
    assert set(imgs) == {"plot-lowestCr", "plot-timeToExit", "plot-exitPrice"}
    assert all(base64.b64decode(s.split(",", 1)[1]).startswith(PNG) for s in imgs.values())
    assert text.count("<tr>") == 1 + len(rows) and "http" not in text
    assert text.count("<td title=") == len(rows) * len(doc["columns"])
    titles = {a["title"] for t, a in page.tags if t == "td"}
    assert all(str(r[3]) in titles and str(r[4]) in titles for r in rows)  # the exact values


@pytest.mark.parametrize("content, words", [
    ("{not json", "is not JSON"),
    ('{"kind": "other"}', '"kind": "series" or "sweep"'),
    ('{"kind": "sweep", "columns": ["a", "b"], "rows": [[1, 2]]}', "parameters"),
    ('{"kind": "series", "columns": ["height", "time"], "rows": []}', "no rows"),
])
def test_report_refuses_bad_input_in_one_line(tmp_path, capsys, content, words):
    (tmp_path / "in.json").write_text(content)
    code, out, err = rwad(capsys, "report", str(tmp_path / "in.json"), "--out", str(tmp_path / "r.html"))
    assert code == 1 and err.startswith("rwad: ") and words in err and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_report_needs_one_source(tmp_path, capsys):
    (tmp_path / "s.json").write_text("{}")
    code, _, err = rwad(capsys, "report", str(tmp_path / "s.json"), "--rpc", "http://127.0.0.1:1", "--out",
                        str(tmp_path / "r.html"))
    assert code == 1 and "not both" in err
    code, _, err = rwad(capsys, "report", str(tmp_path / "missing.json"), "--out", str(tmp_path / "r.html"))
    assert code == 1 and "cannot read" in err
