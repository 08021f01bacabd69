"""The mempool: nonce order, future queue, limits, replacement, eviction, selection."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.node.mempool import Mempool, MempoolError


def h(*parts) -> bytes:
    return hashlib.sha256(repr(parts).encode()).digest()


def add(pool: Mempool, sender: bytes, nonce: int, fee: int = 100, state_nonce: int = 0, tag: str = ""):
    return pool.add(h(sender, nonce, fee, tag), b"raw", sender, nonce, fee, state_nonce)


A, B, C = b"a" * 20, b"b" * 20, b"c" * 20


def test_ready_and_queued_by_nonce():
    pool = Mempool()
    add(pool, A, 0)
    add(pool, A, 2)  # gap at 1: queued
    assert [e.nonce for e in pool.select(10)] == [0]
    assert pool.pending_nonce(A, 0) == 1 and pool.ready_count() == 1
    add(pool, A, 1)
    assert [e.nonce for e in pool.select(10)] == [0, 1, 2]
    assert pool.pending_nonce(A, 0) == 3


def test_selection_is_arrival_order_across_accounts_and_nonce_order_within():
    pool = Mempool()
    add(pool, A, 1)  # arrives first but waits for nonce 0
    add(pool, B, 0)
    add(pool, A, 0)
    add(pool, C, 0)
    assert [(e.sender, e.nonce) for e in pool.select(10)] == [(B, 0), (A, 0), (A, 1), (C, 0)]
    assert len(pool.select(2)) == 2


def test_replacement_needs_a_higher_fee_and_keeps_the_slot_ready():
    pool = Mempool(replace_bump_pct=10)
    add(pool, A, 0, fee=100)
    with pytest.raises(MempoolError) as e:
        add(pool, A, 0, fee=105)
    assert e.value.reason == "underpriced"
    old = add(pool, A, 0, fee=110)
    assert old.fee == 100 and len(pool) == 1
    assert [e.fee for e in pool.select(10)] == [110]  # the replacement is minable
    with pytest.raises(MempoolError) as e:
        pool.add(pool.select(1)[0].hash, b"raw", A, 0, 200, 0)
    assert e.value.reason == "known"


def test_per_account_limit():
    pool = Mempool(max_per_account=3)
    for n in range(3):
        add(pool, A, n)
    with pytest.raises(MempoolError) as e:
        add(pool, A, 3)
    assert e.value.reason == "account_full"
    add(pool, B, 0)


def test_full_pool_evicts_the_cheapest_queued_of_another_account():
    pool = Mempool(max_total=3)
    add(pool, A, 0, fee=100)
    add(pool, B, 5, fee=10)  # queued (gap), cheap
    add(pool, B, 6, fee=50)  # queued
    evicted = add(pool, C, 0, fee=20)
    assert evicted.sender == B and evicted.nonce == 5 and len(pool) == 3
    with pytest.raises(MempoolError) as e:
        add(pool, C, 1, fee=30)  # only B's nonce 6 (fee 50) is queued: it pays more
    assert e.value.reason == "full"


def test_on_block_drops_included_and_stale():
    pool = Mempool()
    for n in range(4):
        add(pool, A, n)
    add(pool, B, 0)
    included = [e.hash for e in pool.select(2)]
    pool.on_block(included, {A: 3})  # a third tx of A came from elsewhere
    assert [(e.sender, e.nonce) for e in pool.select(10)] == [(A, 3), (B, 0)]


@given(st.lists(st.tuples(st.sampled_from([A, B, C]), st.integers(0, 6), st.integers(1, 200)), max_size=60))
def test_selection_invariants(ops):
    """After any admissions: selection respects nonce order without gaps, counts agree."""
    pool = Mempool(max_total=12, max_per_account=5)
    for i, (sender, nonce, fee) in enumerate(ops):
        with contextlib.suppress(MempoolError):
            add(pool, sender, nonce, fee, tag=str(i))
    assert len(pool) <= 12
    sel = pool.select(100)
    assert len(sel) == pool.ready_count()
    per: dict[bytes, list[int]] = {}
    for e in sel:
        per.setdefault(e.sender, []).append(e.nonce)
    for nonces in per.values():
        assert nonces == list(range(len(nonces)))  # from the state nonce 0, no gap
    assert len({e.hash for e in pool.entries()}) == len(pool)
