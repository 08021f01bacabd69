"""The stable token: custodian mint and burn within the proof of reserve, the instant exit
of eligible units, purchases from the vault, the floor, the collateral ratio; real chain."""

from __future__ import annotations

import pytest

from rwachain.genesis import devnet
from rwachain.modules.bank import keeper as bank
from rwachain.modules.stable import vault
from rwachain.modules.tranches.records import Pool
from tests.mech import CUSTODIAN, KEYS, WAD, Driver, devnet_chain_at, events

HOLDER, OTHER = KEYS[7], KEYS[8]
SENIOR, JUNIOR = "unit/p1/t0", "unit/p1/t1"  # the devnet's demo pool
V0 = devnet.DEMO_EXIT_UNITS  # senior units the vault holds at genesis (the demo exit)


@pytest.fixture
def d(d):
    r = d.repay_installment(4)
    assert r.code == 0, r.message  # a scheduled repayment: the senior units become eligible
    return d


def ceilings_of(ctx, pool: Pool, unit: str, grade: int) -> list[tuple[bytes, int]]:
    """(use key, cap) of the four ceilings an exit of `unit` counts against, global to
    tranche, with the keys docs/state.md lays out under stable/use/."""
    caps = vault.params(ctx)["ceilings"]
    keys = {"global": b"global/-", "originator": b"originator/" + pool.originator, "grade": b"grade/%d" % grade,
            "tranche": b"tranche/" + unit.encode()}
    return [(vault.USE + keys[name], caps[name]) for name in ("global", "originator", "grade", "tranche")]


def exit_(d, key, qty, min_out=0, unit=SENIOR):
    return d.run(key, "stable", "exit", {"unit": unit, "quantity": qty, "minOut": min_out})


