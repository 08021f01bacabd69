"""Node + JSON-RPC benchmarks: a real `rwad devnet` under load from separate processes.

Load comes from worker processes (bench/rpc_load.py: pre-built requests, keep-alive
connections, one epoll loop each) and, for constant requests, from wrk (installed with
apt-get when missing; skipped with a note when it cannot be). Everything talks to
127.0.0.1 only; every load loop is bounded in count and time. Setup is never timed: the
genesis with --senders funded accounts (deterministic bench signer keys, bench/_common.py)
and every signed transaction are made first (and cached in --workdir).

Measured (the results table prints each figure beside its goal, PASS/MISS):
  a  signed transfers, one tx_send per request from concurrent keep-alive connections:
     transactions INCLUDED per second, counted from the blocks (chain_getBlock tx counts
     between the heights before and after), from the release of the load until /health
     reports an empty mempool; tx_send replies/s (admission) reported separately
  b  the same with JSON-RPC batches of 100 tx_send calls
  c  sequential automine round trips: tx_sendAndWait one at a time, one connection
     (the node fsyncs its mempool journal and commits every block with a synced batch)
  d  chain_status requests/s (small head block; also with a 10,000-tx head block)
  e  chain_status p99 latency while a 10,000-transaction block executes (--mining
     manual: 10,000 txs admitted, then dev_mine while a separate process sends one
     chain_status every 5 ms on one connection; latency from each request's scheduled
     send time, so a stall also counts against the requests queued behind it)
  f  `rwad devnet` (embedded genesis, fresh home) answering its first chain_status,
     measured from the command's start
Floors, with the same load generators: a bare trio + httptools server answering a
constant, the same with h11, the node's own HTTP layer (rpc.http) with a constant
handler, and that plus the JSON-RPC dispatcher (rpc.jsonrpc) with a constant method.
Peer: Anvil (npm @foundry-rs/anvil-linux-amd64, automine) on the same machine with the
same generators: eth_blockNumber, eth_sendRawTransaction of pre-signed EIP-155 legacy
transfers from many funded senders (singles and batches of 100), sequential
eth_sendRawTransaction + eth_getTransactionReceipt polling; ratios printed.

    .venv/bin/python bench/bench_rpc.py                # full (about 6 minutes once set up)
    .venv/bin/python bench/bench_rpc.py --quick        # about a minute (after the first setup)
    .venv/bin/python bench/bench_rpc.py --node-root /tmp/rwa-head   # measure another checkout
Final figures need a quiet machine: by default the run waits (up to --wait-load seconds)
until the 1-minute load average is below --max-load, and records it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import _common as c
import msgpack
import rpc_load as L
import rpc_peers as P

from rwachain.genesis import devnet

GOAL_SINGLES = 8_000
GOAL_BATCH = 15_000
GOAL_READS = 12_000
GOAL_P99_MS = 50.0
GOAL_START_S = 0.5
BATCH = 100
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "rwachain-bench")
STATUS = '{"jsonrpc":"2.0","id":1,"method":"chain_status"}'
BLOCKNUMBER = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}'
CONST = '{"jsonrpc":"2.0","id":1,"method":"bench_const"}'


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----- a JSON-RPC client for the parent (setup, checks; never the measured load) -----------------
class Rpc:
    def __init__(self, port: int, timeout: float = 120.0):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self._id = 0

    def post(self, obj):
        body = json.dumps(obj).encode()
        for attempt in (0, 1):
            try:
                self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
                return json.loads(self.conn.getresponse().read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
        return None

    def call(self, method: str, *params):
        self._id += 1
        r = self.post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)})
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def batch(self, calls: list[tuple[str, list]], size: int = 100) -> list:
        out = []
        for i in range(0, len(calls), size):
            part = calls[i : i + size]
            reply = self.post([{"jsonrpc": "2.0", "id": j, "method": m, "params": p} for j, (m, p) in enumerate(part)])
            reply.sort(key=lambda r: r["id"])
            for r in reply:
                if "error" in r:
                    raise RuntimeError(f"batch call failed: {r['error']}")
                out.append(r["result"])
        return out

    def get(self, path: str):
        self.conn.request("GET", path)
        return json.loads(self.conn.getresponse().read())

    def close(self):
        self.conn.close()


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process (all its threads) so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# ----- the node under test ---------------------------------------------------------------------------
def node_cmd(node_root: str) -> tuple[list[str], dict, str]:
    """The `rwad` command, its environment and working directory."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if os.path.abspath(node_root) == c.ROOT and os.path.exists(os.path.join(c.ROOT, ".venv", "bin", "rwad")):
        return [os.path.join(c.ROOT, ".venv", "bin", "rwad")], env, c.ROOT
    env["PYTHONPATH"] = os.path.abspath(node_root)
    return [sys.executable, "-m", "rwachain.rpc.cli"], env, os.path.abspath(node_root)


class NodeProc:
    """`rwad devnet --home DIR --port P [--genesis FILE] [--mining M]` in a subprocess."""

    def __init__(self, node_root: str, home: str, *, genesis: str | None = None, mining: str = "auto"):
        cmd, env, cwd = node_cmd(node_root)
        self.port = P.free_port()
        self.cmd = cmd + ["devnet", "--home", home, "--port", str(self.port), "--mining", mining]
        if genesis:
            self.cmd += ["--genesis", genesis]
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            if len(self.output) < 500:
                self.output.append(line.decode(errors="replace"))

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from the command's start until a chain_status call is answered."""
        deadline = time.monotonic() + timeout
        body = STATUS.encode()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node exited:\n" + "".join(self.output[-30:]))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("POST", "/", body, {"Content-Type": "application/json"})
                r = json.loads(conn.getresponse().read())
                conn.close()
                if "result" in r:
                    return time.monotonic() - self.t_start
            except (OSError, http.client.HTTPException):
                time.sleep(0.002)
        raise RuntimeError("node did not answer:\n" + "".join(self.output[-30:]))

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)


# ----- setup: genesis and signed transactions (cached) ----------------------------------------------------
def _sign_nonce(args: tuple[int, int]) -> list[bytes]:
    senders, nonce = args
    return c.sign_transfers(c.signer_keys(senders), nonce)


def signed_txs(workdir: str, senders: int, nonces: int) -> list[bytes]:
    """Signed transfers, nonce-major (every sender's nonce 0, then nonce 1, ...); cached."""
    path = os.path.join(workdir, f"txs-{senders}s-{nonces}n.msgpack")
    for more in range(nonces, nonces + 20):  # a cached file with more nonces holds these as its prefix
        p = os.path.join(workdir, f"txs-{senders}s-{more}n.msgpack")
        if os.path.exists(p):
            with open(p, "rb") as f:
                return msgpack.unpackb(f.read())[: senders * nonces]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as pool:
        parts = list(pool.map(_sign_nonce, [(senders, n) for n in range(nonces)]))
    txs = [t for part in parts for t in part]
    with open(path + ".tmp", "wb") as f:
        f.write(msgpack.packb(txs))
    os.replace(path + ".tmp", path)
    log(f"signed {len(txs):,} transfers in {time.perf_counter() - t0:.1f} s (cached in {path})")
    return txs


