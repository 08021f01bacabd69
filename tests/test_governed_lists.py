"""The lists that once were written by hand derive from the modules of an App: the
governed parameters (setParams, a genesis's params.<module>), the pausable modules and
the module accounts."""

import io
import json

import pytest

from rwachain.genesis import loader
from rwachain.genesis.fields import GenesisError
from rwachain.genesis.localchain import LocalChain
from rwachain.genesis.sim import simulate, sweep
from rwachain.genesis.sim import sweep_config as sc
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.governed import Governed, pausable
from rwachain.modules.core.registry import Module
from rwachain.modules.core.wiring import module_accounts, wire
from rwachain.modules.governance import changes
from rwachain.modules.governance import module as governance_module


def test_the_chains_lists_keep_their_order():
    mods = default_modules()
    assert list(changes.governed(mods)) == ["stable", "reserve", "market", "insurance", "governance"]
    assert pausable(mods) == ("bank", "assets", "oracle", "tranches", "market", "stable", "insurance")
    gov = next(m for m in mods if m.name == "governance")
    assert gov.calls["pause"].args["module"].options == pausable(mods)


def test_a_module_declaring_parameters_and_a_pause_is_governed_with_no_other_edit():
    extra = Module("counter", params=Governed(b"params/counter", {"limit": 5}, {"limit": "int"},
                                              lambda ctx: {"limit": 5}, place=9), pausable=9)
    gov = governance_module.module([*default_modules()[:-2], extra])
    assert gov.calls["pause"].args["module"].options[-1] == "counter"
    assert list(changes.governed([extra, gov])) == ["governance", "counter"]
    alone = governance_module.module()
    assert alone.calls["pause"].args["module"].options == ()
    assert list(changes.governed([alone])) == ["governance"]


def test_the_chains_module_accounts_derive_from_the_modules_in_their_order():
    mods = default_modules()
    assert module_accounts(mods) == ("reserve", "vault", "insurance", "treasury")
    assert wire(mods).accounts == module_accounts(mods)
    assert module_accounts([m for m in mods if m.name != "reserve"]) == ("vault", "insurance")


# ----- an App with a governed module of its own: checked against its own modules ---------------
LIMITS = b"params/limits"
LIMITS_DEFAULTS = {"cap": 5, "window": 3_600}


def _limits(ctx) -> dict:
    return ctx.get_obj(LIMITS) or LIMITS_DEFAULTS


def with_limits() -> list[Module]:
    """The chain's modules and "limits", a module defined here that declares two governed
    parameters (governance is built over all of them)."""
    extra = Module("limits", params=Governed(LIMITS, LIMITS_DEFAULTS, {"cap": "count", "window": "duration"},
                                             _limits, place=9))
    mods = default_modules()
    gov = governance_module.module([m for m in mods if m.name != "governance"] + [extra])
    return [gov if m.name == "governance" else m for m in mods] + [extra]


def test_a_genesis_sets_and_exports_the_parameters_of_its_own_apps_modules():
    doc = simulate.sim_genesis(holders=2)
    doc["params"]["limits"] = {"cap": "7", "window": "2h"}
    with LocalChain(doc, modules=with_limits()) as chain:
        assert chain.reader().get_obj(LIMITS) == {"cap": 7, "window": 7_200}
        out = io.StringIO()
        loader.export_genesis(chain.app, out)
        assert json.loads(out.getvalue())["params"]["limits"] == {"cap": 7, "window": "2h"}
    doc["params"]["limits"]["cap"] = "seven"
    with pytest.raises(GenesisError, match=r"^params\.limits\.cap: expected an integer"):
        LocalChain(doc, modules=with_limits())
    with pytest.raises(GenesisError, match=r"^params\.limits: unknown field"):
        LocalChain(simulate.sim_genesis(holders=2) | {"params": doc["params"]})  # the chain's own govern no limits


def test_a_simulation_sets_the_parameters_of_its_own_apps_modules():
    seen = []
    cfg = simulate.SimConfig(seed=1, blocks=2, holders=2, attack_rate=0,
                             module_params={"limits": {"cap": 9, "window": 60}})
    res = simulate.run(cfg, modules=with_limits, on_block=lambda b, t, s, r, ctx: seen.append(_limits(ctx)))
    assert res.failure is None and seen == [{"cap": 9, "window": 60}] * 2


def test_a_sweep_over_its_own_apps_modules_varies_their_parameters():
    space = sc.Space(with_limits())
    assert space.defaults()["params.limits.cap"] == 5 and space.unit_of("params.limits.window") == "s"
    plan = space.plan([("params.limits.cap", "6,8")], [("sim.blocks", "2"), ("params.limits.window", "1h")], [1])
    assert [r["config"]["params.limits.cap"] for r in plan["runs"]] == [6, 8]
    assert space.module_params(plan["runs"][1]["config"])["limits"] == {"cap": 8, "window": 3_600}
    res = sweep.run(1, plan["runs"][1]["config"], modules=with_limits)
    assert res["stateRoot"].startswith("0x")
    with pytest.raises(sc.SweepError, match=r"^params\.limits\.cap: unknown path"):
        sc.plan([("params.limits.cap", "6")], [], [1])  # the chain's own sweep space has no limits
