"""The assets module's life cycle and role refusals, on a real chain.

Demo assets 1..3 come from the devnet genesis (verified at genesis time); tests register
their own where they need a fresh one.
"""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.modules.assets import keeper, marks
from rwachain.modules.bank import keeper as bank
from tests.mech import DAY, ORIGINATOR, SERVICER, T0, VERIFIER, WAD, Driver, devnet_chain_at, events

MONTH = 30 * DAY
RUSD = "rusd"


def reg_args(**kw):
    a = {"kind": "loan", "principal": 12_000 * 10**6, "rate": 12 * WAD // 100, "schedule": "equal",
         "start": T0, "period": MONTH, "count": 12, "installments": [], "grace": 30 * DAY,
         "docHash": b"\x11" * 32}
    a.update(kw)
    return a


def register(d, **kw) -> int:
    r = d.run(ORIGINATOR, "assets", "register", reg_args(**kw))
    assert r.code == 0, r.message
    return events(r, "assets.registered")[0]["id"]


def rec(d, i):
    return keeper.get(d.ctx, i)


def test_register_verify_repay_until_repaid(d):
    i = register(d)
    assert rec(d, i).status == "registered" and rec(d, i).grade is None
    r = d.run(VERIFIER, "assets", "verify", {"id": i, "grade": "B"})
    assert r.code == 0 and rec(d, i).status == "verified" and rec(d, i).grade == 1
    sched = keeper.schedule_of(d.ctx, i)
    first = sched[0][1] + sched[0][2]
    bal = bank.balance(d.ctx, ORIGINATOR.address, RUSD)
    r = d.run(SERVICER, "assets", "repay", {"id": i, "amount": first + 5})
    assert r.code == 0, r.message
    assert bank.balance(d.ctx, ORIGINATOR.address, RUSD) == bal + first + 5
    sched = keeper.schedule_of(d.ctx, i)
    assert sched[0][3] == first and sched[1][3] == 5  # oldest first
    assert events(r, "assets.repayment")[0]["outstanding"] == keeper.outstanding(sched)
    r = d.run(SERVICER, "assets", "repay", {"id": i, "amount": keeper.outstanding(sched)})
    assert r.code == 0 and rec(d, i).status == "repaid"
    assert [h.kind for h in keeper.history(d.ctx, i)] == ["repay", "repay"]
    assert keeper.ids_by(d.ctx, keeper.status_prefix("repaid")) == [i]


@pytest.mark.parametrize("call, key, args, error", [
    ("register", VERIFIER, reg_args(), "unauthorized"),
    ("verify", ORIGINATOR, {"id": 1, "grade": "A"}, "unauthorized"),
    ("repay", ORIGINATOR, {"id": 1, "amount": 1}, "unauthorized"),
    ("markDefault", VERIFIER, {"id": 1}, "unauthorized"),
    ("writeOff", ORIGINATOR, {"id": 1}, "unauthorized"),
    ("recover", VERIFIER, {"id": 1, "amount": 1}, "unauthorized"),
    ("verify", VERIFIER, {"id": 1, "grade": "A"}, "invalid_state"),  # already verified
    ("writeOff", SERVICER, {"id": 1}, "invalid_state"),  # not defaulted
    ("recover", SERVICER, {"id": 1, "amount": 1}, "invalid_state"),  # not defaulted
    ("repay", SERVICER, {"id": 99, "amount": 1}, "not_found"),
    ("repay", SERVICER, {"id": 2, "amount": 10**15}, "invalid_state"),  # above outstanding
    ("register", ORIGINATOR, reg_args(grace=400 * DAY), "limit_exceeded"),
    ("register", ORIGINATOR, reg_args(start=T0 - 2 * MONTH), "bad_schedule"),  # already due
    ("register", ORIGINATOR, reg_args(schedule="given", start=0, period=0, count=0,
                                      installments=[[T0 + DAY, 5, 1]]), "bad_schedule"),  # sum != principal
    ("register", ORIGINATOR, reg_args(installments=[[T0 + DAY, 5, 1]]), "bad_schedule"),
])
def test_every_call_checks_role_and_state(d, call, key, args, error):
    before = {i: rec(d, i) for i in (1, 2, 3)}
    r = d.run(key, "assets", call, args)
    assert r.error == error and r.fee > 0
    assert {i: rec(d, i) for i in (1, 2, 3)} == before


def test_the_originator_cannot_verify_its_own_asset(devnet_chain, tmp_path):
    import json

    from rwachain.node.chain import Chain

    g = devnet.build()
    g["roles"]["verifier"].append(ORIGINATOR.address_text)
    p = tmp_path / "g.json"
    p.write_text(json.dumps(g))
    chain = Chain(str(tmp_path / "c"), devnet.validator_key())
    chain.init_genesis(str(p))
    d = Driver(chain)
    i = register(d)
    r = d.run(ORIGINATOR, "assets", "verify", {"id": i, "grade": "A"})
    assert r.error == "unauthorized" and "originator" in r.message
    chain.close()


