"""Shrinking a failing step list (genesis/sim/simulate.py) to a short one that still fails the
same way: the shortest failing tail of blocks (1, 2, 4, 8... last blocks), delta debugging
(ddmin) over blocks, then over single steps, then moving the remaining steps into
consecutive blocks, then simplifying integer arguments (amounts, quantities, prices,
values) towards 1.

`test(steps)` replays a candidate from genesis and answers whether it fails like the
original (same Failure.key); every candidate costs one replay, so a budget of replays and a
deadline bound the work. Whatever the budget, the result is a list that failed when last
replayed: shrinking only ever keeps a candidate that failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from rwachain.genesis.sim.simulate import Failure, Step, group_by_block

T = TypeVar("T")
SIMPLIFY_ARGS = ("amount", "quantity", "price", "value", "principal", "maxIn", "minOut", "count", "age")


class Budget:
    """Counts replays; exhausted after `tries` of them or past `deadline` (monotonic s)."""

    def __init__(self, tries: int, seconds: float | None):
        self.left = tries
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.used = 0

    def take(self) -> bool:
        if self.left <= 0 or (self.deadline is not None and time.monotonic() > self.deadline):
            return False
        self.left -= 1
        self.used += 1
        return True


def ddmin(items: list[T], test: Callable[[list[T]], bool], budget: Budget) -> list[T]:
    """Zeller's delta debugging: a 1-minimal sublist of items on which test still holds
    (each single removal makes it pass), or the smallest found before the budget ran out.
    test(items) is assumed true."""
    n = 2
    while len(items) >= 2 and budget.left > 0:
        size = -(-len(items) // n)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        reduced = False
        for c in chunks:  # one chunk alone
            if budget.take() and test(c):
                items, n, reduced = c, 2, True
                break
        if not reduced and len(chunks) > 2:  # everything but one chunk (with 2 chunks: tried above)
            for i in range(len(chunks)):
                rest = [x for j, c in enumerate(chunks) if j != i for x in c]
                if budget.take() and test(rest):
                    items, n, reduced = rest, max(n - 1, 2), True
                    break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), 2 * n)
    return items


@dataclass
class ShrinkResult:
    steps: list[Step]
    tries: int


def shrink(steps: list[Step], fails: Callable[[list[Step]], Failure | None], key: str, *,
           tries: int = 400, seconds: float | None = 120.0,
           progress: Callable[[str, int], None] | None = None) -> ShrinkResult:
    """A short step list that still fails with Failure.key == key; steps must fail so."""
    budget = Budget(tries, seconds)

    def test(candidate: list[Step]) -> bool:
        f = fails(candidate)
        return f is not None and f.key == key

    def note(phase: str, current: list[Step]) -> None:
        if progress is not None:
            progress(phase, len(current))

    blocks = [g for _, g in group_by_block(steps)]
    blocks = _suffix(blocks, lambda bs: test([s for g in bs for s in g]), budget)
    note("suffix", [s for g in blocks for s in g])
    blocks = ddmin(blocks, lambda bs: test([s for g in bs for s in g]), budget)
    current = [s for g in blocks for s in g]
    note("blocks", current)
    current = ddmin(current, test, budget)
    note("steps", current)
    current = _compact(current, test, budget)
    note("compact", current)
    current = _simplify(current, test, budget)
    note("amounts", current)
    return ShrinkResult(current, budget.used)


def _suffix(blocks: list[T], test: Callable[[list[T]], bool], budget: Budget) -> list[T]:
    """The shortest tail of the last 1, 2, 4, 8... blocks that still fails (cheap replays:
    a failure usually needs the last blocks before it more than the early ones)."""
    k = 1
    while k < len(blocks) and budget.left > 0:
        if budget.take() and test(blocks[-k:]):
            return blocks[-k:]
        k *= 2
    return blocks


def _compact(steps: list[Step], test: Callable[[list[Step]], bool], budget: Budget) -> list[Step]:
    """Renumber the blocks 1, 2, 3... (earlier times), if that still fails."""
    order = {b: i + 1 for i, b in enumerate(sorted({s.block for s in steps}))}
    cand = [replace(s, block=order[s.block]) for s in steps]
    if cand != steps and budget.take() and test(cand):
        return cand
    return steps


def _candidates(v: int) -> list[int]:
    """Smaller values to try for an integer argument, smallest first."""
    out = {1, v // 1000, v // 100, v // 10, v // 2, v - 1}
    return sorted(x for x in out if 0 < x < v)


def _simplify(steps: list[Step], test: Callable[[list[Step]], bool], budget: Budget) -> list[Step]:
    """Lower each integer argument to the smallest candidate that still fails."""
    for i in range(len(steps)):
        for name in SIMPLIFY_ARGS:
            v = steps[i].args.get(name)
            while type(v) is int and v > 1 and budget.left > 0:
                for x in _candidates(v):
                    cand = steps[:i] + [replace(steps[i], args={**steps[i].args, name: x})] + steps[i + 1:]
                    if budget.take() and test(cand):
                        steps, v = cand, x
                        break
                else:
                    break
    return steps
