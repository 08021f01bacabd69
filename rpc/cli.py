"""The rwad console entry: node commands (node/cli.py) served by the JSON-RPC front-end."""

from __future__ import annotations

import sys

from node import cli as node_cli
from rpc.server import serve_rpc


def main(argv: list[str] | None = None) -> int:
    return node_cli.main(argv, frontend=serve_rpc)


if __name__ == "__main__":
    sys.exit(main())
