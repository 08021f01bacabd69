"""Skipped block hooks (modules/core/hookmemo.py): only the hooks of a module that declares
them pure are ever skipped, and only when running them would change nothing, so a chain with
skipping commits exactly what a chain without it commits. Every module that declares its
hooks pure is held to it here."""

from __future__ import annotations

import hashlib
from collections import Counter
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.genesis.sim import simulate
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.hookmemo import BlockLog, HookMemo, ReadLog
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
            memo.run(name, hook, ctx, pure=True)
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
        memo.run(name, tracked, Ctx(Overlay(base), BlockInfo(3, 10, b"")), pure=True)
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
        memo.run("counting", counting, ctx, pure=True)
        base.commit(ctx.state)
    assert len(counter) == 3 and base.d[b"n"] == (3).to_bytes(2, "big")


# ----- a whole chain --------------------------------------------------------------------------------
def _always_run(self, name, hook, ctx, pure=False):
    hook(ctx)


@pytest.mark.parametrize("block_time", [0, simulate.BLOCK_TIME])
def test_a_simulated_chain_commits_the_same_with_and_without_skipping(monkeypatch, block_time):
    """Random operations of every module on real LevelDB chains; block_time 0 keeps every block
    at one time, where skipping is most frequent."""
    cfg = simulate.SimConfig(seed=11, blocks=150, block_time=block_time, montecarlo=None)
    skipped = [0]
    remembering = HookMemo.run

    def counted(self, name, hook, ctx, pure=False):
        before = self.skipped
        remembering(self, name, hook, ctx, pure)
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


# ----- only hooks declared pure are skipped ---------------------------------------------------------
def test_flaw_a_hook_not_declared_pure_is_skipped():
    """A hook that reads something besides state and block fields (here a count kept in
    memory) would be skipped once idle, and its later writes lost: only hooks whose module
    declares them pure (Module.pure_hooks) may be skipped."""
    memo, base = HookMemo(), DictBase()
    outside = {"n": 0}

    def impure(ctx):
        if outside["n"] >= 3:
            ctx.state.set(b"late", b"x")

    for h in range(1, 6):
        ctx = Ctx(Overlay(base), BlockInfo(h, 10, b""))
        memo.run("impure", impure, ctx)
        base.commit(ctx.state)
        outside["n"] += 1
    assert base.d.get(b"late") == b"x"
    assert memo.skipped == 0


# ----- the modules that declare their hooks pure ----------------------------------------------------
PURE_HOOKS = {f"{m.name}.{end}": hook for m in default_modules() if m.pure_hooks
              for end, hook in (("begin", m.begin_block), ("end", m.end_block)) if hook is not None}


class Recorded:
    """A state holding only what a read log saw: its keys, and its listings as far as read."""

    def __init__(self, reads: ReadLog):
        self.keys = reads.keys
        self.listings: dict[bytes, list] = {}
        for prefix, pairs, _ in reads.listings:
            if len(pairs) >= len(self.listings.get(prefix, ())):
                self.listings[prefix] = list(pairs)

    def get(self, key):
        return self.keys.get(key)

    def iter_prefix(self, prefix):
        return iter(self.listings.get(prefix, ()))


def _logged_turn(hook, state, info: BlockInfo):
    """Run hook on an overlay of its own through logging views: (reads, block fields used,
    outcome: writes, events and the class of what it raised)."""
    reads, block = ReadLog(state), BlockLog(info)
    own = Ctx(Overlay(reads), block)
    try:
        hook(own)
        raised = None
    except Exception as exc:  # a fault is an outcome too: it must repeat as well
        raised = type(exc).__name__
    return reads, block, (dict(own.state.writes), list(own.events), raised)


def _only_used(block: BlockLog, info: BlockInfo) -> BlockInfo:
    """info with the fields the hook did not read changed."""
    return BlockInfo(info.height if "height" in block.used else info.height + 1_000,
                     info.time if "time" in block.used else info.time + 86_400,
                     info.proposer if "proposer" in block.used else b"\x01" * 20)


def test_the_modules_that_declare_pure_hooks_are_the_expected_ones():
    assert set(PURE_HOOKS) == {"oracle.begin", "assets.begin", "assets.end", "stable.end", "market.begin",
                               "insurance.end", "governance.begin", "reserve.begin"}


@pytest.mark.parametrize("block_time", [0, simulate.BLOCK_TIME])
def test_every_hook_declared_pure_writes_what_its_reads_determine(block_time):
    """At every turn of a simulated chain, each hook declared pure runs twice more on the
    block's state through logging views, and once on a state holding only what it read
    (with the block fields it did not read changed): equal reads give equal writes, events
    and faults. A hook that kept something in memory between turns, or read around its
    context, fails here."""
    checked, busy = Counter(), Counter()
    real_run = HookMemo.run

    def checking(self, name, hook, ctx, pure=False):
        if pure:
            reads, block, outcome = _logged_turn(hook, ctx.state, ctx.block)
            again = _logged_turn(hook, ctx.state, ctx.block)
            assert again[0].keys == reads.keys and again[0].listings == reads.listings, name
            assert again[1].used == block.used and again[2] == outcome, name
            alone = _logged_turn(hook, Recorded(reads), _only_used(block, ctx.block))
            assert alone[2] == outcome, name
            checked[name] += 1
            busy[name] += bool(outcome[0] or outcome[1])
        real_run(self, name, hook, ctx, pure)

    cfg = simulate.SimConfig(seed=5, blocks=120, block_time=block_time)
    with mock.patch.object(HookMemo, "run", checking):
        res = simulate.run(cfg)
    assert res.failure is None
    assert set(checked) == set(PURE_HOOKS) and min(checked.values()) == cfg.blocks
    assert sum(busy.values()) > cfg.blocks  # not only idle turns: hooks that wrote were checked too


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, simulate.BLOCK_TIME]))
def test_a_chain_reaches_the_same_roots_with_the_memo_on_and_off(seed, block_time):
    """Random blocks of every module's operations (and the adversary's): with skipping and
    with every hook run at every turn, each block commits the same state root."""
    cfg = simulate.SimConfig(seed=seed, blocks=30, block_time=block_time)

    def roots_of_run() -> tuple[list[bytes], object]:
        roots: list[bytes] = []
        res = simulate.run(cfg, on_block=lambda block, t, steps, result, reader: roots.append(result.state_root))
        return roots, res

    on, res_on = roots_of_run()
    with mock.patch.object(HookMemo, "run", _always_run):
        off, res_off = roots_of_run()
    assert res_on.failure is None and res_off.failure is None
    assert len(on) == cfg.blocks and on == off
    assert res_on.stats == res_off.stats
