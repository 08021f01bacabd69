"""The pinned CometBFT binary for tests: `make cometbft` builds it; without Go, skip."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from rwachain.node.abci import localnet

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"


def pinned_version() -> str:
    """The release the Makefile pins, e.g. "v0.38.26"."""
    text = (ROOT / "Makefile").read_text()
    return re.search(r"^COMETBFT_VERSION\s*:=\s*(\S+)", text, re.M)[1]


def binary() -> str:
    """Path of the pinned cometbft, built now if missing; skips the test without Go."""
    path, stamp = TOOLS / "cometbft", TOOLS / f".cometbft-{pinned_version()}"
    if not (path.exists() and stamp.exists()):
        if shutil.which("go") is None:
            pytest.skip("go not found: the CometBFT tests need Go 1.22.11+ (make cometbft)")
        subprocess.run(["make", "-s", "cometbft"], cwd=ROOT, check=True)
    return str(path)


def free_port() -> int:
    """A loopback TCP port free now, outside the ephemeral range (node/abci/localnet.py)."""
    return localnet.free_port()
