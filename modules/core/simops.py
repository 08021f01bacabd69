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
depends on it): an operation with after=FIRST opens it (the bank's transfer), one with
`after` comes right after that operation ("module.call") when it is present, every
other one after the operations before it.

A module may also add steps at the start of every simulated block, before the weighted
draws (Module.sim_block): sim_block(rng, ctx, actors, block, drawn) -> [(actor, module,
call, args)], drawn the names of the operations the run draws (weight above 0).
Governance's stakers answer a pause or a frozen feed so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

FIRST = "first"
"""SimOp.after=FIRST: the operation opens the draw order (no anchor can put it there; an
empty after puts it at the end). Several declared first keep their module order, each
followed by the operations declared after it."""


@dataclass(frozen=True, slots=True)
class SimOp:
    """One weighted random operation: call, weight (> 0: an integer, or a Fraction for an
    operation rarer than weight 1), draw(rng, ctx, actors), the operation it is drawn after
    ("module.call"; FIRST: at the start; empty: after those before it), and its name
    after "module." (empty: the call's; two operations of one call need names of their own)."""

    call: str
    weight: int | Fraction
    draw: Callable[[Any, Any, list[str]], tuple[str, dict] | None]
    after: str = ""
    name: str = ""

    @property
    def op_name(self) -> str:
        """The operation's name after "module." (what weights and the draw order name)."""
        return self.name or self.call


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


def ordered(declared: list[tuple[str, Any, str]]) -> dict[str, Any]:
    """{name: weight} of declared [(name, weight, after)] in draw order: those declared
    FIRST in their order, each other one right after its `after` once that is placed
    (declared ones may follow each other), the rest at the end in their order."""
    out = [(n, w) for n, w, after in declared if after == FIRST]
    pending = [d for d in declared if d[2] != FIRST]
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