def write_bodies(path: str, bodies: list) -> str:
    with open(path, "wb") as f:
        f.write(msgpack.packb(bodies))
    return path


def send_bodies(raws: list[bytes], method: str = "tx_send") -> list[bytes]:
    return [json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": ["0x" + r.hex()]},
                       separators=(",", ":")).encode() for i, r in enumerate(raws)]


def batch_bodies(raws: list[bytes], size: int, method: str = "tx_send") -> list[bytes]:
    out = []
    for i in range(0, len(raws), size):
        calls = [{"jsonrpc": "2.0", "id": j, "method": method, "params": ["0x" + r.hex()]}
                 for j, r in enumerate(raws[i : i + size])]
        out.append(json.dumps(calls, separators=(",", ":")).encode())
    return out


def spread_specs(port: int, path: str, procs: int, conns: int, max_seconds: float, **extra) -> list[dict]:
    return [dict(host="127.0.0.1", port=port, mode="list", bodies_file=path, slice=(k, procs), conns=conns,
                 max_seconds=max_seconds, **extra) for k in range(procs)]


def repeat_specs(port: int, body: str, procs: int, conns: int, seconds: float) -> list[dict]:
    return [dict(host="127.0.0.1", port=port, mode="repeat", body=body, conns=conns, max_seconds=seconds,
                 max_requests=2_000_000) for _ in range(procs)]


def ms(xs: list[float], q: float) -> str:
    """The q-th percentile of seconds, in ms text."""
    return f"{pct(xs, q) * 1e3:.1f}"


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


