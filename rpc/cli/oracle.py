"""`rwad oracle ...`: operator tooling for quorum-signed reports.

    rwad oracle sign    one operator's BLS signature share over a report (JSON out)
    rwad oracle submit  aggregate shares into one report transaction and send it
    rwad oracle feed    devnet feeder: replay a CSV of observations as signed reports
Report bytes and bitmap: modules/oracle/report.py (docs/mechanism.md, "Oracle").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

from rwachain import genesis
from rwachain.modules.core import bls
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle.report import bitmap, message

DEFAULT_CSV = os.path.join(os.path.dirname(os.path.abspath(genesis.__file__)), "data", "devnet_feed.csv")


class OracleCliError(Exception):
    pass


def add_parser(sub, parents: list[argparse.ArgumentParser], rpc_opts: argparse.ArgumentParser,
               signer_opts, run) -> None:
    """Add `oracle` with sign, submit and feed to the rwad parser; run(args) carries them out
    (args.oracle_command names the subcommand)."""
    p = sub.add_parser("oracle", help="operator tooling: sign a report share, submit a quorum, replay a feed",
                       description="Oracle operators sign the same report bytes with their BLS keys; anyone "
                                   "with an operator account aggregates a quorum of shares into one "
                                   "transaction.")
    osub = p.add_subparsers(dest="oracle_command", metavar="SUBCOMMAND")
    osub.required = True
    s = osub.add_parser("sign", parents=[rpc_opts], help="sign a report with one operator's BLS key (prints JSON)",
                        description="Print one operator's signature share over a report as JSON. Round, epoch, "
                                    "chain id and observation time default to what the node says (next round, "
                                    "current epoch, its chain id, its head time).")
    s.add_argument("--feed", required=True, help="feed id, e.g. rate, spread/B, grade/3, price/rwa")
    s.add_argument("--value", required=True, help="value in the feed's unit (integer; wad for rates)")
    s.add_argument("--observed-at", type=int, help="observation time, unix seconds (default: the head's time)")
    s.add_argument("--round", type=int, help="report round (default: the feed's last round + 1)")
    s.add_argument("--epoch", type=int, help="operator set epoch (default: the node's)")
    s.add_argument("--chain-id", help="chain id (default: the node's)")
    key = s.add_mutually_exclusive_group(required=True)
    key.add_argument("--bls-seed-file", metavar="FILE", help="file holding the operator's BLS key seed (hex, >= 32 "
                                                             "bytes; the key is its IETF KeyGen)")
    key.add_argument("--dev-operator", type=int, metavar="J", help="devnet operator J's public key (0..3)")
    s.add_argument("--out", metavar="FILE", help="write the share here instead of standard output")
    s.set_defaults(func=run)
    s = osub.add_parser("submit", parents=parents, help="aggregate signature shares and send the report",
                        description="Read signature shares (from `rwad oracle sign`) of one report, aggregate "
                                    "them, build the signer bitmap from the node's operator set, and send "
                                    "oracle.report from an operator account.")
    s.add_argument("shares", nargs="+", metavar="SHARE", help="share files (JSON)")
    signer_opts(s)
    s.set_defaults(func=run)
    s = osub.add_parser("feed", parents=[rpc_opts], help="devnet: replay a CSV of observations as signed reports",
                        description="Replay a CSV (columns step, feed, value) step by step as real reports "
                                    "signed by the devnet operators' public BLS keys and sent from operator "
                                    "0's account. Observation times are the node's head time.")
    s.add_argument("--csv", default=DEFAULT_CSV, help="observations (default: genesis/data/devnet_feed.csv)")
    s.add_argument("--interval", type=float, default=60.0, help="seconds between steps (default 60)")
    s.add_argument("--steps", type=int, default=0, help="stop after N steps (default 0: loop forever)")
    s.set_defaults(func=run)


# ----- pieces -------------------------------------------------------------------------------
def load_csv(path: str) -> list[list[tuple[str, int]]]:
    """Steps of (feed, value) from a CSV file, in step order; errors name the line."""
    steps: dict[int, list[tuple[str, int]]] = {}
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    except OSError as exc:
        raise OracleCliError(f"cannot read {path}: {exc}") from None
    if not rows or [c.strip() for c in rows[0]] != ["step", "feed", "value"]:
        raise OracleCliError(f"{path}: the header must be step,feed,value")
    for n, r in enumerate(rows[1:], 2):
        if len(r) != 3 or not r[0].strip().isdigit() or not r[2].strip().isdigit() or not feeds.is_feed(r[1].strip()):
            raise OracleCliError(f"{path}: row {n}: expected step (integer), feed id, value (integer)")
        steps.setdefault(int(r[0]), []).append((r[1].strip(), int(r[2])))
    return [steps[k] for k in sorted(steps)]


def _secret(args) -> int:
    if args.dev_operator is not None:
        from rwachain.genesis import devnet

        if not 0 <= args.dev_operator < devnet.OPERATORS:
            raise OracleCliError(f"--dev-operator: 0..{devnet.OPERATORS - 1}")
        return devnet.operator_secret(args.dev_operator)
    try:
        with open(args.bls_seed_file) as f:
            seed = bytes.fromhex(f.read().strip().removeprefix("0x"))
    except (OSError, ValueError) as exc:
        raise OracleCliError(f"--bls-seed-file: {exc}") from None
    if len(seed) < 32:
        raise OracleCliError("--bls-seed-file: the seed must be at least 32 bytes")
    return bls.secret_from_seed(seed)


def report_fields(client, feed: str, value: int, observed_at=None, round_=None, epoch=None, chain_id=None) -> dict:
    """The report's fields, the missing ones from the node."""
    if round_ is None:
        latest = client.call("oracle_latest", {"feed": feed})
        pend = latest["pending"]
        round_ = max(int(latest["round"]), int(pend["round"]) if pend else 0) + 1
    if epoch is None:
        epoch = client.call("oracle_operators")["epoch"]
    if chain_id is None or observed_at is None:
        st = client.call("chain_status")
        chain_id = chain_id or st["chainId"]
        observed_at = st["time"] if observed_at is None else observed_at
    return {"chainId": chain_id, "epoch": epoch, "feed": feed, "value": value, "observedAt": observed_at,
            "round": round_}