def test_given_and_generated_schedules(d):
    i = register(d, schedule="given", start=0, period=0, count=0,
                 installments=[[T0 + DAY, 600, 10], [T0 + 2 * DAY, 400, 5]], principal=1000)
    assert keeper.schedule_of(d.ctx, i) == [[T0 + DAY, 600, 10, 0], [T0 + 2 * DAY, 400, 5, 0]]
    for kind in ("bullet", "interest_only", "equal"):
        j = register(d, schedule=kind)
        s = keeper.schedule_of(d.ctx, j)
        assert sum(row[1] for row in s) == 12_000 * 10**6
        assert len(s) == (1 if kind == "bullet" else 12)


def test_overdue_then_cured_then_default_by_grace_then_write_off_and_recover(d):
    s = keeper.schedule_of(d.ctx, 1)  # demo asset 1: equal monthly, grace 30 days
    due0, amt0 = s[0][0], s[0][1] + s[0][2]
    result, _ = d.block(at=due0)
    assert rec(d, 1).status == "verified"  # due, not past due
    result, _ = d.block(at=due0 + 1)
    assert rec(d, 1).status == "overdue" and events(result, "assets.overdue")[0]["id"] == 1
    r = d.run(SERVICER, "assets", "repay", {"id": 1, "amount": amt0})
    assert rec(d, 1).status == "verified" and events(r, "assets.verified")[0]["reason"] == "cured"
    due1 = s[1][0]
    d.block(at=due1 + 1)
    assert rec(d, 1).status == "overdue"
    grace = rec(d, 1).grace
    d.block(at=due1 + grace - 1)
    assert rec(d, 1).status == "overdue"
    result, _ = d.block(at=due1 + grace)
    assert rec(d, 1).status == "defaulted"
    assert events(result, "assets.defaulted")[0]["reason"] == "grace"
    assert marks.value_now(d.ctx, rec(d, 1))[0] > 0
    r = d.run(SERVICER, "assets", "recover", {"id": 1, "amount": 1000})
    assert r.code == 0 and rec(d, 1).recovered == 1000
    r = d.run(SERVICER, "assets", "writeOff", {"id": 1})
    assert r.code == 0 and rec(d, 1).status == "written_off"
    assert marks.value_now(d.ctx, rec(d, 1))[0] == 0 and keeper.mark(d.ctx, 1).value == 0
    r = d.run(SERVICER, "assets", "recover", {"id": 1, "amount": 500})
    assert r.code == 0 and rec(d, 1).recovered == 1500
    assert [h.kind for h in keeper.history(d.ctx, 1)] == ["repay", "recover", "recover"]


def test_the_servicer_may_declare_a_default(d):
    r = d.run(SERVICER, "assets", "markDefault", {"id": 2})
    assert r.code == 0 and events(r, "assets.defaulted")[0]["reason"] == "servicer"
    assert keeper.ids_by(d.ctx, keeper.status_prefix("defaulted")) == [2]
    r = d.run(SERVICER, "assets", "repay", {"id": 2, "amount": 1})
    assert r.error == "invalid_state"  # a defaulted asset takes recoveries


