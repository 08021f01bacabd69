"""Parameters by name in human units: a genesis or scenario written with them imports to the
same state root as the raw base-unit form; export writes them back in human units; a bad
value is refused naming its field; every parameter has a declared unit."""

from __future__ import annotations

import copy
import io
import json
import os
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.genesis import devnet, units
from rwachain.genesis.loader import GenesisError, export_genesis, import_genesis
from rwachain.genesis.scenario import files as S
from rwachain.modules.assets import keeper as assets
from rwachain.modules.core.app import App, default_modules
from rwachain.modules.core.fixed import WAD
from rwachain.modules.governance import changes
from rwachain.modules.oracle import feeds
from rwachain.state.store import Store

DAY = 86_400
RUSD = 10**6
STABLE = units.Stable("rusd", 6)

# non-default values of every governed parameter, raw (base units) and by name (human units)
RAW = {
    "stable": {"hBase": [str(WAD // 50), str(WAD // 25), str(WAD // 20), str(WAD // 10), str(WAD // 8)],
               "hSlope": str(WAD // 5), "spread": str(WAD // 200), "haircutShare": str(WAD // 4),
               "ceilings": {"global": str(20_000_000 * RUSD), "originator": str(4_000_000 * RUSD),
                            "grade": str(6_000_000 * RUSD), "tranche": str(2_500_000 * RUSD)}},
    "reserve": {"budgetShare": str(WAD // 5), "discount": str(3 * WAD // 100), "premium": str(WAD // 40),
                "epoch": str(2 * 3600), "redeemFee": str(WAD // 1000), "cooldown": str(30 * DAY),
                "redeemLimit": str(WAD // 10), "nativePayoutShare": str(WAD // 2000)},
    "market": {"band": str(WAD // 5), "minPrice": "1000", "makerFee": "5", "takerFee": "15"},
    "insurance": {"unbonding": str(190 * DAY), "feeShare": str(WAD // 4)},
    "governance": {"votingPeriod": str(5 * DAY), "executionDelay": str(12 * 3600), "quorum": str(WAD // 5)},
}
NAMED = {
    "stable": {"hBase": ["0.02", "4%", "0.05", "10 %", "0.125"], "hSlope": "0.2", "spread": "0.5%",
               "haircutShare": "0.25",
               "ceilings": {"global": "20000000 rusd", "originator": "4000000.000000 rusd",
                            "grade": "6000000 rusd", "tranche": "2500000 rusd"}},
    "reserve": {"budgetShare": "0.2", "discount": "0.03", "premium": "2.5%", "epoch": "2h",
                "redeemFee": "0.001", "cooldown": "30d", "redeemLimit": "10%", "nativePayoutShare": "0.0005"},
    "market": {"band": "0.2", "minPrice": "0.001 rusd", "makerFee": "5 bps", "takerFee": "15 bps"},
    "insurance": {"unbonding": "190d", "feeShare": "0.25"},
    "governance": {"votingPeriod": "5d", "executionDelay": "720m", "quorum": "0.2"},
}


def _devnet() -> dict:
    with open(devnet.PATH) as f:
        return json.load(f)


def _raw_policies(doc: dict) -> None:
    """doc's oracle policies in the raw form (decimal strings of base units), as files had them."""
    pol = doc["oracle"]["policies"]
    for cls, p in pol.items():
        conv = units.parse_like(f"oracle.policies.{cls}", feeds.policy_units(cls), p, units.NO_STABLE)
        pol[cls] = {k: str(v) for k, v in conv.items()}


def _root(doc: dict) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        store = Store(os.path.join(d, "s"))
        try:
            return import_genesis(App(store), path)
        finally:
            store.close()


def _export(doc: dict) -> dict:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        store = Store(os.path.join(d, "s"))
        try:
            app = App(store)
            import_genesis(app, path)
            out = io.StringIO()
            export_genesis(app, out)
            return json.loads(out.getvalue())
        finally:
            store.close()


def test_a_genesis_with_named_parameters_imports_to_the_same_root_as_the_raw_form():
    raw, named = _devnet(), _devnet()
    _raw_policies(raw)
    raw["params"].update(copy.deepcopy(RAW))
    named["params"].update(copy.deepcopy(NAMED))
    named["assets"]["params"] = {"graceMax": {k: "60d" if k == "receivable" else "4320h" for k in assets.KINDS},
                                 "maxInstallments": 120}
    raw["assets"]["params"] = {"graceMax": {k: str((60 if k == "receivable" else 180) * DAY) for k in assets.KINDS},
                               "maxInstallments": "120"}
    root = _root(raw)
    assert _root(named) == root
    assert root != _root(_devnet())  # the parameters took effect: the defaults give another root


def test_export_writes_parameters_by_name_and_reimports_to_the_same_root():
    named = _devnet()
    named["params"].update(copy.deepcopy(NAMED))
    out = _export(named)
    assert out["params"]["reserve"] == {"budgetShare": "0.2", "discount": "0.03", "premium": "0.025", "epoch": "2h",
                                        "redeemFee": "0.001", "cooldown": "30d", "redeemLimit": "0.1",
                                        "nativePayoutShare": "0.0005"}
    assert out["params"]["stable"]["ceilings"]["originator"] == "4000000 rusd"
    assert out["params"]["stable"]["hBase"] == ["0.02", "0.04", "0.05", "0.1", "0.125"]
    assert out["params"]["market"] == {"band": "0.2", "minPrice": "0.001 rusd", "makerFee": "5 bps",
                                       "takerFee": "15 bps"}
    assert out["params"]["governance"]["executionDelay"] == "12h"
    assert out["oracle"]["policies"]["rate"]["maxAge"] == "1d" and out["oracle"]["policies"]["grade"]["hi"] == "4"
    root = _root(named)
    assert _root(out) == root


def test_a_scenario_takes_named_parameters():
    """A scenario's genesis uses the same named parameters: its chain starts on the same
    root as with the raw form."""
    doc = S.load(os.path.join(S.SCENARIOS_DIR, "sme-instant-exit.json")).doc
    raw, named = copy.deepcopy(doc), copy.deepcopy(doc)
    raw["genesis"]["params"]["reserve"] = RAW["reserve"]
    named["genesis"]["params"]["reserve"] = NAMED["reserve"]
    g_raw, g_named = S.from_doc(raw).genesis, S.from_doc(named).genesis
    assert g_named["params"]["reserve"]["epoch"] == "2h"
    assert _root(g_named) == _root(g_raw) != _root(S.from_doc(doc).genesis)


@pytest.mark.parametrize("module, key, value, message", [
    ("reserve", "discount", "0.0000000000000000001", "params.reserve.discount: 0.0000000000000000001 is finer"),
    ("reserve", "discount", "3 %%", "params.reserve.discount: expected a ratio"),
    ("reserve", "discount", 0.03, "params.reserve.discount: expected a ratio"),
    ("reserve", "discount", "-0.03", "params.reserve.discount: expected a ratio"),
    ("reserve", "epoch", "1 rusd", "params.reserve.epoch: expected a duration"),
    ("reserve", "epoch", "1.5h", "params.reserve.epoch: expected a duration"),
    ("reserve", "discount", "0.6", "params.reserve.discount = 600000000000000000 is outside its hard bounds"),
    ("market", "makerFee", "0.1%", "params.market.makerFee: expected basis points"),
    ("market", "minPrice", "1 rwa", "params.market.minPrice: amounts are in the stable denomination (rusd), not rwa"),
    ("market", "minPrice", "0.0000001 rusd", "params.market.minPrice: 0.0000001 is finer than the rusd amount"),
    ("insurance", "unbonding", "10d", "params.insurance.unbonding = 864000 is outside its hard bounds"),
    ("governance", "bogus", "1d", "params.governance.bogus: unknown field"),
])
def test_a_bad_named_parameter_is_refused_naming_its_field(module, key, value, message):
    doc = _devnet()
    p = copy.deepcopy(NAMED[module])
    p[key] = value
    doc["params"][module] = p
    with pytest.raises(GenesisError) as exc:
        _root(doc)
    assert message in str(exc.value)


def test_every_parameter_has_a_declared_unit():
    """A parameter without a unit could not be written by name: the declarations match the
    defaults key for key, for every governed module, the assets module and every feed class."""
    problems = []
    for name, (_, default) in changes.governed(default_modules()).items():
        problems += units.check_declaration(changes.governed_units(default_modules())[name], default, name)
    problems += units.check_declaration(assets.PARAM_UNITS, assets.DEFAULT_PARAMS, "assets")
    for cls in feeds.CLASSES:
        problems += units.check_declaration(feeds.policy_units(cls), {f: 0 for f in feeds.POLICY_FIELDS}, cls)
    assert problems == []


@given(unit=st.sampled_from(("ratio", "bps", "duration", "stable", "count", "int")),
       n=st.integers(0, 1 << 130), raw_form=st.booleans())
def test_every_unit_reads_back_what_it_writes(unit, n, raw_form):
    text = str(n) if raw_form else units.to_json(unit, n, STABLE)
    assert units.parse("p", unit, text, STABLE) == n


@pytest.mark.parametrize("value", ["9" * 5000, "0." + "1" * 5000, "9" * 5000 + "d", "9" * 5000 + " rusd"])
def test_flaw_a_parameter_of_thousands_of_digits_is_refused_naming_its_field(value):
    """Digits past Python's int-conversion limit once escaped as a bare ValueError."""
    for unit in ("ratio", "duration", "stable"):
        with pytest.raises(GenesisError, match="^params.x: "):
            units.parse("params.x", unit, value, STABLE)


def test_flaw_a_scenario_with_a_number_of_thousands_of_digits_escaped_as_a_bare_value_error(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"format": 1, "x": ' + "9" * 5000 + "}")
    with pytest.raises(S.ScenarioError, match="not JSON"):
        S.load(str(p))
