"""Parameter units in a genesis: the human forms, read and written by modules/core/units.py
(modules' genesis sections use them too); the genesis layer's names for them."""

from __future__ import annotations

from rwachain.modules.core.units import (  # noqa: F401 (the genesis layer's names too)
    NO_STABLE,
    UNITS,
    Stable,
    check_declaration,
    like_to_json,
    parse,
    parse_like,
    to_json,
)
