"""A localnet driven by tests: real CometBFT processes and rwachain ABCI apps on loopback."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

from rwachain.node.abci import localnet
from rwachain.node.abci.app import decode_receipt_query
from tests.cometbft import binary

FAST = {**localnet.h.FAST_CONSENSUS, "timeout_commit": "200ms"}


class Net:
    """n validators written into directory net; start(i), kill(i), and CometBFT RPC reads."""

    def __init__(self, nodes: list[localnet.NodeSpec]):
        self.binary = binary()
        self.nodes = nodes
        self.apps: dict[int, subprocess.Popen] = {}
        self.comets: dict[int, subprocess.Popen] = {}

    @classmethod
    def create(cls, net: str, n: int, full_nodes: int = 0) -> Net:
        """A new localnet of n validators (and full_nodes more nodes) in net, with short
        consensus timeouts."""
        return cls(localnet.create(net, n, binary(), base_port=0, consensus=FAST, full_nodes=full_nodes))

    def start(self, *which: int) -> None:
        """Start the apps, then the CometBFT processes, of the given nodes (default all)."""
        which = which or tuple(range(len(self.nodes)))
        for i in which:
            self.apps[i] = localnet.start_app(self.nodes[i])
        for i in which:
            self.comets[i] = localnet.start_cometbft(self.binary, self.nodes[i])
        for i in which:
            self.wait(lambda i=i: self.rpc(i, "status"), 60, f"node{i}'s CometBFT RPC\n{self.log(i)}")

    def kill(self, i: int, kind: str = "both") -> None:
        """SIGKILL node i's app, its CometBFT, or both; a CometBFT left without its app
        stops on its own (it is killed if it has not within 10 s)."""
        procs = {"app": [self.apps], "cometbft": [self.comets], "both": [self.apps, self.comets]}[kind]
        for table in procs:
            proc = table.pop(i, None)
            if proc is not None:
                proc.kill()
                proc.wait(10)
        if kind == "app" and i in self.comets:
            proc = self.comets.pop(i)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop_cleanly(self, i: int) -> None:
        for table in (self.comets, self.apps):
            proc = table.pop(i, None)
            if proc is not None:
                proc.terminate()
                proc.wait(20)

    def close(self) -> None:
        for i in list(self.comets) + list(self.apps):
            self.kill(i)

    def log(self, i: int) -> str:
        home = self.nodes[i].home
        return (f"--- app.log\n{localnet._tail(home, 'app.log', 1500)}\n"
                f"--- cometbft.log\n{localnet._tail(home, 'cometbft.log', 2500)}")

    # ----- CometBFT's RPC --------------------------------------------------------------
    def rpc(self, i: int, path: str) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.nodes[i].ports.rpc}/{path}", timeout=3) as r:
                return json.load(r).get("result")
        except (OSError, ValueError):
            return None

    def height(self, i: int) -> int:
        status = self.rpc(i, "status")
        return int(status["sync_info"]["latest_block_height"]) if status else -1

    def query(self, i: int, path: str, data: bytes = b"", height: int = 0) -> dict | None:
        q = urllib.parse.urlencode({"path": json.dumps(path), "data": "0x" + data.hex(), "height": height})
        res = self.rpc(i, f"abci_query?{q}")
        return None if res is None else res["response"]

    def root(self, i: int, height: int) -> bytes | None:
        """Node i's app's state root after block `height`."""
        res = self.query(i, "/root", height=height)
        if res is None or res.get("code"):
            return None
        return base64.b64decode(res.get("value") or "")

    def receipt(self, i: int, tx_hash: bytes) -> dict | None:
        res = self.query(i, "/receipt", tx_hash)
        if res is None or res.get("code"):
            return None
        return decode_receipt_query(base64.b64decode(res["value"]))

    def jsonrpc(self, i: int, method: str, params=None):
        """rwachain's JSON-RPC on node i: the result, or {"error": ...} when refused."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.nodes[i].ports.jsonrpc}", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            reply = json.load(r)
        return {"error": reply["error"]} if "error" in reply else reply["result"]

    def send(self, i: int, raw: bytes) -> dict:
        return self.rpc(i, f"broadcast_tx_sync?tx=0x{raw.hex()}")

    def wait(self, what, timeout: float = 60.0, message: str = ""):
        """Poll what() until it is truthy; its value. AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = what()
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting: {message}")
            time.sleep(0.1)

    def wait_height(self, i: int, height: int, timeout: float = 60.0) -> int:
        return self.wait(lambda: self.height(i) >= height and self.height(i), timeout,
                         f"node{i} at height {height} (it is at {self.height(i)})\n{self.log(i)}")

    def backup_data(self, i: int, dest: str) -> None:
        shutil.copytree(self.nodes[i].home + "/data", dest)

    def restore_data(self, i: int, src: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.nodes[i].home + "/data")
        shutil.copytree(src, self.nodes[i].home + "/data")
