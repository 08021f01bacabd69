"""A module's random operations for the seeded simulation (genesis/sim/simulate.py).

A SimOp names one call of its module, a relative weight (an integer: how often it is
drawn against the others), and draw(rng, ctx, actors) -> (actor, args), or None when the
state offers nothing for it this time. ctx reads the state at the block's time
(ctx.block.time); actors are the names of the accounts that may sign ("holder<i>",
"dev<i>"), a list in draw order whose address(name) is the account's 20-byte address.
Invalid arguments may be drawn on purpose: the chain must refuse them cleanly.

rng is the simulation's seeded generator, passed in (modules/ never imports random and
never uses floats): it offers the integer draws of Python's Random class (choice, randint, sample,
randbytes) and, in integer terms, the float draws the operations use:
    rng.chance(num, den) -> bool               True with probability num/den
    rng.unit() -> u                            one uniform draw in [0, 1); u.below(num, den):
                                               whether it is below num/den (several thresholds, one draw)
    rng.scale(value, lo, hi, den) -> int       value x (1 + a uniform draw in [lo/den, hi/den]), truncated
    rng.amount(have) -> int                    mostly a part of have, one time in twenty more than all
                                               of it (refused), never 0

The order of the operations is the order their weights are drawn from (a seeded run
depends on it): an operation with `after` comes right after that operation
("module.call") when it is present, every other one after the operations before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SimOp:
    """One weighted random operation: call, weight (> 0), draw(rng, ctx, actors), and the
    operation it is drawn after ("module.call"; empty: after those before it)."""

    call: str
    weight: int
    draw: Callable[[Any, Any, list[str]], tuple[str, dict] | None]
    after: str = ""


class Actors(list):
    """The names of the accounts that may sign, in draw order; address(name) -> the
    account's 20-byte address; signers: {role: the names that sign for it, in draw order}
    (the accounts the simulation holds the keys of, e.g. the oracle's operators)."""

    __slots__ = ("address", "signers")

    def __init__(self, names: Iterable[str], address: Callable[[str], bytes],
                 signers: Mapping[str, Sequence[str]] | None = None):
        super().__init__(names)
        self.address = address
        self.signers = signers or {}


def ordered(fixed: dict[str, Any], declared: list[tuple[str, Any, str]]) -> dict[str, Any]:
    """{name: weight} of fixed (in its order) and declared [(name, weight, after)]: each
    declared operation right after its `after` once that is placed (declared ones may
    follow each other), the others at the end in their order."""
    out = list(fixed.items())
    pending = list(declared)
    progress = True
    while pending and progress:
        progress = False
        for d in list(pending):
            at = next((i for i, (n, _) in enumerate(out) if d[2] and n == d[2]), None)
            if at is not None:
                out.insert(at + 1, (d[0], d[1]))
                pending.remove(d)
                progress = True
    return dict(out + [(n, w) for n, w, _ in pending])
