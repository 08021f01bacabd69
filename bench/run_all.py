"""Run every benchmark, one fresh process each, sharing one directory of genesis files.

    .venv/bin/python bench/run_all.py            # full sizes (6.5-9.5 minutes on this 2-core machine)
    .venv/bin/python bench/run_all.py --quick    # small sizes (well under a minute)
    .venv/bin/python bench/run_all.py --only transfers,commit_scale
Extra arguments after -- go to every selected benchmark (so only options they all take).
The 1M-account genesis written for bench_commit_scale is reused by bench_genesis_rss
(same --workdir).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = ("transfers", "commit_scale", "genesis_rss")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes in every benchmark")
    ap.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHES)}")
    ap.add_argument("--workdir", help="keep genesis files here (reused by later runs); default: a temp dir")
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="-- then arguments for every benchmark")
    args = ap.parse_args(argv)
    names = BENCHES if not args.only else tuple(x.strip() for x in args.only.split(","))
    unknown = set(names) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    extra = [a for a in args.extra if a != "--"]
    workdir = args.workdir or tempfile.mkdtemp(prefix="rwachain-bench-")
    failed = []
    t_all = time.perf_counter()
    try:
        for name in names:
            cmd = [sys.executable, os.path.join(HERE, f"bench_{name}.py"), "--workdir", workdir]
            if args.quick:
                cmd.append("--quick")
            cmd += extra
            print(f"\n$ {' '.join(cmd)}", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.call(cmd)
            print(f"[{name}: {time.perf_counter() - t0:.0f} s, exit {rc}]", flush=True)
            if rc != 0:
                failed.append(name)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nall benchmarks: {time.perf_counter() - t_all:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
