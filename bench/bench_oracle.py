"""Oracle reports: admission throughput (check_tx, BLS) and RPC latency while reports arrive.

Goals measured (the results table prints each figure beside its goal, PASS/MISS):
  1  oracle report admission with the native BLS backend: >= 500 reports/s.
     In process: a Chain on the embedded devnet genesis; 256 distinct report transactions
     (the 4 operator accounts, dev keys 6..9, 64 nonces each: check_tx in mempool mode
     admits nonces within the 64-nonce window of the account's nonce), spread over every
     feed of the genesis with rounds after the feed's round, each value equal to the
     feed's current value, quorum-signed (3 of the 4 devnet operators' BLS keys, the
     subset rotating). Measured: App.check_tx(raw) per second from cold caches (before
     every round the app's signature cache (decoded txs, checked signatures, the reports'
     BLS verdicts) and the BLS key cache are emptied), on 1 thread and on --workers threads
     (a ThreadPoolExecutor; libsodium releases the GIL for Ed25519, pyblst holds it for BLS); medians of --rounds
     rounds. For comparison: the pure-Python backend (py_ecc) on a handful of reports.
     Where the time goes: decode + argument checks, Ed25519, the BLS aggregate check
     (keys cached / not), the stateful checks alone (warm caches), a cProfile of one
     cold round, and Chain.produce of blocks of admitted reports (the node's next step).
  2  chain_status p99 latency while reports arrive: < 50 ms.
     A real `rwad devnet --port 0 --mining auto` node in a subprocess. Reports are signed
     up front (not timed) against the node's state: its head time as observedAt (never
     after the next block's time), each feed's next rounds (oracle_feeds), the feeds split
     between the 4 operators so every feed's rounds go in one sender's nonce order. A
     submitter process sends them with tx_send at --rate reports/s (paced, one keep-alive
     connection per operator, at most --depth requests in flight on each, each operator
     kept within the 64-nonce window through account_get); a probe process
     (bench/rpc_load.py latency mode) sends chain_status every --interval seconds on its
     own connection, latency counted from each request's scheduled send time. Reported:
     chain_status p50/p99/max during the load (and before it), reports offered, admitted
     (tx_send answered with a hash) and applied (feed rounds advanced, counted after the
     mempool drained), CPU of the node and of the whole machine.

Signing note: the three operators of a quorum sign the same message, so their aggregate
signature equals one signature by the sum of their secret keys (mod r); the bench signs
that way (one BLS signature per report instead of three plus an aggregation) and checks it
against modules.bls.aggregate at setup. The transactions are byte-identical either way.

    .venv/bin/python bench/bench_oracle.py           # quick (under a minute)
    .venv/bin/python bench/bench_oracle.py --full    # more rounds, a 30 s load
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import _common as c

GOAL_RATE = 500  # reports/s admitted (check_tx, native BLS)
GOAL_P99_MS = 50.0  # chain_status p99 while reports arrive
FEE = 200_000  # above the minimum for a report (cost 20,000 + 10 per byte) x feePrice 1
NONCE_WINDOW = 64
_READY = re.compile(r"JSON-RPC listening on http://[^:]+:(\d+)")
STATUS = '{"jsonrpc":"2.0","id":1,"method":"chain_status"}'


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


class CpuMeter:
    """Busy fraction of the whole machine (all CPUs, /proc/stat) between start and stop."""

    @staticmethod
    def _read() -> tuple[int, int]:
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return 0, 0
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v) - idle, sum(v)

    def __enter__(self):
        self.b0, self.t0 = self._read()
        return self

    def __exit__(self, *exc):
        b1, t1 = self._read()
        self.busy = (b1 - self.b0) / (t1 - self.t0) if t1 > self.t0 else float("nan")


def proc_cpu(pid: int) -> float:
    """user + system CPU seconds of a process (all its threads) so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# ----- signed reports ----------------------------------------------------------------------
