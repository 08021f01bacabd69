"""Peak memory of a node that imports a 1,000,000-account genesis and produces a block.

The parent writes the genesis (--accounts accounts, --txs of them funded signers, in
ascending raw-address order; reused from --workdir if present) and signs one block of
--txs bank transfers to a file. None of that counts: the measured node is a fresh
subprocess that opens a Chain, imports the genesis with Chain.init_genesis (streamed),
reads the signed block and runs Chain.produce on it. It reports its peak RSS
(resource.getrusage ru_maxrss) after each stage, with /proc/self/status VmHWM (peak of
this program image) and VmRSS (current) beside it.

    .venv/bin/python bench/bench_genesis_rss.py            # 1,000,000 accounts, 10,000 txs
    .venv/bin/python bench/bench_genesis_rss.py --quick    # 50,000 accounts, 1,000 txs
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

GOAL_MB = 300


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float:
    """VmRSS (current) or VmHWM (peak of this program image) from /proc/self/status."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _dir_mb(path: str) -> float:
    """Bytes of the files under path, in MB."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 2**20


def child(genesis: str, txs_file: str, data_dir: str) -> None:
    """The measured node: everything here counts toward its peak RSS."""
    stages = []

    def mark(name: str, seconds: float | None = None) -> None:
        stages.append({"stage": name, "peak_mb": _peak_mb(), "hwm_mb": _status_mb("VmHWM"),
                       "current_mb": _status_mb("VmRSS"), "anon_mb": _status_mb("RssAnon"),
                       "file_mb": _status_mb("RssFile"), "seconds": seconds})

    mark("interpreter")
    import msgpack

    from rwachain.genesis import devnet
    from rwachain.node.chain import Chain

    mark("imports")
    chain = Chain(data_dir, devnet.validator_key(), verify_workers=2)
    mark("Chain opened")
    t0 = time.perf_counter()
    chain.init_genesis(genesis)
    mark("genesis imported", time.perf_counter() - t0)
    with open(txs_file, "rb") as f:
        txs = msgpack.unpackb(f.read())
    t0 = time.perf_counter()
    _, result = chain.produce(txs, devnet.GENESIS_TIME + 1)
    secs = time.perf_counter() - t0
    failed = sum(1 for r in result.receipts if r.code != 0)
    mark(f"block of {len(txs):,} txs produced", secs)
    chain.close()
    print(json.dumps({"stages": stages, "failed": failed}))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000, help="genesis accounts")
    ap.add_argument("--txs", type=int, default=10_000, help="transfers in the produced block (0: empty block)")
    ap.add_argument("--workdir", help="directory for genesis files (kept and reused); default: a temp dir")
    ap.add_argument("--quick", action="store_true", help="small sizes (50,000 accounts, 1,000 txs)")
    ap.add_argument("--child", nargs=3, metavar=("GENESIS", "TXS", "DATADIR"), help=argparse.SUPPRESS)
    pre = argparse.ArgumentParser(add_help=False)  # --quick changes the defaults only
    pre.add_argument("--quick", action="store_true")
    if pre.parse_known_args(argv)[0].quick:
        ap.set_defaults(accounts=50_000, txs=1_000)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return {}

    import _common as c
    import msgpack

    tmp = tempfile.mkdtemp(prefix="rwachain-bench-rss-")
    workdir = args.workdir or tmp
    try:
        signers = max(args.txs, 1)
        genesis, _ = c.cached_genesis(workdir, signers, args.accounts)
        txs = c.sign_transfers(c.signer_keys(args.txs), 0) if args.txs else []
        txs_file = os.path.join(tmp, "block.msgpack")
        with open(txs_file, "wb") as f:
            f.write(msgpack.packb(txs))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [c.ROOT, os.environ.get("PYTHONPATH")])))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", genesis, txs_file,
                               os.path.join(tmp, "chain")], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"the measured node failed (exit {proc.returncode})")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        db_mb = _dir_mb(os.path.join(tmp, "chain"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if report["failed"]:
        raise SystemExit(f"{report['failed']} transactions of the block failed")
    rows = [[s["stage"], f"{s['peak_mb']:,.1f}", f"{s['hwm_mb']:,.1f}", f"{s['current_mb']:,.1f}",
             f"{s['anon_mb']:,.1f}", f"{s['file_mb']:,.1f}",
             "" if s["seconds"] is None else f"{s['seconds']:.1f}"] for s in report["stages"]]
    peak = report["stages"][-1]["peak_mb"]
    print(f"# bench_genesis_rss: fresh node process imports {args.accounts:,} accounts (streamed), "
          f"then produces one block of {args.txs:,} transfers")
    print(f"machine: {c.machine()}\n")
    print(c.table(["stage (in order)", "peak RSS MB (ru_maxrss)", "peak MB (VmHWM)", "current RSS MB",
                   "of which anonymous", "of which file-backed", "seconds"], rows))
    print("\n(ru_maxrss survives exec, so its first rows show the launching parent's size at spawn;"
          " VmHWM counts this program image only. File-backed resident pages are mostly LevelDB's"
          " memory-mapped table files: clean page cache, counted in RSS while mapped.)")
    verdict = "under" if peak < GOAL_MB else "OVER"
    print(f"\nresult: peak RSS {peak:,.0f} MB, {verdict} the {GOAL_MB} MB goal; node process wall time {wall:.0f} s;"
          f" data directory {db_mb:,.0f} MB on disk")
    return {"peak_mb": peak, "stages": report["stages"], "wall_s": wall, "db_mb": db_mb}


if __name__ == "__main__":
    main()
