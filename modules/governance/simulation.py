"""Governance's random operations for the seeded simulation (modules/core/simops.py):
stakers propose (lifting a pause or a frozen feed when there is one, else granting or
revoking a role), propose changes (parameters, oracle policies, the operator set), vote
on the latest proposals, and the guardian pauses a module. Besides these draws, in every
block (each_block) stakers answer a pause or a frozen feed one time in four: a proposal
to lift it when none is open, else a yes vote on the open one, so that governance lifts
a pause in about its voting period plus its execution delay; and in the first block
every holder stakes BOOTSTRAP_STAKE when votes are drawn (with no bonded stake nobody
can propose, so a guardian's pause of the insurance module, where stake is made, could
never be lifted: docs/simulation.md, "Finding: a pause nobody can lift").

Actors (modules/core/simops.Actors): signers "staker" (insurance/simulation.py's stakers
are those with bonded stake), "holder", "guardian"."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.simops import Actors, SimOp
from rwachain.modules.governance import keeper
from rwachain.modules.insurance.simulation import stakers
from rwachain.modules.oracle import keeper as oracle

DAY = 86_400
UNIT = 10**6  # base units per token of the simulated genesis's stable and native tokens (6 decimals)
BOOTSTRAP_STAKE = 10_000 * UNIT  # native base units every holder stakes in block 1
PARAM_CHANGES = [
    ("stable", "hSlope", 0, WAD // 2), ("stable", "spread", 0, WAD // 20),
    ("stable", "ceilings.tranche", 1_000 * UNIT, 5_000_000 * UNIT), ("reserve", "budgetShare", 0, WAD // 2),
    ("reserve", "discount", 0, WAD // 10), ("market", "band", WAD // 100, WAD // 4), ("market", "takerFee", 0, 100),
    ("governance", "votingPeriod", DAY, 5 * DAY)]
"""setParams proposed: (module, parameter key, low, high) of the values; about one value in
ten is drawn beyond high (refused when proposed, or failing when executed)."""
POLICY_CHANGES = [("stepAbs", 0, WAD // 50), ("delay", 0, DAY), ("maxAge", DAY, 7 * DAY), ("window", 600, DAY)]
"""setPolicy fields proposed (never lo/hi: a value applied within the old bounds may lie
outside new ones, which the oracle-bounds check would report)."""
FEED_CLASSES = ("rate", "spread", "intensity", "lgd", "price")
ROLES = ("originator", "verifier", "servicer")  # the roles proposals grant and revoke
Draw = Callable[[Any, Ctx, Actors], tuple[str, dict] | None]


def _proposer(rng, ctx: Ctx, actors: Actors) -> str:
    """A staker, or a holder (refused: no stake) when nobody has bonded stake."""
    bonded = stakers(ctx, actors)
    return rng.choice(bonded) if bonded else rng.choice(actors.signers["holder"])


def _paused(ctx: Ctx, pausable: tuple[str, ...]) -> list[str]:
    return [m for m in pausable if keeper.is_paused(ctx, m)]


def _frozen(ctx: Ctx) -> list[str]:
    return [f for f in oracle.list_feeds(ctx) if oracle.state_of(ctx, f).frozen]


def _free(ctx: Ctx, pid: int, voters: list[str], actors: Actors) -> list[str]:
    """The voters that have not voted on proposal pid."""
    return [a for a in voters if not keeper.has_voted(ctx, pid, actors.address(a))]


def draw_propose(pausable: tuple[str, ...]) -> Draw:
    """Lift a pause or a frozen feed when there is one, else grant or revoke a role to a holder."""
    def draw(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict]:
        actor = _proposer(rng, ctx, actors)
        paused, frozen = _paused(ctx, pausable), _frozen(ctx)
        if paused:
            return actor, {"action": "unpause", "target": rng.choice(paused), "account": b""}
        if frozen:
            return actor, {"action": "unfreeze", "target": rng.choice(frozen), "account": b""}
        role = rng.choice(ROLES)
        action = rng.choice(("grantRole", "revokeRole"))
        return actor, {"action": action, "target": role, "account": actors.address(rng.choice(actors.signers["holder"]))}
    return draw


def draw_propose_change(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict]:
    """A parameter change (six times in ten), an oracle policy change (three), or the same
    operator set again (its epoch moves on; reports made after that carry the new epoch)."""
    actor = _proposer(rng, ctx, actors)
    u = rng.unit()
    if u.below(6, 10):
        module, key, lo, hi = rng.choice(PARAM_CHANGES)
        value = rng.randint(lo, hi if rng.chance(9, 10) else 3 * hi + 1)
        return actor, {"action": "setParams", "target": module, "value": f"{key}={value}"}
    if u.below(9, 10):
        field, lo, hi = rng.choice(POLICY_CHANGES)
        cls = rng.choice(FEED_CLASSES)
        return actor, {"action": "setPolicy", "target": cls, "value": f"{field}={rng.randint(lo, hi)}"}
    ops = oracle.operator_set(ctx).operators
    value = ";".join(f"{encode_address(o.address)}:{o.pubkey.hex()}:{o.pop.hex()}" for o in ops)
    return actor, {"action": "setOperators", "target": "oracle", "value": value}


def draw_vote(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict] | None:
    """A staker votes on one of the latest five proposals, mostly an open one it has not
    voted on (yes 85 times in 100); else on any of them (refused when closed or voted)."""
    last = keeper.last_id(ctx)
    bonded = stakers(ctx, actors)
    if last < 1 or not bonded:
        return None
    pid = rng.randint(max(1, last - 4), last)
    for p in range(last, max(0, last - 5), -1):
        prop = keeper.get(ctx, p)
        if prop.status == "voting" and prop.end > ctx.block.time:
            free = _free(ctx, p, bonded, actors)
            if free and rng.chance(9, 10):
                voter = rng.choice(free)
                return voter, {"id": p, "support": "yes" if rng.chance(85, 100) else "no"}
    voter = rng.choice(bonded)
    return voter, {"id": pid, "support": "yes" if rng.chance(8, 10) else "no"}


def draw_pause(pausable: tuple[str, ...]) -> Draw:
    """The guardian (nine times in ten; else a holder: refused) pauses a pausable module."""
    def draw(rng, ctx: Ctx, actors: Actors) -> tuple[str, dict]:
        actor = actors.signers["guardian"][0] if rng.chance(9, 10) else rng.choice(actors.signers["holder"])
        return actor, {"module": rng.choice(pausable)}
    return draw


def sim_ops(pausable: tuple[str, ...]) -> tuple[SimOp, ...]:
    """Governance's operations over the pausable modules of its App, at the end of the draw order."""
    return (SimOp("propose", 4, draw_propose(pausable)),
            SimOp("proposeChange", 2, draw_propose_change, after="governance.propose"),
            SimOp("vote", 12, draw_vote, after="governance.proposeChange"),
            SimOp("pause", Fraction(1, 4), draw_pause(pausable), after="governance.vote"))


