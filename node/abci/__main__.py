"""python -m rwachain.node.abci --home DIR: the ABCI app process of a localnet node."""

from __future__ import annotations

import argparse
import logging

from rwachain.node.abci.serve import serve_home

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="rwachain.node.abci", description="Serve DIR's chain to CometBFT.")
    parser.add_argument("--home", required=True)
    parser.add_argument("--keep-versions", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(serve_home(args.home, keep_versions=args.keep_versions))
