"""The market's and the oracle's state records (modules/market/records.py,
modules/oracle/records.py): each writes back exactly the map it was read from (the same
bytes, keys already in canonical order), and docs/state.md lists exactly the fields each
one stores."""

from __future__ import annotations

import pathlib
import re

from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.market import keeper as market
from rwachain.modules.market.records import Order, Trade
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.records import FeedState, Operator, OperatorSet, PendingMove, Policy
from rwachain.state.codec import decode_stored, encode
from tests.mech import KEYS, ORIGINATOR, Driver, events
from tests.test_tranches import make_pool

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE_DOC = (ROOT / "docs" / "state.md").read_text()
BUYER = KEYS[7]
INTS = st.integers(0, (1 << 128) - 1)
ADDR = st.binary(min_size=20, max_size=20)


def _keys_in_order(v) -> bool:
    """Every map of v (a stored value) already has its keys in canonical order."""
    if type(v) is dict:
        return list(v) == sorted(v) and all(_keys_in_order(x) for x in v.values())
    if type(v) is list:
        return all(_keys_in_order(x) for x in v)
    return True


def _doc_fields(prefix: str) -> set[str]:
    """The top-level fields docs/state.md lists for the map stored under prefix."""
    row = next(line for line in STATE_DOC.splitlines() if line.startswith(f"| `{prefix}` |"))
    body, depth, name, out = row.split("map {", 1)[1], 0, "", set()
    for ch in body:
        if depth == 0 and ch in ",}":
            out.add(name.split(":")[0].strip())
            name = ""
            if ch == "}":
                return out
            continue
        depth += (ch in "{[") - (ch in "}]")
        name += ch
    raise AssertionError(f"docs/state.md: the map of {prefix} is not closed")


def test_every_stored_order_trade_feed_policy_and_the_operator_set_reencode_to_their_bytes(devnet_chain):
    d = Driver(devnet_chain)
    denom = make_pool(d).tranches[0].denom
    ref = market.reference_price(d.ctx, denom)
    sell = {"denom": denom, "side": "sell", "price": ref, "quantity": 10, "expiry": d.time + 86_400}
    assert d.run(ORIGINATOR, "market", "place", sell).code == 0
    r = d.run(BUYER, "market", "place", {**sell, "side": "buy", "quantity": 4, "expiry": 0})
    assert events(r, "market.fill"), r.message  # a trade, and a partly filled order with an expiry
    rate = oracle.state_of(d.ctx, "rate").value
    _, (r,) = d.block(d.report("rate", rate + 5 * 10**16))
    assert events(r, "oracle.queued"), r.message  # a feed with a queued move
    ctx = d.ctx
    seen = {}
    for prefix, load in ((market.ORDER, Order.from_stored), (market.TRADE, lambda v: Trade.from_stored(0, v)),
                         (oracle.FEED, FeedState.from_stored), (oracle.POLICY, Policy.from_stored),
                         (oracle.SET, OperatorSet.from_stored)):
        for key, raw in ctx.iter_prefix(prefix):
            rec = load(decode_stored(raw))
            stored = rec.to_stored()
            assert encode(stored) == raw, key
            assert _keys_in_order(stored), key  # the encoder packs it without rebuilding it
            seen[prefix] = seen.get(prefix, 0) + 1
            if prefix == oracle.FEED and rec.pending is not None:
                seen[b"pending"] = seen.get(b"pending", 0) + 1
    assert len(seen) == 6 and seen[market.TRADE] == 1, seen


def test_state_doc_lists_exactly_the_fields_each_record_stores():
    """The field lists of docs/state.md cannot drift from the records (it once listed a
    `seq` field that no order has)."""
    samples = {
        "market/order/": Order(1, "unit/p1/t0", "buy", b"\1" * 20, 5, 10, 0, 0, 1),
        "market/trade/": Trade(0, 5, 1, b"\1" * 20, b"\2" * 20, "buy", 1, 2),
        "oracle/policy/": Policy(3, 60, 1, 0, 0, 0, 0, 1),
        "oracle/feed/": FeedState(1, 0, 1, 1, 0, 1, False, None),
        "oracle/set": OperatorSet(1, (Operator(b"\1" * 20, b"\2" * 48, b"\3" * 96),)),
    }
    for prefix, rec in samples.items():
        assert _doc_fields(prefix) == set(rec.to_stored()), prefix
    pending = re.search(r"pending: nil or \{([^}]*)\}", STATE_DOC).group(1)
    assert {f.strip() for f in pending.split(",")} == set(PendingMove(1, 1, 1, 1).to_stored())


ORDERS = st.builds(Order, INTS, st.text(max_size=12), st.sampled_from(("buy", "sell")), ADDR, INTS, INTS, INTS,
                   INTS, INTS)
PENDING = st.none() | st.builds(PendingMove, INTS, INTS, INTS, INTS)
FEEDS = st.builds(FeedState, INTS, INTS, INTS, INTS, INTS, INTS, st.booleans(), PENDING)


@given(ORDERS, FEEDS)
def test_a_record_read_back_from_what_it_stores_is_the_same_record(order, feed):
    assert Order.from_stored(decode_stored(encode(order.to_stored()))) == order
    assert FeedState.from_stored(decode_stored(encode(feed.to_stored()))) == feed
    assert order.filled_by(3).filled == order.filled + 3 and order.filled_by(3).unfilled == order.unfilled - 3
    assert feed.last_round == (feed.round if feed.pending is None else feed.pending.round)
