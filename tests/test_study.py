"""The mechanism study (genesis/sim/study.py) and `rwad study` (rpc/cli/study.py), on real
LevelDB chains with real signatures."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math

import pytest

from rwachain.genesis.localchain import LocalChain
from rwachain.genesis.sim import study
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.insurance import module as insurance
from rwachain.modules.stable import vault
from rwachain.rpc.cli import main as cli

pytestmark = pytest.mark.slow  # rwad study runs many simulated chains


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """`rwad study --quick` once, in two processes: its output directory and stdout."""
    out = tmp_path_factory.mktemp("study")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli.main(["study", "--quick", "--out", str(out), "--workers", "2"]) == 0
    return out, buf.getvalue()


def test_rwad_study_quick_ends_with_every_metric_present_and_finite(quick):
    out, text = quick
    rows = list(csv.DictReader(io.StringIO((out / "study.csv").read_text())))
    assert [(r["stress"], r["variant"]) for r in rows] == study.cells()
    assert {r["seeds"] for r in rows} == {"2"}
    for r in rows:
        for m in study.METRICS:
            assert r[m] != "" and math.isfinite(float(r[m])), (r["stress"], r["variant"], m)
    doc = json.loads((out / "study.json").read_text())
    assert all(len(r["crPath"]) == study.QUICK.blocks for r in doc["rows"])
    page = (out / "study.html").read_text()
    assert page.count("data:image/png;base64,") == 8 and "<table" in page
    assert "reserve depletion" in text and "40 runs of 60 blocks (2 seeds)" in text


def test_a_variant_without_the_reserve_shows_zero_reserve_use(quick):
    out, _ = quick
    rows = list(csv.DictReader(io.StringIO((out / "study.csv").read_text())))
    book = [r for r in rows if r["variant"] == "book"]
    assert book and all(float(r["reserveUse"]) == 0 for r in book)
    # nothing but the depletion stress's redemption queue takes from the reserve's stable
    assert all(float(r["reserveDepletion"]) == 0 for r in book if r["stress"] != "depletion")
    assert any(float(r["reserveUse"]) > 0 for r in rows if r["variant"] == "reserve")


def test_the_same_seed_gives_the_same_csv_whatever_the_workers(quick, tmp_path):
    out, _ = quick
    one = study.study(study.QUICK, workers=1)
    assert study.csv_text(one) == (out / "study.csv").read_text()


def test_only_the_insured_variant_has_stake_and_the_book_variant_refuses_exits():
    for variant, staked in (("exit", False), ("insured", True)):
        with LocalChain(study.study_genesis("defaults", variant, 2)) as chain:
            assert (insurance.fund(chain.reader()).native > 0) is staked
    with LocalChain(study.study_genesis("rate", "book", 2)) as chain, pytest.raises(InvalidTransaction, match="ceiling"):
            vault.quote_exit(chain.reader(), study.SENIOR, 1)


def test_the_default_wave_costs_the_stakers_only_when_insured(quick):
    out, _ = quick
    rows = {(r["stress"], r["variant"]): r for r in csv.DictReader(io.StringIO((out / "study.csv").read_text()))}
    assert float(rows[("defaults", "insured")]["stakersLoss"]) > 0
    assert float(rows[("defaults", "exit")]["stakersLoss"]) == 0
    # the cover moves the senior's loss to the stakers
    assert float(rows[("defaults", "insured")]["seniorLoss"]) < float(rows[("defaults", "exit")]["seniorLoss"])


def test_unknown_stress_or_variant_is_refused():
    with pytest.raises(ValueError, match="unknown stress"):
        study.study_genesis("meteor", "book", 2)
    with pytest.raises(ValueError, match="unknown variant"):
        study.variant_params("magic")


@pytest.mark.parametrize("argv, message", [(["--workers", "0"], "--workers must be at least 1"),
                                           (["--seeds", "0"], "--seeds must be at least 1")])
def test_bad_study_options_are_one_line_and_exit_1(argv, message, tmp_path, capsys):
    assert cli.main(["study", "--quick", "--out", str(tmp_path), *argv]) == 1
    assert capsys.readouterr().err.strip() == f"rwad: {message}"
    assert not any(tmp_path.iterdir())  # nothing written
