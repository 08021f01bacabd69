"""The wire contract on a live devnet, after transactions of every call (tests/livechain.py):
every method's result is exact in JavaScript (no JSON number above 2^53) and matches its
OpenRPC result schema; parameters are accepted or refused exactly as their schemas say."""

from __future__ import annotations

import pytest

import rpc.server  # noqa: F401  (registers every method in the table)
import rpc.ws  # noqa: F401  (chain_subscribe / chain_unsubscribe)
from rpc.params import METHODS
from tests import livechain
from tests.rpcnode import RpcNode

SAFE = (1 << 53) - 1


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with RpcNode(tmp_path_factory.mktemp("wire") / "home") as node:
        sender = livechain.drive(node)
        yield node, livechain.walk(node, sender)


def _numbers(value, path=""):
    """(path, number) of every JSON number in a value."""
    if type(value) in (int, float):
        yield path, value
    elif type(value) is list:
        for x in value:
            yield from _numbers(x, path + "[]")
    elif type(value) is dict:
        for k, x in value.items():
            yield from _numbers(x, f"{path}.{k}")


def test_the_walk_covers_every_method(live):
    _, results = live
    assert set(METHODS) - livechain.SKIPPED <= set(results), sorted(set(METHODS) - livechain.SKIPPED - set(results))


def test_flaw_no_result_holds_a_json_number_above_2_53(live):
    _, results = live
    big = sorted({(m, p) for m, rs in results.items() if m != "rpc.discover" for r in rs
                  for p, v in _numbers(r) if type(v) is float or abs(v) > SAFE})
    assert big == []
    # the largest expiry reads back exactly
    txs = [t for b in results["chain_getBlock"] for t in b["txs"] if type(t) is dict]
    assert str(livechain.U64_MAX) in {t["expiry"] for t in txs}
    assert all(type(t["nonce"]) is str and type(t["expiry"]) is str for t in txs + results["tx_get"])
