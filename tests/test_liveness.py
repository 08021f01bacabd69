"""Liveness: no transaction can stop the chain.

Every id, count and rate is bounded at the argument check; time-dependent computations do
bounded work whatever the time gap; a handler that raises anything yields a failed receipt
(handler_fault) instead of stopping the block; on a real chain.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets.schedule import MAX_RATE
from rwachain.modules.core.args import U64_MAX, decimal_at_most
from rwachain.modules.core.errors import BadArguments
from rwachain.modules.core.fixed import RAY, WAD, YEAR, per_second_ray, rpow
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall
from tests.mech import (
    DAY,
    KEYS,
    ORIGINATOR,
    SERVICER,
    T0,
    VERIFIER,
    devnet_chain_at,
    events,
    work_budget,
)

HOLDER = KEYS[7]
BIG_POOL = 1 << 64  # the first pool id past 8 bytes


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
    assert assets.get(d.ctx, aid).status == "verified"
    assert assets.outstanding_principal(assets.schedule_of(d.ctx, aid)) == 0
    return aid


def test_flaw02_a_pool_without_tranches_or_par_is_refused(d):
    aid = _interest_only_tail_asset(d)
    pools = tranches.ids(d.ctx)
    refused_at_the_door(d, ORIGINATOR, "tranches", "createPool", {"assets": [aid], "tranches": [], "unitSize": 1})
    r = d.run(ORIGINATOR, "tranches", "createPool", {"assets": [aid], "tranches": [[0, 0]], "unitSize": 1})
    assert r.error == "invalid_state" and "par" in r.message
    assert assets.get(d.ctx, aid).status == "verified" and tranches.ids(d.ctx) == pools


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
    senior = pool.tranches[0]
    base = senior.outstanding
    for dt in (1, 2, 3, 60, 3_600, DAY):  # small gaps: the closed form agrees with a plain reference
        p = tranches.get(d.ctx, pool.id)
        p = waterfall.accrue(p, p.lastAccrual + dt)
        ref = _reference_interest(base, MAX_RATE, dt)
        assert abs(p.tranches[0].interest - ref) <= ref // 10**15 + 1
    for years in (1, 10, 10**3, 10**6, 10**9):  # any gap: bounded work, saturated claim
        p = tranches.get(d.ctx, pool.id)
        with work_budget(2_000):  # about 330 lines whatever the gap; a loop per second or day would not end
            p = waterfall.accrue(p, p.lastAccrual + years * YEAR)
            p = waterfall.accrue(p, p.lastAccrual + years * YEAR)  # and again, on the grown claim
        t = p.tranches[0]
        assert 0 < t.outstanding + t.interest <= waterfall.CLAIM_MAX
    # at one year, 1,000 % APR per second compounds to e^10 - 1 of interest on the base
    p = tranches.get(d.ctx, pool.id)
    p = waterfall.accrue(p, p.lastAccrual + YEAR)
    grown = p.tranches[0].interest * 10**6 // base
    assert 22_025_000_000 <= grown <= 22_026_466_000  # e^10 - 1 = 22025.4658


def test_flaw03_a_quiet_pool_at_the_rate_cap_prices_fast_far_in_the_future(d):
    pool = _pool_at_max_rate(d)
    denom = pool.tranches[0].denom
    for gap in (4 * DAY, 10**6 * YEAR, 10**9 * YEAR):
        with work_budget(100_000):  # the whole block: 11,000 to 26,000 lines whatever the gap
            r = d.run(HOLDER, "market", "place", {"denom": denom, "side": "buy", "price": 1, "quantity": 1,
                                                  "expiry": 0}, dt=gap)
        assert r.fee > 0 and r.error != "handler_fault", r.message


def test_valuation_does_bounded_work_over_any_time_gap():
    """The valuation's factors are at most RAY, so their powers shrink: any gap up to the
    latest due time costs at most 64 squarings, and the value only falls with the gap."""
    from rwachain.modules.assets.schedule import MAX_TIME
    from rwachain.modules.valuation import dcf

    top = dcf.Inputs(rate=dcf.MAX_RATE, spread=dcf.MAX_RATE, intensity=dcf.MAX_RATE, lgd=WAD // 2, grace=1)
    low = dcf.Inputs(rate=1, spread=0, intensity=1, lgd=WAD // 2, grace=1)
    now = T0
    for inputs in (top, low):
        values = []
        for gap in (1, DAY, YEAR, 10**6 * YEAR, 10**9 * YEAR, MAX_TIME - now):
            unpaid = [(now + gap, 10**30), (now + gap + 1, 10**30)]
            with work_budget(3_000):  # 100 to 730 lines, up to the latest due time
                v = dcf.value(unpaid, now, dcf.PERFORMING, inputs)
            assert v == dcf.explain(unpaid, now, dcf.PERFORMING, inputs)["value"]
            values.append(v)
        assert values == sorted(values, reverse=True) and 0 <= values[-1] <= values[0] <= 2 * 10**30


def test_flaw03_rpow_capped_is_rpow_below_the_cap_and_the_cap_above(d):
    from rwachain.modules.core.fixed import rpow_capped

    x = RAY + per_second_ray(MAX_RATE)
    cap = 10**40 * RAY
    for n in (0, 1, 2, 3, 1000, DAY, YEAR):
        exact = rpow(x, n)
        assert rpow_capped(x, n, cap) == min(exact, cap)
    with work_budget(2_000):  # about 560 lines: squarings, not 2^64 multiplications
        assert rpow_capped(x, (1 << 64) - 1, cap) == cap
        assert rpow_capped(RAY, (1 << 64) - 1, cap) == RAY


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
    from rwachain.modules.core.args import Int
    from rwachain.modules.core.registry import Call

    chain.app.by_name["bank"].add_call(Call("boom", _boom, {"n": Int(0, 9)}, cost=1_000))


def test_a_raising_handler_fails_its_transaction_and_the_chain_goes_on(d, tmp_path, caplog):
    from rwachain.modules.bank import keeper as bank
    from rwachain.modules.core import accounts
    from rwachain.modules.core.errors import HandlerFault
    from rwachain.node.service import Node, NodeOptions

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
    replica = devnet_chain_at(tmp_path / "replica")
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


def test_the_simulator_reports_a_contained_fault_as_a_failure():
    import dataclasses

    from rwachain.genesis.sim.simulate import Runner, Step, sim_genesis
    from rwachain.modules.core.app import default_modules

    def planted():
        mods = default_modules()
        bank_mod = next(m for m in mods if m.name == "bank")
        good = bank_mod.calls["transfer"]

        def broken(ctx, sender, args):
            good.handler(ctx, sender, args)
            return 1 // (args["amount"] % 10 - 7)

        bank_mod.calls["transfer"] = dataclasses.replace(good, handler=broken)
        return mods

    with Runner(sim_genesis(holders=1), modules=planted) as runner:
        send = {"to": KEYS[8].address, "denom": "rwa"}
        _, ok = runner.execute(1, [Step(1, "holder0", "bank", "transfer", {**send, "amount": 16})])
        _, failure = runner.execute(2, [Step(2, "holder0", "bank", "transfer", {**send, "amount": 17})])
    assert ok is None
    assert (failure.kind, failure.key) == ("fault", "fault:bank.transfer")
    assert failure.messages == ("bank.transfer raised ZeroDivisionError",)


def test_a_raising_hook_drops_its_writes_and_the_block_goes_on(d):
    from rwachain.modules.core.registry import Module

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


# ----- every call with boundary arguments, then blocks far in the future ----------------------
B64, B128, B256 = 1 << 64, 1 << 128, 1 << 256
BOUNDARY = (0, 1, 2, 3, 4, 5, 7, 8, 10**6, WAD // 20, WAD, 10 * WAD, B64 - 1, B64,
            B128 - 1, B128, B256)
ACTORS = tuple(f"dev{i}" for i in range(10)) + ("holder0", "holder1", "holder77")  # every role; one unfunded
UNITS = ("unit/p1/t0", "unit/p1/t1", "unit/p2/t0", "unit/p2/t1", "unit/p0/t0", f"unit/p{B64 - 1}/t7",
         f"unit/p{B64}/t0", "unit/p01/t0")
FEEDS = ("rate", "spread/A", "spread/E", "intensity/B", "lgd/C", "grade/1", "grade/2", "grade/4", "grade/0",
         f"grade/{B64 - 1}", f"grade/{B64}", "price/rusd", "price/unit/p1/t0", "reserve/rwa1qqq")
MODULE_NAMES = ("bank", "assets", "oracle", "tranches", "market", "stable", "insurance", "governance", "reserve",
                "nope")
CHANGES = {
    "setParams": ("stable", "reserve", "market", "insurance", "governance", "bank"),
    "setPolicy": ("rate", "spread", "grade", "price", "reserve", "intensity"),
    "setOperators": ("oracle",),
}
CHANGE_VALUES = ("hSlope=0", "spread=0", f"spread={B256}", "band=0", f"band={WAD // 2}", "minPrice=1",
                 f"minPrice={(1 << 255) - 1}", "discount=0", f"discount={WAD // 2}", "epoch=3600",
                 f"budgetShare={WAD // 2}", "votingPeriod=86400", "executionDelay=3600", "quorum=1",
                 "unbonding=15638400", "feeShare=0", "maxAge=60", "window=1", "delay=0", "quorum=256",
                 f"stepAbs={B128 - 1}", f"hi={B128 - 1}", "lo=0", "ceilings.tranche=1", "x=1", "=", "")


ROLE_ACTOR = {"assets.register": "dev1", "tranches.createPool": "dev1", "assets.verify": "dev2",
              "assets.repay": "dev3", "assets.markDefault": "dev3", "assets.writeOff": "dev3",
              "assets.recover": "dev3", "stable.mint": "dev4", "stable.burn": "dev4", "oracle.reject": "dev5",
              "governance.pause": "dev5", "oracle.report": "dev6", "stable.exit": "dev1", "market.place": "dev1",
              "reserve.sell": "dev1", "market.cancel": "dev1"}


def _operator_set(n: int) -> str:
    """A setOperators value: the first n devnet operators, with their proofs of possession."""
    from rwachain.genesis import devnet
    from rwachain.modules.core import bls
    from rwachain.modules.core.crypto import encode_address

    parts = []
    for j in range(n):
        sk = devnet.operator_secret(j)
        addr = actor_address(f"dev{devnet.OPERATOR_ACCOUNT0 + j}")
        parts.append(f"{encode_address(addr)}:{bls.public_key(sk).hex()}:{bls.prove_possession(sk).hex()}")
    return ";".join(parts)


@functools.cache
def _changes() -> tuple[tuple[str, str, str], ...]:
    """(action, target, value) of changes at and beyond their bounds (some refused when proposed).
    Never lo/hi of a policy: a value applied within the old bounds may lie outside new ones,
    which the oracle-bounds check reports (as genesis/sim/simulate.py's POLICY_CHANGES notes)."""
    return (
        ("setParams", "reserve", "discount=0"), ("setParams", "reserve", f"discount={WAD // 2}"),
        ("setParams", "reserve", "epoch=3600"), ("setParams", "reserve", "cooldown=0"),
        ("setParams", "reserve", f"budgetShare={WAD // 2},premium={WAD // 2}"),
        ("setParams", "market", f"band={WAD // 100}"), ("setParams", "market", f"minPrice={(1 << 255) - 1}"),
        ("setParams", "market", "takerFee=500,makerFee=500"), ("setParams", "stable", "spread=0"),
        ("setParams", "governance", "votingPeriod=86400,executionDelay=3600"),
        ("setParams", "governance", f"quorum={WAD}"), ("setParams", "insurance", f"feeShare={WAD // 2}"),
        ("setPolicy", "rate", "maxAge=60,window=1,delay=0"), ("setPolicy", "grade", "quorum=1"),
        ("setPolicy", "price", f"stepAbs={B128 - 1},stepRel={10 * WAD}"), ("setPolicy", "spread", "delay=2592000"),
        ("setPolicy", "reserve", "quorum=4"), ("setOperators", "oracle", _operator_set(4)),
        ("setOperators", "oracle", _operator_set(3)), ("setOperators", "oracle", _operator_set(1)))


def _governance_args(call, draw):
    """A proposal that can pass and execute: valid and boundary changes, role grants and
    revocations of the role holders, unpauses and unfreezes."""
    from hypothesis import strategies as st

    if call == "proposeChange":
        action, target, value = draw(st.sampled_from(_changes()))
        return {"action": action, "target": target, "value": value}
    action = draw(st.sampled_from(("unpause", "unfreeze", "grantRole", "revokeRole")))
    target = {"unpause": st.sampled_from(MODULE_NAMES), "unfreeze": st.sampled_from(FEEDS)}.get(
        action, st.sampled_from(("originator", "verifier", "servicer", "custodian", "operator", "guardian")))
    account = draw(st.sampled_from([actor_address(a) for a in ("holder0", "dev1", "dev4", "dev5", "dev6")]))
    return {"action": action, "target": draw(target), "account": account if "Role" in action else b""}


def _ints(spec, draw, wild):
    from hypothesis import strategies as st

    inside = [v for v in BOUNDARY + (spec.lo, spec.lo + 1, spec.hi, spec.hi - 1) if spec.lo <= v <= spec.hi]
    return draw(st.sampled_from(BOUNDARY if wild else sorted(set(inside))))


def _arg(module, call, name, spec, draw, ctx, now, wild):
    """A boundary value for one argument (inside its spec unless wild)."""
    from hypothesis import strategies as st

    from rwachain.modules.core import args as a
    from rwachain.modules.core.crypto import encode_address, module_address

    addresses = [actor_address(x) for x in ACTORS] + [module_address(n) for n in (
        "reserve", "vault", "insurance", "treasury", "pool/1", "pool/2", f"pool/{B64 - 1}")] + [b"\0" * 20]
    if isinstance(spec, a.Int):
        if name in ("start", "observedAt", "expiry"):
            return draw(st.sampled_from((0, 1, now, now + DAY, now + YEAR, B64 - 1)))
        return _ints(spec, draw, wild)
    if isinstance(spec, a.AddressArg):
        return draw(st.sampled_from(addresses))
    if isinstance(spec, a.DenomArg):
        return draw(st.sampled_from(("rwa", "rusd", "zz") + UNITS))
    if isinstance(spec, a.Choice):
        return draw(st.sampled_from(spec.options))
    if isinstance(spec, a.Bytes):
        return draw(st.sampled_from((b"", b"\0" * (spec.size or 20), b"\xff" * (spec.size or 20),
                                     actor_address("holder0"))))
    if isinstance(spec, a.Ints):
        newest = ctx.get_int(assets.NEXT) - 1  # the asset registered last
        return draw(st.sampled_from(([], [1], [2], [3], [1, 2, 3], [1, 1], [B64 - 1], [newest], [1] * 1001)))
    if isinstance(spec, a.Rows) and name == "tranches":
        return draw(st.sampled_from(([], [[0, 0]], [[B128 - 1, MAX_RATE]], [[1, 0]] * 8, [[1, 0]] * 9)))
    if isinstance(spec, a.Rows):  # installments: an interest-only tail, boundary times and amounts
        return draw(st.sampled_from(([], [[now + DAY, 1000, 0], [now + 2 * DAY, 0, 7]], [[B64 - 1, 1, 0]],
                                     [[now + DAY, B128 - 1, B128 - 1]], [[now - 1, 1000, 0]])))
    if isinstance(spec, a.Text):
        if name in ("unit", "denom"):
            return draw(st.sampled_from(UNITS))
        if name == "feed":
            return draw(st.sampled_from(FEEDS))
        if name == "value":
            return draw(st.sampled_from(CHANGE_VALUES))
        return draw(st.sampled_from(MODULE_NAMES + FEEDS + ("originator", "guardian", "operator", "oracle",
                                                             encode_address(actor_address("holder0")))))
    raise AssertionError(f"no boundary values for {module}.{call} {name}: {spec!r}")


def _pool_call(draw, ctx):
    """A createPool that fits an asset's par (so pools with boundary rates get made)."""
    from hypothesis import strategies as st

    aid = draw(st.sampled_from((1, 2, 3)))
    rec = assets.find(ctx, aid)
    par = assets.outstanding_principal(assets.schedule_of(ctx, aid)) if rec else 0
    unit = draw(st.sampled_from((1, max(1, par // 4))))
    senior = par // 2 // unit * unit
    rows = [[senior, draw(st.sampled_from((0, 1, MAX_RATE)))], [par - senior, 0]]
    return {"assets": [aid], "tranches": [r for r in rows if r[0]] or [[0, 0]], "unitSize": unit}


def _steps(draw, runner, block, n):
    from hypothesis import strategies as st

    from rwachain.genesis.sim.simulate import Step, call_specs

    ctx, now = runner.reader(), runner.time_of(block)
    specs = call_specs()
    out = []
    for _ in range(n):
        module, call = draw(st.sampled_from(sorted(specs)))
        role = ROLE_ACTOR.get(f"{module}.{call}", "holder0")
        actor = draw(st.sampled_from(ACTORS)) if draw(st.integers(0, 3)) == 0 else role
        wild = draw(st.integers(0, 7)) == 0
        if (module, call) == ("oracle", "report"):
            args = {"feed": draw(st.sampled_from(FEEDS[:-1])),
                    "value": draw(st.sampled_from((0, 1, 4, 5, WAD // 20, WAD, B64, B128 - 1))),
                    "signers": draw(st.sampled_from(([0, 1, 2], [0, 1, 2, 3], [0], []))),
                    "age": draw(st.sampled_from((0, 60, 10**6)))}
        elif (module, call) == ("tranches", "createPool") and draw(st.booleans()):
            actor, args = "dev1", _pool_call(draw, ctx)
        elif call in ("propose", "proposeChange") and draw(st.booleans()):
            args = _governance_args(call, draw)
        else:
            args = {name: _arg(module, call, name, spec, draw, ctx, now, wild)
                    for name, spec in specs[(module, call)].items()}
        out.append(Step(block, actor, module, call, args))
    return out


def _run_block(runner, block, steps):
    """One block of steps: no exception, no contained fault, every invariant holds."""
    res, failure = runner.execute(block, steps)
    assert failure is None, (failure.to_json(), [s.to_json() for s in steps])
    return res


def actor_address(name):
    from rwachain.genesis.sim.simulate import actor_address as addr

    return addr(name)


@pytest.mark.slow
@settings(max_examples=settings.default.max_examples)
@given(st.data())
def test_no_call_with_boundary_arguments_makes_a_hook_raise_now_or_far_in_the_future(data):
    from rwachain.genesis.sim.simulate import Runner, Step, sim_genesis

    draw = data.draw
    with Runner(sim_genesis(holders=2)) as runner:
        stake = [Step(1, h, "insurance", "stake", {"amount": 50_000 * 10**6}) for h in ("holder0", "holder1")]
        _run_block(runner, 1, stake)  # bonded stake: proposals can be made and pass
        block = 1
        for _ in range(draw(st.integers(1, 4))):
            block += draw(st.sampled_from((1, 24)))
            _run_block(runner, block, _steps(draw, runner, block, draw(st.integers(1, 10))))
        block += 1
        votes = [Step(block, h, "governance", "vote", {"id": i, "support": "yes"})
                 for h in ("holder0", "holder1") for i in range(1, 9)]
        _run_block(runner, block, votes)
        for gap in (1, 24, 24 * 4, 24 * 365, 24 * 365 * 10**3, 24 * 365 * 10**6):  # hours: a day .. 10^6 years
            block += gap
            with work_budget(200_000):  # at most about 41,000 lines, a day's gap or a million years'
                _run_block(runner, block, _steps(draw, runner, block, draw(st.integers(0, 3))))
                _run_block(runner, block + 1, [])
            block += 1
        assert runner.chain.app.handler_faults == 0 and runner.chain.app.hook_faults == 0
