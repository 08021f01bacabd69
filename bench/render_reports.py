"""Render an HTML report of each kind in headless Chromium and keep the screenshots.

    .venv/bin/python bench/render_reports.py [--out DIR] [--docs] [--sweep FILE] [--blocks N]

Four reports, three written by `rwad report` (rpc/cli/report.py) and the mechanism study's by
`rwad study`, each shot with `chromium --headless --screenshot` (Debian's chromium package):
    scenario    the series of genesis/scenarios/sme-receivables-pool.json, by block height
                (its blocks cluster in time: 4 at the start, 2 at day 90, 2 at day 180)
    simulation  the series of a seeded Monte-Carlo simulation (genesis/sim/simulate.py), one row
                sampled after every 1-hour block, by time
    sweep       `rwad sweep --discount 0.01,0.03,0.1 --h-slope 0.05,0.1,0.2 --seeds 3`, or
                the sweep document --sweep FILE
    study       `rwad study --quick` (--study-full: the standard study, a few minutes)
Each page goes to DIR/report-KIND.html and its full screenshot to DIR/report-KIND.png; with
--docs the top of each (title, note and the first figures, palette-reduced, < 300 KB) goes
to docs/img/report-KIND.png, which docs/outputs.md shows. Look at the screenshots: this is
how a reader sees the reports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SCENARIO = os.path.join(ROOT, "genesis", "scenarios", "sme-receivables-pool.json")
WIDTH = 1200
DOC_HEIGHT = {"scenario": 1480, "simulation": 1480, "sweep": 1300, "study": 1500}  # px of the page kept in docs/img
MAX_DOC_BYTES = 300_000


def rwad(*args: str, cwd: str = ROOT) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT}
    subprocess.run([sys.executable, "-m", "rwachain.rpc.cli.entry", *args], cwd=cwd, env=env, check=True)


def scenario_series(path: str) -> None:
    """The scenario's per-block series, as `rwad scenario run --series` writes it."""
    rwad("scenario", "run", SCENARIO, "--series", path)


def simulation_series(path: str, blocks: int, seed: int = 7) -> None:
    """A seeded Monte-Carlo simulation sampled after every block (genesis/sim/series.py)."""
    from rwachain.genesis.sim import montecarlo, series, simulate

    rows: list[series.Row] = []

    def on_block(block, now, steps, res, reader) -> None:
        events = list(res.events) + [e for r in res.receipts for e in r.events]
        rows.append(series.sample(reader, events))

    cfg = simulate.SimConfig(seed=seed, blocks=blocks, montecarlo=montecarlo.MarketConfig(), attack_rate=0.0)
    simulate.run(cfg, on_block=on_block, check=False)
    with open(path, "w") as f:
        json.dump(series.document(rows, "rwa-sim"), f)


def small_sweep(path: str, blocks: int) -> None:
    """Reserve discount x haircut slope over seeds 1..3, as `rwad sweep` writes it."""
    rwad("sweep", "--discount", "0.01,0.03,0.1", "--h-slope", "0.05,0.1,0.2", "--seeds", "3", "--blocks", str(blocks),
         "--out", path)


def shoot(html_path: str, png_path: str, height: int) -> None:
    """A screenshot of the page, WIDTH x height px, by headless Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png_path}", f"--window-size={WIDTH},{height}", "file://" + html_path],
                   check=True, capture_output=True, timeout=120)


def page_height(html_path: str) -> int:
    """A window tall enough for the whole page: 900 px per figure, 24 per table row, and a header."""
    with open(html_path) as f:
        text = f.read()
    return 300 + 900 * text.count("<figure>") + 24 * text.count("<tr>")


def for_docs(png_path: str, out: str, height: int) -> int:
    """The top `height` px of a screenshot, reduced to a 64-colour palette; its size in bytes."""
    from PIL import Image

    with Image.open(png_path) as im:
        top = im.crop((0, 0, WIDTH, min(height, im.height))).convert("RGB")
        top.quantize(colors=64).save(out, optimize=True)
    return os.path.getsize(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="directory for the pages and screenshots (default: a temporary one)")
    ap.add_argument("--docs", action="store_true", help="also keep the top of each screenshot in docs/img/")
    ap.add_argument("--sweep", metavar="FILE", help="report this sweep document instead of running a small sweep")
    ap.add_argument("--blocks", type=int, default=240, help="blocks of the simulation (default 240)")
    ap.add_argument("--sweep-blocks", type=int, default=120, help="blocks of each sweep run (default 120)")
    ap.add_argument("--study-full", action="store_true", help="the standard study instead of rwad study --quick")
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="reports-")
    os.makedirs(out, exist_ok=True)
    inputs = {"scenario": os.path.join(out, "scenario.json"), "simulation": os.path.join(out, "simulation.json"),
              "sweep": os.path.join(out, "sweep.json")}
    scenario_series(inputs["scenario"])
    simulation_series(inputs["simulation"], args.blocks)
    if args.sweep:
        shutil.copyfile(args.sweep, inputs["sweep"])
    else:
        small_sweep(inputs["sweep"], args.sweep_blocks)
    x = {"scenario": ["--x", "height"], "simulation": ["--x", "time"], "sweep": []}
    rwad("study", *([] if args.study_full else ["--quick"]), "--out", os.path.join(out, "study"), cwd=out)
    pages = {kind: os.path.join(out, f"report-{kind}.html") for kind in inputs}
    pages["study"] = os.path.join(out, "study", "study.html")
    for kind, page in pages.items():
        if kind in inputs:
            rwad("report", os.path.basename(inputs[kind]), "--out", page, *x[kind], cwd=out)  # names the file alone
        png = os.path.join(out, f"report-{kind}.png")
        shoot(page, png, page_height(page))
        line = f"{kind}: {page} -> {png}"
        if args.docs:
            kept = os.path.join(ROOT, "docs", "img", f"report-{kind}.png")
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            size = for_docs(png, kept, DOC_HEIGHT[kind])
            line += f"; {os.path.relpath(kept, ROOT)} {size // 1000} KB"
            if size > MAX_DOC_BYTES:
                line += " (over 300 KB: crop it shorter)"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
