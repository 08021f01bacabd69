"""Attacks on valuation, module accounts and genesis, each pinned by a regression test:

17 the scheduled default at due + grace was a price cliff (front-runnable, public, certain);
18 the account of a pool not created yet accepted plain transfers;
19 genesis sections wrote raw state keys and the chain started with broken invariants.
"""

from __future__ import annotations

import pytest

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.fixed import WAD
from rwachain.modules.stable import vault
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches.records import Pool
from rwachain.modules.valuation import dcf
from tests.mech import DAY, ORIGINATOR, events

UNIT = 100 * 10**6


# ----- 17: the overdue ramp ----------------------------------------------------------------------
DEMO = dcf.Inputs(rate=425 * WAD // 10_000, spread=4 * WAD // 100, intensity=5 * WAD // 100,
                  lgd=55 * WAD // 100, grace=30 * DAY)
T_O = 1_707_776_000
MONTHLY = [(T_O + k * 2_592_000, 8_877_190_691) for k in range(10)]


def test_flaw17_no_cliff_at_the_scheduled_default_in_the_formula():
    """One second before due + grace the performing value is the defaulted value at due +
    grace to within a tiny relative amount (it was 2.1 times the loss of one installment
    more: every future installment jumped to LGD at once)."""
    end = T_O + DEMO.grace
    before = dcf.value(MONTHLY, end - 1, dcf.PERFORMING, DEMO)
    at = dcf.value(MONTHLY, end, dcf.DEFAULTED, DEMO)
    assert dcf.value(MONTHLY, end, dcf.PERFORMING, DEMO) == at  # the ramp ends on the defaulted value
    assert 0 <= before - at <= before // 1_000_000, (before, at)


def test_flaw17_the_value_declines_through_grace():
    """From the oldest due time to due + grace, day by day, the value falls steadily to the
    defaulted value: no step bigger than the ramp of a day on the whole outstanding."""
    outstanding = sum(a for _, a in MONTHLY)
    step = outstanding * DEMO.lgd // WAD * DAY // DEMO.grace + 1
    values = [dcf.value(MONTHLY, T_O + k * DAY, dcf.PERFORMING, DEMO) for k in range(31)]
    assert all(b < a for a, b in zip(values, values[1:], strict=False)), values
    assert all(a - b <= step for a, b in zip(values, values[1:], strict=False))
    assert values[-1] == dcf.value(MONTHLY, T_O + DEMO.grace, dcf.DEFAULTED, DEMO)


def _one_asset_pool(d) -> Pool:
    par = assets.outstanding_principal(assets.schedule_of(d.ctx, 1))
    senior = par * 75 // 100 // UNIT * UNIT
    r = d.run(ORIGINATOR, "tranches", "createPool",
              {"assets": [1], "tranches": [[senior, 6 * WAD // 100], [par - senior, 0]], "unitSize": UNIT})
    assert r.code == 0, r.message
    return tranches.get(d.ctx, events(r, "tranches.created")[0]["pool"])


def test_flaw17_no_cliff_in_unit_prices_and_marks_at_the_scheduled_default(d):
    """A pooled asset left unpaid: the pool's value (valued now, and as the marks price it:
    CR, reserve, market band) declines through grace, the junior unit with it, and no unit
    price jumps at due + grace (the senior fell 24 % in that second)."""
    pool = _one_asset_pool(d)
    senior, junior = (t.denom for t in pool.tranches)
    due1 = assets.schedule_of(d.ctx, 1)[0][0]
    grace = assets.get(d.ctx, 1).grace
    seen = []
    for t in (due1 + 1, due1 + grace // 3, due1 + 2 * grace // 3, due1 + grace - 1, due1 + grace):
        d.block(at=t)
        ctx = d.ctx
        seen.append({"status": assets.get(ctx, 1).status, "now": marks.value_now(ctx, assets.get(ctx, 1))[0],
                     "pool": assets.pool_mark(ctx, pool.id).value,
                     "senior": vault.unit_prices(ctx, senior, strict=False).current,
                     "seniorMark": vault.mark_price(ctx, senior)[0],
                     "junior": vault.unit_prices(ctx, junior, strict=False).current,
                     "juniorMark": vault.mark_price(ctx, junior)[0]})
    assert [s["status"] for s in seen] == ["overdue"] * 4 + ["defaulted"]
    for name in ("now", "pool"):
        xs = [s[name] for s in seen]
        assert all(b < a for a, b in zip(xs, xs[1:], strict=False)), (name, xs)  # declines through grace
    for name in ("junior", "juniorMark"):  # the first loss: falls to 0 within grace
        xs = [s[name] for s in seen]
        assert xs[0] > xs[1] > xs[2] == 0, (name, xs)
    for name in ("now", "pool", "senior", "seniorMark", "junior", "juniorMark"):
        last, end = seen[-2][name], seen[-1][name]
        assert abs(last - end) <= last // 10_000 + 1, (name, last, end)  # the last second: no cliff
    # through grace the marks price the overdue asset at the block time, not a day ago
    assert [s["now"] for s in seen] == [s["pool"] for s in seen]
    assert [s["senior"] for s in seen] == [s["seniorMark"] for s in seen]


def test_flaw17_overdue_remarks_are_bounded_per_block_and_fair(d, monkeypatch):
    """Overdue marks are recomputed at the start of every block, at most MAX_OVERDUE_REMARKS
    of them, the oldest marks first: the work per block is bounded whatever the number of
    overdue assets, and none waits for long."""
    ids = (1, 3, 5)  # devnet demo assets with the same first due time (5 is pooled)
    first_due = max(assets.schedule_of(d.ctx, i)[0][0] for i in ids)
    d.block(at=first_due + 1)
    assert {assets.get(d.ctx, i).status for i in ids} == {"overdue"}
    monkeypatch.setattr(assets, "MAX_OVERDUE_REMARKS", 2)
    for _ in range(3):
        d.block()
        times = sorted(assets.mark(d.ctx, i).time for i in ids)
        assert times[-2:] == [d.time, d.time] and times[0] == d.time - 1, times  # two now, one a block ago


# ----- 18: module-derived addresses refuse plain transfers, present or future ---------------------
def test_flaw18_the_account_of_a_pool_not_created_yet_refuses_transfers(d):
    """Funds sent ahead to a future pool's account would sit outside its ledger and count as
    protocol-held stable (circulating falls, the CR rises): refused, like any module account."""
    from rwachain.modules.core.crypto import module_address
    from tests.mech import CUSTODIAN, KEYS, SERVICER

    nxt = d.ctx.get_int(tranches.NEXT) or 1
    targets = [tranches.pool_account(nxt), tranches.pool_account(nxt + 1000), tranches.pool_account((1 << 64) - 1),
               module_address("a module that does not exist yet")]
    before = {t: bank.balance(d.ctx, t, "rusd") for t in targets}
    for to in targets:
        r = d.run(SERVICER, "bank", "transfer", {"to": to, "denom": "rusd", "amount": 5})
        assert r.error == "module_account_refuses", (to.hex(), r.code, r.message)
        r = d.run(CUSTODIAN, "stable", "mint", {"to": to, "amount": 5})
        assert r.error == "module_account_refuses", (to.hex(), r.code, r.message)
    assert {t: bank.balance(d.ctx, t, "rusd") for t in targets} == before
    # the pool created next has exactly that account, with nothing in it but its ledger
    pool = _one_asset_pool(d)
    assert pool.account == targets[0] and bank.balance(d.ctx, pool.account, "rusd") == 0
    # a person's account is never taken for a module's: plain transfers still work
    r = d.run(SERVICER, "bank", "transfer", {"to": KEYS[9].address, "denom": "rusd", "amount": 5})
    assert r.code == 0, r.message


def test_flaw18_a_module_address_is_recognized_without_a_registry():
    """Every address derived from a module name carries the module tag; no key's address does
    (finding one is a 96-bit search)."""
    from rwachain.modules.core.crypto import Keypair, dev_seed, is_module_address, module_address

    names = ["reserve", "vault", "insurance", "treasury", "pool/1", f"pool/{(1 << 64) - 1}", "x" * 300, ""]
    assert all(is_module_address(module_address(n)) for n in names)
    assert len({module_address(n) for n in names}) == len(names)
    assert not any(is_module_address(Keypair(dev_seed(i)).address) for i in range(200))


# ----- 19: typed genesis sections, and the block invariants at import -----------------------------
def _devnet_doc() -> dict:
    import json

    from rwachain.genesis import devnet

    with open(devnet.PATH) as f:
        return json.load(f)


def _import(tmp_path, doc: dict, name: str = "g"):
    import json

    from rwachain.genesis import devnet
    from rwachain.node.chain import Chain

    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    chain = Chain(str(tmp_path / name), devnet.validator_key())
    try:
        return chain.init_genesis(str(path))
    finally:
        chain.close()


def test_flaw19_a_module_section_cannot_write_a_bank_balance(tmp_path):
    """The insurance and reserve sections took raw key/value pairs: a balance written through
    them imported, with no supply behind it. Every section is typed: refused, named."""
    from rwachain.genesis.fields import GenesisError
    from rwachain.modules.core.crypto import decode_address
    from rwachain.state.codec import pack_int

    addr = decode_address(_devnet_doc()["accounts"][0]["address"])
    forged = [["0x" + (bank.BAL + addr + b"rusd").hex(), "0x" + pack_int(10**15).hex()]]
    for section in ("insurance", "reserve", "governance"):
        doc = _devnet_doc()
        doc[section] = {"raw": forged}
        with pytest.raises(GenesisError, match=rf"^{section}\.raw: unknown field"):
            _import(tmp_path, doc, section)
    doc = _devnet_doc()
    doc["stable"]["raw"] = forged
    with pytest.raises(GenesisError, match=r"^stable\.raw: unknown field"):
        _import(tmp_path, doc, "stable")


def test_flaw19_typed_sections_name_the_bad_field(tmp_path):
    from rwachain.genesis.fields import GenesisError

    cases = [
        (("insurance", "fund", "native"), "-5", r"^insurance\.fund\.native: "),
        (("insurance", "stakes", 0, "address"), "rwa1notanaddress", r"^insurance\.stakes\[0\]\.address: "),
        (("governance", "proposals", 0, "status"), "won", r"^governance\.proposals\[0\]\.status: "),
        (("params", "reserve", "discount"), str(10**18), r"^params\.reserve\.discount = .* outside its hard bounds"),
    ]
    for path, bad, match in cases:
        doc = _devnet_doc()
        doc.setdefault("params", {}).setdefault("reserve", {
            "budgetShare": "1", "discount": "1", "premium": "1", "epoch": "86400", "redeemFee": "0",
            "cooldown": "0", "redeemLimit": "1", "nativePayoutShare": "0"})
        node = doc
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = bad
        with pytest.raises(GenesisError, match=match):
            _import(tmp_path, doc, "bad")


def test_flaw19_a_genesis_that_breaks_a_block_invariant_is_refused(tmp_path):
    """Well-formed fields can still describe an impossible state: a pool whose cash does not
    add up, an insurance fund that claims native it does not hold. The block invariants run
    after the import, and the genesis is refused with their messages."""
    from rwachain.genesis.fields import GenesisError

    doc = _devnet_doc()
    doc["tranches"]["pools"][0]["cashReceived"] = str(int(doc["tranches"]["pools"][0]["cashReceived"]) + 1)
    with pytest.raises(GenesisError, match=r"block invariants.*pool 1: received"):
        _import(tmp_path, doc, "pool")
    doc = _devnet_doc()
    doc["insurance"]["fund"]["native"] = str(int(doc["insurance"]["fund"]["native"]) * 2)
    with pytest.raises(GenesisError, match=r"block invariants.*insurance: the fund holds less"):
        _import(tmp_path, doc, "fund")
    assert _import(tmp_path, _devnet_doc(), "ok")  # the devnet genesis itself passes


def test_flaw19_governed_parameters_and_typed_records_survive_export_and_import(d, tmp_path):
    """A parameter set by governance, a passed proposal waiting for execution, a vote, an
    unbonding and a queued native redemption: the export writes them as typed records (and
    params.<module>), and the import reaches the same root and goes on the same way."""
    from rwachain.genesis import devnet
    from rwachain.genesis.loader import export_genesis
    from rwachain.modules.governance import module as gov
    from rwachain.modules.reserve import module as reserve
    from rwachain.node.chain import Chain
    from tests.mech import KEYS

    a, b = KEYS[0], KEYS[2]
    rwa = 1000 * 10**6
    d.block(d.tx(a, "insurance", "stake", {"amount": 600 * rwa}), d.tx(b, "insurance", "stake", {"amount": 400 * rwa}))
    ids = []
    for value in ("discount=25000000000000000", "premium=15000000000000000"):
        r = d.run(a, "governance", "proposeChange", {"action": "setParams", "target": "reserve", "value": value})
        assert r.code == 0, r.message
        ids.append(events(r, "gov.proposed")[0]["id"])
        assert d.run(a, "governance", "vote", {"id": ids[-1], "support": "yes"}).code == 0
    d.block(at=gov.get(d.ctx, ids[-1]).end)
    d.block(at=gov.get(d.ctx, ids[0]).executeAt)  # the first executes; the second waits a second more
    assert [gov.get(d.ctx, i).status for i in ids] == ["executed", "passed"]
    assert reserve.params(d.ctx)["discount"] == 25 * 10**15
    assert d.run(b, "insurance", "unbond", {"amount": 5 * rwa}).code == 0
    assert d.run(KEYS[9], "reserve", "requestRedeem", {"amount": 10**6}).code == 0
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(d.chain.app, f)
    import json

    doc = json.loads(out.read_text())
    assert doc["params"]["reserve"]["discount"] == "0.025"  # by name, in its unit (docs/genesis.md)
    assert doc["reserve"]["redemptions"] and doc["insurance"]["unbonding"] and doc["governance"]["votes"]
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == d.chain.store.root_hash
    t = gov.get(d.ctx, ids[1]).executeAt
    d.block(at=t)
    other.produce([], time=t)  # the second change executes on both, from its derived due entry
    assert gov.get(d.ctx, ids[1]).status == "executed"
    assert other.store.root_hash == d.chain.store.root_hash
    other.close()
