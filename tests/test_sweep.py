"""Sweeps over any parameter (genesis/sim/sweep_config.py, genesis/sim/sweep.py, `rwad sweep`): paths
and units, the Monte-Carlo stresses, parallel runs that do not change the results, a killed
sweep that resumes to the same results, replay of one run, and the documents `rwad report`
reads. Real LevelDB chains, real signatures, real processes; few blocks per run."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rwachain.genesis import localchain
from rwachain.genesis.sim import montecarlo, series, simulate, sweep
from rwachain.genesis.sim import sweep_config as sc
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.fixed import WAD
from rwachain.modules.governance import changes
from rwachain.rpc.cli import main as cli

pytestmark = pytest.mark.slow  # sweeps run simulated chains in worker processes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _doc(directory) -> dict:
    with open(os.path.join(directory, sweep.JSON_FILE)) as f:
        return json.load(f)


# ----- paths and values ------------------------------------------------------------------------------
def test_every_governed_parameter_and_montecarlo_input_is_a_path_with_a_unit():
    paths = sc.defaults()
    for module, (_, params) in changes.governed(default_modules()).items():
        for key in params:
            assert any(p == f"params.{module}.{key}" or p.startswith(f"params.{module}.{key}.") for p in paths)
    assert {f"mc.{montecarlo.camel(f)}" for f in montecarlo.FIELDS} <= set(paths)
    for p, v in paths.items():
        unit = sc.unit_of(p)  # raises for a path without a unit
        assert sc.parse_value(p, sc.human(p, v)) == v, (p, unit)


@pytest.mark.parametrize("path, text, value", [
    ("params.reserve.discount", "0.03", 3 * WAD // 100), ("params.reserve.discount", "3%", 3 * WAD // 100),
    ("params.stable.ceilings.tranche", "20000.5", 20_000_500_000), ("params.reserve.epoch", "2h", 7200),
    ("params.insurance.unbonding", "200d", 200 * 86_400), ("params.market.takerFee", "35", 35),
    ("params.stable.hBase.1", "0.04", 4 * WAD // 100), ("mc.rho", "0.35", 0.35), ("mc.outageFor", "3d", 259_200),
])
def test_values_are_read_in_human_units(path, text, value):
    assert sc.parse_value(path, text) == value


def test_specifications_give_lists_grids_and_seeded_draws():
    assert sc.parse_spec("params.reserve.discount", "0.02:0.05:0.01") == [v * WAD // 100 for v in (2, 3, 4, 5)]
    assert sc.parse_spec("params.market.takerFee", "5,10") == [5, 10]
    draws = sc.parse_spec("mc.rho", "uniform(0.1,0.3)x5", draw_seed=7)
    assert len(draws) == 5 and all(0.1 <= d <= 0.3 for d in draws) and len(set(draws)) == 5
    assert sc.parse_spec("mc.rho", "uniform(0.1,0.3)x5", draw_seed=7) == draws  # seeded
    assert sc.parse_spec("mc.rho", "uniform(0.1,0.3)x5", draw_seed=8) != draws


@pytest.mark.parametrize("argv, msg", [
    (["--vary", "params.reserve.nothing=1"], "params.reserve.nothing: unknown path"),
    (["--vary", "mc.nothing=1"], "mc.nothing: unknown path"),
    (["--vary", "params.stable.hBase.7=0.1"], "params.stable.hBase.7: no such entry"),
    (["--vary", "params.reserve.discount=abc"], "params.reserve.discount: 'abc' is not a number"),
    (["--vary", "params.reserve.epoch=1"], "params.reserve.epoch = 1 is outside its hard bounds"),
    (["--vary", "mc.rho=1.5"], "mc.rho: 1.5 is out of range"),
    (["--vary", "mc.rho=uniform(0.1,0.2)x2", "--vary", "mc.beta=uniform(0,1)x3"], "the same number of draws"),
    (["--vary", "params.reserve.discount"], "--vary: expected PATH=VALUE"),
    (["--set", "sim.holders=0"], "sim.holders: 0 is out of range"),
])
def test_bad_sweep_input_is_one_line_naming_the_path(argv, msg, tmp_path, capsys):
    assert cli.main(["sweep", *argv, "--dir", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rwad: ") and msg in err and err.count("\n") == 1
    assert not os.path.exists(tmp_path / "s" / sweep.PLAN_FILE)  # nothing started


# ----- the Monte-Carlo stresses -----------------------------------------------------------------------
def _stats(**mc) -> dict:
    cfg = simulate.SimConfig(seed=1, blocks=30, weights=sweep.SWEEP_WEIGHTS, attack_rate=0.0,
                             montecarlo=montecarlo.MarketConfig(**mc))
    return simulate.run(cfg, check=False).stats


def test_an_oracle_outage_silences_the_driver_and_a_redemption_wave_redeems():
    calm = _stats()
    assert calm["oracle.report"]["ok"] > 5 and "stable.redeem" not in calm
    out = _stats(outage_at=3600, outage_for=30 * 3600)
    assert sum(out.get("oracle.report", {}).values()) < 3  # only the first block's reports
    wave = _stats(redeem_wave=0.5, redeem_wave_at=2 * 3600, redeem_wave_for=10 * 3600)
    assert sum(wave["stable.redeem"].values()) >= 10 * 14 and wave["stable.redeem"].get("ok", 0) >= 1


def test_a_rate_shock_is_reported_at_once():
    rows: list = []

    def rate_after(**mc) -> int:
        cfg = simulate.SimConfig(seed=1, blocks=12, weights=sweep.SWEEP_WEIGHTS, attack_rate=0.0,
                                 montecarlo=montecarlo.MarketConfig(**mc))
        doc = simulate.run(cfg, check=False, record_series=True).series
        rows.append(doc)
        return int(doc["rows"][-1][doc["columns"].index("oracle:rate")])

    calm, shocked = rate_after(), rate_after(rate_shock=0.03, rate_shock_at=5 * 3600)
    assert shocked > calm + WAD // 100  # at least one point of the three made it through the oracle


# ----- the sweep ---------------------------------------------------------------------------------------
def test_a_sweep_varies_what_the_old_sweep_could_not(tmp_path):
    """A market fee, a list entry and an oracle outage: each reaches the run's genesis or its
    Monte-Carlo driver (the old sweep varied hSlope, the tranche ceiling, budgetShare and
    discount only)."""
    plan = sc.plan([("params.market.takerFee", "0,400"), ("mc.outageFor", "0,4d")],
                   [("sim.blocks", "36"), ("params.stable.hBase.1", "0.04")], [3])
    doc = sweep.document(plan, sweep.execute(str(tmp_path), plan, workers=1))
    assert doc["parameters"] == ["params.market.takerFee", "mc.outageFor"]
    assert doc["units"]["params.market.takerFee"] == "bps" and doc["units"]["mc.outageFor"] == "s"
    runs = {(r["config"]["params.market.takerFee"], r["config"]["mc.outageFor"]): r for r in doc["runs"]}
    assert set(runs) == {(0, 0), (0, 345_600), (400, 0), (400, 345_600)}
    assert all(r["config"]["params.stable.hBase.1"] == str(4 * WAD // 100) for r in doc["runs"])
    # the fee is in the genesis (its hash differs), the outage is not (same genesis, other run)
    assert runs[(0, 0)]["genesisHash"] == runs[(0, 345_600)]["genesisHash"] != runs[(400, 0)]["genesisHash"]
    assert len({r["stateRoot"] for r in doc["runs"]}) == 4
    genesis = sweep.sim_config(3, sc.config_from_json(runs[(400, 0)]["config"], "run")).genesis()
    from rwachain.genesis.mechanism import check_module_params
    from rwachain.genesis.units import Stable

    stable = Stable(genesis["stable"]["denom"], 6)  # the simulation's stable token has 6 decimals
    imported = check_module_params({k: genesis["params"][k] for k in ("market", "stable")}, stable,
                                   default_modules())  # -> base units
    assert imported["market"]["takerFee"] == 400 and imported["stable"]["hBase"][1] == 4 * WAD // 100
    m = {k: dict(zip(doc["columns"], row, strict=True)) for k, row in zip(runs, doc["rows"], strict=True)}
    calm, dark = m[(0, 0)], m[(0, 345_600)]
    assert dark["exits"] < calm["exits"]  # stale prices stop exits during the outage


def test_results_do_not_depend_on_the_worker_count(tmp_path):
    argv = ["sweep", "--vary", "params.reserve.discount=0.02,0.05", "--vary", "mc.rho=uniform(0.05,0.5)x2",
            "--seeds", "2", "--blocks", "18"]
    assert cli.main([*argv, "--workers", "1", "--dir", str(tmp_path / "one")]) == 0
    assert cli.main([*argv, "--workers", "2", "--dir", str(tmp_path / "two")]) == 0
    one, two = _doc(tmp_path / "one"), _doc(tmp_path / "two")
    assert len(one["rows"]) == 8 and one == two
    assert (tmp_path / "one" / sweep.CSV_FILE).read_text() == (tmp_path / "two" / sweep.CSV_FILE).read_text()


def test_a_killed_sweep_resumes_to_the_same_results(tmp_path):
    """SIGKILL a real `rwad sweep` (its whole process group: the command and its workers)
    after some runs have finished; --resume keeps them, runs the rest, and ends with the
    results of the same sweep run without interruption."""
    argv = ["sweep", "--vary", "params.reserve.budgetShare=0.05,0.1,0.2", "--seeds", "3", "--blocks", "40",
            "--workers", "2"]
    killed, scratch = tmp_path / "killed", tmp_path / "scratch"
    scratch.mkdir()  # the killed runs' chains are left there, not on the shared tmpfs
    proc = subprocess.Popen([sys.executable, "-m", "rwachain.rpc.cli", *argv, "--dir", str(killed)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, localchain.SCRATCH_ENV: str(scratch)})
    runs_dir = killed / sweep.RUNS_DIR
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if runs_dir.is_dir() and len([f for f in os.listdir(runs_dir) if f.endswith(".json")
                                          and not f.startswith(".")]) >= 2:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    kept = sorted(f for f in os.listdir(runs_dir) if not f.startswith("."))
    assert 2 <= len(kept) < 9 and not (killed / sweep.JSON_FILE).exists()
    before = {f: (runs_dir / f).read_text() for f in kept}
    assert cli.main(["sweep", "--resume", str(killed), "--workers", "2"]) == 0
    assert {f: (runs_dir / f).read_text() for f in kept} == before  # finished runs were not run again
    assert cli.main([*argv, "--dir", str(tmp_path / "whole")]) == 0
    assert _doc(killed) == _doc(tmp_path / "whole")
    assert cli.main(["sweep", "--resume", str(killed), "--vary", "mc.rho=0.1"]) == 1  # a plan is not changed


def test_the_csv_says_its_units_and_any_run_replays_alone(tmp_path, capsys):
    d = tmp_path / "s"
    argv = ["sweep", "--vary", "params.stable.ceilings.tranche=1000,2000000", "--seed-list", "5", "--blocks", "16",
            "--workers", "1", "--dir", str(d)]
    assert cli.main(argv) == 0
    capsys.readouterr()
    with open(d / sweep.CSV_FILE, newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:3] == ["run [index]", "seed [seed]", "params.stable.ceilings.tranche [base]"]
    assert "exitPriceMean [wad]" in head and "timeToExitMean [s]" in head and "mc.rho [ratio]" in head
    assert head[-2:] == ["genesisHash [sha256]", "stateRoot [hex]"]
    assert len(head) == len(set(head)) == 2 + len(sweep.METRICS) + len(sc.defaults()) + 2
    assert [r[2] for r in rows[1:]] == ["1000000000", "2000000000000"]
    for source in (d / sweep.CSV_FILE, d / sweep.JSON_FILE, d):
        assert cli.main(["sweep", "--replay-run", str(source), "1"]) == 0
        assert "identical to the record" in capsys.readouterr().out
    # a record that does not match its run is reported as such (exit 1)
    doc = _doc(d)
    doc["runs"][1]["stateRoot"] = "0x" + "00" * 32
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    assert cli.main(["sweep", "--replay-run", str(tmp_path / "edited.json"), "1", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["differ"] == ["stateRoot"] and not out["identical"]


# ----- rwad report --------------------------------------------------------------------------------------
def test_simulate_and_sweep_output_feed_rwad_report(tmp_path, capsys):
    sim = tmp_path / "sim.json"
    assert cli.main(["simulate", "--seed", "2", "--blocks", "5", "--series", str(sim),
                     "--set", "params.reserve.discount=0.05", "--set", "mc.outageFor=1d"]) == 0
    doc = json.loads(sim.read_text())
    rows = series.rows_of(doc)
    assert doc["kind"] == "series" and [r["height"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r["stable.cr"] is not None for r in rows)
    d = tmp_path / "s"
    assert cli.main(["sweep", "--vary", "params.reserve.discount=0.02,0.06", "--seeds", "2", "--blocks", "12",
                     "--workers", "1", "--dir", str(d)]) == 0
    run_series = tmp_path / "run3.json"
    assert cli.main(["sweep", "--replay-run", str(d), "3", "--series", str(run_series)]) == 0
    assert len(series.rows_of(json.loads(run_series.read_text()))) == 12
    for src, plot in ((sim, "plot-stable"), (d / sweep.JSON_FILE, "plot-exitPriceMean"),
                      (run_series, "plot-prices")):
        out = tmp_path / (src.stem + ".html")
        assert cli.main(["report", str(src), "--out", str(out)]) == 0, capsys.readouterr().err
        page = out.read_text()
        assert f'id="{plot}"' in page
    page = (tmp_path / "sweep.html").read_text()
    assert "params.reserve.discount" in page and "params.market.band" not in page  # only what was varied
