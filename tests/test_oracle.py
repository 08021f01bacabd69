"""Oracle reports against the policy, on a real chain with real BLS signatures.

Each refusal is checked twice where it applies: at admission (check_tx raises the typed
error, nothing changes) and inside a block (the receipt carries the code, the fee is paid).
"""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.genesis.loader import GenesisError, GenesisFile
from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.core import bls
from rwachain.modules.core.errors import (
    BadReportSignature,
    FeedFrozen,
    GradeJump,
    InvalidState,
    QuorumNotMet,
    RoundNotNewer,
    StaleFeed,
    Unauthorized,
    WrongEpoch,
)
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.report import bitmap
from tests.mech import DAY, GUARDIAN, OPERATORS, ORIGINATOR, SECRETS, WAD, events

RATE = devnet.RATE
STEP = devnet.POLICIES["rate"]["stepAbs"]


def value(d, feed):
    return oracle.state_of(d.ctx, feed).value


def admit_error(d, raw):
    with pytest.raises(Exception) as exc:
        d.chain.app.check_tx(raw)
    return exc.value


def test_a_quorum_report_within_the_step_applies_and_revalues_every_asset(d):
    raw = d.report("rate", RATE + STEP)
    d.chain.app.check_tx(raw)
    result, (r,) = d.block(raw)
    assert r.code == 0, r.message
    assert events(r, "oracle.applied")[0]["value"] == RATE + STEP
    assert value(d, "rate") == RATE + STEP
    assert oracle.state_of(d.ctx, "rate").round == 1
    # the benchmark rate feeds every asset: all five demo assets are revalued at this block
    assert events(result, "assets.revalued") == [{"count": 5}]
    assert all(assets.mark(d.ctx, i).time == d.time for i in (1, 2, 3, 4, 5))


@pytest.mark.parametrize("case, err", [
    ("two_signers", QuorumNotMet),
    ("bitmap_too_long", BadReportSignature),
    ("bitmap_stray_bit", BadReportSignature),
    ("bitmap_names_nonsigner", BadReportSignature),
    ("other_chain", BadReportSignature),
    ("other_bytes", BadReportSignature),
    ("other_epoch", WrongEpoch),
])
def test_refused_reports_at_admission_and_in_a_block(d, case, err):
    kw = {
        "two_signers": {"signers": (0, 1)},
        "bitmap_too_long": {"bits": b"\x07\x00"},
        "bitmap_stray_bit": {"bits": bytes([0x07 | 0x10])},
        "bitmap_names_nonsigner": {"bits": bitmap([0, 1, 3], 4)},
        "other_chain": {"chain": "rwa-other-1"},
        "other_bytes": {"signed_value": RATE + 2},
        "other_epoch": {"epoch": 2},
    }[case]
    raw = d.report("rate", RATE + 1, **kw)
    assert isinstance(admit_error(d, raw), err)
    before = d.chain.store.root_hash
    _, (r,) = d.block(raw)
    assert r.code == err.code and r.fee > 0
    assert value(d, "rate") == RATE and oracle.state_of(d.ctx, "rate").round == 0
    assert before != d.chain.store.root_hash  # only the fee and nonce moved


def test_rounds_only_move_forward(d):
    _, (r,) = d.block(d.report("rate", RATE + 1, round_=5))
    assert r.code == 0
    for rnd in (5, 4):
        raw = d.report("rate", RATE + 2, round_=rnd)
        assert isinstance(admit_error(d, raw), RoundNotNewer)
        _, (r,) = d.block(raw)
        assert r.error == "round_not_newer"
    assert value(d, "rate") == RATE + 1


def test_future_and_stale_observations_are_refused(d):
    _, (r,) = d.block(d.report("rate", RATE + 1, observed_at=d.time + 100), dt=1)
    assert r.error == "future_observation"
    max_age = devnet.POLICIES["rate"]["maxAge"]
    _, (r,) = d.block(d.report("rate", RATE + 1, observed_at=d.time + 1 - max_age - 1), dt=1)
    assert r.error == "report_too_old"
    assert value(d, "rate") == RATE


def test_out_of_bounds_freezes_the_feed_and_never_clamps(d):
    hi = devnet.POLICIES["rate"]["hi"]
    _, (r,) = d.block(d.report("rate", hi + 1))
    assert r.code == 0 and events(r, "oracle.frozen")[0]["value"] == hi + 1
    st = oracle.state_of(d.ctx, "rate")
    assert st.frozen and st.value == RATE
    raw = d.report("rate", RATE)
    assert isinstance(admit_error(d, raw), FeedFrozen)
    _, (r,) = d.block(raw)
    assert r.error == "feed_frozen"
    with pytest.raises(FeedFrozen):
        oracle.fresh(d.ctx, "rate")
    with pytest.raises(StaleFeed):  # an asset priced by it fails closed
        marks.fresh_value(d.ctx, assets.get(d.ctx, 1))


