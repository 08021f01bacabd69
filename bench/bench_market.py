"""Secondary market and pool valuation: orders placed and matched per second, and the full
valuation of a 1,000-asset pool with its tranches.

Goals (the results table prints each figure beside its goal, PASS/MISS):
  1  placing and matching orders: >= 5,000 orders/s in process.
     Setup (not timed): a Chain on the embedded devnet genesis in a temp dir; a pool of the
     three demo assets (senior 75 % at 6 %, junior 25 %, unit 1 RUSD: 300,000 senior
     units; docs/mechanism.md "Pools and tranches"); --traders accounts (Keypair.dev(1000 + j))
     funded by bank transfers with RWA for fees, RUSD and senior units. Each block's orders
     are generated in order against the real book (modules.market.keeper.place on an
     Overlay, seeded), then signed (market.place, not timed): --cross of them cross the
     book and fill 1-3 resting makers each (half one, 30 % two, 20 % three; the last one
     partly, the taker never rests; its owner is none of those makers), the others rest on
     one of 5 price levels a side, 0.1 % of the reference unit price apart, inside the
     10 % band (bids below the reference price, asks above it, so resting orders never
     cross); quantities 1-20 units; a quarter of the resting orders carry an expiry (a day).
     Measured for each block of --block orders:
       (a) Chain.produce(txs, time) from raw signed bytes with a cold signature cache: the
           node's pipeline (Ed25519 in its worker processes for blocks of >= 2,000 txs,
           overlapped with execution), fees, nonces, the handler, end-block, the state tree
           update, the synced commit; orders/s = included orders / seconds. One more block
           is run phase by phase (bench/_common.produce_phased) to show where it goes.
       (b) the handler alone: market.keeper.place(ctx, ...) for the same orders, in the
           same order, over an Overlay on the store at the state before that block (no
           signatures, fees or nonces), best of --repeat; also with each order in its own
           Overlay merged into the block's, as App._deliver runs a handler; and, as a
           what-if only (IndexedOverlay below, not the node's code), over an overlay that
           keeps its written keys sorted and lists a prefix lazily (its writes are checked
           equal to the Overlay's).
     The fills the chain made are checked against the generator's (they must be equal),
     and a cProfile of one handler run gives the cost per order by function.
  2  valuing a 1,000-asset pool with monthly schedules over 5 years, tranches included:
     <= 250 ms. A genesis (devnet.build() with its assets section replaced) with --assets
     verified assets of the devnet originator, each --installments monthly installments
     (equal, principal 10,000-1,000,000 RUSD, 3-25 %), start times spread so the genesis
     time falls inside every schedule; installments due before it are paid (the "paid up
     to now" state a chain holds). One tranches.createPool of all of them with 3 tranches
     (senior 70 % at 5 %, mezzanine 20 % at 8 %, junior 10 %), then, at that block's time,
     the pool's value as pool_get computes it: rpc.methods_mechanism._pool_value (each
     asset's record, schedule and feeds read from the store, marks.value_now) plus
     waterfall.tranche_values; best of --vrepeat. Also: the valuation_pool RPC handler
     (an explanation per asset), the same value with all 60 installments unpaid
     (schedules rewritten in an Overlay), and the value's parts one by one.

    .venv/bin/python bench/bench_market.py           # quick (under a minute)
    .venv/bin/python bench/bench_market.py --full    # more traders, blocks and rounds
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import hashlib
import json
import os
import pstats
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time

import _common as c

from rwachain.genesis import devnet
from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.assets import schedule as schedules
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.errors import ExecutionError
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.core.wiring import wire
from rwachain.modules.market import keeper as market
from rwachain.modules.market.module import RESERVE
from rwachain.modules.market.records import Order
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall
from rwachain.modules.valuation import dcf
from rwachain.node.chain import Chain
from rwachain.state.overlay import Overlay

WIRED = wire(default_modules())  # the chain's callbacks, for keepers called directly
GOAL_ORDERS = 5_000  # orders/s placed and matched, in process
GOAL_POOL_MS = 250.0  # value of a 1,000-asset pool with its tranches

DAY = devnet.DAY
MONTH = devnet.MONTH
T0 = devnet.GENESIS_TIME
SETUP_FEE = 200_000
ORDER_FEE = 10_000  # above the minimum for market.place: cost 4,000 + 10 per byte (~190 bytes)
UNIT = 10**6  # 1 RUSD of face per unit
TRADER0 = 1_000  # trader j is Keypair.dev(TRADER0 + j)
LEVELS = 5
STABLE = "rusd"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


class Signer:
    """Signed calls with nonces tracked per key."""

    def __init__(self):
        self.nonces: dict[bytes, int] = {}

    def tx(self, key: Keypair, module: str, call: str, args: dict, fee: int = SETUP_FEE) -> bytes:
        n = self.nonces.get(key.address, 0)
        self.nonces[key.address] = n + 1
        return sign_tx(key, chain=devnet.CHAIN_ID, nonce=n, fee=fee, module=module, call=call, args=args)


def produce_ok(chain: Chain, txs: list[bytes], t: int, what: str):
    _, result = chain.produce(txs, t)
    c.check_codes([r.code for r in result.receipts], what)
    return result


def events_of(result, type_: str) -> list[dict]:
    return [e["attrs"] for r in result.receipts for e in r.events if e["type"] == type_]


# ----- part 1: the order book --------------------------------------------------------------
def market_setup(tmp: str, n_traders: int) -> dict:
    chain = Chain(os.path.join(tmp, "market"), devnet.validator_key())
    chain.init_genesis(devnet.PATH)
    keys = devnet.dev_keys()
    orig = keys[1]
    s = Signer()
    ctx = chain.app.reader()
    par = sum(assets.outstanding_principal(assets.schedule_of(ctx, i)) for i in (1, 2, 3))
    senior = par * 75 // 100 // UNIT * UNIT
    t = T0 + 10
    res = produce_ok(chain, [s.tx(orig, "tranches", "createPool",
                                  {"assets": [1, 2, 3], "tranches": [[senior, 6 * WAD // 100], [par - senior, 0]],
                                   "unitSize": UNIT})], t, "createPool")
    pool = tranches.get(chain.app.reader(), events_of(res, "tranches.created")[0]["pool"])
    denom = pool.tranches[0].denom
    traders = [Keypair.dev(TRADER0 + j) for j in range(n_traders)]
    units_each = min(250, pool.tranches[0].units // (n_traders + 1))
    funders = [keys[i] for i in (0, 2, 3, 4, 5, 6, 7, 8, 9)]
    txs = []
    for j, k in enumerate(traders):
        f = funders[j % len(funders)]
        txs.append(s.tx(f, "bank", "transfer", {"to": k.address, "denom": "rwa", "amount": 100 * 10**6}))
        txs.append(s.tx(f, "bank", "transfer", {"to": k.address, "denom": STABLE, "amount": 2_000 * 10**6}))
        txs.append(s.tx(orig, "bank", "transfer", {"to": k.address, "denom": denom, "amount": units_each}))
    t += 10
    produce_ok(chain, txs, t, "funding transfers")
    ref = market.reference_price(chain.app.reader(), denom)
    return {"chain": chain, "pool": pool, "denom": denom, "traders": traders, "ref": ref, "time": t,
            "units_each": units_each, "signer": Signer()}


def _owners_of_first(ctx: Ctx, denom: str, side: str, n: int) -> list[Order]:
    out = []
    for key, _ in ctx.iter_prefix(market.book_prefix(denom, side)):
        out.append(market.get(ctx, int.from_bytes(key[-8:], "big")))
        if len(out) >= n:
            break
    return out


def generate_block(m: dict, rnd: random.Random, n: int, t: int, p_cross: float) -> dict:
    """n orders placed one after another with the real keeper over an Overlay on the chain's
    state (what the block will do), each kept only if it succeeds. Returns the orders
    (trader index, side, price, quantity, expiry) and the fills made."""
    chain, denom, ref = m["chain"], m["denom"], m["ref"]
    tick = max(1, ref // 1000)
    info = BlockInfo(chain.height + 1, t, chain.validator.address)
    shadow = Overlay(chain.store)
    look = Ctx(shadow, info, WIRED)
    nt = len(m["traders"])
    addrs = [k.address for k in m["traders"]]
    orders, fills, crossing, retries = [], 0, 0, 0
    for _ in range(n):
        for _attempt in range(50):
            side = "buy" if rnd.random() < 0.5 else "sell"
            opp = "sell" if side == "buy" else "buy"
            cross = rnd.random() < p_cross
            exclude: set[bytes] = set()
            if cross:
                want = rnd.choices((1, 2, 3), (0.5, 0.3, 0.2))[0]
                makers = _owners_of_first(look, denom, opp, want)
                if not makers:
                    cross = False
                else:
                    left = [o.unfilled for o in makers]
                    qty = sum(left[:-1]) + rnd.randint(1, left[-1])
                    price = makers[-1].price
                    if rnd.random() < 0.3:  # a more aggressive limit; the quantity still stops at these makers
                        price += tick if side == "buy" else -tick
                    exclude = {o.owner for o in makers}
                    expiry = 0
            if not cross:
                level = rnd.choices(range(1, LEVELS + 1), (30, 25, 20, 15, 10))[0]
                price = ref - level * tick if side == "buy" else ref + level * tick
                qty = rnd.randint(1, 20)
                expiry = t + DAY if rnd.random() < 0.25 else 0
            j = rnd.randrange(nt)
            while addrs[j] in exclude:
                j = rnd.randrange(nt)
            sub = Overlay(shadow)
            try:
                _, n_fills = market.place(Ctx(sub, info, WIRED), addrs[j], denom, side, price, qty, expiry, RESERVE, STABLE)
            except ExecutionError:
                retries += 1
                continue
            sub.merge_into_parent()
            orders.append((j, side, price, qty, expiry))
            fills += n_fills
            crossing += n_fills > 0
            break
        else:
            raise SystemExit("could not place an order in 50 attempts (traders out of funds?)")
    return {"orders": orders, "fills": fills, "crossing": crossing, "retries": retries, "time": t}


def sign_orders(m: dict, orders: list[tuple]) -> list[bytes]:
    s, denom, traders = m["signer"], m["denom"], m["traders"]
    return [s.tx(traders[j], "market", "place", {"denom": denom, "side": side, "price": price, "quantity": qty,
                                                 "expiry": expiry}, fee=ORDER_FEE)
            for j, side, price, qty, expiry in orders]


class IndexedOverlay(Overlay):
    """What-if (not the node's code): an Overlay that keeps its written keys sorted, so a
    prefix listing bisects to its range instead of filtering and sorting every write."""

    __slots__ = ("_keys",)

    def __init__(self, parent):
        super().__init__(parent)
        self._keys: list[bytes] = []

    def set(self, key: bytes, value: bytes) -> None:
        if key not in self.writes:
            bisect.insort(self._keys, key)
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        if key not in self.writes:
            bisect.insort(self._keys, key)
        self.writes[key] = None

    def iter_prefix(self, prefix: bytes):
        """The same pairs as Overlay.iter_prefix, merged lazily: written keys from the
        sorted index, the parent's from its own listing, deletions applied."""
        keys, writes = self._keys, self.writes
        i = bisect.bisect_left(keys, prefix)
        below = self.parent.iter_prefix(prefix)
        nb = next(below, None)
        while i < len(keys) and keys[i].startswith(prefix):
            k = keys[i]
            while nb is not None and nb[0] < k:
                yield nb
                nb = next(below, None)
            if nb is not None and nb[0] == k:
                nb = next(below, None)
            v = writes[k]
            if v is not None:
                yield k, v
            i += 1
        while nb is not None:
            yield nb
            nb = next(below, None)


def handler_run(m: dict, blk: dict, mode: str = "bare") -> tuple[float, Overlay]:
    """Seconds to place the block's orders with keeper.place over an Overlay on the store.
    mode: bare (one Overlay for the block), tx (each order in its own Overlay, merged),
    indexed (the what-if IndexedOverlay for the block)."""
    chain, denom = m["chain"], m["denom"]
    addrs = [k.address for k in m["traders"]]
    info = BlockInfo(chain.height + 1, blk["time"], chain.validator.address)
    ov = IndexedOverlay(chain.store) if mode == "indexed" else Overlay(chain.store)
    place = market.place
    if mode == "tx":
        t0 = time.perf_counter()
        for j, side, price, qty, expiry in blk["orders"]:
            sub = Overlay(ov)
            place(Ctx(sub, info, WIRED), addrs[j], denom, side, price, qty, expiry, RESERVE, STABLE)
            sub.merge_into_parent()
        return time.perf_counter() - t0, ov
    ctx = Ctx(ov, info, WIRED)
    t0 = time.perf_counter()
    for j, side, price, qty, expiry in blk["orders"]:
        place(ctx, addrs[j], denom, side, price, qty, expiry, RESERVE, STABLE)
    return time.perf_counter() - t0, ov


def profile_rows(prof: cProfile.Profile, n_orders: int, top: int) -> list[list]:
    st = pstats.Stats(prof).stats
    items = sorted(st.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in items:
        where = func if file == "~" else f"{os.path.relpath(file, c.ROOT) if file.startswith(c.ROOT) else os.path.basename(file)}:{line} {func}"
        per = nc / n_orders
        rows.append([where, f"{per:,.1f}" if per >= 0.1 else f"{per:.3f}", f"{tt * 1e6 / n_orders:,.1f}", f"{ct * 1e6 / n_orders:,.1f}"])
    return rows


def book_depth(m: dict) -> tuple[int, int]:
    ctx = m["chain"].app.reader()
    bids = sum(1 for _ in ctx.iter_prefix(market.book_prefix(m["denom"], "buy")))
    asks = sum(1 for _ in ctx.iter_prefix(market.book_prefix(m["denom"], "sell")))
    return bids, asks


def market_part(args, tmp: str) -> dict:
    t0 = time.perf_counter()
    m = market_setup(tmp, args.traders)
    t_setup = time.perf_counter() - t0
    log(f"market: chain, pool and {args.traders} funded traders in {t_setup:.1f} s; reference unit price "
        f"{m['ref']:,} base units")
    rnd = random.Random(11)
    chain = m["chain"]
    t = m["time"]
    blocks = []
    t_gen = t_sign = 0.0
    ov_stats = []
    prof_rows: list[list] = []
    phased = None
    n_blocks = args.blocks + 1  # the last one phase by phase
    for b in range(n_blocks):
        last = b == n_blocks - 1
        t += 5
        s0 = time.perf_counter()
        blk = generate_block(m, rnd, args.block, t, args.cross)
        s1 = time.perf_counter()
        txs = sign_orders(m, blk["orders"])
        s2 = time.perf_counter()
        t_gen += s1 - s0
        t_sign += s2 - s1
        runs = [handler_run(m, blk, "bare") for _ in range(args.repeat)]
        bare = min(r[0] for r in runs)
        ov = runs[-1][1]
        ov_stats.append((len(blk["orders"]), ov.reads, len(ov.writes)))
        per_tx = (min(handler_run(m, blk, "tx")[0] for _ in range(args.repeat))
                  if args.full or b == 0 else None)
        indexed, ov_i = min((handler_run(m, blk, "indexed") for _ in range(args.repeat)), key=lambda r: r[0])
        if ov_i.writes != ov.writes:
            raise SystemExit("the indexed overlay's writes differ from the Overlay's")
        if last and args.profile:
            prof = cProfile.Profile()
            prof.enable()
            handler_run(m, blk, "bare")
            prof.disable()
            prof_rows = profile_rows(prof, len(blk["orders"]), args.profile)
        if not last:
            secs, (_, result) = c.timed(chain.produce, txs, t)
            c.check_codes([r.code for r in result.receipts], f"order block {b + 1}")
            fills = len(events_of(result, "market.fill"))
            unfunded = sum(1 for e in events_of(result, "market.cancelled") if e.get("reason") == "unfunded")
        else:  # phase by phase: signatures first (threads, and the node's processes), then produce
            phased = c.produce_phased(chain, txs, t)
            secs = phased["total"]
            c.check_codes(phased["codes"], f"order block {b + 1} (phased)")
            fills, unfunded = blk["fills"], None  # the phased helper keeps no receipts' events
        if fills != blk["fills"]:
            raise SystemExit(f"block {b + 1}: the chain made {fills} fills, the generator {blk['fills']}")
        depth = book_depth(m)
        blocks.append({"orders": len(txs), "secs": secs, "fills": fills, "crossing": blk["crossing"],
                       "unfunded": unfunded, "retries": blk["retries"], "depth": depth, "bare": bare,
                       "per_tx": per_tx, "indexed": indexed})
        log(f"block {b + 1}/{n_blocks}: {len(txs)} orders, {fills} fills; produce {secs:.2f} s "
            f"({len(txs) / secs:,.0f}/s); handler {bare:.2f} s ({len(txs) / bare:,.0f}/s), indexed overlay "
            f"{indexed:.2f} s; book {depth[0]} bids, {depth[1]} asks")
    cold = blocks[:-1]
    n_cold = sum(b["orders"] for b in cold)
    s_cold = sum(b["secs"] for b in cold)
    n_all = sum(b["orders"] for b in blocks)
    tx_blocks = [b for b in blocks if b["per_tx"] is not None]
    return {"blocks": blocks, "phased": phased, "produce_rate": n_cold / s_cold,
            "produce_rates": [b["orders"] / b["secs"] for b in cold],
            "bare_rate": n_all / sum(b["bare"] for b in blocks),
            "tx_rate": sum(b["orders"] for b in tx_blocks) / sum(b["per_tx"] for b in tx_blocks),
            "tx_orders": sum(b["orders"] for b in tx_blocks),
            "indexed_rate": n_all / sum(b["indexed"] for b in blocks),
            "bare_rates": [b["orders"] / b["bare"] for b in blocks],
            "ov": ov_stats, "prof": prof_rows, "t_setup": t_setup, "t_gen": t_gen, "t_sign": t_sign,
            "ref": m["ref"], "pool": m["pool"], "denom": m["denom"], "units_each": m["units_each"],
            "chain": chain}


# ----- part 2: valuing a 1,000-asset pool ---------------------------------------------------
def pool_genesis(path: str, n: int, installments: int, seed: int = 5) -> dict:
    """The devnet genesis with n verified assets of the devnet originator (paid up to the
    genesis time) in place of the three demo assets. Returns par and counts."""
    rnd = random.Random(seed)
    keys = devnet.dev_keys()
    g = devnet.build(T0)
    kinds = ("loan", "receivable", "real_estate_income", "revenue_right", "electricity", "carbon_credit")
    items, par, unpaid_rows = [], 0, 0
    for aid in range(1, n + 1):
        amount = rnd.randrange(10_000, 1_000_001) * 10**6
        apr = rnd.randrange(3, 26) * WAD // 100
        start = T0 - rnd.randrange(MONTH // 2, (installments - 1) * MONTH)
        rows = schedules.generate("equal", amount, apr, start, MONTH, installments)
        sched = [[d, p, i, p + i if d <= T0 else 0] for d, p, i in rows]
        par += assets.outstanding_principal(sched)
        unpaid_rows += sum(1 for r in sched if r[3] == 0)
        items.append({"id": aid, "kind": kinds[aid % len(kinds)], "originator": keys[1].address_text,
                      "principal": str(amount), "rate": str(apr), "grace": 30 * DAY,
                      "docHash": "0x" + hashlib.sha256(f"bench asset {aid}".encode()).hexdigest(),
                      "status": "verified", "grade": "AAABBBCCDE"[rnd.randrange(10)],
                      "verifier": keys[2].address_text, "registeredAt": start, "verifiedAt": T0,
                      "repaid": str(sum(r[3] for r in sched)),
                      "schedule": [[str(x) for x in r] for r in sched]})
    g["assets"] = {"assets": items}
    g["stable"]["state"].pop("cr")  # recorded for the demo assets: the first block records it anew
    with open(path, "w") as f:
        json.dump(g, f)
    return {"par": par, "unpaid_rows": unpaid_rows}


class _Api:
    """What the valuation_pool RPC handler needs of the node: a reader."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx

    def reader(self, height):
        return self.ctx


def run_coroutine(coro):
    """Drive a coroutine that never awaits anything pending (the RPC handlers here)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the coroutine awaited something")


def best(fn, repeat: int) -> tuple[float, object, list[float]]:
    secs, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return min(secs), out, secs


def valuation_part(args, tmp: str) -> dict:
    from rwachain.rpc.methods.mechanism import _pool_value, valuation_pool

    t0 = time.perf_counter()
    path = os.path.join(tmp, "pool-genesis.json")
    info = pool_genesis(path, args.assets, args.installments)
    t_write = time.perf_counter() - t0
    chain = Chain(os.path.join(tmp, "pool"), devnet.validator_key())
    t1 = time.perf_counter()
    chain.init_genesis(path)
    t_import = time.perf_counter() - t1
    par = info["par"]
    senior, mezz = par * 70 // 100, par * 20 // 100
    s = Signer()
    tx = s.tx(devnet.dev_keys()[1], "tranches", "createPool",
              {"assets": list(range(1, args.assets + 1)),
               "tranches": [[senior, 5 * WAD // 100], [mezz, 8 * WAD // 100], [par - senior - mezz, 0]],
               "unitSize": 1})
    t2 = time.perf_counter()
    res = produce_ok(chain, [tx], T0 + 10, "createPool of the big pool")
    t_pool = time.perf_counter() - t2
    log(f"valuation: genesis of {args.assets} assets written in {t_write:.1f} s, imported in {t_import:.1f} s; "
        f"createPool block {t_pool:.2f} s ({len(tx):,} bytes)")
    ctx = chain.app.reader()
    pool = tranches.get(ctx, events_of(res, "tranches.created")[0]["pool"])
    now = ctx.block.time

    def with_tranches(c_=ctx):
        total, _, problems = _pool_value(c_, pool)
        return total, waterfall.tranche_values(pool, total, now), problems

    first_t0 = time.perf_counter()
    first = with_tranches()
    t_first = time.perf_counter() - first_t0
    if first[2]:
        raise SystemExit(f"the pool is valued with problems: {first[2][:3]}")
    rep = args.vrepeat
    t_goal, out, goal_runs = best(with_tranches, rep)
    total, values, _ = out
    t_values, _, _ = best(lambda: _pool_value(ctx, pool), rep)

    def cold_memo():
        dcf._gap_memo.clear()
        dcf._squares.clear()
        t = time.perf_counter()
        with_tranches()
        return time.perf_counter() - t

    t_cold = min(cold_memo() for _ in range(max(2, rep // 3)))
    t_tv, _, _ = best(lambda: waterfall.tranche_values(pool, total, now), max(rep, 50))
    api = _Api(ctx)
    t_explain, vp, _ = best(lambda: run_coroutine(valuation_pool(api, pool.id, None)), max(2, rep // 4))
    if int(vp["value"]) != total:
        raise SystemExit("valuation_pool and _pool_value disagree")
    # parts, each over the whole pool
    ids = pool.assets
    part = max(3, rep // 2)
    t_get, recs, _ = best(lambda: [assets.get(ctx, a) for a in ids], part)
    t_sched, scheds, _ = best(lambda: [assets.schedule_of(ctx, a) for a in ids], part)
    t_inputs, inps, _ = best(lambda: [marks.inputs(ctx, r)[0] for r in recs], part)
    unp = [assets.unpaid(sc) for sc in scheds]
    t_unpaid, _, _ = best(lambda: [assets.unpaid(sc) for sc in scheds], part)
    st = [marks.DCF_STATUS[r.status] for r in recs]
    t_dcf, vals, _ = best(lambda: [dcf.value(u, now, s_, i) for u, s_, i in zip(unp, st, inps, strict=True)], part)
    if sum(vals) + pool.unallocated != total:
        raise SystemExit("the parts do not add up to the pool value")
    mark = assets.pool_mark(ctx, pool.id)
    t_ref, _, _ = best(lambda: market.reference_price(ctx, pool.tranches[0].denom), max(rep, 50))
    # the same pool with every installment unpaid (schedules rewritten in an overlay)
    ov = Overlay(chain.store)
    for a, sc in zip(ids, scheds, strict=True):
        Ctx(ov, ctx.block, WIRED).set_obj(assets.SCHED + assets.idb(a), [[d, p, i, 0] for d, p, i, _ in sc])
    ctx_all = Ctx(ov, ctx.block, WIRED)
    t_all, out_all, _ = best(lambda: with_tranches(ctx_all), part)
    prof_rows: list[list] = []
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        with_tranches()
        prof.disable()
        prof_rows = profile_rows(prof, len(ids), args.profile)
    chain.close()
    return {"n": len(ids), "rows": sum(len(sc) for sc in scheds), "unpaid_rows": sum(len(u) for u in unp),
            "t_goal": t_goal, "goal_runs": goal_runs, "t_values": t_values, "t_first": t_first, "t_cold": t_cold,
            "t_tv": t_tv, "t_explain": t_explain, "t_get": t_get, "t_sched": t_sched, "t_inputs": t_inputs,
            "t_unpaid": t_unpaid, "t_dcf": t_dcf, "t_ref": t_ref, "t_all": t_all, "total": total, "values": values,
            "total_all": out_all[0], "mark": mark, "par": par, "t_write": t_write, "t_import": t_import,
            "t_pool": t_pool, "now": now, "prof": prof_rows, "tranches": list(pool.tranches)}


# ----- main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="more traders, blocks and rounds (default: quick)")
    ap.add_argument("--quick", action="store_true", help="the default (accepted for bench/run_all.py)")
    ap.add_argument("--workdir", help="unused (accepted for bench/run_all.py)")
    ap.add_argument("--traders", type=int, help="funded trader accounts (quick 1,000, full 2,000)")
    ap.add_argument("--block", type=int, default=2_000, help="orders per block")
    ap.add_argument("--blocks", type=int, help="timed order blocks (quick 1, full 6), plus one run phase by phase")
    ap.add_argument("--cross", type=float, default=0.4, help="share of orders that cross the book")
    ap.add_argument("--repeat", type=int, help="handler runs per block, best reported (quick 1, full 3)")
    ap.add_argument("--assets", type=int, default=1_000, help="assets in the valued pool")
    ap.add_argument("--installments", type=int, default=60, help="monthly installments per asset")
    ap.add_argument("--vrepeat", type=int, help="runs of each pool valuation, best reported (quick 9, full 25)")
    ap.add_argument("--profile", type=int, default=14, metavar="N",
                    help="cProfile one handler run and one pool valuation, print the top N functions (0: off)")
    ap.add_argument("--only", choices=("market", "valuation"), help="run one part")
    args = ap.parse_args(argv)
    args.traders = args.traders or (2_000 if args.full else 1_000)
    args.blocks = args.blocks or (6 if args.full else 1)
    args.repeat = args.repeat or (3 if args.full else 1)
    args.vrepeat = args.vrepeat or (25 if args.full else 9)

    t_all = time.perf_counter()
    cmdline = shlex.join(sys.orig_argv) if argv is None else shlex.join(["bench/bench_market.py", *argv])
    machine = c.machine()
    tmp = tempfile.mkdtemp(prefix="rwachain-bench-market-")
    mk = v = None
    try:
        if args.only in (None, "market"):
            log(f"part 1: {args.blocks + 1} blocks of {args.block} orders")
            mk = market_part(args, tmp)
            mk["chain"].close()
        if args.only in (None, "valuation"):
            log(f"part 2: a pool of {args.assets} assets x {args.installments} installments")
            v = valuation_part(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    us = lambda s: f"{s * 1e6:,.1f}"  # noqa: E731
    out = [f"## bench_market{' --full' if args.full else ''}: order book throughput and pool valuation", "",
           f"command: {cmdline}", f"machine: {machine}", ""]
    rows = []
    if mk:
        bl = mk["blocks"]
        cold = bl[:-1]
        n_cold = sum(b["orders"] for b in cold)
        f_cold = sum(b["fills"] for b in cold)
        rows.append(["1a", f"orders placed and matched, Chain.produce of {args.block:,}-order blocks from signed "
                           f"bytes (Ed25519 in the pipeline; {n_cold:,} orders in {len(cold)} block(s), {f_cold:,} "
                           f"fills; total orders / total seconds)",
                     f"{mk['produce_rate']:,.0f} /s", f">= {GOAL_ORDERS:,} /s",
                     verdict(mk["produce_rate"] >= GOAL_ORDERS)])
        rows.append(["1b", f"  the handler alone: market.keeper.place over an Overlay on the store, no signatures "
                           f"or fees ({sum(b['orders'] for b in bl):,} orders, best of {args.repeat} per block)",
                     f"{mk['bare_rate']:,.0f} /s", f">= {GOAL_ORDERS:,} /s", verdict(mk["bare_rate"] >= GOAL_ORDERS)])
        rows.append(["1b'", f"  the same, each order in its own Overlay merged into the block's (as App._deliver; "
                            f"{mk['tx_orders']:,} orders)", f"{mk['tx_rate']:,.0f} /s", "(reported)", ""])
        rows.append(["1b\"", "  what-if, not the node's code: the handler over an Overlay that keeps its written keys "
                             "sorted (prefix listings bisect; same writes, checked)",
                     f"{mk['indexed_rate']:,.0f} /s", "(reported)", ""])
    if v:
        rows.append(["2", f"value of a {v['n']:,}-asset pool with its 3 tranches: _pool_value (record, schedule, "
                          f"feeds, marks.value_now per asset; {v['unpaid_rows']:,} unpaid installments of "
                          f"{v['rows']:,}) + waterfall.tranche_values, best of {args.vrepeat} (median "
                          f"{statistics.median(v['goal_runs']) * 1e3:,.1f} ms)",
                     f"{v['t_goal'] * 1e3:,.1f} ms", f"<= {GOAL_POOL_MS:g} ms", verdict(v["t_goal"] * 1e3 <= GOAL_POOL_MS)])
        rows.append(["2'", f"  the same with all {v['rows']:,} installments unpaid (schedules from an Overlay)",
                     f"{v['t_all'] * 1e3:,.1f} ms", f"<= {GOAL_POOL_MS:g} ms", verdict(v["t_all"] * 1e3 <= GOAL_POOL_MS)])
        rows.append(["2\"", "  valuation_pool RPC handler (marks.explain per asset, claims, tranche values)",
                     f"{v['t_explain'] * 1e3:,.1f} ms", "(reported)", ""])
    out.append(c.table(["#", "measure", "result", "goal", "verdict"], rows))

    if mk:
        bl = mk["blocks"]
        brow = []
        for i, b in enumerate(bl, 1):
            kind = "produce, cold signature cache" if i < len(bl) else "produce_phased (verify, then produce)"
            brow.append([str(i), kind, f"{b['orders']:,}", f"{b['crossing']:,}", f"{b['fills']:,}",
                         "" if b["unfunded"] is None else str(b["unfunded"]), c.ms(b["secs"]),
                         f"{b['orders'] / b['secs']:,.0f}", c.ms(b["bare"]), f"{b['orders'] / b['bare']:,.0f}",
                         "" if b["per_tx"] is None else c.ms(b["per_tx"]), c.ms(b["indexed"]),
                         f"{b['depth'][0]:,} / {b['depth'][1]:,}"])
        out += ["", c.table(["block", "how", "orders", "crossing", "fills", "unfunded", "produce ms", "orders/s",
                             "handler ms", "handler /s", "handler, tx overlays ms", "what-if indexed ms",
                             "book after (bids / asks)"], brow)]
        p = mk["phased"]
        n_last = bl[-1]["orders"]
        ph = [["signatures: node worker processes (node.sigcheck)", "" if p["verify_procs"] is None else
               c.ms(p["verify_procs"]), "" if p["verify_procs"] is None else us(p["verify_procs"] / n_last)],
              ["signatures + decode on threads (precheck_parallel, cold)", c.ms(p["verify"]), us(p["verify"] / n_last)],
              ["execute (App.finalize_block, warm signature cache)", c.ms(p["execute"]), us(p["execute"] / n_last)],
              ["  of which the state tree update (Store.prepare)", c.ms(p["prepare"]), us(p["prepare"] / n_last)],
              ["commit (App.commit, synced batch)", c.ms(p["commit"]), us(p["commit"] / n_last)],
              ["assemble (receipts, Merkle roots, header, block records)", c.ms(p["assemble"]),
               us(p["assemble"] / n_last)],
              ["produce on a warm signature cache (execute + commit + assemble)", c.ms(p["produce"]),
               us(p["produce"] / n_last)]]
        out += ["", c.table([f"last block ({n_last:,} orders) phase by phase", "ms", "us / order"], ph)]
        reads = sum(r for _, r, _ in mk["ov"]) / sum(n for n, _, _ in mk["ov"])
        writes = sum(w for _, _, w in mk["ov"]) / sum(n for n, _, _ in mk["ov"])
        out.append("")
        out.append(f"order mix: {args.cross:.0%} crossing (1-3 makers each), the rest resting on {LEVELS} levels a side, "
                   f"tick {max(1, mk['ref'] // 1000):,} base units around the reference unit price {mk['ref']:,} "
                   f"({mk['denom']}, {args.traders:,} traders with {mk['units_each']} units and 2,000 RUSD each); "
                   f"per order the handler reads {reads:,.1f} keys and leaves {writes:,.1f} keys written in the "
                   "block overlay")
        out.append("produce rates per block: " + ", ".join(f"{r:,.0f}" for r in mk["produce_rates"])
                   + " /s; handler rates per block: " + ", ".join(f"{r:,.0f}" for r in mk["bare_rates"]) + " /s")
        out.append(f"setup: chain, pool and funding {mk['t_setup']:.1f} s; orders generated (against the real book) "
                   f"in {mk['t_gen']:.1f} s ({sum(b['retries'] for b in bl)} drafts refused by the keeper and redrawn) "
                   f"and signed in {mk['t_sign']:.1f} s")
    if v:
        n = v["n"]
        parts = [["the goal figure: _pool_value + tranche_values (best)", c.ms(v["t_goal"]), us(v["t_goal"] / n)],
                 ["  _pool_value alone", c.ms(v["t_values"]), us(v["t_values"] / n)],
                 ["  waterfall.tranche_values alone (claims with accrual, the walk)", f"{v['t_tv'] * 1e3:,.3f}", ""],
                 ["  first run in the process (after the createPool block)", c.ms(v["t_first"]), us(v["t_first"] / n)],
                 ["  dcf memo (_gap_memo, _squares) cleared before the run", c.ms(v["t_cold"]), us(v["t_cold"] / n)],
                 ["parts: assets.get (record) x assets", c.ms(v["t_get"]), us(v["t_get"] / n)],
                 ["  assets.schedule_of x assets", c.ms(v["t_sched"]), us(v["t_sched"] / n)],
                 ["  marks.inputs (5 feeds read, grade feed twice) x assets", c.ms(v["t_inputs"]),
                  us(v["t_inputs"] / n)],
                 ["  assets.unpaid x assets", c.ms(v["t_unpaid"]), us(v["t_unpaid"] / n)],
                 ["  dcf.value x assets (on the rows read above)", c.ms(v["t_dcf"]), us(v["t_dcf"] / n)],
                 ["market.reference_price (pool mark + tranche walk: the market's path)", f"{v['t_ref'] * 1e3:,.3f}", ""],
                 ["valuation_pool RPC handler (explain per asset)", c.ms(v["t_explain"]), us(v["t_explain"] / n)],
                 ["all installments unpaid: _pool_value + tranche_values", c.ms(v["t_all"]), us(v["t_all"] / n)]]
        out += ["", c.table([f"pool of {n:,} assets: where the time goes", "ms", "us / asset"], parts)]
        vals = v["values"]
        out.append("")
        out.append(f"pool: par {v['par']:,}, value {v['total']:,} base units at {v['now']} (pool mark "
                   f"{v['mark'].value:,}, {v['mark'].stale} stale); tranche values "
                   + ", ".join(f"{x:,}" for x in vals) + f"; all unpaid: {v['total_all']:,}")
        out.append("goal-figure runs (ms): " + ", ".join(f"{s * 1e3:,.1f}" for s in v["goal_runs"]))
        out.append(f"setup: genesis written {v['t_write']:.1f} s, imported {v['t_import']:.1f} s, createPool block "
                   f"{v['t_pool']:.2f} s")
    out.append(f"whole run {time.perf_counter() - t_all:.0f} s; load average at the end {os.getloadavg()[0]:.2f}")
    if mk and mk["prof"]:
        out += ["", c.table([f"cProfile of one handler run ({mk['blocks'][-1]['orders']:,} orders), top by tottime",
                             "calls / order (a generator: resumptions)", "tottime us / order", "cumtime us / order"],
                            mk["prof"])]
    if v and v["prof"]:
        out += ["", c.table([f"cProfile of one pool valuation ({v['n']:,} assets), top by tottime",
                             "calls / asset", "tottime us / asset", "cumtime us / asset"], v["prof"])]
    print("\n".join(out))
    return {"produce_rate": mk["produce_rate"] if mk else None, "handler_rate": mk["bare_rate"] if mk else None,
            "pool_ms": v["t_goal"] * 1e3 if v else None}


if __name__ == "__main__":
    main()
