"""Included transfers per second: a 4-validator CometBFT localnet against a single-validator
devnet, the same load generator against both, in the same run.

Setup (not timed): one genesis with --signers funded bench accounts (bench/_common.py);
--rounds signed bank transfers per signer (nonces 0..rounds-1), signed up front. The devnet
is `rwad devnet --genesis G` (auto mining: a block as soon as transactions wait); the
localnet is `rwad localnet`'s 4 validators on loopback (node/abci/localnet.py) with the
same genesis and CometBFT's short loopback timeouts (timeout_commit --commit-ms).

Measured, per chain: the load generator sends every transaction through rwachain's
JSON-RPC, in batches of `tx_send` (--batch) from one thread per JSON-RPC endpoint (the
devnet's one, or the localnet's four, each sender's transactions to one node, in nonce
order), then polls the blocks until every accepted transaction is included. Included/s =
included transactions / (last inclusion seen - first send). Also: blocks made, the median
interval between new heads as polled every POLL s (wall clock), and the largest block.

    .venv/bin/python bench/bench_localnet.py            # 2,000 signers x 2 rounds
    .venv/bin/python bench/bench_localnet.py --quick    # 500 signers x 2 rounds
Needs the cometbft binary (`make cometbft`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import _common as c

from rwachain.node.abci import home as abci_home
from rwachain.node.abci import localnet

POLL = 0.05  # s between inclusion polls
STALL = 30.0  # s without a new inclusion after which a run stops waiting


def rpc(url: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        reply = json.load(r)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def send_batches(url: str, txs: list[bytes], batch: int, accepted: list[int]) -> None:
    """tx_send every tx to url in JSON-RPC batches; adds the number accepted to accepted."""
    ok = 0
    for i in range(0, len(txs), batch):
        calls = [{"jsonrpc": "2.0", "id": j, "method": "tx_send", "params": ["0x" + raw.hex()]}
                 for j, raw in enumerate(txs[i:i + batch])]
        req = urllib.request.Request(url, json.dumps(calls).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            ok += sum("result" in x for x in json.load(r))
    accepted.append(ok)


def block_txs(url: str, height: int) -> tuple[int, int]:
    """(transactions in block height, its time in s) from rwachain's JSON-RPC."""
    b = rpc(url, "chain_getBlock", [height, False])
    return len(b["txs"]), b["header"]["time"]


