"""The lists that once were written by hand derive from the modules of an App: the
governed parameters (setParams, a genesis's params.<module>), the pausable modules and
the module accounts."""

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