def report_message(r: dict) -> bytes:
    return message(r["chainId"], r["epoch"], r["feed"], r["value"], r["observedAt"], r["round"])


def submit(client, key, report: dict, shares: list[tuple[bytes, bytes]], wait: bool = True):
    """Aggregate (pubkey, signature) shares of one report and send it; returns the receipt (or hash)."""
    ops = client.call("oracle_operators")
    index = {bytes.fromhex(o["blsPubkey"][2:]): o["index"] for o in ops["operators"]}
    idx = []
    for pk, _ in shares:
        if pk not in index:
            raise OracleCliError(f"key 0x{pk.hex()[:16]}... is not in the operator set (epoch {ops['epoch']})")
        idx.append(index[pk])
    if len(set(idx)) != len(idx):
        raise OracleCliError("two shares come from the same operator")
    args = {"feed": report["feed"], "value": str(report["value"]), "observedAt": str(report["observedAt"]),
            "round": str(report["round"]), "epoch": str(report["epoch"]),
            "signers": "0x" + bitmap(idx, len(ops["operators"])).hex(),
            "signature": "0x" + bls.aggregate([s for _, s in shares]).hex()}
    return client.send_call(key, "oracle", "report", args, wait=wait)


# ----- commands -----------------------------------------------------------------------------
def cmd_sign(args, client) -> dict:
    if not args.value.isdigit():
        raise OracleCliError("--value: a non-negative integer")
    if not feeds.is_feed(args.feed):
        raise OracleCliError(f"--feed: {args.feed!r} is not a feed id")
    sk = _secret(args)
    r = report_fields(client, args.feed, int(args.value), args.observed_at, args.round, args.epoch, args.chain_id)
    share = {"report": r, "blsPubkey": "0x" + bls.public_key(sk).hex(),
             "signature": "0x" + bls.sign(sk, report_message(r)).hex()}
    text = json.dumps(share, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return share


def cmd_submit(args, client, key) -> dict:
    report = None
    shares = []
    for path in args.shares:
        try:
            with open(path) as f:
                s = json.load(f)
            r = s["report"]
            pk, sig = bytes.fromhex(s["blsPubkey"][2:]), bytes.fromhex(s["signature"][2:])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OracleCliError(f"{path}: not a signature share ({exc})") from None
        if report is None:
            report = r
        elif r != report:
            raise OracleCliError(f"{path}: a share of another report (every share must sign the same bytes)")
        if not bls.verify(pk, report_message(r), sig):
            raise OracleCliError(f"{path}: the signature does not verify for its key and report")
        shares.append((pk, sig))
    return submit(client, key, report, shares)


def cmd_feed(args, client, out=print) -> int:
    """Replay the CSV; returns how many reports were accepted."""
    from rwachain.genesis import devnet

    steps = load_csv(args.csv)
    key = devnet.dev_keys()[devnet.OPERATOR_ACCOUNT0]
    secrets = [devnet.operator_secret(j) for j in range(devnet.OPERATORS)]
    done = ok = 0
    while True:
        for step in steps:
            for feed, value in step:
                r = report_fields(client, feed, value)
                msg = report_message(r)
                shares = [(bls.public_key(sk), bls.sign(sk, msg)) for sk in secrets]
                res = submit(client, key, r, shares)
                status = "ok" if res.get("code") == 0 else f"{res.get('error')}: {res.get('message')}"
                what = ", ".join(e["type"].split(".")[1] for e in res.get("events", [])
                                 if e["type"].startswith("oracle."))
                out(f"{feed} = {value} (round {r['round']}): {status} {what}".rstrip())
                ok += res.get("code") == 0
            done += 1
            if args.steps and done >= args.steps:
                return ok
            time.sleep(args.interval)
