"""The callbacks modules offer one another, collected per App.

A module that lets others react to what it does names a slot ("bank.settle": before a
balance moves) and calls, from its keeper, whatever the context's wiring holds for that
slot. A module that reacts offers a callback to the slot (an Offer in its Module); a
module that cannot work without a callback names the slot in its Module's needs. The App
collects the offers of its own modules into one Wiring (wire(modules)) and hands it to
every context it makes (Ctx.wiring), so two Apps in one process never see each other's
callbacks, and a keeper used alone runs the callbacks of the wiring its context carries
(none by default). The wiring also carries the App's signature cache (verdicts), where a
module remembers the verdicts of pure signature checks (modules/core/verdicts.py). Nothing
here is filled at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


class WiringError(ValueError):
    """The modules of an App do not fit together: a needed callback nobody offers, or two
    offers to the same slot and key."""


@dataclass(frozen=True, slots=True)
class Offer:
    """A callback offered to a slot; key tells offers to one slot apart (a denomination
    prefix, an owner address, a module name; None for a slot with a single offer)."""

    slot: str
    fn: Callable[..., Any]
    key: Any = None


class Wiring:
    """The offers of one App's modules by slot, in module order; immutable once built.
    verdicts: the App's signature cache (a BoundedCache), None when no App made it;
    accounts: the names of the module accounts its modules declare (Module.accounts), in
    their places (the order they are created at genesis and paid in)."""

    __slots__ = ("_by_slot", "_by_key", "verdicts", "accounts")

    def __init__(self, by_slot: dict[str, tuple[tuple[Any, Callable[..., Any]], ...]], verdicts: Any = None,
                 accounts: tuple[str, ...] = ()):
        self._by_slot = by_slot
        self._by_key = {slot: dict(pairs) for slot, pairs in by_slot.items()}
        self.verdicts = verdicts
        self.accounts = accounts

    def each(self, slot: str) -> tuple[tuple[Any, Callable[..., Any]], ...]:
        """(key, callback) of every offer to slot, in the App's module order; () if none."""
        return self._by_slot.get(slot, ())

    def get(self, slot: str, key: Any = None) -> Callable[..., Any] | None:
        """The callback offered to slot under key; None if nobody offers it."""
        keyed = self._by_key.get(slot)
        return None if keyed is None else keyed.get(key)

    def slots(self) -> list[str]:
        """Every slot with at least one offer, sorted."""
        return sorted(self._by_slot)


NONE = Wiring({})
"""The wiring of a context no App made: no callbacks, no signature cache, no module accounts."""


def wire(modules: Iterable, verdicts: Any = None) -> Wiring:
    """One Wiring from the offers of modules (Module objects, in hook order), carrying the
    signature cache verdicts (None: verdicts are not remembered). Raises
    WiringError if a module needs a slot that no module of the list offers to, or if two
    offers share a slot and key."""
    modules = list(modules)
    by_slot: dict[str, list[tuple[Any, Callable[..., Any]]]] = {}
    owner: dict[tuple[str, Any], str] = {}
    for m in modules:
        for offer in m.offers:
            first = owner.get((offer.slot, offer.key))
            if first is not None:
                raise WiringError(f"{first} and {m.name} both offer {offer.slot}"
                                  + ("" if offer.key is None else f" for {offer.key!r}"))
            owner[(offer.slot, offer.key)] = m.name
            by_slot.setdefault(offer.slot, []).append((offer.key, offer.fn))
    for m in modules:
        for slot in m.needs:
            if slot not in by_slot:
                raise WiringError(f"{m.name} needs {slot}, which no module of this App offers "
                                  f"(modules: {', '.join(x.name for x in modules)})")
    return Wiring({slot: tuple(pairs) for slot, pairs in by_slot.items()}, verdicts, module_accounts(modules))


def module_accounts(modules: Iterable) -> tuple[str, ...]:
    """The module accounts modules declare (Module.accounts: (name, place) pairs), by place."""
    return tuple(name for name, _ in sorted((a for m in modules for a in m.accounts), key=lambda a: a[1]))
