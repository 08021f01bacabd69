"""How block cost grows with the state: a 10,000-transfer block over 10k and 1M accounts.

For each --accounts size: a genesis with --txs funded signers plus filler accounts up to
the size (written once, in ascending raw-address order; not timed), imported into a
fresh Chain with Chain.init_genesis (timed: the streamed two-pass import), then --blocks
blocks of --txs bank transfers (one per signer, cold signature cache), their phases run
one after another (bench/_common.py produce_phased: pre-verification on a cold cache,
then Chain.produce with its calls timed). Reported per size: genesis import time, and per
block the execution (finalize_block) with its tree update (Store.prepare), the commit
(App.commit -> Store.commit, one synced LevelDB batch) and the whole block.

    .venv/bin/python bench/bench_commit_scale.py                    # 10k and 1M accounts
    .venv/bin/python bench/bench_commit_scale.py --quick            # 2k and 20k accounts
    .venv/bin/python bench/bench_commit_scale.py --accounts 10000,200000
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

import _common as c

from rwachain.genesis import devnet
from rwachain.node.chain import Chain


def dir_size_mb(path: str) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total / 1e6


def run_size(accounts: int, txs: int, sets: list[list[bytes]], workdir: str, tmp: str, workers: int) -> dict:
    genesis, written = c.cached_genesis(workdir, txs, accounts)
    path = os.path.join(tmp, f"chain-{accounts}")
    chain = Chain(path, devnet.validator_key(), verify_workers=workers)
    t_import, _ = c.timed(chain.init_genesis, genesis)
    blocks = []
    t = devnet.GENESIS_TIME
    for b, raws in enumerate(sets):
        c.clear_sig_cache(chain.app)
        t += 1
        r = c.produce_phased(chain, raws, t)
        c.check_codes(r["codes"], f"{accounts} accounts, block {b + 1}")
        blocks.append(r)
    size = dir_size_mb(path)
    chain.close()
    shutil.rmtree(path, ignore_errors=True)
    out = {k: c.median(r[k] for r in blocks)
           for k in ("verify", "execute", "prepare", "assemble", "commit", "produce", "total")}
    out.update(accounts=accounts, import_s=t_import, db_mb=size, commits=[r["commit"] for r in blocks])
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", default="10000,1000000",
                    help="comma-separated state sizes in accounts (default: 10000,1000000)")
    ap.add_argument("--txs", type=int, default=10_000, help="transactions per block (= signer accounts)")
    ap.add_argument("--blocks", type=int, default=5, help="measured blocks per size (median)")
    ap.add_argument("--workers", type=int, default=2, help="pre-verification threads")
    ap.add_argument("--workdir", help="directory for genesis files (kept and reused); default: a temp dir")
    ap.add_argument("--quick", action="store_true", help="small sizes (1,000 tx blocks over 2k and 20k accounts)")
    args = c.parse_args(ap, argv, {"accounts": "2000,20000", "txs": 1_000, "blocks": 2})
    sizes = [int(x) for x in args.accounts.split(",")]
    if min(sizes) < args.txs:
        raise SystemExit("every state size must hold at least --txs signer accounts")

    tmp = tempfile.mkdtemp(prefix="rwachain-bench-commit-")
    workdir = args.workdir or tmp
    try:
        keys = c.signer_keys(args.txs)
        sets = [c.sign_transfers(keys, n, "existing", salt=n) for n in range(args.blocks)]
        results = [run_size(a, args.txs, sets, workdir, tmp, args.workers) for a in sizes]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = args.txs
    rows = []
    for r in results:
        rows.append([f"{r['accounts']:,}", f"{r['import_s']:.1f}", c.rate(r["accounts"], r["import_s"]),
                     c.ms(r["verify"]), c.ms(r["execute"]), c.ms(r["prepare"]), c.ms(r["assemble"]),
                     f"**{c.ms(r['commit'])}**", c.ms(r["total"]), c.rate(n, r["total"]),
                     f"{r['db_mb']:,.0f}"])
    print(f"# bench_commit_scale: blocks of {n:,} transfers over growing state, median of {args.blocks} blocks")
    print(f"machine: {c.machine()}\n")
    print(c.table(["accounts", "genesis import s", "accounts/s", "pre-verify ms", "finalize_block ms",
                   "of which tree update ms", "assembly ms", "**commit ms**", "whole block ms",
                   "block tx/s", "DB MB"], rows))
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"\n{b['accounts']:,} vs {a['accounts']:,} accounts: commit x{b['commit'] / a['commit']:.2f}, "
              f"tree update x{b['prepare'] / a['prepare']:.2f}, whole block x{b['total'] / a['total']:.2f}")
    for r in results:
        print(f"commit per block at {r['accounts']:,} accounts: {', '.join(c.ms(s) + ' ms' for s in r['commits'])}")
    return results


if __name__ == "__main__":
    main()
