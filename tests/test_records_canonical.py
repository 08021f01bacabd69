"""Records are written without the canonical-shape walk (Ctx.put_record packs a record's
to_stored() map as it is). That is sound only while every to_stored() builds a canonical
map: keys in ascending order, allowed types only. After every shipped scenario, every value
in the state decodes through the strict decoder (which re-encodes and refuses any other
bytes), and every record type re-encodes to the same bytes by both encoders."""

from __future__ import annotations

import glob
import os

import pytest

from rwachain.genesis.scenario import files as S
from rwachain.genesis.scenario.local import LocalBackend
from rwachain.state.codec import decode, decode_stored, encode, encode_shaped

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "genesis", "scenarios", "*.json")))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: os.path.basename(p)[:-5])
def test_every_stored_value_is_canonical_after_each_scenario(path):
    sc = S.load(path)
    b = LocalBackend(sc, None)
    try:
        S.replay(sc, b)
        values = list(b.chain.store.iter_prefix(b""))
    finally:
        b.close()
    assert len(values) > 100
    for key, raw in values:
        decode(raw)  # raises NonCanonical for any non-canonical bytes
        value = decode_stored(raw)
        assert encode_shaped(value) == encode(value) == raw, key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_record_a_simulation_writes_is_packed_canonically(seed, monkeypatch):
    """Every record any random operation or attack writes (stakes and claims, slashes,
    proposals, orders, redemptions...) packs to the bytes the canonical encoder gives."""
    from rwachain.genesis.sim import simulate
    from rwachain.modules.core.context import Ctx

    put = Ctx.put_record
    written: dict[str, int] = {}

    def checked(self, key, record):
        m = record.to_stored()
        assert encode_shaped(m) == encode(m), (key, record)
        written[type(record).__name__] = written.get(type(record).__name__, 0) + 1
        put(self, key, record)

    monkeypatch.setattr(Ctx, "put_record", checked)
    assert simulate.run(simulate.SimConfig(seed=seed, blocks=600)).failure is None
    assert {"Stake", "Pool", "Order", "Proposal"} <= set(written), written
