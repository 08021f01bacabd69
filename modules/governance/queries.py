"""Governance's RPC methods (gov_*): proposals and the parameters with the paused modules,
declared with their schemas (modules/core/queries.py)."""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.queries import (
    ADDR,
    AMOUNT,
    INT,
    STR,
    Optional,
    Query,
    QueryError,
    QueryParam,
    arr,
    enum,
    nullable,
    obj,
)
from rwachain.modules.governance import keeper
from rwachain.modules.governance.records import STATUSES, Proposal

PROPOSAL = obj(id=INT, proposer=ADDR, action=STR, target=STR, account=nullable(ADDR), value=Optional(STR), start=INT,
               end=INT, yes=AMOUNT, no=AMOUNT, status=enum(*STATUSES), executeAt=INT, snapshot=Optional(INT))
GOV_PARAMS = obj(votingPeriod=INT, executionDelay=INT, quorum=AMOUNT, paused=arr(STR))
PAGE_MAX = 1000  # proposals examined per page


def proposal_json(p: Proposal) -> dict:
    """A proposal as the RPC answers it: the stored fields, the weights as decimal strings,
    the proposer and the account of a role action as addresses (null otherwise)."""
    return {**p.to_stored(), "proposer": encode_address(p.proposer), "yes": str(p.yes), "no": str(p.no),
            "account": encode_address(p.account) if len(p.account) == 20 else None}


def _proposals(ctx: Ctx, status: str | None, before: int | None, limit: int) -> list[dict]:
    top = keeper.next_id(ctx) if before is None else min(before, keeper.next_id(ctx))
    out = []
    for pid in range(top - 1, max(0, top - 1 - max(1, min(limit, PAGE_MAX))), -1):
        p = keeper.find(ctx, pid)
        if p is not None and (status is None or p.status == status):
            out.append(proposal_json(p))
    return out


def _proposal(ctx: Ctx, id: int) -> dict:  # noqa: A002 (the RPC parameter's name)
    p = keeper.find(ctx, id)
    if p is None:
        raise QueryError("not_found", f"no proposal {id}")
    return proposal_json(p)


def _params(ctx: Ctx) -> dict:
    p = keeper.params(ctx)
    return {"votingPeriod": p["votingPeriod"], "executionDelay": p["executionDelay"], "quorum": str(p["quorum"]),
            "paused": keeper.paused(ctx)}


QUERIES = (
    Query("gov_proposals", _proposals,
          (QueryParam("status", "choice", "only proposals in this status", required=False, choices=STATUSES),
           QueryParam("before", "u64", "only ids below this (default: every id)", required=False),
           QueryParam("limit", "u64", "proposals examined, at most 1000 (default 1000)", required=False,
                      default=PAGE_MAX)),
          "proposals", arr(PROPOSAL), "Proposals, newest first, with their tallies and status: the limit newest "
          "ids below before are examined (ids run 1, 2, ...), those in status returned; the next page has before "
          "= the lowest id examined."),
    Query("gov_proposal", _proposal, (QueryParam("id", "u64", "proposal id"),), "proposal", PROPOSAL,
          "One proposal.", errors=("not_found",)),
    Query("gov_params", _params, (), "params", GOV_PARAMS,
          "Voting period and execution delay (s), quorum (wad of bonded stake), paused modules."),
)