def test_an_instant_exit_pays_price_times_one_minus_the_haircut(d):
    from rwachain.modules.tranches import keeper as tranches

    q = vault.quote_exit(d.ctx, SENIOR, 100)
    grade = q.grade
    assert q.haircut >= devnet_h_base(grade) and q.out == q.value - q.value * q.haircut // WAD
    before = bank.balance(d.ctx, HOLDER.address, "rusd")
    reserve_before = bank.balance(d.ctx, vault.RESERVE, "rusd")
    use_before = d.ctx.get_int(vault.USE + b"global/-")
    uses = [(d.ctx.get_int(k), cap) for k, cap in ceilings_of(d.ctx, tranches.get(d.ctx, 1), SENIOR, grade)]
    r = exit_(d, HOLDER, 100, min_out=q.out * 99 // 100)  # (the block is a second later than the quote)
    assert r.code == 0, r.message
    e = events(r, "stable.exit")[0]
    value = e["price"] * 100
    cut = vault.exit_haircut(vault.params(d.ctx), grade, uses, value)  # h_base + the path average, rounded up
    assert cut == -(-devnet_h_base(grade) * value // WAD) + -(-vault.DEFAULT_PARAMS["hSlope"] * (
        (uses[-1][0] + value) ** 3 - uses[-1][0] ** 3) // (3 * uses[-1][1] ** 2 * WAD))  # the tranche ceiling binds
    assert e["out"] == value - cut and e["reserveShare"] == cut // 2
    assert bank.balance(d.ctx, HOLDER.address, "rusd") == before + e["out"]
    assert bank.balance(d.ctx, vault.RESERVE, "rusd") - reserve_before == e["reserveShare"] + r.fee * 0
    assert bank.balance(d.ctx, vault.VAULT, SENIOR) == V0 + 100
    assert d.ctx.get_int(vault.USE + b"global/-") == use_before + value


def devnet_h_base(grade):
    return vault.DEFAULT_PARAMS["hBase"][grade]


def test_exit_refusals(d):
    assert exit_(d, HOLDER, 10, unit=JUNIOR).error == "invalid_state"  # the junior is not eligible
    q = vault.quote_exit(d.ctx, SENIOR, 10)
    r = exit_(d, HOLDER, 10, min_out=q.out * 2)
    assert r.error == "limit_exceeded" and "minimum" in r.message
    assert exit_(d, HOLDER, 700).error == "insufficient_funds"  # dev 7 holds 600


def test_splitting_an_exit_saves_nothing(tmp_path):

    outs = []
    for name, parts in (("one", [200]), ("two", [100, 100]), ("four", [50, 50, 50, 50])):
        chain = devnet_chain_at(tmp_path / name)
        dd = Driver(chain)
        dd.repay_installment(4)
        got = 0
        for p in parts:
            r = dd.block(dd.tx(HOLDER, "stable", "exit", {"unit": SENIOR, "quantity": p, "minOut": 0}), dt=0)[1][0]
            assert r.code == 0, r.message
            got += events(r, "stable.exit")[0]["out"]
        outs.append(got)
        chain.close()
    assert outs[0] >= outs[1] >= outs[2] - 2 and outs[1] <= outs[0]  # path-average haircut: no gain


def test_buying_out_of_the_vault_at_price_plus_spread_burns_the_payment(d):
    exit_(d, HOLDER, 100)
    pr = vault.unit_prices(d.ctx, SENIOR)
    supply = bank.supply(d.ctx, "rusd")
    r = d.run(OTHER, "stable", "buy", {"unit": SENIOR, "quantity": 40, "maxIn": 10**15})
    assert r.code == 0, r.message
    cost = events(r, "stable.bought")[0]["cost"]
    assert cost == -(-pr.sell * 40 * (WAD + WAD // 100) // WAD)
    assert bank.supply(d.ctx, "rusd") == supply - cost
    assert bank.balance(d.ctx, vault.VAULT, SENIOR) == V0 + 60
    r = d.run(OTHER, "stable", "buy", {"unit": SENIOR, "quantity": 1, "maxIn": 1})
    assert r.error == "limit_exceeded"


def test_the_floor_redeems_at_par_in_vault_holdings(d):
    exit_(d, HOLDER, 200)
    value, _ = vault.vault_value(d.ctx)
    held = bank.balance(d.ctx, OTHER.address, SENIOR)
    r = d.run(OTHER, "stable", "redeem", {"amount": value // 4})
    assert r.code == 0, r.message
    got = bank.balance(d.ctx, OTHER.address, SENIOR) - held
    assert (V0 + 200) // 4 - 1 <= got <= (V0 + 200) // 4  # a quarter of the vault's units, floored


def test_the_floor_still_pays_with_stale_feeds(d):
    exit_(d, HOLDER, 200)
    d.block(at=d.time + 3 * 86_400)  # the rate feed (1 day) goes stale; marks renew as stale
    assert vault.vault_value(d.ctx)[1]  # problems
    circ = vault.circulating(d.ctx)
    amount = 10**12  # dev 8's whole 1,000,000 RUSD
    r = d.run(OTHER, "stable", "redeem", {"amount": amount})
    assert r.code == 0, r.message
    e = events(r, "stable.redeemed")[0]
    last = d.ctx.get_obj(vault.CR)["lastFresh"]
    expect = (V0 + 200) * (amount * min(WAD, WAD * WAD // last)) // (circ * WAD)  # pro rata, scaled by the last fresh CR
    assert e["stale"] is True and e["units"] == f"{SENIOR}:{expect}" and expect > 0
    r = exit_(d, HOLDER, 10)
    assert r.error == "stale_feed"  # priced actions fail closed


def test_custodian_mint_and_burn_within_the_proof_of_reserve(d):
    por = devnet.STABLE_EACH * devnet.DEV_ACCOUNTS * 2
    minted = d.ctx.get_int(vault.MINTED + CUSTODIAN.address)
    assert minted == devnet.STABLE_EACH * devnet.DEV_ACCOUNTS + devnet.RESERVE_FUND  # the genesis balances
    r = d.run(CUSTODIAN, "stable", "mint", {"to": HOLDER.address, "amount": por - minted + 1})
    assert r.error == "limit_exceeded" and "proof" in r.message
    r = d.run(HOLDER, "stable", "mint", {"to": HOLDER.address, "amount": 1})
    assert r.error == "unauthorized"
    r = d.run(CUSTODIAN, "stable", "mint", {"to": HOLDER.address, "amount": 5 * 10**6})
    assert r.code == 0 and d.ctx.get_int(vault.MINTED + CUSTODIAN.address) == minted + 5 * 10**6
    r = d.run(CUSTODIAN, "stable", "burn", {"amount": 10**6})
    assert r.code == 0 and events(r, "stable.burned")[0]["offchainPayout"] == 10**6


def test_the_collateral_ratio_is_recorded_every_block(d):
    exit_(d, HOLDER, 100)
    cr = d.ctx.get_obj(vault.CR)
    c = vault.collateral_ratio(d.ctx)
    assert cr["cr"] == c.cr and cr["time"] == d.time and c.cr >= WAD
    assert c.circulating == bank.supply(d.ctx, "rusd") - sum(
        bank.balance(d.ctx, a, "rusd") for a in vault.protocol_accounts(d.ctx))


def test_with_a_queued_move_the_protocol_buys_at_the_lower_value(d):
    step = devnet.POLICIES["rate"]["stepAbs"]
    before = vault.unit_prices(d.ctx, JUNIOR)  # (the senior is worth its claim: the junior moves)
    assert before.queued is None and before.buy == before.sell
    r = d.run(KEYS[6], "oracle", "report", d.report_args("rate", devnet.RATE + 20 * step))
    assert events(r, "oracle.queued"), r.message
    pr = vault.unit_prices(d.ctx, JUNIOR)
    assert pr.queued < pr.current and pr.buy == pr.queued and pr.sell == pr.current


@pytest.mark.parametrize("k, ceiling", list(enumerate(["global", "originator", "grade", "tranche"])))
def test_each_ceiling_caps_exits_and_drives_the_utilization(d, k, ceiling):
    """With one ceiling set to 50 units' worth above its use (the others as they are), exits
    fill it exactly and one unit more is refused naming it; the haircut's utilization is that
    ceiling's. Run on an overlay of the real store (the parameter is governance's to set)."""
    from rwachain.modules.core.errors import LimitExceeded
    from rwachain.modules.tranches import keeper as tranches
    from rwachain.state.overlay import Overlay

    ctx = d.chain.app.context(Overlay(d.chain.store), d.ctx.block)
    pool = tranches.get(ctx, 1)
    price = vault.unit_prices(ctx, SENIOR).buy
    key, _ = ceilings_of(ctx, pool, SENIOR, vault.pool_grade(ctx, pool))[k]
    used = ctx.get_int(key)
    cap = used + 50 * price
    prm = vault.params(ctx)
    ctx.set_obj(vault.PARAMS, {**prm, "ceilings": {**prm["ceilings"], ceiling: cap}})
    q = vault.exit_units(ctx, HOLDER.address, SENIOR, 30, 0)
    assert q.u1 == (used + 30 * price) * WAD // cap and q.u0 == used * WAD // cap
    with pytest.raises(LimitExceeded, match=ceiling):
        vault.exit_units(ctx, HOLDER.address, SENIOR, 21, 0)
    vault.exit_units(ctx, HOLDER.address, SENIOR, 20, 0)  # exactly up to the ceiling
    assert ctx.get_int(key) == cap
