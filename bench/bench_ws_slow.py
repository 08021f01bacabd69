"""Slow WebSocket consumers on a busy chain: the node's memory and a reading client's latency.

    .venv/bin/python bench/bench_ws_slow.py [--subscribers 200] [--blocks 6000] [node flags...]

A devnet node (--mining manual, default WebSocket limits unless node flags are given)
gets --subscribers connections that subscribe to newHeads and pendingTransactions with a
4 KiB receive window and then never read. A miner makes blocks (dev_mine, 100 a call)
while a sender submits transfers (batches of 50); one client polls chain_status over a
keep-alive HTTP connection and one WebSocket subscriber reads every head. Printed: the
node's RSS before, at its peak and after, how many slow subscribers the node closed and
when, the polling client's latency (p50, p99, max) and whether the reader saw every head.
The test of the same (tests/test_node_limits.py) runs 20 subscribers with a 256 KiB queue.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import tempfile
import threading
import time

import _common as c  # noqa: F401  (puts the project on sys.path)

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from tests.rpcnode import RpcNode
from tests.test_node_limits import KeepAlive, _rss_mb, open_connections
from tests.test_rpc_ws import WsClient

KEYS = devnet.dev_keys()


def send_transfers(port: int, stop) -> None:
    """Transfers in batches of 50 from the dev keys in turn until stop (run in a process of
    its own: signing in this one would keep the reading subscriber from the interpreter)."""
    conn = KeepAlive(port)
    k = 0
    while not stop.is_set():
        key = KEYS[k % 8]
        k += 1
        nonce = conn.call("account_get", [key.address_text])["pendingNonce"]
        batch = [{"jsonrpc": "2.0", "id": i, "method": "tx_send",
                  "params": ["0x" + sign_tx(key, chain=devnet.CHAIN_ID, nonce=nonce + i, fee=5000, module="bank",
                                            call="transfer", args={"to": KEYS[9].address, "denom": "rwa",
                                                                   "amount": 1}).hex()]}
                 for i in range(50)]
        conn.post(batch)
    conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--blocks", type=int, default=6000)
    args, node_flags = ap.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp, RpcNode(os.path.join(tmp, "home"), *node_flags,
                                                       mining="manual") as node:
        slow = []
        for _ in range(args.subscribers):
            ws = WsClient(node.port, rcvbuf=4096)
            ws.subscribe("newHeads")
            ws.subscribe("pendingTransactions")
            slow.append(ws)
        reader = WsClient(node.port, timeout=120)
        reader.subscribe("newHeads")
        conns0 = open_connections(node.port)
        rss0 = _rss_mb(node.proc.pid)
        peak = [rss0]
        stop = threading.Event()
        lat: list[float] = []
        heads: list[int] = []
        closed_at: list[float] = []
        t_start = time.monotonic()

        def poll():
            conn = KeepAlive(node.port)
            while not stop.is_set():
                t0 = time.perf_counter()
                conn.call("chain_status")
                lat.append(time.perf_counter() - t0)
                peak[0] = max(peak[0], _rss_mb(node.proc.pid))
                time.sleep(0.005)
            conn.close()

        reader_end: list[str] = []

        def read_heads():
            try:
                while True:
                    msg = reader.recv_message()
                    if msg.get("method") == "chain_subscription":
                        heads.append(msg["params"]["result"]["height"])
            except Exception as exc:
                reader_end.append(repr(exc))

        def watch_closed():
            conn = KeepAlive(node.port)
            while not stop.is_set():
                text = conn.get("/metrics")[1].decode()
                if int(re.search(r"^rwachain_ws_dropped_total (\d+)$", text, re.M).group(1)) >= args.subscribers:
                    closed_at.append(time.monotonic() - t_start)
                    break
                time.sleep(0.25)
            conn.close()

        threads = [threading.Thread(target=f, daemon=True) for f in (poll, read_heads, watch_closed)]
        for t in threads:
            t.start()
        sending = multiprocessing.Event()
        sender = multiprocessing.Process(target=send_transfers, args=(node.port, sending), daemon=True)
        sender.start()
        miner = KeepAlive(node.port, timeout=120)
        for _ in range(args.blocks // 100):
            miner.call("dev_mine", [100])
        mined_in = time.monotonic() - t_start
        deadline = time.monotonic() + 15
        while not closed_at and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        sending.set()
        sender.join(10)
        time.sleep(0.5)
        height = miner.call("chain_status")["height"]
        rss1 = _rss_mb(node.proc.pid)
        conns1 = open_connections(node.port)
        closes = [ln for ln in node.output if "WebSocket client closed" in ln]
        miner.close()
        for ws in slow:
            ws.sock.close()
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] * 1000  # noqa: E731
        out = {
            "subscribers": args.subscribers, "blocks": height, "mined_s": round(mined_in, 1),
            "rss_mb": {"before": round(rss0), "peak": round(peak[0]), "after": round(rss1),
                       "peak_growth": round(peak[0] - rss0)},
            "slow_closed_after_s": closed_at[0] if closed_at else None,
            "connections": {"before": conns0, "after": conns1},
            "chain_status_ms": {"n": len(lat), "p50": round(q(0.5), 2), "p99": round(q(0.99), 2),
                                "max": round(lat[-1] * 1000, 2)},
            "reader_heads": len(heads), "reader_last": heads[-1] if heads else None, "reader_end": reader_end,
            "server_closes": {r: sum(r in ln for ln in closes) for r in ("(1008)", "(1001)")},
        }
        with open("/proc/loadavg") as f:
            out["loadavg"] = " ".join(f.read().split()[:3])
        print(json.dumps(out, indent=1))
        ok = (peak[0] - rss0 < 100 and q(0.99) < 100 and closed_at and heads and heads[-1] == height)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
