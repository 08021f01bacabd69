"""The JSON form of typed genesis sections: modules/core/typed.py's (a module's own
section uses it too); the genesis layer's names for it."""

from __future__ import annotations

from rwachain.modules.core.typed import check, to_json, value  # noqa: F401 (the genesis layer's names too)
