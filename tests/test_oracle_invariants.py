"""The oracle's invariant: every feed has a policy for its class."""

from __future__ import annotations

from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import invariants as oracle_invariants
from rwachain.modules.oracle import keeper as oracle
from rwachain.state.overlay import Overlay
from tests.mech import Driver


def test_a_feed_whose_class_lost_its_policy_is_reported_once_per_feed(devnet_chain):
    d = Driver(devnet_chain)
    ctx = d.chain.app.context(Overlay(d.chain.store), d.ctx.block)
    assert oracle_invariants.invariants(ctx) == []
    spreads = [f for f in oracle.list_feeds(ctx) if feeds.class_of(f) == "spread"]
    assert spreads
    ctx.delete(oracle.POLICY + b"spread")
    assert oracle_invariants.invariants(ctx) == [f"oracle {f}: no policy for its class 'spread'" for f in spreads]
