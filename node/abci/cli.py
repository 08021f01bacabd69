"""The ABCI commands of rwad (node/cli.py adds them to its parser):

    rwad abci --home DIR [--port 8545] [--host] [--no-rpc]
                                            serve DIR's chain to CometBFT (its proxy_app), and
                                            the JSON-RPC server beside it
    rwad localnet [--validators 4] --home DIR [--genesis FILE] [--base-port 26600]
                                            write a localnet if DIR has none, then start it
    rwad localnet start|stop|status --home DIR
Without CometBFT (and Go to build it) the localnet commands say so in one line.
"""

from __future__ import annotations

import argparse
import json
import urllib.request

from rwachain.node.abci import localnet
from rwachain.node.abci.serve import serve_home

COMMANDS = ("abci", "localnet")
ACTIONS = ("up", "start", "stop", "status")


def add_commands(sub) -> None:
    p = sub.add_parser("abci", help="serve the chain to CometBFT as an ABCI app",
                       description="Serve DIR's chain (DIR/genesis.json, DIR/data) on the address that "
                                   "DIR/cometbft/config/config.toml's proxy_app names (docs/abci.md).")
    p.add_argument("--home", required=True, help="an ABCI node home (rwad localnet writes them)")
    p.add_argument("--keep-versions", type=int, default=100, help="recent heights kept queryable (default 100)")
    p.add_argument("--port", type=int, default=8545, help="JSON-RPC port (default 8545; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="JSON-RPC address (default 127.0.0.1, loopback only)")
    p.add_argument("--no-rpc", action="store_true", help="serve the app alone, without the JSON-RPC server")
    p = sub.add_parser("localnet", help="a CometBFT localnet of rwachain validators on loopback",
                       description="up (the default): write a localnet into DIR if it holds none, then start "
                                   "every node (an ABCI app and a CometBFT process each); start: resume a "
                                   "stopped one with its data; stop: stop its processes; status: heights.")
    p.add_argument("action", nargs="?", choices=ACTIONS, default="up")
    p.add_argument("--home", required=True, help="the localnet's directory")
    p.add_argument("--validators", type=int, default=4, help="validators of a new localnet (default 4)")
    p.add_argument("--full-nodes", type=int, default=0,
                   help="nodes of a new localnet beyond the validators: they follow without voting (default 0)")
    p.add_argument("--genesis", help="rwachain genesis of a new localnet (default: the devnet genesis, timed "
                                     "now); it must name no validators: the localnet writes them")
    p.add_argument("--base-port", type=int, default=localnet.DEFAULT_BASE_PORT,
                   help=f"node i listens on BASE+10i (CometBFT RPC), +1 (P2P), +2 (app) "
                        f"(default {localnet.DEFAULT_BASE_PORT}; 0: any free ports)")


def run(args: argparse.Namespace, frontend=None) -> int:
    """Run an ABCI command; frontend: the JSON-RPC server `rwad abci` serves beside the app."""
    if args.command == "abci":
        return serve_home(args.home, keep_versions=args.keep_versions, frontend=None if args.no_rpc else frontend,
                          host=args.host, port=args.port)
    try:
        return _localnet(args)
    except localnet.LocalnetError as exc:
        raise SystemExit(f"rwad: {exc}") from None


def _localnet(args: argparse.Namespace) -> int:
    net = args.home
    if args.action == "stop":
        print(f"stopped {localnet.stop(net)} processes of the localnet in {net}")
        return 0
    if args.action == "status":
        print(_status(net))
        return 0
    binary = localnet.find_cometbft()
    if args.action == "up" and not _exists(net):
        localnet.create(net, args.validators, binary, genesis_path=args.genesis, base_port=args.base_port,
                        full_nodes=args.full_nodes)
        print(f"wrote a localnet of {args.validators} validators and {args.full_nodes} full nodes into {net}")
    nodes = localnet.start(net, binary)
    print(f"localnet of {len(nodes)} nodes running (logs: NODE/app.log, NODE/cometbft.log; "
          f"`rwad localnet stop --home {net}` stops it):")
    print(localnet.addresses(nodes))
    return 0


def _exists(net: str) -> bool:
    try:
        localnet.nodes_of(net)
    except localnet.LocalnetError:
        return False
    return True


def _status(net: str) -> str:
    alive = localnet.running(net)
    lines = []
    for n in localnet.nodes_of(net):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{n.ports.rpc}/status", timeout=2) as reply:
                height = json.load(reply)["result"]["sync_info"]["latest_block_height"]
        except (OSError, KeyError, ValueError):
            height = "-"
        procs = ", ".join(sorted(alive.get(n.name, {}))) or "stopped"
        lines.append(f"{n.name}: height {height} ({procs})")
    return "\n".join(lines)