# ----- measurements ------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.rows: list[list] = []  # goal table
        self.floor_rows: list[list] = []
        self.peer_rows: list[list] = []
        self.notes: list[str] = []
        self.detail: list[str] = []
        self.fig: dict[str, float] = {}
        self.tmp = tempfile.mkdtemp(prefix="rwa-bench-rpc-")
        self.wrk: str | None = None
        self.res: dict[str, dict] = {}
        self.sweep_rows: list[list] = []

    # -- generic load helpers
    def reads(self, port: int, body: str, label: str, seconds: float, pid: int | None = None) -> dict:
        a = self.args
        run = L.LoadRun(repeat_specs(port, body, a.procs, a.read_conns, seconds))
        c0 = cpu_seconds(pid) if pid else 0.0
        run.go()
        m = L.merge(run.results())
        c1 = cpu_seconds(pid) if pid else 0.0
        out = {"py": m["ok_calls"] / m["seconds"], "py_bad": m["err_calls"] + m["non200"], "wrk": None,
               "gen_cpu": m["cpu"] / m["seconds"], "srv_cpu": (c1 - c0) / m["seconds"] if pid else None}
        if m["err_calls"] or m["non200"]:
            self.notes.append(f"{label}: {m['err_calls'] + m['non200']} error replies, e.g. {m['errors'][:1]}")
        if self.wrk:
            w = P.wrk_run(self.wrk, f"http://127.0.0.1:{port}/", body, seconds, a.wrk_threads, a.wrk_conns, self.tmp)
            out["wrk"] = w["rps"]
            out["wrk_p99"] = w["p99_ms"]
            if w["non2xx"] or w["errors"]:
                self.notes.append(f"{label} (wrk): non-2xx {w['non2xx']} {w['errors']}")
            self.wrk_cmd = w["cmd"]
        log(f"{label}: {out['py']:,.0f} req/s (processes; generator CPU {out['gen_cpu']:.2f} cores"
            + (f", server CPU {out['srv_cpu']:.2f}" if pid else "") + ")"
            + (f", {out['wrk']:,.0f} req/s (wrk)" if out["wrk"] else ""))
        return out

    def wait_drained(self, rpc: Rpc, timeout: float) -> tuple[float | None, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h = rpc.get("/health")
            if h["mempool"] == 0:
                return time.monotonic(), h
            time.sleep(0.005)
        return None, rpc.get("/health")

    def included(self, rpc: Rpc, h0: int, h1: int) -> tuple[int, list[int]]:
        # one block a request: a large block's JSON (hashes and encoded receipts) runs to
        # megabytes, and the node refuses a reply past 25 MB (-32007, response too large)
        calls = [("chain_getBlock", [h]) for h in range(h0 + 1, h1 + 1)]
        sizes = [len(b["txs"]) for b in rpc.batch(calls, size=1)]
        return sum(sizes), sizes

    def check_receipts(self, rpc: Rpc, h0: int, h1: int, sample: int = 10) -> int:
        """How many of a sample of included transactions failed (receipt code != 0).

        A small sample: tx_getReceipt decodes the whole receipt list of the block (see the
        tx_getReceipt row of the results)."""
        hashes = []
        step = max(1, (h1 - h0) // 5)
        for h in range(h0 + 1, h1 + 1, step):
            hashes += rpc.call("chain_getBlock", h)["txs"][: max(1, sample // 5)]
        receipts = rpc.batch([("tx_getReceipt", [x]) for x in hashes])
        return sum(1 for r in receipts if r["code"] != 0)

    class _Monitor(threading.Thread):
        def __init__(self, port: int):
            super().__init__(daemon=True)
            self.rpc = Rpc(port, timeout=30)
            self.peak = 0
            self.stop_ev = threading.Event()

        def run(self):
            while not self.stop_ev.wait(0.1):
                with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                    self.peak = max(self.peak, self.rpc.get("/health")["mempool"])

    def tx_load(self, node: NodeProc, bodies: list[bytes], ntx: int, procs: int, conns: int, label: str,
                max_seconds: float) -> dict:
        """Release bodies (tx_send singles or batches) and count what gets included."""
        path = write_bodies(os.path.join(self.tmp, f"{label}.msgpack"), bodies)
        rpc = Rpc(node.port)
        h0 = rpc.call("chain_status")["height"]
        mon = self._Monitor(node.port)
        run = L.LoadRun(spread_specs(node.port, path, procs, conns, max_seconds, record_latency=True))
        cpu0 = node.cpu_seconds()
        mon.start()
        t_go = run.go()
        res = run.results()
        m = L.merge(res)
        t_drained, health = self.wait_drained(rpc, 120)
        cpu1 = node.cpu_seconds()
        mon.stop_ev.set()
        h1 = rpc.call("chain_status")["height"]
        n_incl, sizes = self.included(rpc, h0, h1)
        failed = self.check_receipts(rpc, h0, h1) if h1 > h0 else 0
        end = t_drained if t_drained is not None else time.monotonic()
        r = {"label": label, "included": n_incl, "window": end - t_go, "incl_rate": n_incl / (end - t_go),
             "admitted": m["ok_calls"], "refused": m["err_calls"], "non200": m["non200"], "unsent": m["unsent"],
             "adm_seconds": m["t1"] - t_go, "adm_rate": m["ok_calls"] / max(1e-9, m["t1"] - t_go),
             "drained": t_drained is not None, "mempool_left": health["mempool"], "blocks": len(sizes),
             "max_block": max(sizes) if sizes else 0, "mempool_peak": mon.peak, "failed_sample": failed,
             "lat_p50": pct(m["lat"], 50) * 1e3, "lat_p99": pct(m["lat"], 99) * 1e3,
             "node_cpu": (cpu1 - cpu0) / (end - t_go), "gen_cpu": m["cpu"] / max(1e-9, m["t1"] - t_go),
             "errors": m["errors"]}
        rpc.close()
        log(f"{label}: included {n_incl:,} in {r['window']:.1f} s = {r['incl_rate']:,.0f} tx/s; admitted "
            f"{r['admitted']:,} at {r['adm_rate']:,.0f}/s; refused {r['refused']}; blocks {len(sizes)}; "
            f"peak mempool {mon.peak:,}; node CPU {r['node_cpu']:.2f} cores, generator CPU {r['gen_cpu']:.2f} cores")
        if m["err_calls"] or m["non200"]:
            self.notes.append(f"{label}: {m['err_calls']} refused / {m['non200']} non-200, e.g. {m['errors'][:2]}")
        if not r["drained"]:
            self.notes.append(f"{label}: mempool NOT drained within 120 s ({health['mempool']} left)")
        if failed:
            self.notes.append(f"{label}: {failed} of the sampled receipts have a non-zero code")
        return r

    # -- sections
    def floors(self) -> None:
        a = self.args
        kinds = (("httptools", STATUS), ("h11", STATUS), ("rpc-http", STATUS), ("rpc-dispatch", CONST))
        for kind, body in kinds[:2] if a.quick else kinds:  # --quick: only the parser comparison
            proc = subprocess.Popen([sys.executable, os.path.join(c.HERE, "rpc_bare.py"), kind], stdout=subprocess.PIPE,
                                    text=True)
            try:
                port = int(proc.stdout.readline().split()[1])
                r = self.reads(port, body, f"floor {kind}", a.read_seconds, proc.pid)
            finally:
                proc.terminate()
                proc.wait(10)
            what = {"httptools": "bare trio + httptools server, constant reply",
                    "h11": "bare trio + h11 server, constant reply",
                    "rpc-http": "node HTTP layer (rpc/server/http.py), constant handler",
                    "rpc-dispatch": "rpc/server/http.py + rpc/server/jsonrpc.py Dispatcher, constant method"}[kind]
            self.floor_rows.append([what, f"{r['py']:,.0f}", f"{r['wrk']:,.0f}" if r["wrk"] else "n/a"])
            self.fig[f"floor_{kind}"] = r["py"]
            self.fig[f"floor_{kind}_wrk"] = r["wrk"] or 0

    def startup(self) -> None:
        times = []
        for i in range(self.args.start_runs):
            home = os.path.join(self.tmp, f"start{i}")
            node = NodeProc(self.args.node_root, home)
            try:
                times.append(node.wait_ready(30))
            finally:
                node.stop()
                shutil.rmtree(home, ignore_errors=True)
        med = statistics.median(times)
        self.fig["startup_median"] = med
        self.rows.append(["f", "`rwad devnet` to first chain_status answer (median of "
                          f"{len(times)}: {', '.join(f'{t:.2f}' for t in times)} s)", f"{med:.2f} s",
                          f"<= {GOAL_START_S} s", med <= GOAL_START_S])
        log(f"startup: {', '.join(f'{t:.3f}' for t in times)} s")

    def _rt_result(self, m: dict, label: str) -> dict:
        r = {"rate": m["ok_calls"] / m["seconds"], "n": m["ok_calls"], "p50": pct(m["lat"], 50) * 1e3,
             "p99": pct(m["lat"], 99) * 1e3, "err": m["err_calls"]}
        if m["err_calls"]:
            self.notes.append(f"{label}: {m['err_calls']} errors, e.g. {m['errors'][:1]}")
        log(f"{label}: {r['rate']:,.0f}/s over {r['n']} txs, p50 {r['p50']:.2f} ms")
        return r

    def roundtrip_default(self) -> None:
        """(c) on the default devnet: dev key 0 sends transfer after transfer, each awaited."""
        a = self.args
        home = os.path.join(self.tmp, "rt")
        node = NodeProc(a.node_root, home)
        try:
            node.wait_ready()
            k0, k1 = devnet.dev_keys()[0], devnet.dev_keys()[1]
            raws = [c.sign_tx(k0, chain=c.CHAIN_ID, nonce=n, fee=c.FEE, module="bank", call="transfer",
                              args={"to": k1.address, "denom": c.DENOM, "amount": 1}) for n in range(a.roundtrip_max)]
            path = write_bodies(os.path.join(self.tmp, "rt0.msgpack"), send_bodies(raws, "tx_sendAndWait"))
            _, res = L.run_workers([dict(host="127.0.0.1", port=node.port, mode="list", bodies_file=path, conns=1,
                                         max_seconds=a.roundtrip_seconds, record_latency=True)])
            self.roundtrip = self._rt_result(L.merge(res), "tx_sendAndWait sequential, default devnet")
            self.fig["roundtrip"] = self.roundtrip["rate"]
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)

    def singles_and_roundtrip(self, genesis: str, txs: list[bytes], nonces: int) -> None:
        a = self.args
        home = os.path.join(self.tmp, "n1")
        node = NodeProc(a.node_root, home, genesis=genesis)
        try:
            t_ready = node.wait_ready()
            self.detail.append(f"node with {a.senders:,}-account genesis answering after {t_ready:.1f} s (import included)")
            rpc = Rpc(node.port)
            rpc.call("dev_setBalance", c.fast_encode_address(c.filler_address(1)), "rwa", "1")  # a 1-entry head block
            r = self.reads(node.port, STATUS, "chain_status (small head block)", a.read_seconds, node.proc.pid)
            self.fig["reads"], self.fig["reads_wrk"] = r["py"], r["wrk"] or 0
            best = max(r["py"], r["wrk"] or 0)
            self.rows.append(["d", "chain_status req/s, head block of 1 entry (processes / wrk)",
                              f"{r['py']:,.0f} / " + (f"{r['wrk']:,.0f}" if r["wrk"] else "n/a"),
                              f">= {GOAL_READS:,}", best >= GOAL_READS])
            use = txs[: a.senders * nonces]
            assert a.senders % (a.procs * a.conns) == 0, "--senders must be a multiple of --procs x --conns"
            s = self.tx_load(node, send_bodies(use), len(use), a.procs, a.conns, "singles", a.tx_seconds)
            self.res["singles"] = s
            self.sweep_rows.append(["singles", f"{a.procs} x {a.conns}", f"{a.procs * a.conns:,}",
                                    f"{s['incl_rate']:,.0f}", f"{s['adm_rate']:,.0f}", f"{s['lat_p50']:.0f}",
                                    f"{s['node_cpu']:.2f}", s["blocks"]])
            self.fig["singles_incl"], self.fig["singles_adm"] = s["incl_rate"], s["adm_rate"]
            ok = s["drained"] and s["window"] >= a.min_window
            self.rows.append(["a", f"signed transfers, 1 tx_send per request, {a.procs}x{a.conns} keep-alive "
                              f"connections: INCLUDED tx/s ({s['included']:,} tx in {s['window']:.1f} s, "
                              f"mempool drained)", f"{s['incl_rate']:,.0f}", f">= {GOAL_SINGLES:,}",
                              ok and s["incl_rate"] >= GOAL_SINGLES])
            self.rows.append(["a'", f"  admission: tx_send replies/s (p50 {s['lat_p50']:.1f} ms, p99 "
                              f"{s['lat_p99']:.1f} ms per request)", f"{s['adm_rate']:,.0f}", "(reported)", None])
            # (c) sequential sendAndWait from senders at their current nonces
            keys = c.signer_keys(a.roundtrip_max)
            accts = rpc.batch([("account_get", [c.fast_encode_address(k.address)]) for k in keys])
            raws = [c.sign_tx(k, chain=c.CHAIN_ID, nonce=acc["nonce"], fee=c.FEE, module="bank", call="transfer",
                              args={"to": keys[(i + 1) % len(keys)].address, "denom": c.DENOM, "amount": 1})
                    for i, (k, acc) in enumerate(zip(keys, accts, strict=True))]
            path = write_bodies(os.path.join(self.tmp, "rt.msgpack"), send_bodies(raws, "tx_sendAndWait"))
            _, res = L.run_workers([dict(host="127.0.0.1", port=node.port, mode="list", bodies_file=path, conns=1,
                                         max_seconds=a.roundtrip_seconds, record_latency=True)])
            m = L.merge(res)
            self.roundtrip20k = self._rt_result(m, f"tx_sendAndWait sequential, {a.senders:,}-account genesis")
            rpc.close()
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)

    def batches(self, genesis: str, txs: list[bytes], nonces: int) -> None:
        a = self.args
        home = os.path.join(self.tmp, "n2")
        node = NodeProc(a.node_root, home, genesis=genesis)
        try:
            node.wait_ready()
            use = txs[: a.senders * nonces]
            assert (a.senders // BATCH) % (a.procs * a.batch_conns) == 0, \
                "--senders / 100 must be a multiple of --procs x --batch-conns"
            s = self.tx_load(node, batch_bodies(use, BATCH), len(use), a.procs, a.batch_conns, "batches",
                             a.tx_seconds)
            self.res["batches"] = s
            self.sweep_rows.append(["batches", f"{a.procs} x {a.batch_conns}", f"{a.procs * a.batch_conns * BATCH:,}",
                                    f"{s['incl_rate']:,.0f}", f"{s['adm_rate']:,.0f}", f"{s['lat_p50']:.0f}",
                                    f"{s['node_cpu']:.2f}", s["blocks"]])
            self.fig["batch_incl"], self.fig["batch_adm"] = s["incl_rate"], s["adm_rate"]
            ok = s["drained"] and s["window"] >= a.min_window
            self.rows.append(["b", f"the same in JSON-RPC batches of {BATCH}, {a.procs}x{a.batch_conns} connections: "
                              f"INCLUDED tx/s ({s['included']:,} tx in {s['window']:.1f} s, mempool drained)",
                              f"{s['incl_rate']:,.0f}", f">= {GOAL_BATCH:,}", ok and s["incl_rate"] >= GOAL_BATCH])
            self.rows.append(["b'", f"  admission: tx_send calls answered/s (p50 {s['lat_p50']:.0f} ms, p99 "
                              f"{s['lat_p99']:.0f} ms per batch)", f"{s['adm_rate']:,.0f}", "(reported)", None])
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)

    def sweep(self, genesis: str, txs: list[bytes]) -> None:
        """Included tx/s against the number of requests in flight (fresh node each)."""
        a = self.args
        points = [("singles", 10), ("singles", 125), ("batches", 2), ("batches", 25)]
        for kind, conns in points:
            home = os.path.join(self.tmp, f"sw-{kind}-{conns}")
            node = NodeProc(a.node_root, home, genesis=genesis)
            try:
                node.wait_ready()
                use = txs[: a.senders * (a.single_nonces if kind == "singles" else a.batch_nonces)]
                bodies = send_bodies(use) if kind == "singles" else batch_bodies(use, BATCH)
                s = self.tx_load(node, bodies, len(use), a.procs, conns, f"sweep {kind} {a.procs}x{conns}",
                                 a.sweep_seconds)
                flight = a.procs * conns * (1 if kind == "singles" else BATCH)
                self.sweep_rows.append([kind, f"{a.procs} x {conns}", f"{flight:,}", f"{s['incl_rate']:,.0f}",
                                        f"{s['adm_rate']:,.0f}", f"{s['lat_p50']:.0f}", f"{s['node_cpu']:.2f}",
                                        s["blocks"]])
            finally:
                node.stop()
                shutil.rmtree(home, ignore_errors=True)

    def big_block(self, genesis: str, txs: list[bytes]) -> None:
        a = self.args
        home = os.path.join(self.tmp, "n3")
        node = NodeProc(a.node_root, home, genesis=genesis, mining="manual")
        try:
            node.wait_ready()
            rpc = Rpc(node.port)
            use = txs[: a.block_txs]
            bodies = batch_bodies(use, BATCH)
            path = write_bodies(os.path.join(self.tmp, "block.msgpack"), bodies)
            t_go, res = L.run_workers(spread_specs(node.port, path, 2, 4, 120))
            m = L.merge(res)
            pending = rpc.get("/health")["mempool"]
            if pending != len(use):
                self.notes.append(f"big block: {pending} of {len(use)} admitted ({m['errors'][:1]})")
            run = L.LoadRun([dict(host="127.0.0.1", port=node.port, mode="latency", body=STATUS,
                                  interval=a.latency_interval, max_seconds=120)])
            run.go()
            time.sleep(1.0)
            t_m0 = time.monotonic()
            rpc.call("dev_mine")
            t_m1 = time.monotonic()
            time.sleep(1.0)
            run.stop()
            lat = L.merge(run.results())["lat"]
            h_old = rpc.call("chain_status")["height"] - 1
            during = [x for t, x, _, _ in lat if t_m0 <= t <= t_m1]
            during_sent = [y for t, _, _, y in lat if t_m0 <= t <= t_m1]
            executing = [x for t, x, h, _ in lat if t_m0 <= t <= t_m1 and h == h_old]
            committed = [x for t, x, h, _ in lat if t_m0 <= t <= t_m1 and h > h_old]
            before = [x for t, x, _, _ in lat if t < t_m0]
            after = [x for t, x, _, _ in lat if t > t_m1]
            blk = rpc.call("chain_getBlock", h_old + 1)
            p99 = pct(during, 99) * 1e3
            self.fig["p99_during"] = p99
            self.fig["p99_executing"] = pct(executing, 99) * 1e3
            self.rows.append(["e", f"chain_status p99 while a {len(blk['txs']):,}-tx block executes: every request "
                              f"scheduled during dev_mine ({t_m1 - t_m0:.2f} s; {len(during):,} requests, 1 per "
                              f"{a.latency_interval * 1e3:g} ms; p50 {ms(during, 50)} ms, max "
                              f"{max(during, default=float('nan')) * 1e3:.0f} ms)", f"{p99:.1f} ms",
                              f"< {GOAL_P99_MS:g} ms", p99 < GOAL_P99_MS])
            self.rows.append(["e'", f"  of which answered with the old head (block executing: {len(executing):,} "
                              f"requests, p50 {ms(executing, 50)} ms) / with the new head (committed, dev_mine not "
                              f"yet returned: {len(committed):,} requests, p99 {ms(committed, 99)} ms)",
                              f"{ms(executing, 99)} ms", "(diagnostic)", None])
            self.detail.append(f"chain_status latency, paced client (1 request per {a.latency_interval * 1e3:g} ms, "
                               f"latency from the scheduled send): before dev_mine p50 {ms(before, 50)} / p99 "
                               f"{ms(before, 99)} ms; during p50 {ms(during, 50)} / p99 {p99:.1f} / max "
                               f"{max(during, default=float('nan')) * 1e3:.1f} ms (from the actual send: p99 "
                               f"{ms(during_sent, 99)} / max {max(during_sent, default=float('nan')) * 1e3:.1f} ms); "
                               f"in the 1 s after (head = the "
                               f"{len(blk['txs']):,}-tx block) p50 {ms(after, 50)} / p99 {ms(after, 99)} ms")
            self.fig["p50_after"] = pct(after, 50) * 1e3
            r = self.reads(node.port, STATUS, "chain_status (10,000-tx head block)", a.read_seconds, node.proc.pid)
            self.fig["reads_big_head"] = r["py"]
            best = max(r["py"], r["wrk"] or 0)
            self.rows.append(["d2", f"chain_status req/s, head block of {len(blk['txs']):,} txs (processes / wrk)",
                              f"{r['py']:,.0f} / " + (f"{r['wrk']:,.0f}" if r["wrk"] else "n/a"),
                              f">= {GOAL_READS:,}", best >= GOAL_READS])
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tx_getReceipt",
                               "params": [blk["txs"][len(blk["txs"]) // 2]]})
            r = self.reads(node.port, body, "tx_getReceipt (tx in the 10,000-tx block)", a.read_seconds, node.proc.pid)
            self.rows.append(["d3", "  tx_getReceipt req/s, a transaction of that block (processes / wrk)",
                              f"{r['py']:,.0f} / " + (f"{r['wrk']:,.0f}" if r["wrk"] else "n/a"), "(reported)", None])
            rpc.close()
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)

    def eth_roundtrip(self, anvil, rpc: Rpc, key, label: str, sync: bool = False,
                      seconds: float | None = None) -> dict:
        a = self.args
        start = int(rpc.call("eth_getTransactionCount", "0x" + key.address.hex(), "latest"), 16)
        raws = ["0x" + key.sign_transfer(n, b"\x11" * 20, 1).hex() for n in range(start, start + a.roundtrip_max)]
        path = write_bodies(os.path.join(self.tmp, "eth-rt.msgpack"), raws)
        _, res = L.run_workers([dict(host="127.0.0.1", port=anvil.port, mode="eth_roundtrip", bodies_file=path,
                                     max_seconds=seconds or a.roundtrip_seconds, sync=sync)])
        m = L.merge(res)
        m["ok_calls"] = m["done"]
        r = self._rt_result(m, label)
        r["polls"] = res[0].get("polls", 0)
        return r

    def roundtrip_pairs(self) -> None:
        """(c) interleaved: short windows of sequential round trips alternate between the
        default devnet and a default Anvil, so that both see the same machine (on this shared
        VM either rate drifts by 2x within minutes). Anvil is restarted for each window, as
        in the other Anvil figures: it slows down as its blocks pile up."""
        a = self.args
        binary, version = P.ensure_anvil(CACHE)
        ok, how = P.ensure_eth_signing(CACHE)
        if binary is None or not ok:
            self.notes.append(f"paired round trips skipped: {version if binary is None else how}")
            return
        home = os.path.join(self.tmp, "rt-pairs")
        node = NodeProc(a.node_root, home)
        pairs = []
        try:
            node.wait_ready()
            rpc = Rpc(node.port)
            k0, k1 = devnet.dev_keys()[0], devnet.dev_keys()[1]
            for i in range(a.pair_rounds):
                nonce = int(rpc.call("account_get", k0.address_text)["nonce"])
                raws = [c.sign_tx(k0, chain=c.CHAIN_ID, nonce=n, fee=c.FEE, module="bank", call="transfer",
                                  args={"to": k1.address, "denom": c.DENOM, "amount": 1})
                        for n in range(nonce, nonce + a.roundtrip_max)]
                path = write_bodies(os.path.join(self.tmp, "rt-pair.msgpack"), send_bodies(raws, "tx_sendAndWait"))
                _, res = L.run_workers([dict(host="127.0.0.1", port=node.port, mode="list", bodies_file=path,
                                             conns=1, max_seconds=a.pair_seconds, record_latency=True)])
                ours = self._rt_result(L.merge(res), f"pair {i + 1}: tx_sendAndWait")
                ours["synced_ms"] = (c.synced_write_ms(self.tmp), c.synced_write_ms(self.tmp, room=True))
                anvil = P.Anvil(binary)
                try:
                    erpc = Rpc(anvil.port)
                    anvil.wait_ready(lambda m, r=erpc: r.call(m))
                    ekey = P.EthKey(10**9 + 1)
                    erpc.call("anvil_setBalance", "0x" + ekey.address.hex(), hex(P.ETH_BALANCE))
                    theirs = self.eth_roundtrip(anvil, erpc, ekey, f"pair {i + 1}: Anvil send + receipt polling",
                                                seconds=a.pair_seconds)
                    erpc.close()
                finally:
                    anvil.stop()
                pairs.append((ours, theirs))
            rpc.close()
        finally:
            node.stop()
            shutil.rmtree(home, ignore_errors=True)
        self.pairs = pairs

    def anvil(self) -> None:
        a = self.args
        binary, version = P.ensure_anvil(CACHE)
        if binary is None:
            self.notes.append(version)
            log(version)
            return
        ok, how = P.ensure_eth_signing(CACHE)
        self.detail.append(f"peer: {version}; Ethereum signing: {how if ok else 'unavailable: ' + how}")
        peer: dict = {}
        self.peer = peer
        # 1. Anvil as it starts by default (10 dev accounts, automine): reads; then, each on a
        #    fresh instance (Anvil slows down as its blocks pile up), sequential round trips
        #    from one funded key: the equivalent of (c) on the default devnet
        anvil = P.Anvil(binary)
        try:
            rpc = Rpc(anvil.port)
            anvil.wait_ready(lambda m: rpc.call(m))
            peer["reads"] = self.reads(anvil.port, BLOCKNUMBER, "anvil eth_blockNumber", a.read_seconds,
                                       anvil.proc.pid)
            rpc.close()
        finally:
            anvil.stop()
        if not ok:
            self.notes.append("Anvil transactions skipped: no Ethereum signer (" + how + ")")
        for name, sync in (("roundtrip", False), ("roundtrip_sync", True)) if ok else ():
            anvil = P.Anvil(binary)
            try:
                rpc = Rpc(anvil.port)
                anvil.wait_ready(lambda m, r=rpc: r.call(m))
                key = P.EthKey(10**9)
                P.check_signer_against_eth_account(key)
                rpc.call("anvil_setBalance", "0x" + key.address.hex(), hex(P.ETH_BALANCE))
                label = "anvil eth_sendRawTransactionSync, default" if sync else "anvil send + receipt polling, default"
                peer[name] = self.eth_roundtrip(anvil, rpc, key, label, sync=sync)
                rpc.close()
            finally:
                anvil.stop()
        if not ok:
            return
        # 2. Anvil started on a genesis with as many funded accounts as the rwachain bench genesis
        keys = P.eth_keys(a.senders)
        gpath = os.path.join(self.tmp, "anvil-genesis.json")
        with open(gpath, "w") as f:
            json.dump({"config": {"chainId": P.ETH_CHAIN_ID}, "gasLimit": hex(30_000_000), "difficulty": "0x0",
                       "alloc": {"0x" + k.address.hex(): {"balance": hex(P.ETH_BALANCE)} for k in keys}}, f)
        senders = keys[: a.eth_senders]
        raws = P.sign_eth_transfers(senders, 2 * a.eth_nonces)  # nonce-major
        half = a.eth_senders * a.eth_nonces
        singles = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [x]},
                              separators=(",", ":")).encode() for i, x in enumerate(raws[:half])]
        batches = [json.dumps([{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction", "params": [x]}
                               for j, x in enumerate(raws[half + i : half + i + BATCH])],
                              separators=(",", ":")).encode() for i in range(0, half, BATCH)]
        anvil = P.Anvil(binary, "--init", gpath)
        try:
            rpc = Rpc(anvil.port)
            anvil.wait_ready(lambda m: rpc.call(m))
            peer["roundtrip20k"] = self.eth_roundtrip(anvil, rpc, keys[-1],
                                                      f"anvil send + receipt polling, {a.senders:,} accounts")
            peer["singles_automine"] = self.eth_load(anvil, rpc, senders, singles, a.procs, a.conns,
                                                     "anvil singles, automine", drain=a.anvil_drain,
                                                     seconds=min(a.tx_seconds, a.anvil_automine_seconds))
            rpc.close()
        finally:
            anvil.stop()
        # 3. --no-mining + a miner loop (evm_mine whenever the pool holds transactions): blocks
        #    batch whatever is waiting, as rwachain's auto mining does
        anvil = P.Anvil(binary, "--init", gpath, "--no-mining")
        try:
            rpc = Rpc(anvil.port)
            anvil.wait_ready(lambda m: rpc.call(m))
            peer["singles"] = self.eth_load(anvil, rpc, senders, singles, a.procs, a.conns,
                                            "anvil singles, batching miner", miner=True)
            peer["batches"] = self.eth_load(anvil, rpc, senders, batches, a.procs, a.batch_conns,
                                            "anvil batches, batching miner", miner=True)
            rpc.close()
        finally:
            anvil.stop()

    def eth_load(self, anvil, rpc: Rpc, senders, bodies: list[bytes], procs: int, conns: int, label: str,
                 miner: bool = False, drain: float = 120.0, seconds: float | None = None) -> dict:
        path = write_bodies(os.path.join(self.tmp, f"{label.replace(' ', '-').replace(',', '')}.msgpack"), bodies)

        def nonce_sum() -> int:
            return sum(int(x, 16) for x in rpc.batch([("eth_getTransactionCount", ["0x" + k.address.hex(), "latest"])
                                                      for k in senders]))

        def pool_empty(r: Rpc) -> bool:
            st = r.call("txpool_status")
            return int(st["pending"], 16) == 0 and int(st["queued"], 16) == 0

        n0 = nonce_sum()
        b0 = int(rpc.call("eth_blockNumber"), 16)
        stop = threading.Event()

        def mine_loop() -> None:
            r = Rpc(anvil.port)
            while not stop.is_set():
                if pool_empty(r):
                    time.sleep(0.001)
                else:
                    r.call("evm_mine")
            r.close()

        run = L.LoadRun(spread_specs(anvil.port, path, procs, conns, seconds or self.args.tx_seconds,
                                     record_latency=True))
        miner_t = threading.Thread(target=mine_loop, daemon=True) if miner else None
        c0 = cpu_seconds(anvil.proc.pid)
        if miner_t:
            miner_t.start()
        t_go = run.go()
        m = L.merge(run.results())
        deadline, t_drained = time.monotonic() + drain, None
        while time.monotonic() < deadline:
            if pool_empty(rpc):
                t_drained = time.monotonic()
                break
            time.sleep(0.005)
        end = t_drained or time.monotonic()
        cpu = (cpu_seconds(anvil.proc.pid) - c0) / (end - t_go)
        stop.set()
        if miner_t:
            miner_t.join(30)
        n_incl = nonce_sum() - n0
        blocks = int(rpc.call("eth_blockNumber"), 16) - b0
        r = {"included": n_incl, "window": end - t_go, "incl_rate": n_incl / (end - t_go), "admitted": m["ok_calls"],
             "adm_rate": m["ok_calls"] / max(1e-9, m["t1"] - t_go), "refused": m["err_calls"], "blocks": blocks,
             "drained": t_drained is not None, "lat_p50": pct(m["lat"], 50) * 1e3, "lat_p99": pct(m["lat"], 99) * 1e3,
             "cpu": cpu, "label": label}
        if m["err_calls"] or m["non200"]:
            self.notes.append(f"{label}: {m['err_calls']} refused / {m['non200']} non-200, e.g. {m['errors'][:1]}")
        log(f"{label}: included {n_incl:,} in {r['window']:.1f} s = {r['incl_rate']:,.0f} tx/s; admitted at "
            f"{r['adm_rate']:,.0f}/s; {blocks} blocks; drained {r['drained']}; Anvil CPU {cpu:.2f} cores")
        return r


def wait_for_quiet(max_load: float, wait: float) -> tuple[float, float]:
    """Poll the 1-minute load average until below max_load (at most `wait` s): (load, waited)."""
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    while load >= max_load and time.monotonic() - t0 < wait:
        log(f"load average {load:.2f} >= {max_load}: waiting for a quieter machine")
        time.sleep(min(15.0, max(0.0, wait - (time.monotonic() - t0))))
        load = os.getloadavg()[0]
    return load, time.monotonic() - t0


def verdict(v) -> str:
    return "" if v is None else ("PASS" if v else "**MISS**")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="about a minute: fewer transactions, shorter runs")
    ap.add_argument("--workdir", default=os.path.join(CACHE, "rpc"), help="cache of genesis and signed txs")
    ap.add_argument("--node-root", default=c.ROOT, help="checkout whose rwad is measured (default: this one), e.g. "
                    "an export of one commit: mkdir /tmp/rwa && git archive HEAD | tar -x -C /tmp/rwa")
    ap.add_argument("--node-label", help="what --node-root holds (printed in the report), e.g. a commit id")
    ap.add_argument("--senders", type=int, default=20_000, help="funded accounts in the genesis")
    ap.add_argument("--procs", type=int, default=4, help="load worker processes")
    ap.add_argument("--conns", type=int, default=50, help="keep-alive connections per worker (single requests)")
    ap.add_argument("--batch-conns", type=int, default=10, help="connections per worker with batches of 100")
    ap.add_argument("--read-conns", type=int, default=8, help="connections per worker for read tests")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--wrk-conns", type=int, default=32)
    ap.add_argument("--no-wrk", action="store_true")
    ap.add_argument("--no-anvil", action="store_true")
    ap.add_argument("--only", help="comma-separated subset of floors,startup,roundtrip,pairs,singles,batches,block,"
                                   "anvil (pairs: round trips alternating with Anvil's)")
    ap.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=None,
                    help="also measure singles and batches at lower and higher concurrency (default: on, off with --quick)")
    ap.add_argument("--max-load", type=float, default=1.5, help="wait for a 1-minute load average below this")
    ap.add_argument("--wait-load", type=float, default=900, help="seconds to wait for it (0: do not wait)")
    ap.add_argument("--out", help="also write the Markdown report to this file")
    args = ap.parse_args(argv)
    q = args.quick
    args.single_nonces = 2 if q else 5
    args.batch_nonces = 3 if q else 9
    args.tx_seconds = 7.0 if q else 30.0
    args.sweep_seconds = 8.0
    args.min_window = 5.0 if q else 10.0
    args.read_seconds = 1.5 if q else 5.0
    args.roundtrip_seconds = 2.0 if q else 10.0
    if args.sweep is None:
        args.sweep = not q
    args.roundtrip_max = 3000
    args.start_runs = 2 if q else 5
    args.block_txs = 10_000
    args.latency_interval = 0.005
    args.eth_senders = 4000
    args.eth_nonces = 1 if q else 3
    args.anvil_drain = 3.0 if q else 15.0
    args.anvil_automine_seconds = 3.0 if q else 10.0  # Anvil's automine stalls under this load: keep it short
    args.pair_rounds = 3 if q else 5
    args.pair_seconds = 2.0
    only = set(args.only.split(",")) if args.only else {"floors", "startup", "roundtrip", "pairs", "singles", "batches",
                                                        "block", "anvil"}

    t_all = time.perf_counter()
    os.makedirs(args.workdir, exist_ok=True)
    b = Bench(args)
    try:
        if not args.no_wrk:
            b.wrk, how = P.ensure_wrk()
            b.detail.append(f"wrk: {how}")
            if b.wrk is None:
                b.notes.append(f"wrk skipped: {how}")
        genesis, _ = c.cached_genesis(args.workdir, args.senders, args.senders)
        nonces = max(args.single_nonces, args.batch_nonces)
        txs = signed_txs(args.workdir, args.senders, nonces) if only & {"singles", "batches", "block"} else []
        if not args.no_anvil and only & {"anvil", "pairs"}:
            P.ensure_anvil(CACHE)
            P.ensure_eth_signing(CACHE)
        load0, waited = wait_for_quiet(args.max_load, args.wait_load)
        b.machine = c.machine()  # git revision and the load average now, as measuring starts
        b.detail.append(f"1-minute load average at start {load0:.2f}" + (f" (after waiting {waited:.0f} s)" if waited > 1
                                                                        else ""))
        t_meas = time.perf_counter()
        log(f"measuring: {', '.join(sorted(only))}")
        if "floors" in only:
            b.floors()
        if "startup" in only:
            b.startup()
        if "roundtrip" in only:
            b.roundtrip_default()
        if "singles" in only:
            b.singles_and_roundtrip(genesis, txs, args.single_nonces)
        if "batches" in only:
            b.batches(genesis, txs, args.batch_nonces)
        if args.sweep and only & {"singles", "batches"}:
            b.sweep(genesis, txs)
        if "block" in only:
            b.big_block(genesis, txs)
        if "pairs" in only and not args.no_anvil:
            b.roundtrip_pairs()
        if "anvil" in only and not args.no_anvil:
            b.anvil()
        b.detail.append(f"1-minute load average at the end {os.getloadavg()[0]:.2f}; measuring took "
                        f"{time.perf_counter() - t_meas:.0f} s, the whole run {time.perf_counter() - t_all:.0f} s")
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    report = render(b, args)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    return 0


