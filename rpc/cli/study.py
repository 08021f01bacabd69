"""`rwad study`: the mechanism study (genesis/sim/study.py) as a command, its CSV and its HTML
report (docs/study.md).

    rwad study [--seed N] [--seeds K] [--workers W] [--quick] [--out DIR] [--json] [--progress]

writes DIR/study.csv (one row per stress and variant), DIR/study.json (the rows with their
per-block paths) and DIR/study.html (the plots), and prints the table.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time

from rwachain.genesis.sim import study
from rwachain.rpc.cli import report

LABEL = {"book": "order book only", "reserve": "+ buyback reserve", "exit": "+ instant exit",
         "insured": "+ insurance"}
STRESS_LABEL = {"rate": "rate shock", "defaults": "default wave", "run": "stable run", "oracle": "oracle outage",
                "depletion": "reserve depletion"}
COLORS = {"book": "#888888", "reserve": "#1f77b4", "exit": "#2ca02c", "insured": "#d62728"}


class StudyCliError(Exception):
    """Bad input to rwad study (one line on stderr, exit code 1)."""


def add_parser(sub, run) -> None:
    p = sub.add_parser("study", help="the mechanism study: five stresses under four mechanism variants",
                       description="Run the standard stresses (rate shock, default wave, stable run, oracle "
                                   "outage, reserve depletion) under four mechanism variants (order book only, "
                                   "+ buyback reserve, + instant exit, + insurance) on the same genesis, and "
                                   "report exit prices, time to exit, reserve use, the CR and losses by party. "
                                   "docs/study.md")
    p.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    p.add_argument("--seeds", type=int, default=None, help="seeds per stress and variant: SEED, SEED + 1, ... "
                                                             "(default 3; --quick: 2)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2; 1: in this process)")
    p.add_argument("--quick", action="store_true", help="a small study: 48 blocks, 4 holders (for tests)")
    p.add_argument("--out", default="study", metavar="DIR", help="write study.csv, study.json, study.html here "
                                                                  "(default ./study)")
    p.add_argument("--progress", action="store_true", help="show progress on stderr (default: only on a terminal)")
    p.add_argument("--json", action="store_true", help="print the rows (without paths) as JSON instead of a table")
    p.set_defaults(func=run)


def cmd_study(args) -> int:
    if args.workers < 1:
        raise StudyCliError("--workers must be at least 1")
    if args.seeds is not None and args.seeds < 1:
        raise StudyCliError("--seeds must be at least 1")
    cfg = study.QUICK if args.quick else study.STANDARD
    cfg = study.StudyConfig(**{**cfg.__dict__, "seed": args.seed, **({"seeds": args.seeds} if args.seeds else {})})
    show = args.progress or sys.stderr.isatty()
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\rstudy: {done}/{total} runs", end="" if done < total else "\n", file=sys.stderr, flush=True)

    doc = study.study(cfg, args.workers, progress)
    elapsed = time.monotonic() - started
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "study.csv"), "w") as f:
        f.write(study.csv_text(doc))
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(doc, f)
    with open(os.path.join(args.out, "study.html"), "w") as f:
        f.write(page(doc))
    if args.json:
        print(json.dumps([{k: r[k] for k in doc["columns"]} for r in doc["rows"]]))
    else:
        print(table(doc))
        print(f"{len(doc['rows']) * cfg.seeds} runs of {cfg.blocks} blocks ({cfg.seeds} seeds) in {elapsed:.1f} s "
              f"({doc['cpuSeconds']:.0f} CPU s); "
              f"wrote {args.out}/study.csv, study.json, study.html")
    return 0


# ----- text ----------------------------------------------------------------------------------
HEAD = ("stress", "variant", "exits", "exit mean", "exit worst", "unsold", "small exit", "reserve use", "depletion", "min CR",
        "senior loss", "junior loss", "holders", "reserve", "stakers", "stable holders")


def table_rows(doc: dict) -> list[list[str]]:
    """The study's table in human units: prices and depletion in %, time in hours (with, in
    brackets, the share of seeds in which the small holder sold when not all), amounts in
    whole RUSD."""
    out = []
    for r in doc["rows"]:
        small = f"{r['smallExitHours']:.0f} h" + ("" if r["smallExitDone"] == 1 else f" ({r['smallExitDone']:.0%})")
        out.append([STRESS_LABEL[r["stress"]], LABEL[r["variant"]], str(r["exits"]), f"{r['exitPriceMean']:.2%}",
                    f"{r['exitPriceWorst']:.2%}", f"{r['unsoldShare']:.0%}", small, f"{r['reserveUse']:,.0f}", f"{r['reserveDepletion']:.1%}",
                    f"{r['crMin']:.3f}", *(f"{r[k]:,.0f}" for k in ("seniorLoss", "juniorLoss", "holdersLoss",
                                                                     "reserveLoss", "stakersLoss",
                                                                     "stableHoldersLoss"))])
    return out


def table(doc: dict) -> str:
    rows = [list(HEAD), *table_rows(doc)]
    width = [max(len(r[i]) for r in rows) for i in range(len(HEAD))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, width, strict=True)))
                     for r in rows)


# ----- HTML ----------------------------------------------------------------------------------
def _bars(doc: dict, key: str, scale: float, ylabel: str, title: str, zoom: bool = False) -> str:
    """Grouped bars: one group per stress, one bar per variant; zoom: the y axis starts a
    little below the lowest non-zero bar (prices near 100 %), not at 0."""
    fig, (ax,) = report._figure(height=3.2)
    n = len(doc["variants"])
    if zoom:  # from a little below the lowest bar to a little above the highest (exits may pay over 100 %)
        values = [r[key] * scale for r in doc["rows"] if r[key]]
        ax.set_ylim(max(0, int(min(values, default=0)) - 2), max(100.5, max(values, default=0) + 0.5))
    for j, v in enumerate(doc["variants"]):
        ys = [next(r[key] for r in doc["rows"] if r["stress"] == s and r["variant"] == v) * scale
              for s in doc["stresses"]]
        xs = [i + (j - (n - 1) / 2) * 0.8 / n for i in range(len(doc["stresses"]))]
        ax.bar(xs, ys, width=0.8 / n, color=COLORS[v], label=LABEL[v])
    ax.set_xticks(range(len(doc["stresses"])), [STRESS_LABEL[s] for s in doc["stresses"]])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return report.png_uri(fig)


def _paths(doc: dict, key: str, ylabel: str, scale: float = 1.0) -> str:
    """One panel per stress: the per-block path of each variant (times scale) against days."""
    stresses = doc["stresses"]
    fig, axes = report._figure(len(stresses), 1, height=2.2)
    hours = doc["config"]["blockTime"] / 3600
    for ax, s in zip(axes, stresses, strict=True):
        for v in doc["variants"]:
            ys = [y * scale for y in next(r[key] for r in doc["rows"] if r["stress"] == s and r["variant"] == v)]
            ax.step([(i + 1) * hours / 24 for i in range(len(ys))], ys, where="post", color=COLORS[v],
                    label=LABEL[v])
        ax.axvline(doc["config"]["stressAt"] * hours / 24, color="#444", linestyle=":", linewidth=1)
        ax.set_title(STRESS_LABEL[s], fontsize=9)
        ax.set_ylabel(ylabel)
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("days since genesis (dotted: the stress)")
    axes[0].legend(fontsize=7, loc="best")
    return report.png_uri(fig)


FIGURES = [
    ("exit-mean", lambda d: _bars(d, "exitPriceMean", 100, "% of fair value", "mean exit price", True),
     "Mean exit price from the stress on, as % of the unit's computed fair value: higher is a cheaper way out "
     "(the axis starts near the lowest bar)."),
    ("exit-worst", lambda d: _bars(d, "exitPriceWorst", 100, "% of fair value", "worst exit price", True),
     "Worst single exit price from the stress on, as % of fair value."),
    ("unsold", lambda d: _bars(d, "unsoldShare", 100, "% of units offered", "left unsold"),
     "Share of the units holders tried to sell from the stress on that were still unsold at the end."),
    ("small", lambda d: _bars(d, "smallExitHours", 1, "hours", "small holder's time to exit"),
     "Hours the small holder (5 senior units) needed to sell, from the stress (mean over the seeds); a "
     "full bar to the run's end means it never sold."),
    ("reserve-use", lambda d: _bars(d, "reserveUse", 1 / 1000, "thousand RUSD", "reserve spending"),
     "RUSD the reserve spent buying units over the run (thousands): what the buyer of last resort paid."),
    ("losses", lambda d: _bars(d, "holdersLoss", 1 / 1000, "thousand RUSD", "unit holders' loss"),
     "Unit holders' loss (thousands of RUSD): their share of the tranches' value lost, plus what they gave up "
     "selling to the protocol below fair value."),
    ("cr-path", lambda d: _paths(d, "crPath", "CR"),
     "The collateral ratio at every block, per stress (first seed): below 1 the instant exit stops and the floor pays "
     "pro rata. Lines that coincide are hidden under the last variant drawn (insurance)."),
    ("reserve-path", lambda d: _paths(d, "reservePath", "thousand RUSD", 1 / 1000),
     "The reserve's stable holdings (thousands of RUSD) at every block, per stress (first seed): its buying "
     "power as it is spent."),
]


def page(doc: dict) -> str:
    """The study's HTML report: its configuration, the table, one figure a metric."""
    cfg = doc["config"]
    body = [f"<p>Seeds {cfg['seed']}..{cfg['seed'] + cfg['seeds'] - 1}; {cfg['blocks']} blocks of {cfg['blockTime'] // 3600} h each, the stress at "
            f"block {cfg['stressAt']}; {cfg['holders']} holders. Definitions: docs/study.md.</p>"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEAD)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in table_rows(doc))
    body.append(f'<div style="overflow-x:auto"><table style="font-size:11px"><tr>{head}</tr>{rows}</table></div>')
    body.append("<p>Exit prices: % of the unit's fair value (its computed price at the sale); unsold: share of the "
                "units offered from the exit wave on; small exit: hours until the small holder sold (in brackets, "
                "the share of seeds in which it sold); reserve use and the losses: RUSD (a negative loss is a "
                "gain); min CR: the lowest collateral ratio.</p>")
    body += [report.figure_html(pid, re.split(r"[,:(]", caption, maxsplit=1)[0].strip(), caption, draw(doc))
             for pid, draw, caption in FIGURES]
    return report._page("Mechanism study", body)
