"""A block's own events (its begin- and end-block hooks: insurance.fees, the reserve's order
refreshes, queued oracle values that apply, scheduled defaults) reach clients: in the block's
JSON, in tx_search by event type, and to WebSocket event subscribers; on a real devnet node."""

from __future__ import annotations

from rwachain.modules.core.crypto import Keypair
from rwachain.rpc.client.clients import Client
from tests.rpcnode import node_fixture

node = node_fixture("blockev", mining="manual")


def _transfer(c: Client, amount: int) -> str:
    return c.send_call(Keypair.dev(6), "bank", "transfer", {"to": Keypair.dev(7).address_text, "denom": "rwa",
                                                             "amount": str(amount)}, wait=False)


def test_flaw_hook_events_reach_the_block_tx_search_and_subscribers(node):
    with Client(node.url, timeout=30) as c, \
            c.subscribe("events", event_type="insurance.fees") as fees_sub:
        _transfer(c, 5)  # its fee: the stakers' share moves to the fund at end-block (insurance.fees)
        [height] = c.dev_mine()
        block = c.chain_getBlock(height)
        fees = [e for e in block["events"] if e["type"] == "insurance.fees"]
        assert fees and int(fees[0]["attrs"]["amount"]) > 0, block["events"]
        receipts_events = {e["type"] for r in c.tx_search(fromHeight=height, toHeight=height)["receipts"]
                           for e in r["events"]}
        assert "insurance.fees" not in receipts_events  # it is the block's, not a transaction's
        page = c.tx_search(eventType="insurance.fees", fromHeight=height, toHeight=height)
        assert page["receipts"] == [] and [e["type"] for e in page["blockEvents"]] == ["insurance.fees"]
        assert page["blockEvents"][0]["height"] == height and page["blockEvents"][0]["attrs"] == fees[0]["attrs"]
        note = fees_sub.next(timeout=10)
        assert note["height"] == height and note["txHash"] is None and note["block"] is True
        assert note["attrs"] == fees[0]["attrs"]


def test_tx_search_pages_through_receipts_and_block_events_in_order(node):
    with Client(node.url, timeout=30) as c:
        first = None
        for k in range(3):
            _transfer(c, 10 + k)
            [h] = c.dev_mine()
            first = first or h
        seen, cursor = [], None
        while True:
            page = c.tx_search(fromHeight=first, toHeight=first + 2, limit=1, cursor=cursor)
            seen += [("r", r["height"], r["index"]) for r in page["receipts"]]
            seen += [("b", e["height"], e["index"]) for e in page["blockEvents"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        heights = [h for _, h, _ in seen]
        assert heights == sorted(heights) and {h for _, h, _ in seen} == {first, first + 1, first + 2}
        assert len([s for s in seen if s[0] == "r"]) == 3 and any(s[0] == "b" for s in seen)
        # a sender filter leaves the blocks' own events out
        only = c.tx_search(sender=Keypair.dev(6).address_text, fromHeight=first, toHeight=first + 2)
        assert only["blockEvents"] == [] and len(only["receipts"]) == 3


def test_block_events_survive_a_restart_and_a_revert(node):
    with Client(node.url, timeout=30) as c:
        snap = c.dev_snapshot()
        _transfer(c, 7)
        [h] = c.dev_mine()
        assert any(e["type"] == "insurance.fees" for e in c.chain_getBlock(h)["events"])
        c.dev_revert(snap)
        assert c.tx_search(eventType="insurance.fees", fromHeight=h, toHeight=h)["blockEvents"] == []
