"""The governed modules' parameters in a genesis (params.<module>): validation with field
paths, and their JSON form for export, both as the modules of one App declare them
(Module.params: every caller passes its App's module list).

JSON conventions as everywhere: big integers as decimal strings (JSON integers accepted),
amounts, ratios and durations in their human units (genesis/units.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from rwachain.genesis import units
from rwachain.genesis.fields import GenesisError
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.registry import Module
from rwachain.modules.governance import changes


# ----- the governed modules' parameters -----------------------------------------------------
def check_module_params(raw: dict, stable: units.Stable, modules: Iterable[Module]) -> dict:
    """params.<module> of the governed modules of modules, an App's (modules/governance/
    changes.governed): every key of the module's defaults, each in its declared unit (human
    or raw base units, genesis/units.py), within governance's hard bounds."""
    governed = changes.governed_units(modules)
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


def module_params_to_json(section: dict, stable: units.Stable, modules: Iterable[Module]) -> dict:
    """params.<module> in human units (amounts raw when stable names no denomination), as
    the governed modules of modules, an App's, declare them."""
    governed = changes.governed_units(modules)
    return {name: units.like_to_json(governed[name], p, stable) for name, p in sorted(section.items())}
