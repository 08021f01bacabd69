"""What a module hands governance: its governed parameters and whether it may be paused.

A Module declares both (Module.params, Module.pausable); the lists governance works from
(setParams' targets, a genesis's params.<module>, the guardian's pause targets) are
derived from the modules of one App by the functions below, never written by hand.
place orders each list (the order error messages, the pause call's choices and seeded
simulations show).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rwachain.modules.core.context import Ctx


@dataclass(frozen=True, slots=True)
class Governed:
    """A module's parameters: the state key they live under, their defaults, the unit of
    each (genesis/units.py), load(ctx) -> the current parameters, and the module's place
    in the list of governed modules."""

    key: bytes
    defaults: dict
    units: dict
    load: Callable[[Ctx], dict]
    place: int


def governed(modules: Iterable) -> dict:
    """{module name: Governed} of the modules that declare parameters, in their places."""
    declared = [m for m in modules if m.params is not None]
    return {m.name: m.params for m in sorted(declared, key=lambda m: m.params.place)}


def pausable(modules: Iterable) -> tuple[str, ...]:
    """The names of the modules the guardian may pause, in their places."""
    declared = [m for m in modules if m.pausable is not None]
    return tuple(m.name for m in sorted(declared, key=lambda m: m.pausable))
