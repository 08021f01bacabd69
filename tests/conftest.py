"""Shared fixtures and the hypothesis profiles (HYPOTHESIS_PROFILE=ci|dev|thorough)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def devnet_chain(tmp_path):
    """A fresh chain on the embedded devnet genesis, in a real LevelDB directory."""
    from tests.mech import devnet_chain_at

    chain = devnet_chain_at(tmp_path / "chain")
    yield chain
    chain.close()


@pytest.fixture
def d(devnet_chain):
    """A Driver (tests/mech.py) on the fresh devnet chain: signed calls, blocks at chosen times."""
    from tests.mech import Driver

    return Driver(devnet_chain)


@pytest.fixture
def dev_keys():
    from rwachain.genesis import devnet

    return devnet.dev_keys()


@pytest.fixture
def scenario():
    """Replay a scenario file as a test: scenario(path) replays it in process over a real
    LevelDB chain in a throwaway directory and returns its Result; an unmet expectation, a
    broken invariant or a state root other than the file's raises (genesis/scenario/files.py)."""
    from rwachain.genesis.scenario.local import run_file

    return lambda path, **kw: run_file(str(path), **kw)
