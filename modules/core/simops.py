"""A module's random operations for the seeded simulation (genesis/sim/simulate.py).

A SimOp names one call of its module, a relative weight (an integer: how often it is
drawn against the others), and draw(rng, ctx, actors) -> (actor, args), or None when the
state offers nothing for it this time. rng is the simulation's seeded random.Random,
passed in (modules/ never imports random); ctx reads the state at the block's time;
actors are the names of the accounts that may sign ("holder<i>", "dev<i>"). Invalid
arguments may be drawn on purpose: the chain must refuse them cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SimOp:
    """One weighted random operation: call, weight (> 0), draw(rng, ctx, actors)."""

    call: str
    weight: int
    draw: Callable[[Any, Any, list[str]], tuple[str, dict] | None]