def run_load(urls: list[str], per_url: list[list[bytes]], batch: int) -> dict:
    """Send per_url[i] to urls[i] (one thread each), then follow urls[0]'s blocks until
    every accepted transaction is included (or STALL seconds pass without progress)."""
    start_height = rpc(urls[0], "chain_status", [])["height"]
    accepted: list[int] = []
    threads = [threading.Thread(target=send_batches, args=(u, txs, batch, accepted)) for u, txs in
               zip(urls, per_url, strict=True)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    included, seen, sizes, last_t, last_progress, seen_at = 0, start_height, [], t0, t0, []
    while True:
        head = rpc(urls[0], "chain_status", [])["height"]
        if head > seen:
            seen_at.append(time.perf_counter())
        while seen < head:
            seen += 1
            n, _ = block_txs(urls[0], seen)
            sizes.append(n)
            if n:
                included += n
                last_t = last_progress = time.perf_counter()
        sending = any(th.is_alive() for th in threads)
        if not sending and included >= sum(accepted):
            break
        if time.perf_counter() - last_progress > STALL and not sending:
            break
        time.sleep(POLL)
    for th in threads:
        th.join()
    gaps = [b - a for a, b in zip(seen_at, seen_at[1:], strict=False)]
    return {"sent": sum(len(t) for t in per_url), "accepted": sum(accepted), "included": included,
            "seconds": last_t - t0, "blocks": len(sizes), "largest": max(sizes, default=0),
            "interval": statistics.median(gaps) if gaps else float("nan")}


def wait_port(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def devnet_run(genesis: str, workdir: str, txs: list[bytes], batch: int) -> dict:
    port = free_port()
    with open(os.path.join(workdir, "devnet.log"), "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "rwachain.rpc.cli", "devnet", "--genesis", genesis, "--home",
                                 os.path.join(workdir, "devnet"), "--port", str(port)], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_port(port)
        return run_load([f"http://127.0.0.1:{port}"], [txs], batch)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def localnet_run(genesis: str, workdir: str, txs_by_node: list[list[bytes]], batch: int, commit_ms: int) -> dict:
    net = os.path.join(workdir, "net")
    consensus = {**abci_home.FAST_CONSENSUS, "timeout_commit": f"{commit_ms}ms"}
    nodes = localnet.create(net, len(txs_by_node), localnet.find_cometbft(), genesis_path=genesis, base_port=0,
                            consensus=consensus)
    try:
        localnet.start(net, localnet.find_cometbft())
        urls = [f"http://127.0.0.1:{n.ports.jsonrpc}" for n in nodes]
        deadline = time.monotonic() + 60
        while _height(urls[0]) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the localnet makes no blocks")
            time.sleep(0.1)
        return run_load(urls, txs_by_node, batch)
    finally:
        localnet.stop(net)


def _height(url: str) -> int:
    """The chain's height, -1 while its JSON-RPC cannot say yet (before the first block)."""
    try:
        return rpc(url, "chain_status", [])["height"]
    except (RuntimeError, OSError):
        return -1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--signers", type=int, default=2000, help="funded sender accounts (default 2000)")
    ap.add_argument("--rounds", type=int, default=2, help="transfers per sender, nonces 0.. (default 2)")
    ap.add_argument("--batch", type=int, default=250, help="tx_send calls per JSON-RPC batch (default 250)")
    ap.add_argument("--validators", type=int, default=4, help="localnet validators (default 4)")
    ap.add_argument("--commit-ms", type=int, default=300, help="CometBFT's timeout_commit, ms (default 300)")
    ap.add_argument("--workdir", help="keep the chains here (default: a temporary directory)")
    ap.add_argument("--quick", action="store_true", help="500 signers")
    args = c.parse_args(ap, argv, {"signers": 500})
    keys = c.signer_keys(args.signers)
    rounds = [c.sign_transfers(keys, n) for n in range(args.rounds)]
    workdir = args.workdir or tempfile.mkdtemp(prefix="rwa-bench-localnet-")
    os.makedirs(workdir, exist_ok=True)
    try:
        genesis = os.path.join(workdir, "genesis.json")
        c.write_genesis(genesis, args.signers, args.signers)
        everything = [tx for r in rounds for tx in r]  # nonce 0 of every sender, then nonce 1, ...
        by_node = [[tx for r in rounds for i, tx in enumerate(r) if i % args.validators == v]
                   for v in range(args.validators)]
        print(f"# {c.machine()}")
        print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; uptime: {os.getloadavg()}")
        dev = devnet_run(genesis, workdir, everything, args.batch)
        loc = localnet_run(genesis, workdir, by_node, args.batch, args.commit_ms)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = []
    for name, r, how in (("devnet, 1 validator", dev, "auto mining"),
                         (f"localnet, {args.validators} validators", loc, f"CometBFT timeout_commit {args.commit_ms} ms")):
        rows.append([name, how, f"{r['sent']:,}", f"{r['included']:,}", f"{r['seconds']:.2f}",
                     c.rate(r["included"], r["seconds"]), r["blocks"], r["largest"], f"{r['interval']:.2f}"])
    print(c.table(["chain", "blocks", "sent", "included", "s", "included/s", "blocks made", "largest block",
                   "median interval (s, as polled)"], rows,
                  f"{args.signers:,} senders x {args.rounds} transfers, tx_send batches of {args.batch}"))
    ratio = (dev["included"] / dev["seconds"]) / (loc["included"] / loc["seconds"]) if loc["seconds"] else float("nan")
    print(f"\ndevnet / localnet included/s: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
