"""Skipped block hooks (modules/core/hookmemo.py): a hook is skipped only when running it would
change nothing, so a chain with skipping commits exactly what a chain without it commits."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.genesis.sim import simulate
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.hookmemo import HookMemo
from rwachain.state.overlay import Overlay


class DictBase:
    """Committed state as a plain dict (what an Overlay reads through)."""

    def __init__(self, d=None):
        self.d = dict(d or {})

    def get(self, k):
        return self.d.get(k)

    def iter_prefix(self, p):
        return iter(sorted((k, v) for k, v in self.d.items() if k.startswith(p)))

    def commit(self, ov: Overlay) -> None:
        for k, v in ov.writes.items():
            if v is None:
                self.d.pop(k, None)
            else:
                self.d[k] = v


# ----- hooks, each a deterministic function of what it reads -------------------------------------
def digest_hook(ctx):
    """k0 and the whole p/ listing -> k3 (the same inputs write the same value)."""
    h = hashlib.sha256(ctx.state.get(b"k0") or b"-")
    for k, v in ctx.state.iter_prefix(b"p/"):
        h.update(k + v)
    ctx.state.set(b"k3", h.digest()[:4])


def first_hook(ctx):
    """Only the first pair of p/ -> k2 (stops the listing early)."""
    first = next(iter(ctx.state.iter_prefix(b"p/")), None)
    if first is None:
        ctx.state.delete(b"k2")
    else:
        ctx.state.set(b"k2", first[1])


def clock_hook(ctx):
    """The block time -> k1, while k0 exists."""
    if ctx.state.get(b"k0") is not None:
        ctx.state.set(b"k1", ctx.block.time.to_bytes(4, "big"))


def event_hook(ctx):
    if ctx.state.get(b"k1") is not None:
        ctx.events.append({"attrs": {}, "type": "seen"})


def height_hook(ctx):
    """Reads the height, changes nothing."""
    assert ctx.block.height > 0


HOOKS = [("digest", digest_hook), ("first", first_hook), ("clock", clock_hook), ("event", event_hook),
         ("height", height_hook)]


def run_all(memo: HookMemo | None, base: DictBase, info: BlockInfo) -> tuple[dict, list]:
    ctx = Ctx(Overlay(base), info)
    for name, hook in HOOKS:
        if memo is None:
            hook(ctx)
        else:
            memo.run(name, hook, ctx)
    return ctx.state, ctx.events


def turn(memo, base, info):
    ov, events = run_all(memo, base, info)
    base.commit(ov)
    return events


KEYS = [b"k0", b"k1", b"k2", b"p/a", b"p/b", b"p/c"]
writes = st.dictionaries(st.sampled_from(KEYS), st.none() | st.sampled_from([b"x", b"y"]), max_size=3)
blocks = st.lists(st.tuples(writes, st.integers(0, 2)), min_size=1, max_size=25)


@given(blocks)
def test_skipping_changes_nothing_a_block_commits(seq):
    """Blocks of random writes at repeating times: with and without skipping, every hook turn
    leaves the same state and emits the same events."""
    memo, with_memo, plain = HookMemo(), DictBase(), DictBase()
    for height, (tx_writes, t) in enumerate(seq, start=1):
        for base in (with_memo, plain):
            ov = Overlay(base)
            for k, v in tx_writes.items():
                ov.delete(k) if v is None else ov.set(k, v)
            base.commit(ov)  # the block's transactions
        info = BlockInfo(height, 1_000 + t, b"")
        assert turn(memo, with_memo, info) == turn(None, plain, info)
        assert with_memo.d == plain.d


def test_a_hook_is_skipped_while_what_it_read_holds():
    memo, base = HookMemo(), DictBase({b"k0": b"x", b"p/a": b"1"})
    turn(memo, base, BlockInfo(1, 10, b""))  # first turn: everything runs (and digest, first, clock write)
    turn(memo, base, BlockInfo(2, 10, b""))  # second: they find their own writes, change nothing
    ran = memo.ran
    turn(memo, base, BlockInfo(3, 10, b""))
    # digest, first and clock skipped; event emits (never skipped), height reads a new height
    assert memo.ran - ran == 2 and memo.skipped >= 3


@pytest.mark.parametrize("change, runs", [
    ({b"k0": b"y"}, {"digest", "clock"}),         # a key read by both
    ({b"p/z": b"9"}, {"digest"}),                 # a new key at the end of a listing read to its end
    ({b"p/0": b"9"}, {"digest", "first"}),        # a new first pair: both saw the listing's head
    ({b"p/b": b"2"}, {"digest"}),                 # past the one pair `first` read: it stays skipped
    ({b"p/a": None}, {"digest", "first"}),        # a pair gone
    ({b"k2": b"q"}, {"first"}),                   # a key the hook wrote but never read: it runs again
])                                                # because its last state differs from what it would write
def test_what_makes_a_skipped_hook_run_again(change, runs):
    memo, base = HookMemo(), DictBase({b"k0": b"x", b"p/a": b"1", b"p/b": b"1"})
    for h in (1, 2):
        turn(memo, base, BlockInfo(h, 10, b""))
    for k, v in change.items():
        base.d.pop(k, None) if v is None else base.d.__setitem__(k, v)
    ran = []
    for name, hook in HOOKS:
        def tracked(ctx, hook=hook, name=name):
            ran.append(name)
            hook(ctx)
        memo.run(name, tracked, Ctx(Overlay(base), BlockInfo(3, 10, b"")))
    assert set(ran) - {"event", "height"} == runs


def test_a_new_time_runs_the_hooks_that_read_it():
    memo, base = HookMemo(), DictBase({b"k0": b"x"})
    for h in (1, 2):
        turn(memo, base, BlockInfo(h, 10, b""))
    turn(memo, base, BlockInfo(3, 11, b""))
    assert base.d[b"k1"] == (11).to_bytes(4, "big")


def test_a_hook_that_writes_or_emits_is_not_remembered():
    memo, base = HookMemo(), DictBase({b"k1": b"t"})
    for h in (1, 2, 3):
        events = turn(memo, base, BlockInfo(h, 10, b""))
        assert events == [{"attrs": {}, "type": "seen"}]
    counter = []

    def counting(ctx):
        counter.append(1)
        ctx.state.set(b"n", len(counter).to_bytes(2, "big"))

    for h in (1, 2, 3):
        ctx = Ctx(Overlay(base), BlockInfo(h, 10, b""))
        memo.run("counting", counting, ctx)
        base.commit(ctx.state)
    assert len(counter) == 3 and base.d[b"n"] == (3).to_bytes(2, "big")


# ----- a whole chain --------------------------------------------------------------------------------
def _always_run(self, name, hook, ctx):
    hook(ctx)


@pytest.mark.parametrize("block_time", [0, simulate.BLOCK_TIME])
def test_a_simulated_chain_commits_the_same_with_and_without_skipping(monkeypatch, block_time):
    """Random operations of every module on real LevelDB chains; block_time 0 keeps every block
    at one time, where skipping is most frequent."""
    cfg = simulate.SimConfig(seed=11, blocks=150, block_time=block_time, montecarlo=None)
    skipped = [0]
    remembering = HookMemo.run

    def counted(self, name, hook, ctx):
        before = self.skipped
        remembering(self, name, hook, ctx)
        skipped[0] += self.skipped - before

    monkeypatch.setattr(HookMemo, "run", counted)
    with_skips = simulate.run(cfg)
    monkeypatch.setattr(HookMemo, "run", _always_run)
    without = simulate.run(cfg)
    assert with_skips.failure is None and without.failure is None
    # at one time most hook turns are skipped; an hour apart, those that do not read the time
    assert skipped[0] > (3 * cfg.blocks if block_time == 0 else 0)
    assert with_skips.state_root == without.state_root
    assert with_skips.stats == without.stats  # every call's outcomes, counted by error
