"""The `rwad` command's entry point: node commands start without loading the client side.

`rwad devnet|start|init` need the node and the RPC server only; importing the client,
keyring, scenario, simulation and export commands as well cost about 50 ms of a devnet's
start (its goal: answering within 0.5 s). Everything else, and any --help, goes through
the full command line of rpc/cli/main.py.
"""

from __future__ import annotations

import sys

NODE_COMMANDS = frozenset({"devnet", "start", "init"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), None)
    if command in NODE_COMMANDS and not any(a in ("-h", "--help") for a in args):
        from rwachain.node import cli as node_cli
        from rwachain.rpc.server.serve import serve_rpc

        return node_cli.main(args, frontend=serve_rpc)
    from rwachain.rpc.cli.main import main as full_main

    return full_main(args)


if __name__ == "__main__":
    sys.exit(main())
