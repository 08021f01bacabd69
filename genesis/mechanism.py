"""The governed modules' parameters: validation with field paths, and their JSON form for export.

JSON conventions as everywhere: big integers as decimal strings (JSON integers accepted),
bytes as 0x-hex, addresses as rwa1... text, grades as letters A..E. The assets section
holds records as they are in state, so an exported chain re-imports to the same root;
a hand-written genesis may leave out the bookkeeping fields (check, payments, repaid,
recovered, history, mark, next), which are then derived.
"""

from __future__ import annotations

from collections.abc import Iterable

from rwachain.genesis import units
from rwachain.genesis.fields import GenesisError
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.registry import Module
from rwachain.modules.core.sections import list_field, object_field
from rwachain.modules.governance import changes

U64 = (1 << 64) - 1


_map = object_field
_list = list_field


# ----- the governed modules' parameters -----------------------------------------------------
def _governed_units(modules: Iterable[Module] | None) -> dict[str, dict]:
    """{module: its parameters' units} of the governed modules among modules (default: the
    chain's, modules/core/app.default_modules)."""
    return changes.governed_units(default_modules() if modules is None else modules)


def check_module_params(raw: dict, stable: units.Stable = units.NO_STABLE,
                        modules: Iterable[Module] | None = None) -> dict:
    """params.<module> of the governed modules of modules (modules/governance/changes.governed):
    every key of the module's defaults, each in its declared unit (human or raw base units,
    genesis/units.py), within governance's hard bounds."""
    governed = _governed_units(modules)
    out = {}
    for name in sorted(set(raw) - {"chain"}):
        if name not in governed:
            raise GenesisError(f"params.{name}: unknown field (chain, {', '.join(sorted(governed))})")
        out[name] = units.parse_like(f"params.{name}", governed[name], raw[name], stable)
    for name, p in out.items():
        try:
            changes.check_bounds(name, p, out)
        except InvalidState as exc:  # "reserve.discount = ... is outside its hard bounds [...]"
            msg = exc.message
            raise GenesisError(f"params.{msg}" if msg.startswith(f"{name}.") else f"params.{name}: {msg}") from None
    return out


def module_params_to_json(section: dict, stable: units.Stable = units.NO_STABLE,
                          modules: Iterable[Module] | None = None) -> dict:
    """params.<module> in human units (amounts raw when stable names no denomination)."""
    governed = _governed_units(modules)
    return {name: units.like_to_json(governed[name], p, stable) for name, p in sorted(section.items())}
