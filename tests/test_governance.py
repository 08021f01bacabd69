"""Insurance staking and governance: stake, unbond, withdraw; proposals voted by bonded
stake with a quorum, a voting period and an execution delay; the guardian's pause, which
never blocks the floor redemption and only governance lifts; unfreezing a feed."""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.crypto import encode_address as encode
from rwachain.modules.governance import module as gov
from rwachain.modules.insurance import module as insurance
from rwachain.modules.oracle import keeper as oracle
from tests.mech import GUARDIAN, KEYS, ORIGINATOR, events

A, B, C = KEYS[0], KEYS[2], KEYS[8]  # (none of them stakes in the devnet genesis)
RWA = 1000 * 10**6  # a thousand RWA: enough to outvote the devnet's stakers
BONDED0 = len(devnet.DEMO_STAKERS) * devnet.DEMO_STAKE
VOTE = gov.DEFAULT_PARAMS["votingPeriod"]
DELAY = gov.DEFAULT_PARAMS["executionDelay"]


@pytest.fixture
def d(d):
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
    d.block(at=p.end)
    assert gov.get(d.ctx, pid).status == "passed"
    result, _ = d.block(at=p.end + DELAY)
    assert gov.get(d.ctx, pid).status == "executed" and events(result, "gov.executed")


def test_stake_unbond_withdraw(d):
    assert insurance.total(d.ctx) == 1000 * RWA + BONDED0 and insurance.stake_of(d.ctx, A.address) == 600 * RWA
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


def test_a_paused_insurance_module_still_takes_stake_so_governance_can_lift_it(d):
    assert d.run(GUARDIAN, "governance", "pause", {"module": "insurance"}).code == 0
    assert d.run(A, "insurance", "unbond", {"amount": RWA}).error == "paused"
    assert d.run(A, "insurance", "claim", {}).error == "paused"
    r = d.run(C, "insurance", "stake", {"amount": 10 * RWA})  # new voters can always come in
    assert r.code == 0, r.message
    pid = propose(d, "unpause", "insurance")
    pass_(d, pid, voters=(A, C))
    assert d.run(A, "insurance", "unbond", {"amount": RWA}).code == 0


def test_a_vote_below_quorum_or_against_is_rejected(d):
    pid = propose(d, "unpause", "market")
    assert d.run(B, "governance", "vote", {"id": pid, "support": "no"}).code == 0
    d.block(at=gov.get(d.ctx, pid).end)
    assert gov.get(d.ctx, pid).status == "rejected"
    pid = propose(d, "unpause", "market")
    d.block(at=gov.get(d.ctx, pid).end)  # nobody voted: below quorum
    assert gov.get(d.ctx, pid).status == "rejected"


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
    assert oracle.state_of(d.ctx, "rate").frozen
    pid = propose(d, "unfreeze", "rate")
    pass_(d, pid)
    assert not oracle.state_of(d.ctx, "rate").frozen
    r = d.run(KEYS[6], "oracle", "report", d.report_args("rate", devnet.RATE + 1))
    assert r.code == 0, r.message
    pid = propose(d, "grantRole", "verifier", C.address)
    pass_(d, pid)
    from rwachain.modules.roles import module as roles

    assert roles.has_role(d.ctx, "verifier", C.address)
    assert ORIGINATOR  # (the originator keeps its role)


def test_export_with_stakes_proposals_and_a_pause_reimports_to_the_same_root(d, tmp_path):
    from rwachain.genesis.loader import export_genesis
    from rwachain.node.chain import Chain

    d.run(GUARDIAN, "governance", "pause", {"module": "market"})
    pid = propose(d, "unpause", "market")
    d.run(B, "governance", "vote", {"id": pid, "support": "yes"})
    d.run(A, "insurance", "unbond", {"amount": 5 * RWA})
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(d.chain.app, f)
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == d.chain.store.root_hash
    t = gov.get(d.ctx, pid).end
    d.block(at=t)
    other.produce([], time=t)  # the vote closes the same way on both
    assert other.store.root_hash == d.chain.store.root_hash
    other.close()


def propose_change(d, action, target, value):
    return d.run(A, "governance", "proposeChange", {"action": action, "target": target, "value": value})


def test_governance_changes_parameters_within_hard_bounds(d):
    from rwachain.modules.reserve import module as reserve

    r = propose_change(d, "setParams", "reserve", "discount=25000000000000000,premium=15000000000000000")
    assert r.code == 0, r.message
    pass_(d, events(r, "gov.proposed")[0]["id"])
    p = reserve.params(d.ctx)
    assert p["discount"] == 25 * 10**15 and p["premium"] == 15 * 10**15 and p["epoch"] == 86_400


