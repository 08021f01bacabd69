"""Random simulation speed: genesis/sim/simulate.py with the Monte-Carlo driver, every module's
invariants and the chain-wide checks after every block, on a real LevelDB chain.

Measured: wall time of whole runs (generation of the steps, signing, the blocks, the
invariant checks) for --blocks blocks of --ops random operations at most per block (plus
the driver's oracle reports and servicer steps), per seed; the time of each tenth of the
run, which shows how the cost per block grows with the state; and one sweep run (the
default configuration of `rwad sweep`).

    .venv/bin/python bench/bench_simulate.py                       # 10,000 blocks, seed 1
    .venv/bin/python bench/bench_simulate.py --blocks 2000 --seeds 1,2,3
    .venv/bin/python bench/bench_simulate.py --skip-check cr       # see docs/simulation.md
"""

from __future__ import annotations

import argparse
import time

import _common as c  # noqa: F401  (puts the project on sys.path)

from rwachain.genesis.sim import montecarlo, simulate, sweep
from rwachain.genesis.sim import sweep_config as sc


def run_one(seed: int, blocks: int, ops: int, skip: tuple[str, ...], attack_rate: float) -> dict:
    marks: list[float] = []
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if done % max(1, total // 10) < 50 and len(marks) < done * 10 // total:
            marks.append(time.monotonic() - started)

    res = simulate.run(simulate.SimConfig(seed=seed, blocks=blocks, ops_per_block=ops,
                                          montecarlo=montecarlo.MarketConfig(), skip_checks=skip,
                                          attack_rate=attack_rate),
                       progress=progress)
    ok = sum(per.get("ok", 0) for per in res.stats.values())
    made = {k: res.stats.get(k, {}).get("ok", 0) for k in ("assets.register", "tranches.createPool")}
    paused = sum(per.get("paused", 0) for per in res.stats.values())
    return {"seed": seed, "blocks": res.blocks, "steps": len(res.steps), "ok": ok, "elapsed": res.elapsed,
            "failure": res.failure, "tenths": marks, "assets": made["assets.register"],
            "pools": made["tranches.createPool"], "paused": paused}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    ap.add_argument("--ops", type=int, default=simulate.OPS_PER_BLOCK)
    ap.add_argument("--skip-check", action="append", default=[], metavar="NAME")
    ap.add_argument("--attack-rate", type=float, default=0.5,
                    help="the chance of an adversary's attack in a block (default 0.5; 0: none, as before the adversary)")
    args = ap.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        r = run_one(seed, args.blocks, args.ops, tuple(args.skip_check), args.attack_rate)
        rows.append(r)
        status = "every invariant held" if r["failure"] is None else f"FAILED at block {r['failure'].block}: " \
                                                                        f"{r['failure'].key}"
        print(f"seed {seed}: {r['blocks']} blocks, {r['steps']} steps ({r['ok']} ok) in {r['elapsed']:.1f} s; {status}",
              flush=True)
    print()
    print("| seed | blocks | steps (ok) | refused as paused | new assets, pools | wall time | blocks/s "
          "| ms per block, first tenth -> last tenth |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        t = r["tenths"]
        per = [(b - a) * 1000 / (r["blocks"] / 10) for a, b in zip([0.0, *t], t, strict=False)]
        trend = f"{per[0]:.1f} -> {per[-1]:.1f}" if per else "-"
        print(f"| {r['seed']} | {r['blocks']:,} | {r['steps']:,} ({r['ok']:,}) | {r['paused']:,} | "
              f"{r['assets']}, {r['pools']} | {r['elapsed']:.1f} s | {r['blocks'] / r['elapsed']:.0f} | {trend} |")
    cfg = sc.defaults()
    started = time.monotonic()
    sweep.run(1, cfg)
    print(f"\none sweep run (the default configuration: {cfg['sim.blocks']} blocks, invariants not checked): "
          f"{time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
