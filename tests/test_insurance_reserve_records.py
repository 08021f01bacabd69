"""The insurance fund's and the reserve's state records (modules/insurance/records.py,
modules/reserve/records.py): each record's stored map is the one its genesis section
declares, and a stored map read into its record and written back is the same bytes,
already in canonical order (state/codec.py packs it without rebuilding it)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.insurance import genesis as insurance
from rwachain.modules.insurance import keeper as insurance_keeper
from rwachain.modules.insurance.records import (
    Bonded,
    Claim,
    EraEnd,
    Fund,
    Slash,
    Snapshot,
    Stake,
    read_only,
)
from rwachain.modules.reserve import genesis as reserve
from rwachain.modules.reserve.records import Budget, PayoutCap, RedeemLimit, Redemption
from rwachain.state.codec import encode, encode_shaped

RECORDS = [(insurance, "fund", Fund), (insurance, "stakes", Stake), (insurance, "slashes", Slash),
           (insurance, "claims", Claim), (insurance, "eras", EraEnd), (insurance, "snapshots", Snapshot),
           (insurance, "voteLog", Bonded), (reserve, "epoch", Budget), (reserve, "native", RedeemLimit),
           (reserve, "treasury", PayoutCap), (reserve, "redemptions", Redemption)]
INTS = st.integers(0, 2**256 - 1)
DENOMS = st.text("abcdefghijklmnopqrstuvwxyz/0123456789", min_size=1, max_size=12)


def _declared(module, name: str) -> dict:
    return next(r for r in module.GENESIS if r.name == name).value


def _shape(shape) -> st.SearchStrategy:
    """Values of a declared field shape (modules/core/records.py), as state stores them."""
    if shape == "int":
        return INTS
    if shape == "addr":
        return st.binary(min_size=20, max_size=20)
    assert isinstance(shape, tuple) and shape[0] == "map", shape  # the shapes these records use
    return st.dictionaries(DENOMS, _shape(shape[1]), max_size=4)


def _stored(module, name: str) -> st.SearchStrategy:
    return st.fixed_dictionaries({f: _shape(s) for f, s in _declared(module, name).items()})


def _read(cls, v: dict):
    return cls.from_stored(7, v) if cls is Redemption else cls.from_stored(v)


@pytest.mark.parametrize(("module", "name", "cls"), RECORDS, ids=[r[1] for r in RECORDS])
@given(data=st.data())
def test_a_stored_record_reads_and_writes_back_to_the_same_bytes(module, name, cls, data):
    v = data.draw(_stored(module, name))
    out = _read(cls, v).to_stored()
    assert list(out) == sorted(_declared(module, name))  # the declared fields, in canonical order
    assert encode(out) == encode(v)


def test_records_from_before_a_field_read_as_they_did():
    """An absent fund is all zeros; a staker's record from before eras, slash tracking and
    snapshots reads with era, gen and since 0 and held None (the keeper counts its shares)."""
    assert insurance_keeper.EMPTY_FUND == Fund.from_stored({}) == Fund(0, 0, 0, 0, 0, 0)
    old = Stake.from_stored({"shares": 5, "snap": {"rwa": 1}, "owed": {}})
    assert (old.era, old.held, old.gen, old.since) == (0, None, 0, 0)


_DENOMS = st.sampled_from(["rusd", "rwa", "unit/p1/t0", "unit/p2/t1"])
_SMALL = st.integers(0, (1 << 63) - 1)  # packed as they are, not through the canonical walk


@given(st.dictionaries(_DENOMS, _SMALL), st.dictionaries(_DENOMS, _SMALL), st.dictionaries(_DENOMS, _SMALL))
def test_flaw_a_stake_settled_on_a_new_denomination_is_stored_in_key_order(snap, owed, idx):
    """A staker whose snapshot holds only rwa meets a rusd index (a market fee): settling
    added rusd after rwa, and put_record packed the map as it was, so the stake was stored
    out of key order (not the canonical bytes an export re-imports or a client re-encodes)."""
    rec = Stake(5, read_only(snap), read_only(owed), 0, 5, 0, 0)
    for r in (rec, insurance_keeper.settle(rec, dict(sorted(idx.items())))):
        m = r.to_stored()
        assert encode_shaped(m) == encode(m)
        assert all(list(m[f]) == sorted(m[f]) for f in ("snap", "owed"))
    end = EraEnd(read_only(dict(reversed(sorted(idx.items())))), 0).to_stored()
    assert encode_shaped(end) == encode(end)


def test_flaw_the_example_stake_of_two_denominations():
    rec = Stake(10**6, read_only({"rwa": 1}), read_only({}), 0, 10**6, 0, 0)
    m = insurance_keeper.settle(rec, {"rusd": 10**15, "rwa": 2 * 10**15}).to_stored()
    assert list(m["snap"]) == ["rusd", "rwa"] and encode_shaped(m) == encode(m)
