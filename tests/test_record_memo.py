"""Decoded state records are shared: Ctx.get_record and iter_records keep the record of a
stored value (modules/core/context.py, _memo_record) and hand the same object to every
later read of the same bytes. That is sound only while a record cannot be changed once
built, however deep one looks: these tests hold every record type to it, statically and
on every record the shipped scenarios read, and check that sharing changes no result."""

from __future__ import annotations

import dataclasses
import glob
import importlib
import os
import pkgutil
import re
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType

import pytest

import rwachain.modules as modules_pkg
from rwachain.genesis.scenario import files as S
from rwachain.genesis.scenario.local import LocalBackend
from rwachain.genesis.sim import simulate
from rwachain.modules.core import context
from rwachain.modules.insurance.records import EraEnd, Stake
from rwachain.state.codec import encode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "genesis", "scenarios", "*.json")))
_SCALARS = (int, bool, bytes, str, Fraction, type(None))


def deeply_immutable(v) -> bool:
    """Whether nothing reachable from v can be changed in place."""
    t = type(v)
    if t in _SCALARS:
        return True
    if t in (tuple, frozenset):
        return all(deeply_immutable(x) for x in v)
    if t is MappingProxyType:
        return all(deeply_immutable(k) and deeply_immutable(x) for k, x in v.items())
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return v.__dataclass_params__.frozen and all(
            deeply_immutable(getattr(v, f.name)) for f in dataclasses.fields(v))
    return False


def stored_record_types() -> list[type]:
    """Every record type of every module's records.py that is read from the state."""
    out = []
    for info in pkgutil.iter_modules(modules_pkg.__path__):
        try:
            mod = importlib.import_module(f"{modules_pkg.__name__}.{info.name}.records")
        except ModuleNotFoundError:
            continue
        out += [c for c in vars(mod).values() if isinstance(c, type) and c.__module__ == mod.__name__
                and dataclasses.is_dataclass(c) and hasattr(c, "from_stored")]
    return out


def test_no_stored_record_type_declares_a_mutable_field():
    types = stored_record_types()
    assert len(types) >= 25, [t.__name__ for t in types]
    mutable = re.compile(r"\b(dict|list|set|bytearray)\b")
    bad = [f"{t.__module__}.{t.__name__}.{f.name}: {f.type}" for t in types
           for f in dataclasses.fields(t) if mutable.search(str(f.type))]
    assert not bad
    assert all(t.__dataclass_params__.frozen for t in types)


@pytest.fixture
def every_read(monkeypatch):
    """Every record the memo builds, with no size left out of it."""
    built: list = []

    @lru_cache(maxsize=context.RECORD_MEMO_ENTRIES)
    def spy(record_type, raw):
        rec = record_type.from_stored(context.decode_stored(raw))
        built.append(rec)
        return rec

    monkeypatch.setattr(context, "_memo_record", spy)
    monkeypatch.setattr(context, "RECORD_MEMO_MAX_BYTES", 1 << 30)
    return built


def _replay(path):
    sc = S.load(path)
    b = LocalBackend(sc, None)
    try:
        r = S.replay(sc, b).to_json()
    finally:
        b.close()
    for timing in ("seconds", "stepsPerSecond"):
        del r["metrics"][timing]
    return r


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: os.path.basename(p)[:-5])
def test_every_record_the_scenarios_read_is_deeply_immutable(path, every_read):
    _replay(path)
    assert every_read
    bad = [r for r in every_read if not deeply_immutable(r)]
    assert not bad, bad[:3]


def test_every_record_a_simulation_reads_is_deeply_immutable(every_read):
    """A seeded random run reaches the records the scenarios do not: claims, slashes,
    bonded snapshots, proposals."""
    assert simulate.run(simulate.SimConfig(seed=1, blocks=800)).failure is None
    assert {"Claim", "Slash", "Bonded", "Proposal", "Stake", "Order"} <= {type(r).__name__ for r in every_read}
    bad = [r for r in every_read if not deeply_immutable(r)]
    assert not bad, bad[:3]


def test_the_scenarios_read_stakes_and_shared_records(every_read):
    for p in SCENARIOS:
        _replay(p)
    names = {type(r).__name__ for r in every_read}
    assert {"Asset", "Pool", "FeedState", "Stake"} <= names


def test_sharing_records_changes_no_result(monkeypatch):
    shared = [_replay(p) for p in SCENARIOS]
    monkeypatch.setattr(context, "RECORD_MEMO_MAX_BYTES", -1)  # every read decodes anew
    assert [_replay(p) for p in SCENARIOS] == shared


def test_a_stakes_maps_cannot_be_changed_in_place():
    raw = encode({"era": 1, "gen": 0, "held": 5, "owed": {"USDX": 3}, "shares": 5, "since": 0,
                  "snap": {"USDX": 7}})
    rec = context.record_of(Stake, raw)
    assert context.record_of(Stake, raw) is rec  # shared
    with pytest.raises(TypeError):
        rec.owed["USDX"] = 10**9
    with pytest.raises(TypeError):
        context.record_of(EraEnd, encode({"index": {"USDX": 1}, "slashes": 0})).index["USDX"] = 2
    assert encode(rec.to_stored()) == raw


def test_a_long_value_is_decoded_on_every_read_and_not_kept():
    raw = encode({"era": 0, "gen": 0, "held": 1, "owed": {}, "shares": 1, "since": 0,
                  "snap": {f"D{i:04}": i for i in range(200)}})
    assert len(raw) > context.RECORD_MEMO_MAX_BYTES
    a, b = context.record_of(Stake, raw), context.record_of(Stake, raw)
    assert a == b and a is not b


def test_operations_doc_states_the_memos_bound():
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        text = " ".join(f.read().split())
    assert f"at most {context.RECORD_MEMO_ENTRIES:,} records" in text
    assert f"at most {context.RECORD_MEMO_MAX_BYTES // 1024} KiB" in text
