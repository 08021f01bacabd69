"""Governance's parameters: their state key, defaults, units and the reader (the proposal
and vote records are modules/governance/module.py's). Both the module and the parameter
changes it executes (modules/governance/changes.py) read them here."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.fixed import WAD

PARAMS = b"params/governance"
DEFAULT_PARAMS = {"votingPeriod": 3 * 86_400, "executionDelay": 86_400, "quorum": WAD // 10}
PARAM_UNITS = {"votingPeriod": "duration", "executionDelay": "duration", "quorum": "ratio"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""


def params(ctx: Ctx) -> dict:
    """Governance's parameters: votingPeriod and executionDelay in seconds, quorum a WAD
    share of the bonded stake."""
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS
