"""Governance's state and the only code that reads and writes it: proposals (typed:
modules/governance/records.py), votes, the guardian's pauses and the parameters. The
validator set is modules/governance/validators.py's; the module (modules/governance/
module.py) and the parameter changes it executes (modules/governance/changes.py) work
through these functions.

State keys (values canonical msgpack):
    gov/next                    int        the next proposal id (absent: 1)
    gov/prop/<id 8B>            Proposal   (records.py)
    gov/vote/<id 8B><addr 20B>  int        the weight the account voted with
    gov/val/<ed25519 key 32B>   int        a validator's power (modules/governance/validators.py)
    pause/<module>              true       set by the guardian's pause; only governance removes it
    params/governance           map        {votingPeriod, executionDelay (s), quorum (wad of bonded stake)}
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import NotFound
from rwachain.modules.core.fixed import WAD
from rwachain.modules.governance.records import Proposal

NEXT = b"gov/next"
PROP = b"gov/prop/"
VOTE = b"gov/vote/"
PAUSE = b"pause/"
PARAMS = b"params/governance"
DEFAULT_PARAMS = {"votingPeriod": 3 * 86_400, "executionDelay": 86_400, "quorum": WAD // 10}
PARAM_UNITS = {"votingPeriod": "duration", "executionDelay": "duration", "quorum": "ratio"}
"""The unit of each parameter (genesis/units.py: the human form a genesis writes them in)."""
PAUSED = b"\xc3"  # msgpack true: a pause is a flag
DUE = "gov"  # the due-time index (modules/core/due.py) of votes that end and proposals that execute


def params(ctx: Ctx) -> dict:
    """Governance's parameters: votingPeriod and executionDelay in seconds, quorum a WAD
    share of the bonded stake."""
    return ctx.get_obj(PARAMS) or DEFAULT_PARAMS


def _idb(pid: int) -> bytes:
    return pid.to_bytes(8, "big")


# ----- proposals -----------------------------------------------------------------------------
def find(ctx: Ctx, pid: int) -> Proposal | None:
    return ctx.get_record(PROP + _idb(pid), Proposal)


def get(ctx: Ctx, pid: int) -> Proposal:
    """The proposal, or NotFound."""
    p = find(ctx, pid)
    if p is None:
        raise NotFound(f"no proposal {pid}")
    return p


def put(ctx: Ctx, p: Proposal) -> None:
    ctx.put_record(PROP + _idb(p.id), p)


def last_id(ctx: Ctx) -> int:
    """The id of the latest proposal (0: none yet; ids run 1, 2, ...)."""
    return max(0, ctx.get_int(NEXT) - 1)


def next_id(ctx: Ctx) -> int:
    """The id the next proposal will get."""
    return ctx.get_int(NEXT) or 1


def take_id(ctx: Ctx) -> int:
    """A new proposal's id (the counter moves on)."""
    pid = next_id(ctx)
    ctx.set_int(NEXT, pid + 1)
    return pid


# ----- votes ---------------------------------------------------------------------------------
def has_voted(ctx: Ctx, pid: int, voter: bytes) -> bool:
    return ctx.get(VOTE + _idb(pid) + voter) is not None


def record_vote(ctx: Ctx, pid: int, voter: bytes, weight: int) -> None:
    ctx.set_int(VOTE + _idb(pid) + voter, weight)


# ----- pauses --------------------------------------------------------------------------------
def is_paused(ctx: Ctx, module: str) -> bool:
    return ctx.get(PAUSE + module.encode()) is not None


def pause(ctx: Ctx, module: str) -> None:
    ctx.set(PAUSE + module.encode(), PAUSED)


def unpause(ctx: Ctx, module: str) -> None:
    ctx.delete(PAUSE + module.encode())


def paused(ctx: Ctx) -> list[str]:
    """The paused modules, in name order."""
    return [k[len(PAUSE):].decode() for k, _ in ctx.iter_prefix(PAUSE)]
