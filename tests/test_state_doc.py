"""docs/state.md lists every key the application writes: a chain run through every call
(the seeded simulation, on a real LevelDB store) and the devnet genesis write only keys
under the prefixes of its tables; each prefix is one the code uses; the worked example
proves a real balance."""

from __future__ import annotations

import pathlib
import re

import pytest

from rwachain.genesis import devnet
from rwachain.genesis.sim import simulate as sim
from rwachain.state.codec import decode_stored
from rwachain.state.proof import verify_proof
from rwachain.state.store import UNDO
from tests.mech import devnet_chain_at

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "state.md").read_text()
PREFIXES = [p.encode() for p in re.findall(r"^\| `([^`]+)` \|", TEXT, re.M)]


def _undo_keys(store) -> set[bytes]:
    raw = store.db.get(UNDO + store.version.to_bytes(8, "big"))
    return {k for k, _ in decode_stored(raw)} if raw else set()


@pytest.fixture(scope="module")
def written() -> set[bytes]:
    """Every key a simulated run changed in any block, plus its genesis and the devnet's."""
    keys: set[bytes] = set()

    def on_block(block, now, steps, result, ctx):
        if block == 1:
            keys.update(k for k, _ in ctx.state.iter_prefix(b""))
        keys.update(_undo_keys(ctx.state))

    weights = {**sim.DEFAULT_WEIGHTS, "governance.pause": 4}
    res = sim.run(sim.SimConfig(seed=7, blocks=300, weights=weights), on_block=on_block)
    assert res.failure is None
    called = {c for c, outcomes in res.stats.items() if outcomes.get("ok")}
    assert len(called) >= 20, sorted(called)
    return keys


@pytest.fixture(scope="module")
def cascade_keys(tmp_path_factory) -> set[bytes]:
    """Every key of the default-cascade scenario's chain (slashes, covers, recoveries)."""
    from rwachain.genesis.scenario.local import run_file
    from rwachain.state.store import Store

    d = tmp_path_factory.mktemp("cascade")
    run_file(str(ROOT / "genesis" / "scenarios" / "default-cascade.json"), str(d), check_root=False)
    store = Store(str(d / "state.ldb"))
    keys = {k for k, _ in store.iter_prefix(b"")}
    store.close()
    return keys


@pytest.fixture(scope="module")
def devnet_chain_keys(tmp_path_factory):

    chain = devnet_chain_at(tmp_path_factory.mktemp("state-doc") / "chain")
    yield chain
    chain.close()


def test_flaw_every_written_key_is_under_a_documented_prefix(written, cascade_keys, devnet_chain_keys):
    keys = written | cascade_keys | {k for k, _ in devnet_chain_keys.store.iter_prefix(b"")}
    undocumented = sorted({k[:24] for k in keys if not any(k.startswith(p) for p in PREFIXES)})
    assert undocumented == []
    used = {p for p in PREFIXES if any(k.startswith(p) for k in keys)}
    assert len(used) >= 0.8 * len(PREFIXES), sorted(set(PREFIXES) - used)


def test_every_documented_prefix_is_one_the_code_uses():
    code = "\n".join(p.read_text() for p in (ROOT / "modules").rglob("*.py"))
    for p in PREFIXES:
        assert f'b"{p.decode()}"' in code, p
    # no catch-all: a module's bare prefix is documented only where the module has no other key
    for p in PREFIXES:
        assert not any(q != p and q.startswith(p) for q in PREFIXES), p


def test_the_worked_example_proves_a_real_balance(devnet_chain_keys):
    key_hex = re.search(r'state_get` with `\{"key": "0x([0-9a-f]+)"\}', TEXT)[1]
    value_hex = re.search(r'"value": "0x([0-9a-f]+)"', TEXT)[1]
    key, value = bytes.fromhex(key_hex), bytes.fromhex(value_hex)
    alice = devnet.dev_keys()[0]
    assert key == b"bank/bal/" + alice.address + b"rwa" and alice.address_text in TEXT
    got, proof, root = devnet_chain_keys.app.query(key)
    assert got == value and verify_proof(root, key, value, proof)
    assert decode_stored(value) == 10**12
