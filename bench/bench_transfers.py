"""Throughput of blocks of signed bank transfers, from raw signed bytes, cold signature cache.

Setup (not timed): a genesis with --txs funded signer accounts (one transaction per
sender per block, so every transaction is valid at nonce = block number - 1), imported
into a fresh Chain; every block's transactions are signed up front.

Measured, per block of --txs transfers (median of --blocks blocks):
  * total: Chain.produce from raw signed bytes to the synced commit, cold signature
    cache (produce overlaps its signature checks with execution: on --workers threads,
    or, for large blocks, in the node's --workers checker processes);
  * on other blocks, the phases one after another: pre-verification
    (node.verify.precheck_parallel on --workers threads, cold cache; and separately the
    node's signature-checking child processes, where the node has them), then
    Chain.produce on the now-warm cache, kept on its thread path, with thin wrappers
    timing execution (App.finalize_block, and inside it the Store.prepare tree update),
    commit (App.commit -> one synced LevelDB batch) and block assembly (the rest:
    receipts, Merkle roots, header signature, block-store records);
  * for reference: raw Ed25519 verification on one core and on --workers threads, and
    App.precheck on one thread.
The app's verified-signature cache is cleared before every measured block.
The two kinds of block alternate, so both see the same growth of the state.

    .venv/bin/python bench/bench_transfers.py            # 10,000 tx blocks
    .venv/bin/python bench/bench_transfers.py --quick    # 1,000 tx blocks
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import _common as c
import nacl.bindings

from rwachain.genesis import devnet
from rwachain.modules.core.tx import SIGN_DOMAIN, decode_tx
from rwachain.node.chain import Chain

GOAL_TPS = 20_000


def ed25519_rates(txs: list[bytes], workers: int, seconds: float) -> tuple[float, float]:
    """(verifies/s on one thread, verifies/s on `workers` threads) over the txs' signatures."""
    items = []
    for raw in txs[:2000]:
        tx = decode_tx(raw, 1 << 20)
        items.append((tx.signature + SIGN_DOMAIN + tx.body_bytes, tx.pubkey))
    open_ = nacl.bindings.crypto_sign_open

    def loop(deadline: float) -> int:
        n = 0
        while time.perf_counter() < deadline:
            for sm, pk in items:
                open_(sm, pk)
            n += len(items)
        return n

    t0 = time.perf_counter()
    n = loop(t0 + seconds)
    one = n / (time.perf_counter() - t0)
    with ThreadPoolExecutor(workers) as pool:
        t0 = time.perf_counter()
        futs = [pool.submit(loop, t0 + seconds) for _ in range(workers)]
        n = sum(f.result() for f in futs)
        many = n / (time.perf_counter() - t0)
    return one, many


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--txs", type=int, default=10_000, help="transactions per block (= senders)")
    ap.add_argument("--blocks", type=int, default=3,
                    help="measured blocks of each kind, phase-timed and Chain.produce (medians)")
    ap.add_argument("--workers", type=int, default=2, help="signature-check threads (and checker processes)")
    ap.add_argument("--to", choices=("existing", "new"), default="existing",
                    help="recipients: other funded senders, or fresh addresses (new state keys)")
    ap.add_argument("--verify-seconds", type=float, default=1.0, help="duration of each Ed25519 rate loop")
    ap.add_argument("--workdir", help="directory for genesis files (kept and reused); default: a temp dir")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also run one Chain.produce block under cProfile and print the top N functions")
    ap.add_argument("--quick", action="store_true", help="small sizes (1,000 tx blocks, 2 blocks)")
    args = c.parse_args(ap, argv, {"txs": 1_000, "blocks": 2, "verify_seconds": 0.3})

    tmp = tempfile.mkdtemp(prefix="rwachain-bench-transfers-")
    workdir = args.workdir or tmp
    try:
        keys = c.signer_keys(args.txs)
        genesis, _ = c.cached_genesis(workdir, args.txs, args.txs)
        chain = Chain(os.path.join(tmp, "chain"), devnet.validator_key(), verify_workers=args.workers)
        t_import, _ = c.timed(chain.init_genesis, genesis)
        nsets = 2 * args.blocks + (1 if args.profile else 0)
        t_sign, sets = c.timed(lambda: [c.sign_transfers(keys, n, args.to, salt=n) for n in range(nsets)])
        n = args.txs

        # Reference: App.precheck on one thread from a cold cache (a set used again below).
        c.clear_sig_cache(chain.app)
        t0 = time.perf_counter()
        for raw in sets[0]:
            chain.app.precheck(raw)
        t_pre1 = time.perf_counter() - t0

        t = devnet.GENESIS_TIME
        phased, produced = [], []
        for b in range(2 * args.blocks):  # alternate the two kinds of measured block
            t += 1
            if b % 2 == 0:
                r = c.produce_phased(chain, sets[b], t)
                c.check_codes(r["codes"], f"block {b + 1}")
                phased.append(r)
            else:
                secs, codes = c.produce_cold(chain, sets[b], t)
                c.check_codes(codes, f"block {b + 1}")
                produced.append(secs)
        prof_text = ""
        if args.profile:
            c.clear_sig_cache(chain.app)
            pr = cProfile.Profile()
            pr.enable()
            chain.produce(sets[-1], t + 1)
            pr.disable()
            out = io.StringIO()
            pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(args.profile)
            prof_text = out.getvalue()
        ed_one, ed_many = ed25519_rates(sets[0], args.workers, args.verify_seconds)
        chain.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    keys_ = ("verify", "execute", "prepare", "assemble", "commit", "produce", "total")
    med = {k: c.median(r[k] for r in phased) for k in keys_}
    procs = [r["verify_procs"] for r in phased if r["verify_procs"] is not None]
    total = c.median(produced)
    rows = [
        [f"pre-verification (precheck_parallel, {args.workers} workers, cold cache)", c.ms(med["verify"]),
         c.rate(n, med["verify"])],
    ]
    if procs:
        p = c.median(procs)
        rows.append([f"pre-verification in the node's {args.workers} checker processes (node.sigcheck)",
                     c.ms(p), c.rate(n, p)])
    rows += [
        ["execution (App.finalize_block, signatures already checked)", c.ms(med["execute"]),
         c.rate(n, med["execute"])],
        ["  of which Store.prepare (tree update)", c.ms(med["prepare"]), c.rate(n, med["prepare"])],
        ["block assembly (receipts, Merkle roots, header, block records)", c.ms(med["assemble"]),
         c.rate(n, med["assemble"])],
        ["commit (App.commit -> Store.commit, synced batch)", c.ms(med["commit"]), c.rate(n, med["commit"])],
        ["phases one after another (thread pre-verification + the rest)", c.ms(med["total"]), c.rate(n, med["total"])],
        ["Chain.produce minus signature checks (warm cache, thread path)", c.ms(med["produce"]),
         c.rate(n, med["produce"])],
        ["**total: Chain.produce from raw bytes, cold cache**", f"**{c.ms(total)}**", f"**{c.rate(n, total)}**"],
        ["goal", c.ms(n / GOAL_TPS), f"{GOAL_TPS:,}"],
    ]
    refs = [
        ["Ed25519 verify (libsodium crypto_sign_open), 1 thread", c.rate(1, 1 / ed_one)],
        [f"Ed25519 verify, {args.workers} threads", c.rate(1, 1 / ed_many)],
        ["App.precheck (decode + args + verify), 1 thread, cold cache", c.rate(n, t_pre1)],
    ]
    print(f"# bench_transfers: blocks of {n:,} bank transfers from {n:,} senders "
          f"(recipients: {args.to}); medians of {args.blocks} blocks of each kind")
    print(f"machine: {c.machine()}")
    print(f"setup: genesis import {t_import:.2f} s, signing {nsets * n:,} txs {t_sign:.1f} s\n")
    print(c.table(["phase", "ms / block", "tx/s"], rows))
    print()
    print(c.table(["reference", "per second"], refs))
    print(f"\nChain.produce, cold cache, each block: {', '.join(c.ms(s) + ' ms' for s in produced)}")
    print(f"phases summed, each block: {', '.join(c.ms(r['total']) + ' ms' for r in phased)}")
    verdict = "meets" if n / total >= GOAL_TPS else "misses"
    print(f"result: {n / total:,.0f} tx/s total, {verdict} the {GOAL_TPS:,} tx/s goal "
          f"({n / total / GOAL_TPS:.0%} of it)")
    if prof_text:
        print("\ncProfile of one Chain.produce block, cold cache (tottime; main thread only):")
        print(prof_text)
    return {"tps_total": n / total, **{f"tps_{k}": n / v for k, v in med.items() if v > 0},
            "ed25519_1": ed_one, "ed25519_n": ed_many}


if __name__ == "__main__":
    main()