@pytest.mark.parametrize("action, target, value, error", [
    ("setParams", "reserve", "discount=600000000000000000", "invalid_state"),  # above its hard bound (0.5)
    ("setParams", "insurance", "unbonding=86400", "invalid_state"),  # shorter than grace + default window
    ("setParams", "stable", "hSlope=1000000000000000000", "invalid_state"),  # h_base + h_slope >= 1
    ("setParams", "market", "band=1", "invalid_state"),
    ("setParams", "reserve", "nosuch=1", "invalid_state"),
    ("setParams", "reserve", "discount=0.5", "invalid_state"),  # no fractions: wad integers
    ("setParams", "stable", "hBase=1;2", "invalid_state"),  # a list of five, one per grade
    ("setParams", "bank", "x=1", "invalid_state"),
    ("setPolicy", "rate", "quorum=9", "invalid_state"),  # more than the four operators
    ("setPolicy", "weather", "quorum=1", "invalid_state"),
    ("setOperators", "oracle", "rwa1xyz:00:00", "invalid_state"),
])
def test_changes_beyond_the_hard_bounds_are_refused(d, action, target, value, error):
    before = gov.params(d.ctx), d.ctx.get_int(gov.NEXT)
    r = propose_change(d, action, target, value)
    assert r.error == error, r.message
    assert (gov.params(d.ctx), d.ctx.get_int(gov.NEXT)) == before


def test_governance_changes_an_oracle_policy_and_the_operator_set(d):
    from rwachain.modules.core import bls
    from rwachain.modules.oracle import keeper as oracle

    r = propose_change(d, "setPolicy", "rate", "maxAge=43200,delay=7200")
    assert r.code == 0, r.message
    pass_(d, events(r, "gov.proposed")[0]["id"])
    pol = oracle.policy(d.ctx, "rate")
    assert pol.maxAge == 43_200 and pol.delay == 7200 and pol.quorum == devnet.QUORUM
    # a new set: the first three operators and a fresh key; the epoch moves on
    ops = [(encode(KEYS[devnet.OPERATOR_ACCOUNT0 + j].address), devnet.operator_secret(j)) for j in range(3)]
    ops.append((encode(KEYS[1].address), bls.secret_from_seed(b"\x07" * 32)))
    value = ";".join(f"{a}:{bls.public_key(sk).hex()}:{bls.prove_possession(sk).hex()}" for a, sk in ops)
    epoch = oracle.operator_set(d.ctx).epoch
    r = propose_change(d, "setOperators", "oracle", value)
    assert r.code == 0, r.message
    pass_(d, events(r, "gov.proposed")[0]["id"])
    s = oracle.operator_set(d.ctx)
    assert s.epoch == epoch + 1 and len(s.operators) == 4 and s.operators[3].address == KEYS[1].address


def test_a_change_that_became_invalid_fails_at_execution(d):
    r = propose_change(d, "setPolicy", "rate", "quorum=4")
    assert r.code == 0, r.message
    pid = events(r, "gov.proposed")[0]["id"]
    for v in (A,):
        assert d.run(v, "governance", "vote", {"id": pid, "support": "yes"}).code == 0
    # a later change shrinks the operator set to three: valid when proposed, out of reach once
    # the first change (a quorum of 4) has executed
    from rwachain.modules.oracle import keeper as oracle

    ops = oracle.operator_set(d.ctx).operators[:3]
    value = ";".join(f"{encode(o.address)}:{o.pubkey.hex()}:{o.pop.hex()}" for o in ops)
    r2 = propose_change(d, "setOperators", "oracle", value)
    assert r2.code == 0, r2.message
    pid2 = events(r2, "gov.proposed")[0]["id"]
    assert d.run(A, "governance", "vote", {"id": pid2, "support": "yes"}).code == 0
    end = gov.get(d.ctx, pid2).end
    d.block(at=end)
    result, _ = d.block(at=end + DELAY)
    assert gov.get(d.ctx, pid).status == "executed" and gov.get(d.ctx, pid2).status == "failed"
    assert "quorum of 4" in events(result, "gov.failed")[0]["reason"]
    assert oracle.policy(d.ctx, "rate").quorum == 4 and len(oracle.operator_set(d.ctx).operators) == 4
