"""A real node in a subprocess for integration tests: `rwad devnet` on a free port.

    with RpcNode(tmp_path) as node:        # starts, waits until it answers
        node.call("chain_status")          # JSON-RPC over HTTP; returns result or raises
        node.raw_call(...)                 # the whole response object
        node.kill(); node.start()          # SIGKILL and restart on the same --home
    node = node_fixture("name", *args)     # one node for a whole test file (a fixture)
    rwad("keys", "list", env={...})        # any rwad command as a subprocess
    client_ports(node.port)                # local ports of this machine's TCP connections to it
    open_connections(node.port)            # the node's own count (/metrics)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RWAD = [sys.executable, "-m", "rwachain.rpc.cli"]
_READY = re.compile(r"JSON-RPC listening on http://[^:]+:(\d+)")


class RpcError(Exception):
    def __init__(self, error: dict):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class RpcNode:
    def __init__(self, home, *args: str, mining: str = "auto", genesis: str | None = None, preexec_fn=None):
        self.home = str(home)
        self.args = list(args)
        self.mining = mining
        self.genesis = genesis
        self.preexec_fn = preexec_fn  # run in the child before exec (e.g. to set resource limits)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> RpcNode:
        cmd = RWAD + ["devnet", "--home", self.home, "--port", "0", "--mining", self.mining, *self.args]
        if self.genesis:
            cmd += ["--genesis", self.genesis]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     preexec_fn=self.preexec_fn, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("node exited early:\n" + "".join(self.output))
            self.output.append(line)
            m = _READY.search(line)
            if m:
                self.port = int(m.group(1))
                self._drain()
                return self
        raise RuntimeError("node did not become ready:\n" + "".join(self.output))

    def _drain(self) -> None:
        """Keep reading the node's output (into .output) so it never blocks on a full pipe."""
        proc = self.proc

        def run():
            try:
                for line in proc.stdout:
                    self.output.append(line)
            except (ValueError, OSError):
                pass

        threading.Thread(target=run, daemon=True).start()

    def raw_call(self, method: str, params=None, *, id_=1, timeout: float = 30.0) -> dict:
        body = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            body["params"] = params
        return self.post(json.dumps(body).encode(), timeout=timeout)

    def post(self, data: bytes, *, timeout: float = 30.0) -> dict | list | None:
        req = urllib.request.Request(self.url, data, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def call(self, method: str, params=None, **kw):
        resp = self.raw_call(method, params, **kw)
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: the graceful path."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode if self.proc else 0

    def __enter__(self) -> RpcNode:
        return self.start()

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            if self.proc and self.proc.stdout:
                self.proc.stdout.close()


def node_fixture(name: str, *args: str, mining: str = "auto"):
    """A module-scoped fixture: one RpcNode (`rwad devnet` with args) for every test of a file,
    in a fresh home under pytest's temporary directory. Use as `node = node_fixture("x")`."""

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        with RpcNode(tmp_path_factory.mktemp(name) / "home", *args, mining=mining) as n:
            yield n

    return fixture


def rwad(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`rwad args` as a subprocess from the repository root: output captured as text, no
    stdin; env adds to (or, with None values, removes from) this process's environment."""
    full = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run(RWAD + list(args), cwd=ROOT, env=full, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def client_ports(port: int, established_only: bool = False) -> set[int]:
    """Local ports of this machine's IPv4 TCP connections to 127.0.0.1:port, as the kernel
    lists them (/proc/net/tcp, Linux): open ones, and unless established_only also those a
    client closed lately (TIME_WAIT, for a minute), so that a new connection always shows."""
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, remote, state = line.split()[1:4]
            if int(remote.split(":")[1], 16) == port and (state == "01" or not established_only):
                ports.add(int(local.split(":")[1], 16))
    return ports


def open_connections(port: int) -> int:
    """The RPC connections the node on port counts as open (/metrics), this request's own included."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return int(re.search(r"^rwachain_rpc_connections (\d+)$", text, re.M).group(1))
