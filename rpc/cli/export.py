"""`rwad export` and `rwad report`: per-block series out of a node, and HTML reports.

    rwad export [--rpc URL] [--from H] [--to H] [--format csv|json] [--out FILE] [--progress]
                chain_metrics at every height of a live node, as a series document
    rwad report INPUT --out FILE.html [--x time|height]
                                                 a series (JSON or CSV) or a sweep (JSON) file
    rwad report [--rpc URL] [--from H] [--to H] --out FILE.html
                                                 a live node's series, read as export does
The document formats are in docs/outputs.md. A node keeps the state of its last
--keep-versions heights (default 100) queryable; older heights cannot be exported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from rwachain.genesis.sim import series
from rwachain.rpc.client.clients import Client, HeightUnavailable

BATCH = 50  # chain_metrics calls per JSON-RPC batch


class OutputError(Exception):
    """A user error of export or report: printed as one line."""


def add_parsers(sub, rpc_opts: argparse.ArgumentParser, run) -> None:
    """Add `export` and `report` to the rwad parser; run(args) carries them out
    (args.outputs_command names which)."""
    def range_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="start", type=_height, metavar="H",
                       help="first height (default: the oldest height the node still keeps)")
        p.add_argument("--to", dest="end", type=_height, metavar="H", help="last height (default: the head)")
        p.add_argument("--progress", action="store_true",
                       help="show progress on stderr even when it is not a terminal")

    p = sub.add_parser("export", parents=[rpc_opts], help="per-block metrics of a node as CSV or JSON",
                       description="Read chain_metrics at every height from --from to --to of a live node and "
                                   "write them as a series document (docs/outputs.md): unit prices, NAV, "
                                   "stable supply and CR, reserve, oracle values, exits. A node keeps only "
                                   "its last --keep-versions heights (default 100) queryable.")
    range_opts(p)
    p.add_argument("--format", choices=("csv", "json"), help="output format (default: from --out's extension, "
                                                             "else json)")
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    p.set_defaults(func=run, outputs_command="export")

    p = sub.add_parser("report", parents=[rpc_opts], help="a self-contained HTML report with plots",
                       description="Write one HTML file with every plot embedded (no external resource) from "
                                   "INPUT, a series (export's JSON or CSV) or a sweep document (JSON), or, "
                                   "without INPUT, from the node at --rpc read as export does.")
    p.add_argument("input", nargs="?", metavar="INPUT", help="a series or sweep file")
    range_opts(p)
    p.add_argument("--title", help="page title (default: from the input)")
    p.add_argument("--x", choices=("auto", "time", "height"), default="auto",
                   help="x axis of a series: days (or hours) since the first block, or the block height "
                        "(keeps blocks apart when they cluster in time); auto: time when the run spans an hour "
                        "or more")
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.set_defaults(func=run, outputs_command="report")


def _height(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a block height (a non-negative integer), got {text!r}")
    return int(text)


# ----- reading a node ------------------------------------------------------------------------
def _show_progress(args) -> bool:
    return bool(getattr(args, "progress", False)) or sys.stderr.isatty()


def oldest_kept(client: Client, head: int) -> int:
    """The lowest height h such that the node answers state queries at every height h..head
    (found by bisection: kept heights are the most recent ones)."""
    if _kept(client, 0):
        return 0
    lo, hi = 0, head  # lo is not kept, hi is
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _kept(client, mid):
            hi = mid
        else:
            lo = mid
    return hi


def _kept(client: Client, height: int) -> bool:
    try:
        client.call("chain_params", [height])
    except HeightUnavailable:
        return False
    return True


def _pruned_message(height: int, head: int) -> str:
    return (f"height {height} is no longer queryable on this node (head {head}): a node keeps only the state "
            f"of its last --keep-versions heights (default 100); export a later --from, or start the node "
            f"with a larger --keep-versions")


def fetch(client: Client, start: int | None, end: int | None, progress: bool = False) -> dict:
    """The series document of heights start..end (defaults: the oldest kept height, the head)."""
    status = client.call("chain_status")
    head = status["height"]
    end = head if end is None else end
    if end > head:
        raise OutputError(f"--to {end} is beyond the head {head}")
    if start is None:
        start = oldest_kept(client, end)
    if start > end:
        raise OutputError(f"--from {start} is after --to {end}")
    rows: list[series.Row] = []
    total = end - start + 1
    for first in range(start, end + 1, BATCH):
        heights = list(range(first, min(first + BATCH, end + 1)))
        answers = client.batch([("chain_metrics", [h]) for h in heights], return_exceptions=True)
        for h, a in zip(heights, answers, strict=True):
            if isinstance(a, HeightUnavailable):
                raise OutputError(_pruned_message(h, head)) from None
            if isinstance(a, Exception):
                raise a
            rows.append({k: series.parse_int(v, f"chain_metrics at {h}: {k}") for k, v in a.items()})
        if progress:
            sys.stderr.write(f"\rexport: {len(rows)}/{total} heights")
            sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    return series.document(rows, status["chainId"], _decimals(client, end))


def _decimals(client: Client, height: int) -> int:
    denoms = client.call("bank_params", [height])["denoms"]
    for info in denoms.values():
        if info.get("kind") == "stable":
            return int(info["decimals"])
    return series.DEFAULT_DECIMALS


# ----- commands ----------------------------------------------------------------------------
def _format(args) -> str:
    if args.format:
        return args.format
    return "csv" if args.out and args.out.lower().endswith(".csv") else "json"


def _write(path: str | None, write: Callable) -> None:
    if path is None:
        write(sys.stdout)
        return
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", newline="") as f:
            write(f)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None


def cmd_export(args, client: Client) -> int:
    doc = fetch(client, args.start, args.end, _show_progress(args))
    fmt = _format(args)
    _write(args.out, lambda f: (series.write_csv if fmt == "csv" else series.write_json)(doc, f))
    if args.out:
        print(f"{len(doc['rows'])} heights ({doc['rows'][0][0]}..{doc['rows'][-1][0]}), {len(doc['columns'])} "
              f"columns -> {args.out}", file=sys.stderr)
    return 0


def load_input(path: str) -> dict:
    """A series (JSON or CSV) or sweep (JSON) document from a file."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc}") from None
    if path.lower().endswith(".csv"):
        try:
            return series.read_csv(text)
        except series.SeriesError as exc:
            raise OutputError(f"{path}: {exc}") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise OutputError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") not in ("series", "sweep"):
        raise OutputError(f'{path}: expected a document with "kind": "series" or "sweep" (docs/outputs.md)')
    return doc


def cmd_report(args, client_factory: Callable[[], Client]) -> int:
    from rwachain.rpc.cli import report

    if args.input is not None:
        if args.rpc is not None:
            raise OutputError("give INPUT or --rpc, not both")
        if args.start is not None or args.end is not None:
            raise OutputError("--from and --to apply to --rpc only; the input file is reported whole")
        doc = load_input(args.input)
        source = args.input
    else:
        with client_factory() as c:
            doc = fetch(c, args.start, args.end, _show_progress(args))
            source = "the node at " + c.url.split("://", 1)[-1]  # the page names no web address
    try:
        html = report.render(doc, title=args.title, source=source, x=args.x)
    except series.SeriesError as exc:
        raise OutputError(f"{source}: {exc}") from None
    _write(args.out, lambda f: f.write(html))
    print(f"report -> {args.out}", file=sys.stderr)
    return 0