def test_a_jump_beyond_the_step_is_queued_then_applies_after_the_delay(d):
    delay = devnet.POLICIES["rate"]["delay"]
    _, (r,) = d.block(d.report("rate", RATE + 4 * STEP))
    q = events(r, "oracle.queued")[0]
    assert q["activatesAt"] == d.time + delay and value(d, "rate") == RATE
    assert oracle.read(d.ctx, "rate").pending == RATE + 4 * STEP
    d.block(at=d.time + delay - 1)
    assert value(d, "rate") == RATE
    result, _ = d.block(at=d.time + 1)
    assert value(d, "rate") == RATE + 4 * STEP
    assert events(result, "oracle.applied")[0]["queued"] is True
    assert oracle.state_of(d.ctx, "rate").pending is None


def test_the_guardian_rejects_a_queued_move_and_only_the_guardian(d):
    d.block(d.report("rate", RATE + 4 * STEP))
    r = d.run(ORIGINATOR, "oracle", "reject", {"feed": "rate"})
    assert r.error == Unauthorized.name
    r = d.run(GUARDIAN, "oracle", "reject", {"feed": "rate"})
    assert r.code == 0 and events(r, "oracle.rejected")[0]["value"] == RATE + 4 * STEP
    d.block(at=d.time + devnet.POLICIES["rate"]["delay"] + 1)
    assert value(d, "rate") == RATE
    r = d.run(GUARDIAN, "oracle", "reject", {"feed": "rate"})
    assert r.error == InvalidState.name


def test_an_in_step_report_supersedes_a_queued_move(d):
    d.block(d.report("rate", RATE + 4 * STEP))
    _, (r,) = d.block(d.report("rate", RATE + STEP))
    assert events(r, "oracle.superseded") and value(d, "rate") == RATE + STEP
    assert oracle.state_of(d.ctx, "rate").pending is None