def render(b: Bench, args) -> str:
    out = [f"## bench_rpc{' --quick' if args.quick else ''}: node + JSON-RPC", "",
           f"machine: {getattr(b, 'machine', None) or c.machine()}", ""]
    if args.node_root != c.ROOT:
        out.append(f"node code measured: {args.node_root}" + (f" ({args.node_label})" if args.node_label else "") + "\n")
    rows = []
    # (c) needs the peer's figure as its goal
    rt = getattr(b, "roundtrip", None)
    peer = getattr(b, "peer", {})
    if rt:
        prt = peer.get("roundtrip")
        goal = f">= {prt['rate']:,.0f} (Anvil)" if prt else ">= Anvil (not measured)"
        rows.append(["c", f"sequential automine round trip on the default devnet: tx_sendAndWait one at a time "
                     f"from dev key 0, durable (fsync) commits ({rt['n']:,} txs, p50 {rt['p50']:.2f} ms, p99 "
                     f"{rt['p99']:.2f} ms); Anvil: default start, eth_sendRawTransaction + receipt polling",
                     f"{rt['rate']:,.0f} /s", goal, (rt["rate"] >= prt["rate"]) if prt else None])
    pairs = getattr(b, "pairs", None)
    if pairs:
        ratios = sorted(o["rate"] / t["rate"] for o, t in pairs if t["rate"])
        med = statistics.median(ratios) if ratios else 0.0
        rows.append(["c2", f"  the same alternating with a default Anvil in {len(pairs)} pairs of "
                     f"{args.pair_seconds:.0f} s windows: median of the pairs' ratios (rwachain / Anvil: "
                     + ", ".join(f"{o['rate']:,.0f}/{t['rate']:,.0f}" for o, t in pairs) + "; a synced LevelDB "
                     "write of a 1-tx block's size, appended / in place, took "
                     + ", ".join(f"{o['synced_ms'][0]:.2f}/{o['synced_ms'][1]:.2f}" for o, _ in pairs)
                     + " ms after each of ours: Anvil does not fsync)",
                     f"{med:.2f}x", ">= 1.00x", med >= 1.0])
    rt20 = getattr(b, "roundtrip20k", None)
    if rt20:
        prt = peer.get("roundtrip20k")
        rows.append(["c'", f"  the same on the {args.senders:,}-account genesis (Anvil: --init with as many funded "
                     f"accounts; p50 {rt20['p50']:.2f} ms)", f"{rt20['rate']:,.0f} /s",
                     f"(>= {prt['rate']:,.0f}, Anvil)" if prt else "(reported)", None])
    order = {"a": 0, "a'": 1, "b": 2, "b'": 3, "c": 4, "c2": 5, "c'": 6, "d": 7, "d2": 8, "d3": 9, "e": 10, "e'": 11,
             "f": 12}
    allrows = sorted(b.rows + rows, key=lambda r: order.get(r[0], 99))
    out.append(c.table(["", "measurement", "measured", "goal", "verdict"],
                       [[r[0], r[1], r[2], r[3], verdict(r[4])] for r in allrows], "Goals"))
    if len(b.sweep_rows) > 2:
        rows_ = sorted(b.sweep_rows, key=lambda r: (r[0], int(r[2].replace(",", ""))))
        out += ["", c.table(["requests", "workers x connections", "txs in flight", "included tx/s", "admitted tx/s",
                             "request p50 ms", "node CPU (cores)", "blocks"], rows_,
                            "Concurrency: included tx/s against transactions in flight")]
    if b.floor_rows:
        out += ["", c.table(["floor (same generators)", "processes req/s", "wrk req/s"], b.floor_rows,
                            "Floors: what answering a constant costs")]
    if peer:
        pr = []
        ar = peer.get("reads")
        ours = b.fig.get("reads")
        if ours and ar:
            pr.append(["reads: chain_status vs eth_blockNumber (processes)", f"{ours:,.0f}", f"{ar['py']:,.0f}",
                       f"{ours / ar['py']:.2f}"])
            if ar.get("wrk") and b.fig.get("reads_wrk"):
                pr.append(["reads (wrk)", f"{b.fig['reads_wrk']:,.0f}", f"{ar['wrk']:,.0f}",
                           f"{b.fig['reads_wrk'] / ar['wrk']:.2f}"])
        s = b.res.get("singles")
        if s and "singles" in peer:
            ps = peer["singles"]
            pr.append(["tx_send vs eth_sendRawTransaction, singles: admitted/s", f"{s['adm_rate']:,.0f}",
                       f"{ps['adm_rate']:,.0f}", f"{s['adm_rate'] / ps['adm_rate']:.2f}"])
            pr.append(["  included/s (rwachain auto; Anvil --no-mining + evm_mine loop)", f"{s['incl_rate']:,.0f}",
                       f"{ps['incl_rate']:,.0f}", f"{s['incl_rate'] / ps['incl_rate']:.2f}"])
        pa = peer.get("singles_automine")
        if s and pa:
            pr.append(["  included/s (Anvil automine, its default)" + ("" if pa["drained"] else
                       f": pool NOT drained {args.anvil_drain:g} s after the load"), f"{s['incl_rate']:,.0f}",
                       f"{pa['incl_rate']:,.0f}", f"{s['incl_rate'] / max(pa['incl_rate'], 1e-9):.2f}"])
        bb = b.res.get("batches")
        if bb and "batches" in peer:
            pb = peer["batches"]
            pr.append([f"batches of {BATCH}: admitted/s", f"{bb['adm_rate']:,.0f}", f"{pb['adm_rate']:,.0f}",
                       f"{bb['adm_rate'] / pb['adm_rate']:.2f}"])
            pr.append(["  included/s (rwachain auto; Anvil --no-mining + evm_mine loop)", f"{bb['incl_rate']:,.0f}",
                       f"{pb['incl_rate']:,.0f}", f"{bb['incl_rate'] / pb['incl_rate']:.2f}"])
        if rt and "roundtrip" in peer:
            prt = peer["roundtrip"]
            pr.append(["sequential round trip /s, default devnets (tx_sendAndWait vs send + receipt polling)",
                       f"{rt['rate']:,.0f}", f"{prt['rate']:,.0f}", f"{rt['rate'] / prt['rate']:.2f}"])
        if rt and "roundtrip_sync" in peer:
            prt = peer["roundtrip_sync"]
            pr.append(["  vs Anvil eth_sendRawTransactionSync (EIP-7966)", f"{rt['rate']:,.0f}", f"{prt['rate']:,.0f}",
                       f"{rt['rate'] / prt['rate']:.2f}"])
        if rt20 and "roundtrip20k" in peer:
            prt = peer["roundtrip20k"]
            pr.append([f"sequential round trip /s, {args.senders:,} funded accounts", f"{rt20['rate']:,.0f}",
                       f"{prt['rate']:,.0f}", f"{rt20['rate'] / prt['rate']:.2f}"])
        out += ["", c.table(["same call, same generator", "rwachain", "Anvil", "ratio"], pr, "Peer: Anvil")]
        for k in ("singles_automine", "singles", "batches"):
            if k in peer:
                p = peer[k]
                out.append(f"- {p['label']}: {p['included']:,} included in {p['window']:.1f} s over {p['blocks']:,} "
                           f"blocks, drained {p['drained']}, refused {p['refused']}, request p50 {p['lat_p50']:.1f} ms"
                           f" / p99 {p['lat_p99']:.1f} ms, Anvil CPU {p['cpu']:.2f} cores")
        for k in ("roundtrip", "roundtrip_sync", "roundtrip20k"):
            if k in peer:
                p = peer[k]
                out.append(f"- Anvil {k}: {p['n']:,} txs, p50 {p['p50']:.2f} ms"
                           + (f", {p['polls']:,} receipt polls" if p.get("polls") else "")
                           + " (Anvil keeps its state in memory: no fsync)")
    out += ["", "Details:"]
    for name in ("singles", "batches"):
        s = b.res.get(name)
        if s:
            out.append(f"- {name}: {s['included']:,} included over {s['blocks']} blocks (largest {s['max_block']:,}), "
                       f"admitted {s['admitted']:,} in {s['adm_seconds']:.1f} s, refused {s['refused']}, unsent "
                       f"requests {s['unsent']}, peak mempool {s['mempool_peak']:,}, node CPU {s['node_cpu']:.2f} "
                       f"cores, load generator CPU {s['gen_cpu']:.2f} cores, sampled receipts failing "
                       f"{s['failed_sample']}")
    out += [f"- {d}" for d in b.detail]
    if b.notes:
        out += ["", "Notes:"] + [f"- {n}" for n in b.notes]
    cmd = "bench/bench_rpc.py" + (" --quick" if args.quick else "")
    out += ["", f"command: `.venv/bin/python {cmd}`; load: {args.procs} worker processes x {args.conns} connections "
            f"(singles), x {args.batch_conns} (batches), x {args.read_conns} (reads); wrk -t{args.wrk_threads} "
            f"-c{args.wrk_conns}"]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
