"""Pools and tranches: creation with retention, the waterfall, the per-unit index, claims
settled on transfer and on claim, write-downs junior first, closing; on a real chain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.genesis import devnet
from rwachain.modules.assets import keeper as assets
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.fixed import RAY
from rwachain.modules.tranches import keeper
from rwachain.modules.tranches.records import POOL_INTS, TRANCHE_INTS, Pool, Tranche
from rwachain.state.codec import decode, encode
from rwachain.state.overlay import Overlay
from tests.mech import KEYS, ORIGINATOR, SERVICER, VERIFIER, WAD, Driver, devnet_chain_at, events

UNIT = 100 * 10**6  # 100 RUSD of face per unit
HOLDER = KEYS[7]


def par_of(d, ids):
    return sum(assets.outstanding_principal(assets.schedule_of(d.ctx, i)) for i in ids)


def make_pool(d, ids=(1, 2, 3), senior_share=75, rate=6 * WAD // 100, unit=UNIT) -> Pool:
    par = par_of(d, ids)
    senior = par * senior_share // 100 // unit * unit
    r = d.run(ORIGINATOR, "tranches", "createPool",
              {"assets": list(ids), "tranches": [[senior, rate], [par - senior, 0]], "unitSize": unit})
    assert r.code == 0, r.message
    return keeper.get(d.ctx, events(r, "tranches.created")[0]["pool"])


def test_creation_mints_units_keeps_the_retention_and_takes_the_assets(d):
    pool = make_pool(d)
    par = pool.par
    assert par == 400_000 * 10**6  # the three demo assets' principal
    senior, junior = pool.tranches
    assert senior.units * UNIT + junior.units * UNIT == par
    retained = min(junior.face, par * 5 // 100) // UNIT
    assert junior.retained == retained
    ctx = d.ctx
    assert bank.balance(ctx, ORIGINATOR.address, senior.denom) == senior.units
    assert bank.balance(ctx, ORIGINATOR.address, junior.denom) == junior.units - retained
    assert bank.balance(ctx, pool.account, junior.denom) == retained
    for i in (1, 2, 3):
        rec = assets.get(ctx, i)
        assert rec.status == "pooled" and rec.pool == pool.id and rec.owner == pool.account
    # a pool account refuses plain transfers; its retained units cannot move
    r = d.run(SERVICER, "bank", "transfer", {"to": pool.account, "denom": "rusd", "amount": 5})
    assert r.error == "module_account_refuses"


@pytest.mark.parametrize("who, args, error", [
    (VERIFIER, {"assets": [1]}, "unauthorized"),
    (ORIGINATOR, {"assets": [1, 1]}, "invalid_state"),
    (ORIGINATOR, {"assets": [99]}, "not_found"),
    (ORIGINATOR, {"faces": "wrong"}, "invalid_state"),
    (ORIGINATOR, {"unit": 7}, "invalid_state"),
])
def test_creation_refusals(d, who, args, error):
    par = par_of(d, [1])
    a = {"assets": args.get("assets", [1]), "tranches": [[par // 2, WAD // 20], [par - par // 2, 0]],
         "unitSize": args.get("unit", UNIT // 100)}
    if "faces" in args:
        a["tranches"][0][0] += 1
    r = d.run(who, "tranches", "createPool", a)
    assert r.error == error, r.message
    assert assets.get(d.ctx, 1).status == "verified"


def repay_next(d, asset_id, amount=None):
    s = assets.schedule_of(d.ctx, asset_id)
    row = next(r for r in s if r[3] < r[1] + r[2])
    amt = row[1] + row[2] - row[3] if amount is None else amount
    r = d.run(SERVICER, "assets", "repay", {"id": asset_id, "amount": amt}, at=max(d.time + 1, row[0] - 10))
    assert r.code == 0, r.message
    return amt, r


def test_repayments_run_the_waterfall_senior_first(d):
    pool = make_pool(d)
    amt, r = repay_next(d, 1)
    w = events(r, "tranches.waterfall")[0]
    p = keeper.get(d.ctx, pool.id)
    senior, junior = p.tranches
    assert p.cashReceived == amt and w["cash"] == amt
    assert senior.allocated == amt and junior.allocated == 0  # all to the senior: interest, then principal
    assert senior.outstanding < senior.face and senior.interest == 0
    assert keeper.check_pool(d.ctx, p) == []
    assert bank.balance(d.ctx, pool.account, "rusd") == amt


def test_claims_follow_units_through_transfers(d):
    pool = make_pool(d)
    sden = pool.tranches[0].denom
    n = pool.tranches[0].units
    third = n // 3
    r = d.run(ORIGINATOR, "bank", "transfer", {"to": HOLDER.address, "denom": sden, "amount": third})
    assert r.code == 0
    amt, _ = repay_next(d, 1)
    p = keeper.get(d.ctx, pool.id)
    idx = p.tranches[0].index
    mine = keeper.claimable(d.ctx, p, 0, HOLDER.address)
    theirs = keeper.claimable(d.ctx, p, 0, ORIGINATOR.address)
    assert mine == third * idx // RAY and theirs == (n - third) * idx // RAY
    assert amt - (mine + theirs) < 2  # the index floors; nothing is lost beyond a unit per holder
    # moving units after the repayment does not move what was earned before it
    d.run(HOLDER, "bank", "transfer", {"to": ORIGINATOR.address, "denom": sden, "amount": third})
    p = keeper.get(d.ctx, pool.id)
    assert keeper.claimable(d.ctx, p, 0, HOLDER.address) == mine
    before = bank.balance(d.ctx, HOLDER.address, "rusd")
    r = d.run(HOLDER, "tranches", "claim", {"pool": pool.id, "tranche": 0})
    assert r.code == 0 and events(r, "tranches.claimed")[0]["amount"] == mine
    assert bank.balance(d.ctx, HOLDER.address, "rusd") == before + mine
    assert keeper.claimable(d.ctx, keeper.get(d.ctx, pool.id), 0, HOLDER.address) == 0
    r = d.run(HOLDER, "tranches", "claim", {"pool": pool.id, "tranche": 0})
    assert events(r, "tranches.claimed")[0]["amount"] == 0


def test_write_off_writes_down_the_junior_first(d):
    pool = make_pool(d, senior_share=90)
    junior_face = pool.tranches[1].face
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    r = d.run(SERVICER, "assets", "writeOff", {"id": 3})  # 250,000 RUSD of principal lost
    assert r.code == 0, r.message
    p = keeper.get(d.ctx, pool.id)
    senior, junior = p.tranches
    assert junior.writtenDown == junior_face and junior.outstanding == 0
    assert senior.writtenDown == 250_000 * 10**6 - junior_face
    assert events(r, "tranches.writeDown")


def test_a_pool_paid_to_maturity_distributes_exactly_what_came_in(d):
    pool = make_pool(d, ids=(2,))  # the bullet receivable: one installment
    s = assets.schedule_of(d.ctx, 2)
    total = sum(r[1] + r[2] for r in s)
    r = d.run(SERVICER, "assets", "repay", {"id": 2, "amount": total}, at=s[0][0] - 1)
    assert r.code == 0 and events(r, "tranches.closed")
    p = keeper.get(d.ctx, pool.id)
    assert p.status == "closed" and p.tranches[1].retained == 0
    assert bank.balance(d.ctx, pool.account, p.tranches[1].denom) == 0
    paid = 0
    for k in range(2):
        r = d.run(ORIGINATOR, "tranches", "claim", {"pool": pool.id, "tranche": k})
        paid += events(r, "tranches.claimed")[0]["amount"]
    p = keeper.get(d.ctx, pool.id)
    assert sum(t.allocated for t in p.tranches) == total == p.cashReceived
    left = bank.balance(d.ctx, pool.account, "rusd")
    assert paid + left == total and left <= 2  # one holder per tranche: at most a unit of dust each
    assert sum(t.claimed for t in p.tranches) == paid


def _count_repayment(chain, holders: int) -> tuple[int, int]:
    """State reads and writes of one repayment of a pooled asset with `holders` unit holders."""
    d = Driver(chain)
    pool = make_pool(d, unit=10**6)  # 300,000 senior units of 1 RUSD
    sden = pool.tranches[0].denom
    # spread senior units over many holders directly in an overlay (no blocks needed)
    base = Overlay(chain.store)
    ctx = chain.app.context(base, chain.app.reader().block)
    for i in range(holders):
        bank.transfer(ctx, ORIGINATOR.address, i.to_bytes(20, "big"), sden, 1)
    top = Overlay(base)
    tctx = chain.app.context(top, ctx.block)
    s = assets.schedule_of(tctx, 1)
    d.handle(tctx, "assets", "repay", SERVICER.address, {"id": 1, "amount": s[0][1] + s[0][2]})
    return top.reads, len(top.writes)


@pytest.mark.slow
def test_a_repayment_costs_the_same_with_10_or_100000_holders(devnet_chain, tmp_path):
    small = _count_repayment(devnet_chain, 10)
    other = devnet_chain_at(tmp_path / "big")
    big = _count_repayment(other, 100_000)
    other.close()
    assert small == big and small[1] > 0


def test_export_with_pools_reimports_to_the_same_root(d, tmp_path):
    from rwachain.genesis.loader import export_genesis
    from rwachain.node.chain import Chain

    pool = make_pool(d)
    d.run(ORIGINATOR, "bank", "transfer", {"to": HOLDER.address, "denom": pool.tranches[0].denom, "amount": 5})
    repay_next(d, 1)
    d.run(HOLDER, "tranches", "claim", {"pool": pool.id, "tranche": 0})
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(d.chain.app, f)
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == d.chain.store.root_hash
    other.close()


def test_pool_mark_is_the_sum_of_its_assets_marks_and_marks_renew_daily(d):
    from rwachain.modules.assets.records import PoolMark

    pool = make_pool(d)
    total = lambda: sum(assets.mark(d.ctx, i).value for i in (1, 2, 3))  # noqa: E731
    assert assets.pool_mark(d.ctx, pool.id) == PoolMark(total(), 0)
    t_mark = assets.mark(d.ctx, 1).time
    result, _ = d.block(at=t_mark + assets.MARK_TTL)  # a day later every mark is recomputed
    assert events(result, "assets.revalued") == [{"count": 5}]
    assert assets.mark(d.ctx, 1).time == d.time
    assert assets.pool_mark(d.ctx, pool.id).value == total()
    repay_next(d, 2, amount=10**6)
    assert assets.pool_mark(d.ctx, pool.id).value == total()


def test_waterfall_order_with_three_tranches():
    """Senior interest, senior principal, mezzanine interest and principal, junior residual;
    write-downs from the junior up."""
    from rwachain.modules.tranches import waterfall
    from rwachain.modules.tranches.records import Pool, Tranche

    def tr(k, face, rate):
        return Tranche(denom=f"unit/p1/t{k}", face=face, outstanding=face, rate=rate, interest=0, units=10, retained=0,
                       allocated=0, claimed=0, index=0, carry=0, writtenDown=0, covered=0)

    def pool_of(*tranches):
        return Pool(id=1, par=sum(t.face for t in tranches), unitSize=1, cashReceived=0, unallocated=0, repayments=0,
                    coverOwed=0, createdAt=0, lastAccrual=0, originator=bytes(20), account=bytes(20), assets=(1,),
                    status="active", tranches=tranches)

    year = 31_536_000
    pool = waterfall.accrue(pool_of(tr(0, 1000, WAD // 10), tr(1, 500, WAD // 5), tr(2, 300, 0)), year)
    s_int, m_int = pool.tranches[0].interest, pool.tranches[1].interest
    assert 105 <= s_int <= 106 and 110 <= m_int <= 111  # (1 + r/YEAR)^YEAR - 1 on the face, floored
    pool, split = waterfall.distribute(pool, 50)
    assert split == [50, 0, 0]  # interest first
    assert pool.tranches[0].interest == s_int - 50 and pool.tranches[0].outstanding == 1000
    pool, split = waterfall.distribute(pool, (s_int - 50) + 1000 + m_int + 200)
    assert split == [s_int - 50 + 1000, m_int + 200, 0]
    assert pool.tranches[1].outstanding == 300
    pool, split = waterfall.distribute(pool, 300 + 300 + 77)  # mezzanine principal, junior face, residual
    assert split == [0, 300, 377] and pool.tranches[2].outstanding == 0
    for t in pool.tranches:
        assert t.index * t.units + t.carry == t.allocated * 10**27
    pool, downs = waterfall.write_down(pool_of(tr(0, 1000, 0), tr(1, 500, 0), tr(2, 300, 0)), 450)
    assert downs == [0, 150, 300]
    assert [t.outstanding for t in pool.tranches] == [1000, 350, 0]


def _in_key_order(v) -> bool:
    """Every map in v has its keys in ascending order (the codec then packs it as it is)."""
    if type(v) is dict:
        return list(v) == sorted(v) and all(_in_key_order(x) for x in v.values())
    if type(v) is list:
        return all(_in_key_order(x) for x in v)
    return True


def test_a_pool_record_stores_exactly_the_bytes_it_was_read_from(d):
    pool = make_pool(d)
    repay_next(d, 1)
    d.run(SERVICER, "assets", "markDefault", {"id": 3})
    assert d.run(SERVICER, "assets", "writeOff", {"id": 3}).code == 0
    raw = d.ctx.get(keeper.POOL + keeper.pid_b(pool.id))
    rec = keeper.get(d.ctx, pool.id)
    assert rec.repayments == 1 and rec.tranches[1].writtenDown > 0 and rec.tranches[0].allocated > 0
    assert encode(rec.to_stored()) == raw and _in_key_order(rec.to_stored())
    assert Pool.from_stored(decode(raw)) == rec


_INTS = st.integers(0, 1 << 255)  # past 2^64: stored as the codec's big-integer extension
_TRANCHES = st.builds(Tranche, denom=st.text(max_size=12), **{f: _INTS for f in TRANCHE_INTS})
_POOLS = st.builds(Pool, originator=st.binary(min_size=20, max_size=20), account=st.binary(min_size=20, max_size=20),
                   assets=st.lists(st.integers(1, (1 << 64) - 1), max_size=4).map(tuple),
                   status=st.sampled_from(("active", "closed")),
                   tranches=st.lists(_TRANCHES, min_size=1, max_size=8).map(tuple), **{f: _INTS for f in POOL_INTS})


@given(_POOLS)
def test_a_pool_record_round_trips_through_its_stored_form(pool):
    stored = pool.to_stored()
    assert _in_key_order(stored) and set(stored) == set(Pool.__slots__)
    assert all(set(t) == set(Tranche.__slots__) for t in stored["tranches"])
    assert Pool.from_stored(decode(encode(stored))) == pool