def test_the_step_is_measured_against_the_window_start(d):
    window = devnet.POLICIES["rate"]["window"]
    start = (d.time // window + 1) * window  # a fresh window
    _, (r,) = d.block(d.report("rate", RATE + STEP, observed_at=start), at=start)
    assert r.code == 0 and value(d, "rate") == RATE + STEP
    # a second in-window move of one more step is two steps from the window's start: queued
    _, (r,) = d.block(d.report("rate", RATE + 2 * STEP))
    assert events(r, "oracle.queued")
    # in the next window the start value is RATE + STEP: one step is fine again
    nxt = start + window
    _, (r,) = d.block(d.report("rate", RATE + 2 * STEP, observed_at=nxt), at=nxt)
    assert events(r, "oracle.applied") and value(d, "rate") == RATE + 2 * STEP


def test_a_grade_moves_one_notch_per_report(d):
    feed = "grade/1"  # demo asset 1 is grade B
    raw = d.report(feed, 3)
    assert isinstance(admit_error(d, raw), GradeJump)
    _, (r,) = d.block(raw)
    assert r.error == GradeJump.name
    result, (r,) = d.block(d.report(feed, 2))
    assert r.code == 0
    assert events(result, "assets.graded") == [{"id": 1, "grade": "C", "previous": "B"}]
    assert assets.get(d.ctx, 1).grade == 2
    assert events(result, "assets.revalued") == [{"count": 1}]


def test_only_operators_submit_reports(d):
    raw = d.report("rate", RATE + 1, sender=ORIGINATOR)
    assert isinstance(admit_error(d, raw), Unauthorized)


def test_stale_values_make_priced_actions_fail_closed(d):
    max_age = devnet.POLICIES["rate"]["maxAge"]
    d.block(at=d.time + max_age + 10)
    assert oracle.read(d.ctx, "rate").stale
    with pytest.raises(StaleFeed):
        oracle.fresh(d.ctx, "rate")
    rec = assets.get(d.ctx, 1)
    with pytest.raises(StaleFeed):
        marks.fresh_value(d.ctx, rec)
    # a fresh report cures it
    d.block(d.report("rate", RATE + 1, observed_at=d.time))
    assert marks.fresh_value(d.ctx, rec) > 0


def test_block_execution_reuses_the_admission_verification(d, monkeypatch):
    calls = []
    real = bls.fast_aggregate_verify

    def counting(*a):
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(bls, "fast_aggregate_verify", counting)
    raw = d.report("rate", RATE + 1)
    d.chain.app.check_tx(raw)
    d.chain.app.check_tx(raw)
    _, (r,) = d.block(raw)
    assert r.code == 0 and len(calls) == 1


def counted_verifications(monkeypatch) -> list:
    """A list that gains one entry per FastAggregateVerify actually computed."""
    calls = []
    real = bls.fast_aggregate_verify
    monkeypatch.setattr(bls, "fast_aggregate_verify", lambda *a: calls.append(1) or real(*a))
    return calls


def test_flaw_verdicts_shared_a_verdict_noted_by_one_chain_spares_another_none(d, tmp_path, monkeypatch):
    """A checker process's verdict noted in one chain (as the admission path of
    test_sigcheck does) does not reach a second chain of the same genesis in the same
    process: its admission verifies the identical report itself, once, and its block reuses
    that. Failed while the verdicts lived in one module-level cache (no verification at all)."""
    from tests.mech import Driver, devnet_chain_at

    raw = d.report("rate", RATE + 1)
    d.chain.app.note_signature_job(*d.chain.app.signature_job(raw))
    other = devnet_chain_at(tmp_path / "other")
    try:
        calls = counted_verifications(monkeypatch)
        other.app.check_tx(raw)
        _, (r,) = Driver(other).block(raw)
        assert r.code == 0, r.message
        assert len(calls) == 1
    finally:
        other.close()


def test_flaw_verdicts_shared_two_apps_keep_their_own_verdicts(d, tmp_path, monkeypatch):
    """Two Apps in one process: the verdict of a report admitted by one lands in that
    chain's one signature cache, beside (not over) the transaction's own entry; the other
    verifies the report for itself. Failed while the verdicts were shared."""
    import hashlib

    from tests.mech import devnet_chain_at

    raw = d.report("rate", RATE + 1)
    other = devnet_chain_at(tmp_path / "other")
    try:
        before, others = len(d.chain.signatures), len(other.signatures)
        d.chain.app.check_tx(raw)
        assert len(d.chain.signatures) == before + 2  # the transaction's checks and the report's verdict
        assert type(d.chain.signatures.get(hashlib.sha256(raw).digest())) is tuple
        assert len(other.signatures) == others
        calls = counted_verifications(monkeypatch)
        other.app.check_tx(raw)
        assert len(calls) == 1
    finally:
        other.close()


def test_a_noted_verdict_covers_only_its_own_signature(d, monkeypatch):
    """A verdict for one report's signature does not let a report with another signature
    over the same fields pass, at admission or in a block."""
    good = d.report("rate", RATE + 1)
    d.chain.app.note_signature_job(*d.chain.app.signature_job(good))
    d.nonces.clear()
    forged = d.report("rate", RATE + 1, signed_value=RATE + 2)
    assert isinstance(admit_error(d, forged), BadReportSignature)
    _, (r,) = d.block(forged)
    assert r.code != 0 and value(d, "rate") == RATE


def test_proof_of_possession_refuses_a_rogue_key(d):
    honest = bls.public_key(SECRETS[0])
    # a rogue key: the attacker knows no secret for it, so it cannot prove possession
    rogue_sk = bls.secret_from_seed(b"r" * 32)
    rogue = bls.public_key(rogue_sk)
    forged = bls.prove_possession(SECRETS[0])  # a proof for another key
    ctx = d.chain.app.reader()
    from rwachain.state.overlay import Overlay

    w = d.chain.app.context(Overlay(d.chain.store), ctx.block)
    with pytest.raises(InvalidState, match="proof of possession"):
        oracle.set_operators(w, [(OPERATORS[0].address, honest, bls.prove_possession(SECRETS[0])),
                                 (OPERATORS[1].address, rogue, forged)])
    assert oracle.set_operators(w, [(OPERATORS[0].address, honest, bls.prove_possession(SECRETS[0])),
                                    (OPERATORS[1].address, rogue, bls.prove_possession(rogue_sk))]) == 2


def test_genesis_refuses_an_operator_without_a_valid_proof(tmp_path):
    import json

    g = devnet.build()
    g["oracle"]["operators"][1]["pop"] = g["oracle"]["operators"][0]["pop"]
    p = tmp_path / "g.json"
    p.write_text(json.dumps(g))
    with pytest.raises(GenesisError, match=r"oracle.operators\[1\].pop"):
        GenesisFile(str(p))


def test_devnet_operator_keys_follow_the_documented_derivation():
    import hashlib

    for j in range(devnet.OPERATORS):
        sk = bls.secret_from_seed(hashlib.sha256(b"rwachain/oracle-devkey/" + j.to_bytes(4, "big")).digest())
        assert bls.public_key(sk).hex() == devnet.build()["oracle"]["operators"][j]["blsPubkey"][2:]
    assert WAD and DAY  # units used across the suite


def test_a_feed_going_stale_revalues_its_dependents_at_once(d):
    """No report: the first block after a feed's maximum age marks the assets priced with it
    stale, so the market's reference price fails closed then, not at the next daily mark."""
    from rwachain.modules.assets import keeper as assets_keeper
    from rwachain.modules.core.errors import StaleFeed as Stale
    from rwachain.modules.market import keeper as market

    t0 = d.time
    rate = oracle.state_of(d.ctx, "rate").value
    # reported an hour in, observed a minute in: the marks renew at once and next in a day
    d.block(d.report("rate", rate, observed_at=t0 + 60), at=t0 + 3600)
    max_age = devnet.POLICIES["rate"]["maxAge"]
    d.block(at=t0 + 60 + max_age)  # its last fresh second
    assert market.reference_price(d.ctx, "unit/p1/t0") > 0
    result, _ = d.block(at=t0 + 60 + max_age + 1)  # stale, an hour before the next daily mark
    assert events(result, "assets.revalued")
    assert assets_keeper.pool_mark(d.ctx, 1).stale > 0
    with pytest.raises(Stale):
        market.reference_price(d.ctx, "unit/p1/t0")
