"""Insurance staking and governance: stake, unbond, withdraw; proposals voted by bonded
stake with a quorum, a voting period and an execution delay; the guardian's pause, which
never blocks the floor redemption and only governance lifts; unfreezing a feed."""

from __future__ import annotations

import pytest

from genesis import devnet
from modules.bank import keeper as bank
from modules.governance import module as gov
from modules.insurance import module as insurance
from modules.oracle import keeper as oracle
from tests.mech import GUARDIAN, KEYS, ORIGINATOR, Driver, events

A, B, C = KEYS[0], KEYS[7], KEYS[8]
RWA = 10**6
VOTE = gov.DEFAULT_PARAMS["votingPeriod"]
DELAY = gov.DEFAULT_PARAMS["executionDelay"]


@pytest.fixture
def d(devnet_chain):
    d = Driver(devnet_chain)
    d.block(d.tx(A, "insurance", "stake", {"amount": 600 * RWA}), d.tx(B, "insurance", "stake", {"amount": 400 * RWA}))
    return d


def propose(d, action, target, account=b""):
    r = d.run(A, "governance", "propose", {"action": action, "target": target, "account": account})
    assert r.code == 0, r.message
    return events(r, "gov.proposed")[0]["id"]


def pass_(d, pid, voters=(A,)):
    for v in voters:
        assert d.run(v, "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    p = gov.get(d.ctx, pid)
    d.block(at=p["end"])
    assert gov.get(d.ctx, pid)["status"] == "passed"
    result, _ = d.block(at=p["end"] + DELAY)
    assert gov.get(d.ctx, pid)["status"] == "executed" and events(result, "gov.executed")


def test_stake_unbond_withdraw(d):
    assert insurance.total(d.ctx) == 1000 * RWA and insurance.stake_of(d.ctx, A.address) == 600 * RWA
    r = d.run(A, "insurance", "unbond", {"amount": 100 * RWA})
    release = events(r, "insurance.unbonding")[0]["release"]
    assert insurance.stake_of(d.ctx, A.address) == 500 * RWA
    assert d.run(A, "insurance", "withdraw", {}).error == "invalid_state"  # not matured
    before = bank.balance(d.ctx, A.address, "rwa")
    d.block(at=release)
    r = d.run(A, "insurance", "withdraw", {})
    assert r.code == 0 and bank.balance(d.ctx, A.address, "rwa") == before + 100 * RWA - r.fee
    assert d.run(A, "insurance", "unbond", {"amount": 10**15}).error == "insufficient_funds"


def test_the_guardian_pauses_only_governance_unpauses_and_the_floor_stays_open(d):
    r = d.run(GUARDIAN, "governance", "pause", {"module": "stable"})
    assert r.code == 0
    r = d.run(KEYS[4], "stable", "mint", {"to": C.address, "amount": 1})
    assert r.error == "paused"
    r = d.run(C, "stable", "redeem", {"amount": 10})  # not refused for the pause (the vault is empty here)
    assert r.error != "paused"
    pid = propose(d, "unpause", "stable")
    pass_(d, pid)
    assert d.run(KEYS[4], "stable", "mint", {"to": C.address, "amount": 1}).code == 0


def test_a_vote_below_quorum_or_against_is_rejected(d):
    pid = propose(d, "unpause", "market")
    assert d.run(B, "governance", "vote", {"id": pid, "support": "no"}).code == 0
    d.block(at=gov.get(d.ctx, pid)["end"])
    assert gov.get(d.ctx, pid)["status"] == "rejected"
    pid = propose(d, "unpause", "market")
    d.block(at=gov.get(d.ctx, pid)["end"])  # nobody voted: below quorum
    assert gov.get(d.ctx, pid)["status"] == "rejected"


def test_voting_rules(d):
    pid = propose(d, "unpause", "market")
    assert d.run(A, "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    assert d.run(A, "governance", "vote", {"id": pid, "support": "yes"}).error == "invalid_state"  # once
    assert d.run(C, "governance", "vote", {"id": pid, "support": "yes"}).error == "unauthorized"  # no stake
    r = d.run(C, "governance", "propose", {"action": "unpause", "target": "market", "account": b""})
    assert r.error == "unauthorized"
    r = d.run(A, "governance", "propose", {"action": "grantRole", "target": "emperor", "account": C.address})
    assert r.error == "invalid_state"


def test_governance_unfreezes_a_feed_and_grants_roles(d):
    hi = devnet.POLICIES["rate"]["hi"]
    d.run(KEYS[6], "oracle", "report", d.report_args("rate", hi + 1))
    assert oracle.state_of(d.ctx, "rate")["frozen"]
    pid = propose(d, "unfreeze", "rate")
    pass_(d, pid)
    assert not oracle.state_of(d.ctx, "rate")["frozen"]
    r = d.run(KEYS[6], "oracle", "report", d.report_args("rate", devnet.RATE + 1))
    assert r.code == 0, r.message
    pid = propose(d, "grantRole", "verifier", C.address)
    pass_(d, pid)
    from modules.roles import module as roles

    assert roles.has_role(d.ctx, "verifier", C.address)
    assert ORIGINATOR  # (the originator keeps its role)


def test_export_with_stakes_proposals_and_a_pause_reimports_to_the_same_root(d, tmp_path):
    from genesis.loader import export_genesis
    from node.chain import Chain

    d.run(GUARDIAN, "governance", "pause", {"module": "market"})
    pid = propose(d, "unpause", "market")
    d.run(B, "governance", "vote", {"id": pid, "support": "yes"})
    d.run(A, "insurance", "unbond", {"amount": 5 * RWA})
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(d.chain.app, f)
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == d.chain.store.root_hash
    t = gov.get(d.ctx, pid)["end"]
    d.block(at=t)
    other.produce([], time=t)  # the vote closes the same way on both
    assert other.store.root_hash == d.chain.store.root_hash
    other.close()
