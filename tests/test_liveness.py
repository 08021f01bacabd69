"""Liveness: no transaction can stop the chain.

Every id, count and rate is bounded at the argument check; time-dependent computations do
bounded work whatever the time gap; a handler that raises anything yields a failed receipt
(handler_fault) instead of stopping the block; on a real chain.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.args import U64_MAX, decimal_at_most
from modules.assets import keeper as assets
from modules.assets.schedule import MAX_RATE
from modules.errors import BadArguments
from modules.fixed import RAY, YEAR, per_second_ray, rpow
from modules.tranches import keeper as tranches
from modules.tranches import waterfall
from tests.mech import DAY, KEYS, ORIGINATOR, SERVICER, T0, VERIFIER, Driver, events

HOLDER = KEYS[7]
BIG_POOL = 1 << 64  # the first pool id past 8 bytes


@pytest.fixture
def d(devnet_chain):
    return Driver(devnet_chain)


def refused_at_the_door(d, key, module, call, args):
    """The transaction is refused by admission (BadArguments), and a block that carries it
    anyway (a proposer need not run admission) goes on with a bad_arguments receipt."""
    raw = d.tx(key, module, call, args)
    with pytest.raises(BadArguments):
        d.chain.app.check_tx(raw)
    height = d.chain.height
    _, receipts = d.block(raw)
    d.nonces[key.address] -= 1  # refused at the door: the nonce is not used
    assert d.chain.height == height + 1
    assert receipts[0].error == "bad_arguments", receipts[0].message
    return receipts[0]


@pytest.mark.parametrize("module, call, args", [
    ("market", "place", {"denom": f"unit/p{BIG_POOL}/t0", "side": "buy", "price": 1, "quantity": 1,
                         "expiry": 0}),
    ("market", "place", {"denom": f"unit/p{BIG_POOL}/t0", "side": "sell", "price": 1, "quantity": 1,
                         "expiry": 0}),
    ("stable", "exit", {"unit": f"unit/p{BIG_POOL}/t0", "quantity": 1, "minOut": 0}),
    ("stable", "buy", {"unit": f"unit/p{BIG_POOL}/t0", "quantity": 1, "maxIn": 1}),
    ("reserve", "sell", {"unit": f"unit/p{BIG_POOL}/t0", "quantity": 1, "minOut": 0, "payIn": "stable"}),
    ("reserve", "sell", {"unit": f"unit/p{10**20 - 1}/t1", "quantity": 1, "minOut": 0, "payIn": "native"}),
    ("stable", "exit", {"unit": "unit/p01/t0", "quantity": 1, "minOut": 0}),  # not the canonical id
    ("oracle", "reject", {"feed": f"grade/{BIG_POOL}"}),
])
def test_flaw01_pool_ids_past_64_bits_are_refused_and_never_stop_the_chain(d, module, call, args):
    refused_at_the_door(d, HOLDER, module, call, args)


def test_flaw01_the_largest_pool_id_is_still_accepted_and_fails_cleanly(d):
    r = d.run(HOLDER, "stable", "exit", {"unit": f"unit/p{BIG_POOL - 1}/t0", "quantity": 1, "minOut": 0})
    assert r.code != 0 and r.error != "bad_arguments" and r.fee > 0


def _interest_only_tail_asset(d) -> int:
    """A verified asset whose principal is repaid while interest is still unpaid: par 0."""
    r = d.run(ORIGINATOR, "assets", "register", {
        "kind": "loan", "principal": 1000, "rate": 0, "schedule": "given", "start": 0, "period": 0,
        "count": 0, "installments": [[T0 + DAY, 1000, 0], [T0 + 2 * DAY, 0, 7]], "grace": DAY,
        "docHash": b"\x11" * 32})
    assert r.code == 0, r.message
    aid = events(r, "assets.registered")[0]["id"]
    assert d.run(VERIFIER, "assets", "verify", {"id": aid, "grade": "B"}).code == 0
    assert d.run(SERVICER, "assets", "repay", {"id": aid, "amount": 1000}).code == 0
    assert assets.get(d.ctx, aid)["status"] == "verified"
    assert assets.outstanding_principal(assets.schedule_of(d.ctx, aid)) == 0
    return aid


def test_flaw02_a_pool_without_tranches_or_par_is_refused(d):
    aid = _interest_only_tail_asset(d)
    pools = tranches.ids(d.ctx)
    refused_at_the_door(d, ORIGINATOR, "tranches", "createPool", {"assets": [aid], "tranches": [], "unitSize": 1})
    r = d.run(ORIGINATOR, "tranches", "createPool", {"assets": [aid], "tranches": [[0, 0]], "unitSize": 1})
    assert r.error == "invalid_state" and "par" in r.message
    assert assets.get(d.ctx, aid)["status"] == "verified" and tranches.ids(d.ctx) == pools


@pytest.mark.parametrize("rows", [
    [[100, 0]] * 9,  # more than 8 tranches
    [[100, MAX_RATE + 1], [100, 0]],  # a senior rate above the asset rate cap
    [[100, (1 << 128) - 1], [100, 0]],
    [[100, 0], [100, MAX_RATE + 1]],  # the junior's rate is bounded too (it is unused)
])
def test_flaw02_tranche_counts_and_rates_are_bounded(d, rows):
    refused_at_the_door(d, ORIGINATOR, "tranches", "createPool", {"assets": [1], "tranches": rows, "unitSize": 1})


def _pool_at_max_rate(d) -> dict:
    par = assets.outstanding_principal(assets.schedule_of(d.ctx, 2))
    unit = 100 * 10**6
    senior = par // 2 // unit * unit
    r = d.run(ORIGINATOR, "tranches", "createPool",
              {"assets": [2], "tranches": [[senior, MAX_RATE], [par - senior, 0]], "unitSize": unit})
    assert r.code == 0, r.message
    return tranches.get(d.ctx, events(r, "tranches.created")[0]["pool"])


def _reference_interest(base: int, rate: int, dt: int) -> int:
    """Interest on base after dt seconds, compounded per second, by plain repeated
    multiplication (the rounding of rpow: half-up at every step is not the same chain of
    products, so compare within a relative 1e-15)."""
    x = RAY + per_second_ray(rate)
    f = RAY
    for _ in range(dt):
        f = (f * x + RAY // 2) // RAY
    return base * f // RAY - base


def test_flaw03_accrual_at_the_rate_cap_is_fast_and_correct_over_any_gap(d):
    pool = _pool_at_max_rate(d)
    senior = pool["tranches"][0]
    base = senior["outstanding"]
    for dt in (1, 2, 3, 60, 3_600, DAY):  # small gaps: the closed form agrees with a plain reference
        p = tranches.get(d.ctx, pool["id"])
        waterfall.accrue(p, p["lastAccrual"] + dt)
        ref = _reference_interest(base, MAX_RATE, dt)
        assert abs(p["tranches"][0]["interest"] - ref) <= ref // 10**15 + 1
    for years in (1, 10, 10**3, 10**6, 10**9):  # any gap: bounded work, saturated claim
        p = tranches.get(d.ctx, pool["id"])
        start = time.perf_counter()
        waterfall.accrue(p, p["lastAccrual"] + years * YEAR)
        waterfall.accrue(p, p["lastAccrual"] + years * YEAR)  # and again, on the grown claim
        assert time.perf_counter() - start < 0.05
        t = p["tranches"][0]
        assert 0 < t["outstanding"] + t["interest"] <= waterfall.CLAIM_MAX
    # at one year, 1,000 % APR per second compounds to e^10 - 1 of interest on the base
    p = tranches.get(d.ctx, pool["id"])
    waterfall.accrue(p, p["lastAccrual"] + YEAR)
    grown = p["tranches"][0]["interest"] * 10**6 // base
    assert 22_025_000_000 <= grown <= 22_026_466_000  # e^10 - 1 = 22025.4658


def test_flaw03_a_quiet_pool_at_the_rate_cap_prices_fast_far_in_the_future(d):
    pool = _pool_at_max_rate(d)
    denom = pool["tranches"][0]["denom"]
    for gap in (4 * DAY, 10**6 * YEAR, 10**9 * YEAR):
        start = time.perf_counter()
        r = d.run(HOLDER, "market", "place", {"denom": denom, "side": "buy", "price": 1, "quantity": 1,
                                              "expiry": 0}, dt=gap)
        assert time.perf_counter() - start < 2.0
        assert r.fee > 0 and r.error != "handler_fault", r.message


def test_flaw03_rpow_capped_is_rpow_below_the_cap_and_the_cap_above(d):
    from modules.fixed import rpow_capped

    x = RAY + per_second_ray(MAX_RATE)
    cap = 10**40 * RAY
    for n in (0, 1, 2, 3, 1000, DAY, YEAR):
        exact = rpow(x, n)
        assert rpow_capped(x, n, cap) == min(exact, cap)
    start = time.perf_counter()
    assert rpow_capped(x, (1 << 64) - 1, cap) == cap
    assert rpow_capped(RAY, (1 << 64) - 1, cap) == RAY
    assert time.perf_counter() - start < 0.01


@settings(max_examples=300)
@given(st.one_of(st.integers(0, 1 << 70), st.just(U64_MAX), st.just(U64_MAX + 1)),
       st.one_of(st.integers(0, 1 << 66), st.sampled_from([0, 1, 9, 10, 99, 100, U64_MAX])))
def test_decimal_at_most_matches_exactly_the_canonical_decimals_up_to_its_bound(v, hi):
    import re

    pattern = re.compile(f"^{decimal_at_most(hi)}$")
    assert (pattern.match(str(v)) is not None) == (v <= hi)
    assert pattern.match("0" + str(v)) is None  # never a leading zero
    assert pattern.match(f"-{v}") is None


# ----- a handler or hook that raises: contained, counted, logged -------------------------------
BOOM_KEY = b"bank/boom"


def _boom(ctx, sender, args):
    """A call whose handler writes, then fails with an exception that is no ExecutionError."""
    ctx.set(BOOM_KEY, b"\x01")
    ctx.emit("boom.wrote")
    return 1 // args["n"]


def _with_boom_call(chain):
    from modules.args import Int
    from modules.registry import Call

    chain.app.by_name["bank"].add_call(Call("boom", _boom, {"n": Int(0, 9)}, cost=1_000))


def test_a_raising_handler_fails_its_transaction_and_the_chain_goes_on(d, tmp_path, caplog):
    from genesis import devnet
    from modules import accounts
    from modules.bank import keeper as bank
    from modules.errors import HandlerFault
    from node.chain import Chain
    from node.service import Node, NodeOptions

    Node(d.chain, str(tmp_path / "journal"), NodeOptions(mining="manual", dev=True))  # wires the log
    _with_boom_call(d.chain)
    before = bank.balance(d.ctx, HOLDER.address, "rwa")
    raws = [d.tx(HOLDER, "bank", "boom", {"n": 0}), d.tx(HOLDER, "bank", "boom", {"n": 1}),
            d.tx(HOLDER, "bank", "transfer", {"to": KEYS[8].address, "denom": "rwa", "amount": 5})]
    with caplog.at_level("WARNING", logger="rwachain.node"):
        result, (fault, ok, transfer) = d.block(*raws)
    assert (fault.code, fault.error) == (HandlerFault.code, "handler_fault") == (69, "handler_fault")
    assert fault.message == "bank.boom raised ZeroDivisionError"  # no address, no traceback
    assert fault.fee > 0 and [e["type"] for e in fault.events] == ["tx.fee"]  # its own events are dropped
    assert ok.code == 0 and transfer.code == 0
    assert d.chain.app.handler_faults == 1
    assert bank.balance(d.ctx, HOLDER.address, "rwa") == before - fault.fee - ok.fee - transfer.fee - 5
    assert accounts.nonce(d.ctx, HOLDER.address) == 3
    assert d.ctx.get(BOOM_KEY) == b"\x01"  # written by the second, which succeeded
    assert any("bank.boom raised ZeroDivisionError" in r.getMessage() and r.exc_info for r in caplog.records)
    # the receipt and the state root are the same on a replica that replays the block
    replica = Chain(str(tmp_path / "replica"), devnet.validator_key())
    replica.init_genesis(devnet.PATH)
    _with_boom_call(replica)
    _, again = replica.produce(raws, time=d.time)
    assert again.state_root == result.state_root
    assert [r.to_obj() for r in again.receipts] == [r.to_obj() for r in result.receipts]
    assert replica.app.handler_faults == 1
    replica.close()


def test_a_simulated_fault_is_not_counted(d):
    _with_boom_call(d.chain)
    r = d.chain.app.simulate(d.tx(HOLDER, "bank", "boom", {"n": 0}))
    assert r.error == "handler_fault" and d.chain.app.handler_faults == 0


def test_a_raising_hook_drops_its_writes_and_the_block_goes_on(d):
    from modules.registry import Module

    def end_block(ctx):
        ctx.set(BOOM_KEY, b"\x02")
        if ctx.block.time % 2:
            raise KeyError(ctx.block.time)

    d.chain.app.modules.append(Module("boom", end_block=end_block))
    result, _ = d.block(at=d.time + (1 if d.time % 2 == 0 else 2))  # an odd time: it raises
    assert [e["attrs"] for e in result.events if e["type"] == "hook.fault"] == [
        {"error": "KeyError", "hook": "boom.end"}]
    assert d.ctx.get(BOOM_KEY) is None and d.chain.app.hook_faults == 1
    result, _ = d.block(dt=1)  # an even time: it runs and writes
    assert not [e for e in result.events if e["type"] == "hook.fault"] and d.ctx.get(BOOM_KEY) == b"\x02"
