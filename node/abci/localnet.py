"""A localnet: N validators on loopback, each a CometBFT process and an rwachain ABCI app.

    NET/localnet.json        the nodes, their ports, and the process ids of the running ones
    NET/node<i>/             one ABCI home each (node/abci/home.py): the same rwachain
                             genesis, CometBFT's keys and config, app.log and cometbft.log
The localnet makes every node's CometBFT keys and writes the first N as the rwachain
genesis's "validators" (power 10 each; a given genesis must name none); every CometBFT
genesis is written from that set, and every node has the others as persistent peers.
Nodes beyond the N validators (full_nodes) follow the chain without voting, until a
governance change (setValidator) gives one power. Ports are base + 10 i + (0: CometBFT RPC, 1: P2P, 2: the app,
3: rwachain's JSON-RPC). Each app is `rwad abci --home NET/node<i> --port <JSON-RPC port>`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time as _time
from dataclasses import dataclass

from rwachain.genesis import devnet
from rwachain.node.abci import home as h

LOCALNET_FILE = "localnet.json"
DEFAULT_BASE_PORT = 26600
START_TIMEOUT = 60.0  # s an app may take to listen
STOP_TIMEOUT = 10.0  # s a process has to stop on SIGTERM before SIGKILL
TOOLS_BIN = pathlib.Path(__file__).resolve().parents[2] / ".tools" / "bin"  # where `make cometbft` installs
KINDS = ("cometbft", "app")  # stopped in this order: consensus first, then its app


class LocalnetError(Exception):
    """A localnet that cannot be made, started or stopped; the message says why."""


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    home: str
    ports: h.Ports

    def to_obj(self) -> dict:
        return {"name": self.name, "home": self.home, "ports": dataclasses.asdict(self.ports)}

    @classmethod
    def from_obj(cls, o: dict) -> NodeSpec:
        return cls(o["name"], o["home"], h.Ports(**o["ports"]))


def find_cometbft() -> str:
    """The cometbft binary: $RWACHAIN_COMETBFT, the project's .tools/bin (make cometbft),
    or one on PATH; LocalnetError in one line when there is none."""
    given = os.environ.get("RWACHAIN_COMETBFT")
    for path in (given, str(TOOLS_BIN / "cometbft"), shutil.which("cometbft")):
        if path and os.access(path, os.X_OK):
            return path
    if shutil.which("go") is None:
        raise LocalnetError("cometbft not found and go not found: the localnet needs CometBFT, built by "
                            "`make cometbft` with Go 1.22.11+ (https://go.dev/dl)")
    raise LocalnetError("cometbft not found: build it with `make cometbft` (or set RWACHAIN_COMETBFT)")


FREE_PORT_LOW = 10_000
"""The lowest port free_port picks."""


def ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (outgoing connections' local ports)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A loopback TCP port free now and not in taken, picked below the ephemeral range when
    there is room: a port picked inside it can be taken as the local end of an outgoing
    connection (the nodes' own dials to each other among them) before its node binds it."""
    top = ephemeral_low()
    for _ in range(100 if top > FREE_PORT_LOW else 0):
        port = FREE_PORT_LOW + secrets.randbelow(top - FREE_PORT_LOW)
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    for _ in range(1000):  # no room below the range: a port the kernel gives
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port
    raise LocalnetError("no free loopback port found")


def _ports(i: int, base_port: int, taken: set[int]) -> h.Ports:
    """Node i's four ports; with base_port 0, free ones that no other node of the net has
    (taken: the net's ports so far, grown by these)."""
    if base_port == 0:
        ports = []
        for _ in range(4):
            ports.append(free_port(taken))
            taken.add(ports[-1])
        return h.Ports(*ports)
    return h.Ports(*(base_port + 10 * i + k for k in range(4)))


def create(net: str, validators: int, binary: str, *, genesis_path: str | None = None,
           base_port: int = DEFAULT_BASE_PORT, consensus: dict | None = None, now: int | None = None,
           full_nodes: int = 0) -> list[NodeSpec]:
    """Write a localnet of `validators` validators and `full_nodes` more nodes into net
    (which must not hold one): CometBFT keys, the rwachain genesis (genesis_path, or the
    devnet genesis timed now) naming the validators' keys, in every home, and CometBFT's
    genesis written from it; configs with peers and ports."""
    if not 1 <= validators <= 64 or not 0 <= full_nodes <= 64:
        raise LocalnetError("--validators must be between 1 and 64 (and full nodes between 0 and 64)")
    if os.path.exists(os.path.join(net, LOCALNET_FILE)):
        raise LocalnetError(f"{net} already holds a localnet: `rwad localnet start --home {net}` resumes it")
    os.makedirs(net, exist_ok=True)
    shared = os.path.join(net, h.GENESIS)
    if genesis_path:
        shutil.copyfile(genesis_path, shared)
    else:
        devnet.write(shared, int(_time.time()) if now is None else now)
    with open(shared) as f:
        rwa = json.load(f)
    if "validators" in rwa:
        raise LocalnetError("the genesis names validators: a localnet makes its validators' keys and names "
                            "them itself (remove \"validators\")")
    taken: set[int] = set()
    nodes = [NodeSpec(f"node{i}", os.path.abspath(os.path.join(net, f"node{i}")), _ports(i, base_port, taken))
             for i in range(validators + full_nodes)]
    for node in nodes:
        os.makedirs(node.home, exist_ok=True)
        h.comet_init(binary, node.home)
    voting = nodes[:validators]
    rwa["validators"] = h.rwa_validators([h.validator_pubkey(n.home) for n in voting], [n.name for n in voting])
    with open(shared, "w") as f:
        json.dump(rwa, f, indent=1)
    peers = {n.name: f"{h.node_id(n.home)}@127.0.0.1:{n.ports.p2p}" for n in nodes}
    for node in nodes:
        shutil.copyfile(shared, os.path.join(node.home, h.GENESIS))
        h.write_comet_genesis(node.home, rwa)
        h.configure(node.home, node.name, node.ports, [p for name, p in peers.items() if name != node.name],
                    consensus)
    _save(net, {"validators": validators, "fullNodes": full_nodes, "nodes": [n.to_obj() for n in nodes],
                "pids": {}})
    return nodes


