"""Overlays merge and roll back; the due-time index returns exactly what is due, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.core import due
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.state.overlay import Overlay
from rwachain.state.store import Store


class DictBase:
    def __init__(self, d):
        self.d = dict(d)

    def get(self, k):
        return self.d.get(k)

    def iter_prefix(self, p):
        return iter(sorted((k, v) for k, v in self.d.items() if k.startswith(p)))


keys = st.binary(min_size=1, max_size=3)


@given(st.dictionaries(keys, st.binary(max_size=2)), st.dictionaries(keys, st.none() | st.binary(max_size=2)),
       st.binary(max_size=1))
def test_overlay_iteration_equals_the_merged_dict(base, writes, prefix):
    ov = Overlay(DictBase(base))
    for k, v in writes.items():
        ov.delete(k) if v is None else ov.set(k, v)
    merged = dict(base)
    for k, v in writes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    assert list(ov.iter_prefix(prefix)) == sorted((k, v) for k, v in merged.items() if k.startswith(prefix))


ops = st.lists(st.tuples(st.sampled_from(["set", "del", "list", "tx"]), keys, st.binary(max_size=2)), max_size=40)


@given(st.dictionaries(keys, st.binary(max_size=2)), ops)
def test_listings_stay_right_while_writes_continue(base, steps):
    """The sorted index built by the first listing follows later writes and merged
    transaction overlays."""
    block = Overlay(DictBase(base))
    model = dict(base)
    for op, k, v in steps:
        if op == "set":
            block.set(k, v)
            model[k] = v
        elif op == "del":
            block.delete(k)
            model.pop(k, None)
        elif op == "tx":  # a transaction's writes merged into the block
            tx = Overlay(block)
            tx.set(k, v)
            tx.delete(k[:1] + b"\x00")
            tx.merge_into_parent()
            model[k] = v
            model.pop(k[:1] + b"\x00", None)
        else:
            p = k[:1]
            assert list(block.iter_prefix(p)) == sorted((a, b) for a, b in model.items() if a.startswith(p))
    assert list(block.iter_prefix(b"")) == sorted(model.items())


def test_tx_overlay_rolls_back_and_merges(tmp_path):
    store = Store(str(tmp_path / "s"))
    store.commit(store.prepare(0, {b"a": b"1"}))
    block = Overlay(store)
    tx = Overlay(block)
    tx.set(b"a", b"2")
    tx.set(b"b", b"3")
    assert block.get(b"a") == b"1"  # not visible until merged
    tx = Overlay(block)
    tx.set(b"c", b"4")
    tx.merge_into_parent()
    assert block.writes == {b"c": b"4"} and store.get(b"c") is None


def test_due_index_takes_only_what_is_due(tmp_path):
    store = Store(str(tmp_path / "s"))
    store.commit(store.prepare(0, {b"x": b"1"}))
    ctx = Ctx(Overlay(store), BlockInfo(1, 100, b""))
    for t, item in [(50, b"a"), (100, b"b"), (101, b"c"), (10, b"d"), (100, b"e")]:
        due.schedule(ctx, "assets", t, item)
    due.schedule(ctx, "market", 1, b"other-module")
    assert due.take_due(ctx, "assets", 100) == [(10, b"d"), (50, b"a"), (100, b"b"), (100, b"e")]
    assert due.take_due(ctx, "assets", 100) == []
    assert due.take_due(ctx, "assets", 200) == [(101, b"c")]
    assert due.take_due(ctx, "market", 5) == [(1, b"other-module")]
