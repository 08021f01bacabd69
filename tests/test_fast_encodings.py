"""The shortcut encoders and decoders agree with the general codec, byte for byte.

- modules.tx._split_envelope reads a signed transaction's outer array by hand: on every
  byte string it either returns exactly what the strict decoder returns, or steps aside
  (None) and leaves the verdict to it; it steps aside only for envelopes it does not model.
- modules.app.encode_receipt packs receipts without the shape walk when their events are
  what Context.emit builds; on any receipt (unsorted attributes, nested values, big
  integers, odd events) its bytes are those of codec.encode.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rwachain.modules.core.app import Receipt, encode_receipt
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.tx import _split_envelope
from rwachain.state.codec import NonCanonical, decode, encode

bodies = st.one_of(st.binary(max_size=300), st.integers(250, 70_000).map(lambda n: b"\x07" * n))
signatures = st.one_of(st.binary(min_size=64, max_size=64), st.binary(max_size=70))


def _strict(raw: bytes):
    try:
        return decode(raw)
    except NonCanonical:
        return None


@given(bodies, signatures)
def test_split_envelope_reads_every_modelled_envelope(body, sig):
    got = _split_envelope(encode([body, sig]))
    if len(sig) == 64 and len(body) < 1 << 16:
        assert got == (body, sig)
    else:
        assert got is None


@given(bodies, st.binary(min_size=64, max_size=64), st.data())
def test_split_envelope_never_accepts_what_decode_refuses(body, sig, data):
    raw = bytearray(encode([body, sig]))
    edit = data.draw(st.sampled_from(["flip", "cut", "grow", "none"]))
    if edit == "flip":
        i = data.draw(st.integers(0, min(len(raw) - 1, 8)) | st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    elif edit == "cut":
        del raw[data.draw(st.integers(0, len(raw) - 1)):]
    elif edit == "grow":
        raw += data.draw(st.binary(min_size=1, max_size=3))
    raw = bytes(raw)
    got = _split_envelope(raw)
    if got is not None:
        assert _strict(raw) == list(got)


@given(st.binary(max_size=12))
def test_split_envelope_on_short_or_foreign_bytes(raw):
    got = _split_envelope(raw)
    assert got is None or _strict(raw) == list(got)


attr_values = st.one_of(st.integers(), st.integers(min_value=1 << 64, max_value=1 << 80),
                        st.text(max_size=6), st.binary(max_size=6), st.booleans(), st.none(),
                        st.lists(st.integers(0, 9), max_size=2),
                        st.dictionaries(st.sampled_from(["b", "a"]), st.integers(0, 9), max_size=2))
attr_maps = st.dictionaries(st.sampled_from(["amount", "to", "denom", "id", "zeta", "alpha"]),
                            attr_values, max_size=4)


@given(st.lists(st.tuples(st.sampled_from(["bank.transfer", "x.y"]), attr_maps), max_size=3),
       st.integers(0, 1 << 70), st.text(max_size=5), st.booleans())
def test_receipt_encoding_is_the_codecs(events, fee, message, raw_events):
    """Events from Context.emit (sorted) or written by hand in any key order."""
    r = Receipt(b"\x01" * 32, code=0, message=message, fee=fee, cost=7)
    if raw_events:
        r.events = [{"type": t, "attrs": a} for t, a in events]
    else:
        ctx = Ctx(None, BlockInfo(1, 0, b""))
        for t, a in events:
            ctx.emit(t, **a)
        r.events = ctx.events
    obj = r.to_obj()
    assert encode_receipt(obj) == encode(obj)