def _load(net: str) -> dict:
    try:
        with open(os.path.join(net, LOCALNET_FILE)) as f:
            return json.load(f)
    except OSError:
        raise LocalnetError(f"{net} holds no localnet: `rwad localnet --validators 4 --home {net}` makes one") from None


def _save(net: str, doc: dict) -> None:
    tmp = os.path.join(net, LOCALNET_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, os.path.join(net, LOCALNET_FILE))


def nodes_of(net: str) -> list[NodeSpec]:
    return [NodeSpec.from_obj(o) for o in _load(net)["nodes"]]


# ----- processes -------------------------------------------------------------------------
def _spawn(command: list[str], log_path: str) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def start_app(node: NodeSpec) -> subprocess.Popen:
    """Start node's app (`rwad abci`, with its JSON-RPC) and wait until it listens."""
    proc = _spawn([sys.executable, "-m", "rwachain.rpc.cli", "abci", "--home", node.home,
                   "--port", str(node.ports.jsonrpc)], os.path.join(node.home, "app.log"))
    deadline = _time.monotonic() + START_TIMEOUT
    while not (_listening(node.ports.app) and _listening(node.ports.jsonrpc)):
        if proc.poll() is not None or _time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise LocalnetError(f"{node.name}'s app did not start; its log ends: {_tail(node.home, 'app.log')}")
        _time.sleep(0.05)
    return proc


def start_cometbft(binary: str, node: NodeSpec) -> subprocess.Popen:
    return _spawn([binary, "start", "--home", h.comet_home(node.home)], os.path.join(node.home, "cometbft.log"))


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(home: str, name: str, chars: int = 600) -> str:
    try:
        return pathlib.Path(home, name).read_text(errors="replace")[-chars:].strip()
    except OSError:
        return "(no log)"


def _alive(pid: int, home: str) -> bool:
    """Whether pid runs a localnet process of home (not a recycled pid, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return home.encode() in f.read()
    except (OSError, IndexError):
        return False


def running(net: str) -> dict[str, dict[str, int]]:
    """{node name: {kind: pid}} of the localnet's processes that still run."""
    doc = _load(net)
    homes = {o["name"]: o["home"] for o in doc["nodes"]}
    return {name: {k: pid for k, pid in pids.items() if _alive(pid, homes[name])}
            for name, pids in doc.get("pids", {}).items()}


def start(net: str, binary: str) -> list[NodeSpec]:
    """Start every node's processes that are not running (apps first, then CometBFT);
    their ids go to localnet.json. A node resumes with its data."""
    nodes = nodes_of(net)
    alive = running(net)
    pids = {n.name: dict(alive.get(n.name, {})) for n in nodes}
    try:
        for n in nodes:
            if "app" not in pids[n.name]:
                pids[n.name]["app"] = start_app(n).pid
        for n in nodes:
            if "cometbft" not in pids[n.name]:
                pids[n.name]["cometbft"] = start_cometbft(binary, n).pid
    finally:
        doc = _load(net)
        doc["pids"] = pids
        _save(net, doc)
    return nodes


def stop(net: str) -> int:
    """Stop the localnet's processes (SIGTERM, then SIGKILL after STOP_TIMEOUT); how many."""
    doc = _load(net)
    homes = {o["name"]: o["home"] for o in doc["nodes"]}
    stopped = 0
    for kind in KINDS:
        for name, pids in doc.get("pids", {}).items():
            pid = pids.get(kind)
            if pid is not None and _alive(pid, homes[name]):
                terminate(pid, homes[name])
                stopped += 1
    doc["pids"] = {}
    _save(net, doc)
    return stopped


def terminate(pid: int, home: str) -> None:
    """SIGTERM pid, and SIGKILL it if it still runs after STOP_TIMEOUT."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = _time.monotonic() + STOP_TIMEOUT
    while _alive(pid, home) and _time.monotonic() < deadline:
        _time.sleep(0.05)
    if _alive(pid, home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def addresses(nodes: list[NodeSpec]) -> str:
    """One line per node: its JSON-RPC, CometBFT RPC, P2P and ABCI addresses and its home."""
    return "\n".join(f"{n.name}: JSON-RPC http://127.0.0.1:{n.ports.jsonrpc}  CometBFT RPC http://127.0.0.1:"
                     f"{n.ports.rpc}  P2P tcp://127.0.0.1:{n.ports.p2p}  app tcp://127.0.0.1:{n.ports.app}  "
                     f"home {n.home}" for n in nodes)
