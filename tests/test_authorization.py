"""The authorization matrix: every privileged call of every module, sent by every account
that lacks its role (each other role, and an account with none), is refused with
`unauthorized` and changes nothing of the module's state."""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from tests.mech import KEYS, T0, WAD, Driver

ROLE_KEYS = {"originator": 1, "verifier": 2, "servicer": 3, "custodian": 4, "guardian": 5, "operator": 6, "none": 0}


def _args(d: Driver, call: str) -> dict:
    reg = {"kind": "loan", "principal": 1000, "rate": WAD // 10, "schedule": "bullet", "start": T0, "period": 86_400,
           "count": 30, "installments": [], "grace": 86_400, "docHash": b"\x01" * 32}
    return {
        "assets.register": reg,
        "assets.verify": {"id": 1, "grade": "A"},
        "assets.repay": {"id": 1, "amount": 1},
        "assets.markDefault": {"id": 1},
        "assets.writeOff": {"id": 1},
        "assets.recover": {"id": 1, "amount": 1},
        "oracle.reject": {"feed": "rate"},
        "tranches.createPool": {"assets": [1], "tranches": [[1, 0]], "unitSize": 1},
        "stable.mint": {"to": KEYS[0].address, "amount": 1},
        "stable.burn": {"amount": 1},
        "governance.pause": {"module": "market"},
    }[call] if call != "oracle.report" else d.report_args("rate", devnet.RATE + 1)


PRIVILEGED = {
    "assets.register": "originator", "assets.verify": "verifier", "assets.repay": "servicer",
    "assets.markDefault": "servicer", "assets.writeOff": "servicer", "assets.recover": "servicer",
    "oracle.report": "operator", "oracle.reject": "guardian", "tranches.createPool": "originator",
    "stable.mint": "custodian", "stable.burn": "custodian", "governance.pause": "guardian",
}
CASES = [(call, role) for call, need in PRIVILEGED.items() for role in ROLE_KEYS if role != need]


def _module_state(chain, module: str) -> list:
    """The module's records (the collateral ratio, rewritten every block, aside)."""
    prefixes = (b"gov/", b"pause/") if module == "governance" else (module.encode() + b"/",)
    return [kv for p in prefixes for kv in chain.store.iter_prefix(p) if kv[0] != b"stable/cr"]


@pytest.mark.parametrize("call, role", CASES, ids=[f"{c}-by-{r}" for c, r in CASES])
def test_a_privileged_call_without_its_role_is_refused_and_changes_nothing(devnet_chain, call, role):
    d = Driver(devnet_chain)
    module, name = call.split(".")
    key = KEYS[ROLE_KEYS[role]]
    raw = d.tx(key, module, name, _args(d, call))
    if call == "oracle.report":  # refused at admission already
        with pytest.raises(Exception) as exc:
            devnet_chain.app.check_tx(raw)
        assert getattr(exc.value, "name", "") == "unauthorized"
    before = _module_state(devnet_chain, module)
    _, (r,) = d.block(raw)
    assert r.error == "unauthorized", (call, role, r.error, r.message)
    assert _module_state(devnet_chain, module) == before


def test_the_matrix_covers_every_role_checked_call():
    """Every call whose handler checks a role is in the matrix (found by reading the code)."""
    import inspect
    import re

    from rwachain.modules.core.app import default_modules

    found = set()
    for m in default_modules():
        for c in m.calls.values():
            src = inspect.getsource(c.handler)
            if re.search(r"roles\.require\(|_pay\(", src):
                found.add(f"{m.name}.{c.name}")
    assert found <= set(PRIVILEGED), sorted(found - set(PRIVILEGED))


# Calls gated by bonded insurance stake rather than a role: every account without stake
# (each role holder but the operator, who is a devnet staker, and an account with none).
STAKE_GATED = {
    "governance.propose": {"action": "unpause", "target": "market", "account": b""},
    "governance.proposeChange": {"action": "setParams", "target": "reserve", "value": "discount=1"},
    "governance.vote": {"id": 1, "support": "yes"},  # the devnet's open proposal
}
STAKE_CASES = [(call, role) for call in STAKE_GATED for role in ROLE_KEYS
               if ROLE_KEYS[role] not in devnet.DEMO_STAKERS]


@pytest.mark.parametrize("call, role", STAKE_CASES, ids=[f"{c}-by-{r}" for c, r in STAKE_CASES])
def test_a_stake_gated_call_without_stake_is_refused_and_changes_nothing(devnet_chain, call, role):
    d = Driver(devnet_chain)
    module, name = call.split(".")
    before = _module_state(devnet_chain, module)
    _, (r,) = d.block(d.tx(KEYS[ROLE_KEYS[role]], module, name, STAKE_GATED[call]))
    assert r.error == "unauthorized", (call, role, r.error, r.message)
    assert _module_state(devnet_chain, module) == before
