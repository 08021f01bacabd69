"""The stable token's state records store exactly the maps they replace: a stored map read
into its record and written back is the same canonical bytes, and on a real chain the keeper's
records read what the chain stored."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.stable import keeper
from rwachain.modules.stable.records import RecordedRatio, StableToken
from rwachain.state.codec import encode

AMOUNT = st.integers(0, 2**256 - 1)
WAD_OR_NONE = st.none() | st.integers(0, 2**128)


def _same_bytes(cls, stored: dict) -> None:
    rec = cls.from_stored(stored)
    back = rec.to_stored()
    assert back == stored and list(back) == sorted(back)  # canonical order: encode's fast path
    assert encode(back) == encode(stored)
    assert cls.from_stored(back) == rec


@given(st.text(min_size=1, max_size=16), AMOUNT, AMOUNT)
def test_a_stable_token_record_writes_back_the_map_it_was_read_from(denom, attested, minted):
    _same_bytes(StableToken, {"attestedReserve": attested, "custodianMinted": minted, "denom": denom})


@given(WAD_OR_NONE, st.integers(0, 2**64 - 1), st.booleans(), WAD_OR_NONE)
def test_a_recorded_ratio_writes_back_the_map_it_was_read_from(cr, time, fresh, last_fresh):
    _same_bytes(RecordedRatio, {"cr": cr, "fresh": fresh, "lastFresh": last_fresh, "time": time})


def test_the_keeper_reads_the_records_the_chain_stored(d):
    d.block()  # an end-block records the ratio
    ctx = d.ctx
    token, ratio = keeper.info(ctx), keeper.recorded_ratio(ctx)
    assert token.denom == "rusd" and token.to_stored() == ctx.get_obj(keeper.CUSTODIAN)
    assert ratio.time == d.time and ratio.fresh is True and ratio.lastFresh == ratio.cr > 0
    assert ratio.to_stored() == ctx.get_obj(keeper.CR) and keeper.recorded_cr(ctx) == ratio.cr
    assert keeper.has_token(ctx)