def quorums() -> list[tuple[list[int], int]]:
    """The 3-of-4 operator subsets with the sum of their secret keys (mod r), each checked:
    one signature by the sum equals the aggregate of the three signatures."""
    from rwachain.genesis import devnet
    from rwachain.modules.core import bls

    secrets = [devnet.operator_secret(j) for j in range(devnet.OPERATORS)]
    out = []
    for skip in range(devnet.OPERATORS):
        idx = [j for j in range(devnet.OPERATORS) if j != skip][: devnet.QUORUM]
        out.append((idx, sum(secrets[j] for j in idx) % bls.CURVE_ORDER))
    probe = b"rwachain/bench/oracle/aggregate-check"
    for idx, sk in out:
        if bls.sign(sk, probe) != bls.aggregate([bls.sign(secrets[j], probe) for j in idx]):
            raise SystemExit("the summed-key signature differs from the aggregate signature")
    return out


def sign_reports(op: int, start_nonce: int, items: list[tuple[str, int, int, int]], chain_id: str, epoch: int,
                 fee: int = FEE) -> list[bytes]:
    """Report transactions from operator `op`, nonces start_nonce.., one per item
    (feed, value, observedAt, round)."""
    from rwachain.genesis import devnet
    from rwachain.modules.core import bls
    from rwachain.modules.core.tx import sign_tx
    from rwachain.modules.oracle.report import bitmap, message

    key = devnet.dev_keys()[devnet.OPERATOR_ACCOUNT0 + op]
    qs = quorums()
    out = []
    for n, (feed, value, obs, rnd) in enumerate(items):
        idx, sk = qs[(op + n) % len(qs)]
        sig = bls.sign(sk, message(chain_id, epoch, feed, value, obs, rnd))
        args = {"feed": feed, "value": value, "observedAt": obs, "round": rnd, "epoch": epoch,
                "signers": bitmap(idx, devnet.OPERATORS), "signature": sig}
        out.append(sign_tx(key, chain=chain_id, nonce=start_nonce + n, fee=fee, module="oracle", call="report",
                           args=args))
    return out


def _sign_job(a: tuple) -> list[bytes]:
    return sign_reports(*a)


# ----- part 1: check_tx in process ---------------------------------------------------------
def clear_caches(app) -> None:
    """Everything admission remembers: decoded txs, checked signatures and the reports'
    BLS verdicts (both in the app's one signature cache), keys."""
    from rwachain.modules.core import bls

    app.signatures.clear()
    bls.clear_key_cache()


