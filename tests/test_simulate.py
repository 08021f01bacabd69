"""Random simulation (genesis/sim/simulate.py), shrinking (genesis/sim/shrink.py), Monte-Carlo paths
(genesis/sim/montecarlo.py), sweeps (genesis/sim/sweep.py) and their commands (rpc/cli/sim.py), on
real LevelDB chains with real signatures."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.genesis.sim import montecarlo, simulate, sweep
from rwachain.genesis.sim.shrink import Budget, ddmin, shrink
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.fixed import WAD
from rwachain.rpc.cli import main as cli
from rwachain.rpc.cli import sim as sim_cli


# ----- a planted bug ---------------------------------------------------------------------------------
def planted_modules():
    """The chain's modules with a broken bank transfer: an amount ending in 7 credits the
    recipient one extra base unit, without minting it (supply no longer = sum of balances)."""
    mods = default_modules()
    b = next(m for m in mods if m.name == "bank")
    good = b.calls["transfer"]

    def broken(ctx, sender, args):
        good.handler(ctx, sender, args)
        if args["amount"] % 10 == 7:
            key = bank.bal_key(args["to"], args["denom"])
            ctx.set_int(key, ctx.get_int(key) + 1)

    b.calls["transfer"] = dataclasses.replace(good, handler=broken)
    return mods


@pytest.mark.slow
def test_the_simulator_finds_a_planted_bug_and_shrinks_it():
    cfg = simulate.SimConfig(seed=3, blocks=200, montecarlo=None)
    res = simulate.run(cfg, modules=planted_modules)
    f = res.failure
    assert f is not None and f.kind == "invariant" and f.key == "invariant:bank", f
    assert res.seed == 3 and any("balances sum to" in m for m in f.messages)
    failing = [s for s in res.steps if s.block <= f.block]
    genesis = cfg.genesis()

    def replay(steps):
        return simulate.replay(steps, genesis, modules=planted_modules)

    out = shrink(failing, replay, f.key, tries=300, seconds=60)
    assert 1 <= len(out.steps) <= 20 and len(out.steps) < len(failing)
    assert any(s.module == "bank" and s.call == "transfer" and s.args["amount"] % 10 == 7 for s in out.steps)
    again = simulate.steps_from_json(json.loads(json.dumps(simulate.steps_to_json(out.steps))))
    assert again == out.steps
    assert replay(again).key == f.key  # the printed reproduction fails again
    assert simulate.replay(again, genesis) is None  # and only because of the planted bug


def test_the_cr_check_compares_the_recorded_ratio_with_its_definition():
    from rwachain.modules.stable import vault

    def lying_cr():  # the stable module records a CR one unit off
        mods = default_modules()
        st_mod = next(m for m in mods if m.name == "stable")
        stable_end = st_mod.end_block

        def end_block(ctx):
            stable_end(ctx)
            rec = ctx.get_obj(vault.CR)
            ctx.set_obj(vault.CR, {**rec, "cr": rec["cr"] + 1})

        st_mod.end_block = end_block
        return mods

    step = simulate.Step(1, "holder0", "bank", "transfer",
                         {"to": simulate.actor_address("holder1"), "denom": "rusd", "amount": 5})
    f = simulate.replay([step], modules=lying_cr)
    assert f is not None and f.key == "invariant:chain/cr" and "recorded CR" in f.messages[0]
    assert simulate.replay([step], modules=lying_cr, skip=("cr",)) is None
    assert simulate.replay([step]) is None


# ----- determinism and coverage ---------------------------------------------------------------------
@pytest.mark.slow
@settings(max_examples=3, deadline=None)
@given(st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_run(seed):
    cfg = simulate.SimConfig(seed=seed, blocks=12, montecarlo=montecarlo.MarketConfig())
    a, b = simulate.run(cfg), simulate.run(cfg)
    assert a.steps == b.steps and a.state_root == b.state_root and a.stats == b.stats
    assert a.failure is None, a.failure


@pytest.mark.slow
def test_random_operations_reach_every_module_and_bad_ones_are_refused_cleanly():
    res = simulate.run(simulate.SimConfig(seed=11, blocks=300, ops_per_block=4,
                                          montecarlo=montecarlo.MarketConfig(), skip_checks=("cr",)))
    assert res.failure is None, res.failure
    ok_modules = {k.split(".")[0] for k, per in res.stats.items() if per.get("ok")}
    assert {"bank", "assets", "tranches", "market", "stable", "oracle", "insurance", "governance"} <= ok_modules
    refusals = {err for per in res.stats.values() for err in per if err != "ok"}
    assert {"insufficient_funds", "unauthorized"} <= refusals and len(refusals) >= 5
    for s in res.steps:  # every step has a JSON form that reads back to itself
        assert simulate.Step.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_a_step_list_is_checked_when_read():
    with pytest.raises(ValueError, match="unknown actor"):
        simulate.Step.from_json({"block": 1, "actor": "mallory", "module": "bank", "call": "transfer", "args": {}})
    with pytest.raises(ValueError, match="unknown call"):
        simulate.Step.from_json({"block": 1, "actor": "dev0", "module": "bank", "call": "steal", "args": {}})
    with pytest.raises(ValueError, match="block"):
        simulate.Step.from_json({"block": 0, "actor": "dev0", "module": "bank", "call": "transfer", "args": {}})


def test_a_report_step_signs_at_run_time_and_without_quorum_is_refused():
    steps = [simulate.Step(1, "dev6", "oracle", "report", {"feed": "rate", "value": 46 * WAD // 1000,
                                                          "signers": [0, 1, 2], "age": 0}),
             simulate.Step(1, "dev7", "oracle", "report", {"feed": "rate", "value": 47 * WAD // 1000,
                                                          "signers": [0, 1], "age": 0})]
    with simulate.Runner(simulate.sim_genesis()) as r:
        res, failure = r.execute(1, steps)
        assert failure is None
        assert res.receipts[0].code == 0 and res.receipts[1].error == "quorum_not_met"
        assert r.reader().get_obj(b"oracle/feed/rate")["value"] == 46 * WAD // 1000


# ----- shrinking -------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 80).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1,
                                                                             max_size=4))))
def test_ddmin_finds_exactly_the_needed_items(case):
    n, needed = case
    calls = []

    def test(xs):
        calls.append(len(xs))
        return needed <= set(xs)

    out = ddmin(list(range(n)), test, Budget(10_000, None))
    assert out == sorted(needed)


def test_shrinking_keeps_only_candidates_that_fail():
    steps = [simulate.Step(b, "dev0", "bank", "transfer", {"to": b"\1" * 20, "denom": "rwa", "amount": 1000 + b})
             for b in range(1, 40)]

    def fails(c):  # "fails" while the step of block 1 or 17 is there with an amount >= 500
        hit = [s for s in c if s.args["to"] == b"\1" * 20 and s.args["amount"] >= 500 and s.block in (17, 1)]
        return simulate.Failure(0, 0, "invariant", "invariant:x", ()) if hit else None

    out = shrink(steps, fails, "invariant:x", tries=200, seconds=None)
    assert len(out.steps) == 1 and fails(out.steps) is not None
    assert out.steps[0].block == 1 and out.steps[0].args["amount"] == 500  # the least amount that fails


# ----- Monte-Carlo paths ------------------------------------------------------------------------------
def test_the_rate_path_reverts_to_its_mean_and_stays_non_negative():
    path = montecarlo.RatePath(Random(5), r0=0.10, theta=0.04, kappa=2.0, sigma=0.01, dt_years=1 / 365)
    values = [path.next() for _ in range(3000)]
    assert min(values) >= 0 and all(type(v) is int for v in values)
    late = values[1000:]
    assert abs(sum(late) / len(late) / WAD - 0.04) < 0.005  # the mean, far from the start of 10 %
    again = montecarlo.RatePath(Random(5), 0.10, 0.04, 2.0, 0.01, 1 / 365)
    assert [again.next() for _ in range(3000)] == values


def test_copula_defaults_keep_the_marginal_and_cluster_with_correlation():
    p = montecarlo.period_default_probability(100 * WAD // 1000, 365 * 86_400)  # 10 % a year over a year
    assert abs(p - (1 - math.exp(-0.1))) < 1e-12
    for rho in (0.0, 0.5):
        rng = Random(9)
        counts = [sum(montecarlo.copula_defaults(rng, [p] * 50, rho)) for _ in range(600)]
        mean = sum(counts) / len(counts)
        var = sum((c - mean) ** 2 for c in counts) / len(counts)
        assert abs(mean / 50 - p) < 0.02  # each name keeps its probability
        if rho == 0.0:
            independent = var
        else:
            assert var > 4 * independent  # defaults cluster in bad draws of the common factor


@pytest.mark.slow
def test_the_montecarlo_driver_keeps_feeds_fresh_and_services_assets():
    res = simulate.run(simulate.SimConfig(seed=4, blocks=24 * 40, ops_per_block=0,
                                          montecarlo=montecarlo.MarketConfig(rho=0.3), skip_checks=("cr",)))
    assert res.failure is None, res.failure
    assert res.stats["oracle.report"].get("ok", 0) > 150
    assert res.stats["assets.repay"].get("ok", 0) >= 2  # the demo loans' first installments (30 days)
    assert set(res.stats["oracle.report"]) <= {"ok"}  # the driver's own reports are all accepted


# ----- sweeps -------------------------------------------------------------------------------------------
def test_a_sweep_tabulates_the_named_metrics(tmp_path):
    from rwachain.genesis.sim import sweep_config

    plan = sweep_config.plan([("params.reserve.discount", "0.03,0.08")], [("sim.blocks", "48")], [1])
    doc = sweep.document(plan, sweep.execute(str(tmp_path), plan))
    assert doc["kind"] == "sweep" and doc["columns"] == [
        "run", "seed", "params.reserve.discount", "exitPriceMean", "exitPriceWorst", "timeToExitMean",
        "reserveDepletion", "lowestCR", "exits", "unsold", "defaults", "redemptions"]
    assert len(doc["rows"]) == 2
    for row in doc["rows"]:
        v = {c: None if x is None else int(x) for c, x in zip(doc["columns"], row, strict=True)}
        assert v["exits"] > 0 and 0 < v["exitPriceWorst"] <= v["exitPriceMean"]
        assert v["lowestCR"] >= WAD and 0 <= v["reserveDepletion"] <= WAD
    with pytest.raises(sweep_config.SweepError, match="hSlope"):
        sweep_config.plan([("params.stable.hSlope", "1")], [], [1])  # hBase + hSlope >= 1
    # the document renders as a report: each metric plotted against the varied parameter
    from rwachain.rpc.cli import report

    params, metrics, _ = report.sweep_layout(doc)
    assert params == ["params.reserve.discount"] and metrics == list(sweep.METRICS)


# ----- the commands -----------------------------------------------------------------------------------------
def test_rwad_simulate_prints_json_and_text(capsys):
    assert cli.main(["simulate", "--seed", "2", "--blocks", "8", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "simulate" and doc["ok"] and doc["blocksRun"] == 8 and doc["failure"] is None
    assert cli.main(["simulate", "--seed", "2", "--blocks", "8", "--progress"]) == 0
    cap = capsys.readouterr()
    assert "every invariant held" in cap.out and doc["stateRoot"] in cap.out and "simulate: 8/8" in cap.err


def test_rwad_simulate_replays_a_steps_file(tmp_path, capsys):
    steps = [simulate.Step(1, "holder0", "bank", "transfer",
                           {"to": simulate.actor_address("holder1"), "denom": "rusd", "amount": 5})]
    path = tmp_path / "steps.json"
    path.write_text(json.dumps({"kind": "steps", "holders": 12, "blockTime": 3600, "steps":
                                simulate.steps_to_json(steps)}))
    assert cli.main(["simulate", "--replay", str(path)]) == 0
    assert "every invariant held" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["simulate", "--skip-check", "nope"], "--skip-check: no check named 'nope'"),
    (["simulate", "--weights", "{\"bank.steal\": 1}"], "--weights: unknown operation"),
    (["simulate", "--replay", "/nonexistent/steps.json"], "--replay: cannot read"),
    (["sweep", "--h-slope", "abc"], "params.stable.hSlope: 'abc' is not a number"),
    (["sweep", "--discount", "0.9"], "params.reserve.discount 900000000000000000 would exceed the market band"),
])
def test_bad_input_is_one_line_and_exit_1(argv, msg, capsys):
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("rwad: ") and msg in err and err.count("\n") == 1


@pytest.mark.slow
def test_rwad_sweep_json_and_table(tmp_path, capsys):
    argv = ["sweep", "--seeds", "1", "--blocks", "24", "--discount", "0.03,0.05", "--workers", "1"]
    assert cli.main([*argv, "--json", "--dir", str(tmp_path / "a")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "sweep" and len(doc["rows"]) == 2 and doc["columns"][:3] == [
        "run", "seed", "params.reserve.discount"]
    assert cli.main([*argv, "--dir", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "exit mean" in out and " 0.05 " in out and " 0.03 " in out and "sweep.csv" in out


@pytest.mark.slow
def test_rwad_simulate_reports_a_failure_with_a_replayable_shrunk_reproduction(tmp_path):
    """The command's failure report, on the planted bug (its module list handed in)."""
    out = tmp_path / "failing.json"
    argv = ["simulate", "--seed", "3", "--blocks", "200", "--no-montecarlo", "--out", str(out)]
    text = io.StringIO()
    assert sim_cli.cmd_simulate(cli.build_parser().parse_args(argv), text, planted_modules) == 1
    report = text.getvalue()
    assert report.startswith("seed 3: ") and "FAILED at block" in report and "invariant:bank" in report
    assert "fail the same way again" in report and "rwad simulate --replay FILE" in report
    doc = json.loads(out.read_text())
    assert doc["kind"] == "steps" and 1 <= len(doc["steps"]) <= 20
    assert json.loads(report[report.index("{"):]) == doc  # the printed steps are the file's
    replay = io.StringIO()
    args = cli.build_parser().parse_args(["simulate", "--replay", str(out), "--json"])
    assert sim_cli.cmd_simulate(args, replay, planted_modules) == 1
    assert json.loads(replay.getvalue())["failure"]["key"] == "invariant:bank"
    assert cli.main(["simulate", "--replay", str(out)]) == 0  # the chain's own modules hold