def test_a_block_revalues_only_the_assets_that_depend_on_its_changes(d):
    # one asset's repayment: only that asset
    result, _ = d.block(d.tx(SERVICER, "assets", "repay", {"id": 2, "amount": 1}))
    assert events(result, "assets.revalued") == [{"count": 1}]
    assert keeper.mark(d.ctx, 2).time == d.time and keeper.mark(d.ctx, 1).time == T0  # genesis mark
    # a per-grade feed of grade C: only demo asset 3 (grade C)
    result, (r,) = d.block(d.report("spread/C", devnet.SPREAD[2] * WAD // 1000 + 1))
    assert r.code == 0, r.message
    assert events(result, "assets.revalued") == [{"count": 1}]
    assert keeper.mark(d.ctx, 3).time == d.time and keeper.mark(d.ctx, 1).time == T0
    # an empty block revalues nothing
    result, _ = d.block()
    assert events(result, "assets.revalued") == []
    # the benchmark rate: every valued asset
    result, _ = d.block(d.report("rate", devnet.RATE + 1))
    assert events(result, "assets.revalued") == [{"count": 5}]


def test_indexes_by_originator_and_status(d):
    i = register(d)
    assert keeper.ids_by(d.ctx, keeper.BY_ORIG + ORIGINATOR.address) == [1, 2, 3, 4, 5, i]
    assert keeper.ids_by(d.ctx, keeper.status_prefix("pooled")) == [4, 5]  # the devnet's demo pool
    assert keeper.ids_by(d.ctx, keeper.status_prefix("registered")) == [i]
    assert keeper.ids_by(d.ctx, keeper.status_prefix("verified")) == [1, 2, 3]
    assert keeper.ids_by(d.ctx, keeper.BY_ORIG + VERIFIER.address) == []


def test_export_after_mechanism_activity_reimports_to_the_same_root(d, tmp_path):
    from rwachain.genesis.loader import export_genesis
    from rwachain.node.chain import Chain

    i = register(d)
    d.block(d.tx(VERIFIER, "assets", "verify", {"id": i, "grade": "D"}),
            d.tx(SERVICER, "assets", "repay", {"id": 2, "amount": 7}))
    d.block(d.report("rate", devnet.RATE + 10 * devnet.POLICIES["rate"]["stepAbs"]))  # queued
    d.block(d.report("grade/3", 3))
    d.block(at=keeper.schedule_of(d.ctx, 1)[0][0] + 1)  # asset 1 overdue
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(d.chain.app, f)
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == d.chain.store.root_hash
    # and the re-imported chain goes on the same way: the queued rate applies, asset 1 defaults
    t = d.time + 40 * DAY
    d.block(at=t)
    other.produce([], time=t)
    assert other.store.root_hash == d.chain.store.root_hash
    other.close()


# A mechanism scenario replayed on two fresh stores: same receipts, same root, pinned. A
# change to MECHANISM_ROOT is a consensus change (asset, oracle or valuation rules moved).
MECHANISM_ROOT = "39ba85b42124ff02321be87d72bb93d63fb3b795d47412521ed7c51dc7c8b2bc"


def _scenario(chain) -> tuple[list[str], str]:
    d = Driver(chain)
    step = devnet.POLICIES["rate"]["stepAbs"]
    s1 = keeper.schedule_of(d.ctx, 1)
    log = []

    def note(result):
        for r in result.receipts:
            log.append(str(r.code))
            log.extend(e["type"] for e in r.events)
        log.extend(e["type"] for e in result.events)

    note(d.block(d.tx(ORIGINATOR, "assets", "register", reg_args()), d.report("rate", devnet.RATE + step))[0])
    note(d.block(d.tx(VERIFIER, "assets", "verify", {"id": 4, "grade": "C"}),
                 d.tx(SERVICER, "assets", "repay", {"id": 2, "amount": 10**9}))[0])
    note(d.block(d.report("rate", devnet.RATE + 5 * step), d.report("grade/4", 3))[0])
    note(d.block(at=s1[0][0] + 1)[0])  # the queued rate applies; asset 1 goes overdue
    note(d.block(d.tx(SERVICER, "assets", "repay", {"id": 1, "amount": s1[0][1] + s1[0][2]}))[0])
    note(d.block(at=s1[1][0] + 30 * DAY)[0])  # asset 1 defaults by grace
    note(d.block(d.tx(SERVICER, "assets", "recover", {"id": 1, "amount": 10**8}),
                 d.tx(SERVICER, "assets", "writeOff", {"id": 1}))[0])
    return log, chain.store.root_hash.hex()


def test_mechanism_scenario_replays_to_a_pinned_root(tmp_path):

    runs = []
    for name in ("a", "b"):
        chain = devnet_chain_at(tmp_path / name)
        runs.append(_scenario(chain))
        chain.close()
    assert runs[0] == runs[1]
    log, root = runs[0]
    assert "assets.defaulted" in log and "assets.written_off" in log and "oracle.applied" in log
    assert root == MECHANISM_ROOT


def test_every_stored_record_reencodes_to_its_own_bytes(d):
    """The typed records write what the chain stores: for every asset, payment, mark and pool
    mark of a chain with pooled, repaid and registered assets, to_stored encodes to the stored
    bytes exactly (keys in canonical order, so the encoder's fast path packs them as they are)."""
    from rwachain.modules.assets.records import Asset, Mark, Payment, PoolMark
    from rwachain.state.codec import decode, encode

    i = register(d)
    assert d.run(SERVICER, "assets", "repay", {"id": 1, "amount": 10**6}).code == 0
    assert d.run(SERVICER, "assets", "recover", {"id": i, "amount": 1}).code != 0  # refused: changes nothing
    seen = {}
    for prefix, cls in ((keeper.REC, Asset), (keeper.HIST, Payment), (keeper.MARK, Mark),
                        (keeper.POOL_MARK, PoolMark)):
        for k, _ in d.ctx.iter_prefix(prefix):
            raw = d.ctx.get(k)
            stored = cls.from_stored(decode(raw)).to_stored()
            assert list(stored) == sorted(stored) and encode(stored) == raw, k
            seen[cls] = seen.get(cls, 0) + 1
    assert seen[Asset] >= 4 and seen[Payment] >= 1 and seen[Mark] >= 3 and seen[PoolMark] >= 1