def _answer(rng, ctx: Ctx, actors: Actors, pausable: tuple[str, ...]) -> tuple[str, str, str, dict] | None:
    """Stakers' answer to a pause or a frozen feed: a proposal to lift it when none is
    open, else a yes vote on the open one by a staker that has not voted (None: nothing
    to answer, or the answer is waiting for its execution)."""
    bonded = stakers(ctx, actors)
    if not bonded:
        return None
    paused = _paused(ctx, pausable)
    frozen = _frozen(ctx) if not paused else []
    if not paused and not frozen:
        return None
    last = keeper.last_id(ctx)
    for p in range(last, max(0, last - 5), -1):
        prop = keeper.get(ctx, p)
        if prop.status in ("voting", "passed") and prop.action in ("unpause", "unfreeze"):
            free = _free(ctx, p, bonded, actors)
            if prop.status != "voting" or prop.end <= ctx.block.time or not free:
                return None
            return rng.choice(free), "governance", "vote", {"id": p, "support": "yes"}
    action, target = ("unpause", paused[0]) if paused else ("unfreeze", frozen[0])
    return rng.choice(bonded), "governance", "propose", {"action": action, "target": target, "account": b""}


def each_block(pausable: tuple[str, ...]) -> Callable[..., list[tuple[str, str, str, dict]]]:
    """Module.sim_block: the first block's stake of every holder (when votes are drawn),
    then, one time in four, the stakers' answer to a pause or a frozen feed."""
    def steps(rng, ctx: Ctx, actors: Actors, block: int, drawn: list[str]) -> list[tuple[str, str, str, dict]]:
        out: list[tuple[str, str, str, dict]] = []
        if block == 1 and "governance.vote" in drawn:
            out += [(h, "insurance", "stake", {"amount": BOOTSTRAP_STAKE}) for h in actors.signers["holder"]]
        if rng.chance(1, 4):
            answer = _answer(rng, ctx, actors, pausable)
            if answer is not None:
                out.append(answer)
        return out
    return steps