def admission(args) -> dict:
    from rwachain.genesis import devnet
    from rwachain.modules.core import bls
    from rwachain.modules.core.args import check_args
    from rwachain.modules.core.tx import check_signature, decode_tx
    from rwachain.modules.oracle import keeper
    from rwachain.modules.oracle.report import message, signers
    from rwachain.node.chain import Chain

    bls.use("native")
    tmp = tempfile.mkdtemp(prefix="rwachain-bench-oracle-")
    try:
        chain = Chain(os.path.join(tmp, "chain"), devnet.validator_key())
        chain.init_genesis(devnet.PATH)
        app = chain.app
        ctx = app.reader()
        now = app.last_block()["time"]
        epoch = keeper.operator_set(ctx).epoch
        feeds = []
        for f in keeper.list_feeds(ctx):
            st = keeper.state_of(ctx, f)
            if not st.frozen:
                feeds.append((f, st.value, st.last_round))
        per_op = NONCE_WINDOW
        t0 = time.perf_counter()
        txs = []
        for op in range(devnet.OPERATORS):
            items = []
            for n in range(per_op):
                k = op * per_op + n
                f, v, r0 = feeds[k % len(feeds)]
                items.append((f, v, now, r0 + 1 + k // len(feeds)))
            txs += sign_reports(op, 0, items, devnet.CHAIN_ID, epoch)
        t_sign = time.perf_counter() - t0
        n = len(txs)

        for raw in txs:  # every one admitted (and warms imports)
            app.check_tx(raw)

        def loop(part: list[bytes]) -> None:
            for raw in part:
                app.check_tx(raw)

        single, multi = [], []
        with ThreadPoolExecutor(args.workers) as pool:
            for _ in range(args.rounds):
                clear_caches(app)
                t0 = time.perf_counter()
                loop(txs)
                single.append(time.perf_counter() - t0)
                clear_caches(app)
                t0 = time.perf_counter()
                for f in [pool.submit(loop, txs[w :: args.workers]) for w in range(args.workers)]:
                    f.result()
                multi.append(time.perf_counter() - t0)

        # Where the time goes, per report (median of --rounds passes over the 256 each).
        decoded = [decode_tx(raw, app.params["maxTxBytes"]) for raw in txs]
        call = app.by_name["oracle"].calls["report"]
        members = keeper.operator_set(ctx).operators
        bls_items = []
        for tx in decoded:
            a = tx.args
            pks = [members[i].pubkey for i in signers(a["signers"], len(members))]
            bls_items.append((pks, message(devnet.CHAIN_ID, a["epoch"], a["feed"], a["value"], a["observedAt"],
                                           a["round"]), a["signature"]))

        def per_report(fn, items) -> float:
            """Median over --rounds passes of seconds per item."""
            secs = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                fn(items)
                secs.append((time.perf_counter() - t0) / len(items))
            return statistics.median(secs)

        def decode_all(raws) -> None:
            for raw in raws:
                check_args(call.args, decode_tx(raw, app.params["maxTxBytes"]).args)

        def ed_all(txs_) -> None:
            for tx in txs_:
                check_signature(tx)

        def bls_all(items) -> None:
            for pks, msg, sig in items:
                if not bls.fast_aggregate_verify(pks, msg, sig):
                    raise SystemExit("a report signature failed")

        def bls_cold(items) -> None:
            for pks, msg, sig in items:
                bls.clear_key_cache()
                bls.fast_aggregate_verify(pks, msg, sig)

        def bls_threads(items) -> None:
            for f in [pool.submit(bls_all, items[w :: args.workers]) for w in range(args.workers)]:
                f.result()

        parts = {"decode": per_report(decode_all, txs), "ed25519": per_report(ed_all, decoded)}
        bls.clear_key_cache()
        parts["bls"] = per_report(bls_all, bls_items)
        parts["bls_cold_keys"] = per_report(bls_cold, bls_items[:64])
        with ThreadPoolExecutor(args.workers) as pool:
            parts["bls_threads"] = per_report(bls_threads, bls_items)
        loop(txs)  # every cache warm now: what is left is the stateful part
        parts["warm"] = per_report(loop, txs)

        prof_text = ""
        if args.profile:
            clear_caches(app)
            pr = cProfile.Profile()
            pr.enable()
            loop(txs)
            pr.disable()
            out = io.StringIO()
            pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(args.profile)
            prof_text = _trim_profile(out.getvalue())

        # The pure-Python reference on a handful of reports.
        bls.use("pyecc")
        try:
            clear_caches(app)
            t0 = time.perf_counter()
            loop(txs[: args.pyecc])
            t_py = (time.perf_counter() - t0) / args.pyecc
        finally:
            bls.use("native")
        # Reference: blocks of reports as the node makes them after admission (caches warm),
        # in global order so every sender's nonces and every feed's rounds go up.
        clear_caches(app)
        loop(txs)
        blocks = {}
        t_blk = now
        start = 0
        for size, count in ((args.small_block, 64 // args.small_block), (64, 3)):
            secs = []
            for _ in range(count):
                part = txs[start : start + size]  # op-major: index = op * 64 + nonce
                start += size
                t_blk += 1
                t0 = time.perf_counter()
                _, result = chain.produce(part, t_blk)
                secs.append(time.perf_counter() - t0)
                bad = [r for r in result.receipts if r.code != 0]
                if bad:
                    raise SystemExit(f"a block of reports failed: {bad[0].error} {bad[0].message}")
            blocks[size] = statistics.median(secs)
        clear_caches(app)
        chain.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"n": n, "feeds": len(feeds), "t_sign": t_sign, "single": single, "multi": multi,
            "rate1": n / statistics.median(single), "rate_n": n / statistics.median(multi), "parts": parts,
            "pyecc": t_py, "prof": prof_text, "blocks": blocks}


def _trim_profile(text: str) -> str:
    """The pstats table without its preamble, paths shortened to the project."""
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith("ncalls"):
            lines = [lines[i - 2].strip(), ""] + lines[i:] if i >= 2 else lines[i:]
            break
    return "\n".join(ln.replace(c.ROOT + os.sep, "").rstrip() for ln in lines).strip()


# ----- part 2: a real node under a stream of reports ---------------------------------------
class Rpc:
    """A keep-alive JSON-RPC client for setup and checks (never the measured load)."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self._id = 0

    def _post(self, body: bytes, path: str = "/", method: str = "POST"):
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body, {"Content-Type": "application/json"})
                return json.loads(self.conn.getresponse().read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
        return None

    def call(self, method: str, *params):
        self._id += 1
        r = self._post(json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}).encode())
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def batch(self, calls: list[tuple[str, list]]) -> list:
        out = []
        for i in range(0, len(calls), 100):
            part = calls[i : i + 100]
            reply = self._post(json.dumps([{"jsonrpc": "2.0", "id": j, "method": m, "params": p}
                                           for j, (m, p) in enumerate(part)]).encode())
            reply.sort(key=lambda r: r["id"])
            out += [r.get("result") for r in reply]
        return out

    def health(self) -> dict:
        return self._post(None, "/health", "GET")

    def close(self) -> None:
        self.conn.close()


class Node:
    """`rwad devnet --home DIR --port 0 --mining auto` in a subprocess; its port from its output."""

    def __init__(self, home: str, mining: str = "auto"):
        rwad = os.path.join(c.ROOT, ".venv", "bin", "rwad")
        cmd = [rwad] if os.path.exists(rwad) else [sys.executable, "-m", "rwachain.rpc.cli"]
        self.cmd = cmd + ["devnet", "--home", home, "--port", "0", "--mining", mining]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=c.ROOT, start_new_session=True)
        self.output: list[str] = []
        self.port: int | None = None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.port is None and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("node exited:\n" + "".join(self.output[-30:]))
            self.output.append(line)
            m = _READY.search(line)
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            raise RuntimeError("node did not start:\n" + "".join(self.output[-30:]))
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                r = Rpc(self.port, timeout=5)
                r.call("chain_status")
                r.close()
                return
            except (OSError, RuntimeError, http.client.HTTPException):
                time.sleep(0.02)
        raise RuntimeError("node does not answer chain_status")

    def _drain(self) -> None:
        try:
            for line in self.proc.stdout:
                if len(self.output) < 500:
                    self.output.append(line)
        except (ValueError, OSError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def submitter(spec: dict, stdin, stdout) -> dict:
    """Child process: send each operator's pre-built tx_send requests in nonce order at a
    paced global rate (operator j's m-th request due at t0 + (4m + j) / rate), at most
    `depth` in flight per connection, never past the nonce window of the account's
    committed nonce (account_get on a second connection when the window is full)."""
    import rpc_load as L

    host, port = "127.0.0.1", int(spec["port"])
    rate, depth, window = float(spec["rate"]), int(spec["depth"]), int(spec["window"])
    with open(spec["file"]) as f:
        ops = json.load(f)  # [{"address", "nonce0", "bodies": [...]}]
    nops = len(ops)
    socks = [L._connect(host, port) for _ in ops]
    aux = [L._connect(host, port) for _ in ops]
    batch = max(1, int(spec.get("batch", 1)))
    # one HTTP request per `batch` consecutive tx_send calls (a JSON-RPC batch when > 1)
    reqs = [[L.http_post(host, (o["bodies"][i] if batch == 1 else
                                "[" + ",".join(o["bodies"][i:i + batch]) + "]").encode())
             for i in range(0, len(o["bodies"]), batch)] for o in ops]
    sizes = [[min(batch, len(o["bodies"]) - i) for i in range(0, len(o["bodies"]), batch)] for o in ops]
    stdout.write("ready\n")
    stdout.flush()
    if stdin.readline().strip() != "go":
        return {"aborted": True}
    mono = time.monotonic
    t0 = mono()
    cpu0 = L._cpu()
    deadline = t0 + float(spec["seconds"])
    res = [None] * nops

    def run(j: int) -> None:
        sock, buf, abuf = socks[j], bytearray(), bytearray()
        mine = reqs[j]
        committed = 0  # nonces used so far, relative to nonce0
        sent = ok = err = polls = txs = 0
        errors: list[str] = []
        lat: list[float] = []
        inflight: deque[float] = deque()
        blocked = 0.0
        t_last = t0
        addr = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "account_get", "params": [ops[j]["address"]]}).encode()
        while True:
            now = mono()
            more = sent < len(mine) and now < deadline
            if not more and not inflight:
                break
            due = t0 + (txs * nops + j) / rate
            if more and len(inflight) < depth and due <= now:
                if txs + sizes[j][sent] > committed + window:
                    tb = mono()
                    polls += 1
                    reply = json.loads(L._rpc_once(aux[j], host, addr, abuf))
                    committed = reply["result"]["nonce"] - ops[j]["nonce0"]
                    if txs + sizes[j][sent] > committed + window:
                        time.sleep(0.002)
                    blocked += mono() - tb
                    continue
                sock.sendall(mine[sent])
                inflight.append(now)
                sent += 1
                txs += sizes[j][sent - 1]
                continue
            wait = max(0.0, due - now) if more and len(inflight) < depth else 0.05
            r, _, _ = select.select([sock], [], [], min(wait, max(0.0, deadline + 30 - now)))
            if not r:
                if mono() > deadline + 30:
                    break
                continue
            data = sock.recv(1 << 16)
            if not data:
                errors.append("connection closed")
                break
            buf += data
            while True:
                he = buf.find(b"\r\n\r\n")
                if he < 0:
                    break
                cl = L._content_length(bytes(buf[:he]).lower())
                if len(buf) < he + 4 + cl:
                    break
                body = bytes(buf[he + 4 : he + 4 + cl])
                del buf[: he + 4 + cl]
                t_last = mono()
                lat.append(t_last - inflight.popleft())
                bad = body.count(b'"error"')
                err += bad
                ok += body.count(b'"result"')
                if bad and len(errors) < 3:
                    errors.append(body[:300].decode(errors="replace"))
        res[j] = {"sent": txs, "ok": ok, "err": err, "errors": errors, "lat": lat, "t_last": t_last,
                  "blocked": blocked, "polls": polls}

    threads = [threading.Thread(target=run, args=(j,)) for j in range(nops)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_end = max(r["t_last"] for r in res)
    for s in socks + aux:
        s.close()
    return {"t0": t0, "t_end": t_end, "cpu": L._cpu() - cpu0, "ops": res}


class Child:
    """A child process speaking the ready / go / result-line protocol of rpc_load.py."""

    def __init__(self, cmd: list[str], spec: dict):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, cwd=c.ROOT)
        self.p.stdin.write(json.dumps(spec) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            self.kill()
            raise RuntimeError(f"child did not start: {line!r}")

    def send(self, word: str) -> None:
        try:
            self.p.stdin.write(word + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def result(self, timeout: float) -> dict:
        try:
            out, _ = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("a child process overran its time bound") from None
        if self.p.returncode != 0 or not out.strip():
            raise RuntimeError(f"child failed (exit {self.p.returncode})")
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)


def node_load(args) -> dict:
    from rwachain.genesis import devnet

    tmp = tempfile.mkdtemp(prefix="rwachain-bench-oracle-node-")
    node = Node(os.path.join(tmp, "home"))
    sub = probe = None
    try:
        t0 = time.perf_counter()
        node.wait_ready()
        t_start = time.perf_counter() - t0
        rpc = Rpc(node.port)
        st = rpc.call("chain_status")
        epoch = rpc.call("oracle_operators")["epoch"]
        feeds = []
        for f in rpc.call("oracle_feeds", "", "", 1000)["feeds"]:
            if not f["frozen"]:
                r0 = max(int(f["round"]), int(f["pending"]["round"]) if f["pending"] else 0)
                feeds.append((f["feed"], int(f["value"]), r0))
        keys = devnet.dev_keys()
        nops = devnet.OPERATORS
        addrs = [keys[devnet.OPERATOR_ACCOUNT0 + j].address_text for j in range(nops)]
        nonce0 = [rpc.call("account_get", a)["pendingNonce"] for a in addrs]
        total = int(args.rate * args.seconds) + nops
        per = -(-total // nops)
        jobs = []
        for j in range(nops):
            own = feeds[j::nops]
            items = [(f, v, st["time"], r0 + 1 + m // len(own)) for m in range(per)
                     for f, v, r0 in [own[m % len(own)]]]
            jobs.append((j, nonce0[j], items, st["chainId"], epoch))
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max(1, min(args.workers, os.cpu_count() or 1))) as pool:
            signed = list(pool.map(_sign_job, jobs))
        t_sign = time.perf_counter() - t0
        path = os.path.join(tmp, "reports.json")
        with open(path, "w") as f:
            json.dump([{"address": addrs[j], "nonce0": nonce0[j],
                        "bodies": [json.dumps({"jsonrpc": "2.0", "id": i, "method": "tx_send",
                                               "params": ["0x" + raw.hex()]}, separators=(",", ":"))
                                   for i, raw in enumerate(signed[j])]} for j in range(nops)], f)
        del signed

        here = os.path.abspath(__file__)
        sub = Child([sys.executable, here, "--submitter"],
                    {"port": node.port, "file": path, "rate": args.rate, "depth": args.depth, "batch": args.batch,
                     "window": NONCE_WINDOW, "seconds": args.seconds})
        probe = Child([sys.executable, os.path.join(c.HERE, "rpc_load.py")],
                      {"host": "127.0.0.1", "port": node.port, "mode": "latency", "body": STATUS,
                       "interval": args.interval, "max_seconds": args.seconds + args.baseline + 60})
        h0 = rpc.call("chain_status")["height"]
        probe.send("go")
        time.sleep(args.baseline)  # chain_status alone first
        load0 = os.getloadavg()[0]
        cpu_node0 = proc_cpu(node.proc.pid)
        with CpuMeter() as meter:
            t_go = time.monotonic()
            sub.send("go")
            s = sub.result(args.seconds + 60)
        cpu_node = proc_cpu(node.proc.pid) - cpu_node0
        load1 = os.getloadavg()[0]
        t_drained = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if rpc.health()["mempool"] == 0:
                t_drained = time.monotonic()
                break
            time.sleep(0.01)
        probe.send("stop")
        pr = probe.result(30)
        probe = None
        h1 = rpc.call("chain_status")["height"]
        sizes = [len(b["txs"]) for b in rpc.batch([("chain_getBlock", [h]) for h in range(h0 + 1, h1 + 1)])]
        applied = 0
        for f, _, r0 in feeds:
            x = rpc.call("oracle_latest", f)
            applied += max(int(x["round"]), int(x["pending"]["round"]) if x["pending"] else 0) - r0
        rpc.close()
    finally:
        for ch in (sub, probe):
            if ch is not None:
                ch.kill()
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    t_end = s["t_end"]
    lat = pr["lat"]
    during = [x for t, x, _, _ in lat if t_go <= t <= t_end]
    before = [x for t, x, _, _ in lat if t < t_go]
    ops = s["ops"]
    sent = sum(o["sent"] for o in ops)
    ok = sum(o["ok"] for o in ops)
    err = sum(o["err"] for o in ops)
    window = max(1e-9, t_end - s["t0"])
    send_lat = [x for o in ops for x in o["lat"]]
    return {"t_start": t_start, "t_sign": t_sign, "signed": per * nops, "feeds": len(feeds), "sent": sent, "ok": ok,
            "err": err, "errors": [e for o in ops for e in o["errors"]][:3], "window": window,
            "admitted_rate": ok / window, "sent_rate": sent / window, "included": sum(sizes), "blocks": len(sizes),
            "max_block": max(sizes, default=0), "applied": applied,
            "drain": (t_drained - t_end) if t_drained else None,
            "included_rate": sum(sizes) / ((t_drained or time.monotonic()) - s["t0"]),
            "during": during, "before": before, "probe_err": pr["err_calls"], "send_p50": pct(send_lat, 50),
            "send_p99": pct(send_lat, 99), "blocked": max(o["blocked"] for o in ops),
            "polls": sum(o["polls"] for o in ops), "cpu_node": cpu_node / window, "cpu_sub": s["cpu"] / window,
            "cpu_probe": pr["cpu"] / max(1e-9, pr["t1"] - pr["t0"]), "busy": meter.busy, "load": (load0, load1)}


# ----- main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="more rounds and a 30 s load (default: quick)")
    ap.add_argument("--rounds", type=int, help="cold check_tx rounds of 256 reports (quick 5, full 10)")
    ap.add_argument("--workers", type=int, default=2, help="threads of the threaded check_tx rounds")
    ap.add_argument("--pyecc", type=int, help="reports checked with the py_ecc backend (quick 3, full 8)")
    ap.add_argument("--profile", type=int, default=14, metavar="N",
                    help="cProfile one cold check_tx round, print the top N functions (0: off)")
    ap.add_argument("--small-block", type=int, default=4, choices=(1, 2, 4, 8, 16),
                    help="reports per block of the small-block reference (the node's auto-mined size)")
    ap.add_argument("--rate", type=float, default=GOAL_RATE, help="reports/s offered to the node")
    ap.add_argument("--seconds", type=float, help="seconds of report load on the node (quick 8, full 30)")
    ap.add_argument("--depth", type=int, default=4, help="tx_send requests in flight per operator connection")
    ap.add_argument("--batch", type=int, default=1, help="tx_send calls per HTTP request (a JSON-RPC batch when > 1)")
    ap.add_argument("--interval", type=float, default=0.005, help="seconds between chain_status probes")
    ap.add_argument("--baseline", type=float, default=1.0, help="seconds of probing before the load")
    ap.add_argument("--only", choices=("admission", "node"), help="run one part")
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (10 if args.full else 5)
    args.pyecc = args.pyecc or (8 if args.full else 3)
    args.seconds = args.seconds or (30.0 if args.full else 8.0)

    t_all = time.perf_counter()
    cmdline = shlex.join(sys.orig_argv) if argv is None else shlex.join(["bench/bench_oracle.py", *argv])
    machine = c.machine()
    a = n = None
    with CpuMeter() as whole:
        if args.only in (None, "admission"):
            log("part 1: check_tx of oracle reports in process")
            a = admission(args)
        if args.only in (None, "node"):
            log(f"part 2: a devnet node under {args.rate:g} reports/s for {args.seconds:g} s")
            n = node_load(args)

    rows = []
    out = [f"## bench_oracle{' --full' if args.full else ''}: oracle report admission and RPC latency", "",
           f"command: {cmdline}", f"machine: {machine}", ""]
    if a:
        rows.append(["1", f"oracle report admission, App.check_tx, native BLS (pyblst), 1 thread, cold caches "
                          f"({a['n']} reports over {a['feeds']} feeds, median of {args.rounds} rounds)",
                     f"{a['rate1']:,.0f} /s", f">= {GOAL_RATE} /s", verdict(a["rate1"] >= GOAL_RATE)])
        rows.append(["1'", f"  the same on {args.workers} threads (ThreadPoolExecutor)", f"{a['rate_n']:,.0f} /s",
                     f">= {GOAL_RATE} /s", verdict(a["rate_n"] >= GOAL_RATE)])
        rows.append(["1\"", f"  py_ecc backend, 1 thread ({args.pyecc} reports); native is "
                            f"{a['rate1'] * a['pyecc']:,.0f}x faster", f"{1 / a['pyecc']:,.2f} /s", "(reported)", ""])
    if n:
        rows.append(["2", f"chain_status p99 while reports arrive ({len(n['during']):,} probes, 1 per "
                          f"{args.interval * 1e3:g} ms; p50 {pct(n['during'], 50) * 1e3:.1f} ms, max "
                          f"{max(n['during'], default=float('nan')) * 1e3:.1f} ms)",
                     f"{pct(n['during'], 99) * 1e3:.1f} ms", f"< {GOAL_P99_MS:g} ms",
                     verdict(pct(n["during"], 99) * 1e3 < GOAL_P99_MS)])
        rows.append(["2'", f"  reports admitted by the node (tx_send with a hash; offered {args.rate:g} /s, "
                           f"{n['ok']:,} of {n['sent']:,} sent in {n['window']:.1f} s, {n['err']} refused)",
                     f"{n['admitted_rate']:,.0f} /s", "(reported)", ""])
        rows.append(["2\"", f"  reports included until the mempool drained ({n['included']:,} in {n['blocks']} "
                            f"blocks, largest {n['max_block']}; {n['applied']:,} applied by feed rounds)",
                     f"{n['included_rate']:,.0f} /s", "(reported)", ""])
    out.append(c.table(["#", "measure", "result", "goal", "verdict"], rows))
    if a:
        p = a["parts"]
        us = lambda s: f"{s * 1e6:,.0f}"  # noqa: E731
        cold1 = statistics.median(a["single"]) / a["n"]
        comp = [
            ["check_tx, cold caches (1 thread, the figure of row 1)", us(cold1), f"{1 / cold1:,.0f}"],
            ["  decode_tx + argument checks", us(p["decode"]), f"{1 / p['decode']:,.0f}"],
            ["  Ed25519 signature (check_signature, libsodium)", us(p["ed25519"]), f"{1 / p['ed25519']:,.0f}"],
            ["  BLS FastAggregateVerify, 3 keys, key cache warm", us(p["bls"]), f"{1 / p['bls']:,.0f}"],
            ["  stateful checks + cache lookups (check_tx, every cache warm)", us(p["warm"]), f"{1 / p['warm']:,.0f}"],
            ["  sum of the four", us(p["decode"] + p["ed25519"] + p["bls"] + p["warm"]), ""],
            ["BLS FastAggregateVerify, key cache emptied before each (3 key decompressions)", us(p["bls_cold_keys"]),
             f"{1 / p['bls_cold_keys']:,.0f}"],
            [f"BLS FastAggregateVerify on {args.workers} threads (wall time per report)", us(p["bls_threads"]),
             f"{1 / p['bls_threads']:,.0f}"],
            [f"check_tx on {args.workers} threads, cold caches (wall time per report)",
             us(statistics.median(a["multi"]) / a["n"]), f"{a['rate_n']:,.0f}"],
            ["check_tx with the py_ecc backend, cold caches", us(a["pyecc"]), f"{1 / a['pyecc']:,.2f}"],
        ]
        for size, secs in a["blocks"].items():
            comp.append([f"Chain.produce of a {size}-report block after admission (caches warm; ms / block "
                         f"{secs * 1e3:.1f})", us(secs / size), f"{size / secs:,.0f}"])
        out += ["", c.table(["where the time of one report's admission goes", "us / report", "per second"], comp)]
        out.append("")
        out.append("check_tx rounds, 1 thread: " + ", ".join(f"{a['n'] / s:,.0f}" for s in a["single"])
                   + f" /s; {args.workers} threads: " + ", ".join(f"{a['n'] / s:,.0f}" for s in a["multi"]) + " /s")
        out.append(f"setup: {a['n']} reports signed in {a['t_sign']:.2f} s")
    if n:
        out.append(f"chain_status before the load ({len(n['before'])} probes): p50 {pct(n['before'], 50) * 1e3:.1f} / "
                   f"p99 {pct(n['before'], 99) * 1e3:.1f} ms; probe errors {n['probe_err']}")
        out.append(f"tx_send latency (submitter, up to {args.depth} in flight per operator): p50 "
                   f"{n['send_p50'] * 1e3:.1f} / p99 {n['send_p99'] * 1e3:.1f} ms; longest wait on the nonce window "
                   f"{n['blocked']:.2f} s ({n['polls']} account_get polls); mempool drained "
                   + (f"{n['drain']:.2f} s after the last reply" if n["drain"] is not None else "NOT within 60 s"))
        out.append(f"CPU during the load: node {n['cpu_node']:.2f} cores, submitter {n['cpu_sub']:.2f}, probe "
                   f"{n['cpu_probe']:.2f}; whole machine {n['busy'] * 100:.0f}% busy of {os.cpu_count()} CPUs; "
                   f"load average {n['load'][0]:.2f} -> {n['load'][1]:.2f}")
        out.append(f"setup: node up in {n['t_start']:.2f} s; {n['signed']:,} reports over {n['feeds']} feeds signed in "
                   f"{n['t_sign']:.1f} s")
        if n["errors"]:
            out.append(f"refusals, e.g.: {n['errors'][0]}")
    out.append(f"whole run {time.perf_counter() - t_all:.0f} s; machine {whole.busy * 100:.0f}% busy over it; load "
               f"average at the end {os.getloadavg()[0]:.2f}")
    if a and a["prof"]:
        out += ["", "cProfile of one cold round of check_tx (256 reports, 1 thread; tottime):", "", "```",
                a["prof"], "```"]
    print("\n".join(out))
    return {"rate1": a["rate1"] if a else None, "rate_n": a["rate_n"] if a else None,
            "p99_ms": pct(n["during"], 99) * 1e3 if n else None}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--submitter"]:
        spec = json.loads(sys.stdin.readline())
        sys.stdout.write(json.dumps(submitter(spec, sys.stdin, sys.stdout)) + "\n")
        sys.stdout.flush()
    else:
        main()
