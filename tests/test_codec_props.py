"""Property tests of the canonical msgpack codec (state/codec.py, docs/protocol.md).

Asserts: every allowed value round-trips with its exact types; the encoding is unique
(re-encoding a decoded value gives the same bytes, map keys come out in canonical order);
every other byte string for a value is refused with NonCanonical (wider integer / str /
bin / array / map headers, unsorted or duplicate keys, bigint ext for native-range
values, padded bigint payloads, floats, foreign ext types, trailing or missing bytes);
and no single-byte mutation of a canonical encoding is ever decoded to a value whose
encoding differs from the mutated bytes.
"""

from __future__ import annotations

import struct

import msgpack
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rwachain.state.codec import NonCanonical, decode, encode, pack_int, unpack_int

INT_LO = -(1 << 63)
INT_HI = 1 << 64

# ----- strategies ------------------------------------------------------------------------
BOUNDARY_INTS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63,
                 2**64 - 1, 2**64, 2**64 + 1, 2**72 - 1, 2**72, 2**128 - 1, 2**128,
                 -1, -31, -32, -33, -127, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1,
                 -(2**63), -(2**63) - 1, -(2**64), -(2**64) - 1, -(2**127), 2**127 - 1]

native_ints = st.integers(min_value=INT_LO, max_value=INT_HI - 1)
big_ints = st.one_of(
    st.integers(min_value=INT_HI, max_value=1 << 300),
    st.integers(min_value=-(1 << 300), max_value=INT_LO - 1),
)
any_ints = st.one_of(st.integers(), native_ints, big_ints, st.sampled_from(BOUNDARY_INTS))

scalars = st.one_of(any_ints, st.binary(max_size=40), st.text(max_size=20), st.booleans(),
                    st.none())


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
        st.dictionaries(st.binary(max_size=8), children, max_size=5),
        # Integer keys: the native msgpack range (bigint keys: test_bigint_map_keys_round_trip).
        st.dictionaries(st.one_of(native_ints, st.integers(-40, 300)), children, max_size=5),
    )


values = st.recursive(scalars, _containers, max_leaves=25)


def same(a, b) -> bool:
    """Equality that also compares types (True != 1, b"" != "")."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(same(k1, k2) and same(a[k1], b[k2])
                                          for k1, k2 in zip(a, b, strict=True))
    return a == b


# ----- round trips -------------------------------------------------------------------------
def normalize(v):
    """v with every map's keys in canonical order (what decode returns)."""
    if type(v) is dict:
        return {k: normalize(v[k]) for k in sorted(v)}
    if type(v) is list:
        return [normalize(x) for x in v]
    return v


@given(values)
def test_round_trip_preserves_value_and_types(v):
    data = encode(v)
    back = decode(data)
    assert same(back, normalize(v))
    assert encode(back) == data


@given(values)
def test_the_packed_as_is_path_equals_the_rebuilding_path(v):
    """encode packs a value already in canonical shape without rebuilding its maps; the
    bytes must be those of the general path (every map rebuilt in key order)."""
    from rwachain.state.codec import _canon, _packb

    assert encode(v) == _packb(_canon(v), use_bin_type=True)
    sorted_first = normalize(decode(encode(v)))  # the same value with every map in key order
    assert encode(sorted_first) == encode(v)


@given(values)
def test_stored_bytes_decode_to_the_same_value_without_the_check(v):
    from rwachain.state.codec import decode_stored

    data = encode(v)
    assert same(decode_stored(data), decode(data))


@given(values)
def test_shaped_values_encode_as_encode_does(v):
    """encode_shaped skips the shape walk: on a value in canonical shape (maps in key
    order, as decode returns them; big integers included) its bytes are encode's."""
    from rwachain.state.codec import encode_shaped

    shaped = decode(encode(v))
    assert encode_shaped(shaped) == encode(v)


@given(values)
def test_tuples_encode_as_lists(v):
    assert encode((v, [v])) == encode([v, [v]])


def _check_wire_order(wire, value):
    if type(value) is dict:
        keys = [k for k, _ in wire]
        assert keys == sorted(value)  # ascending, unique
        if value and type(keys[0]) is str:
            assert [k.encode() for k in keys] == sorted(k.encode() for k in keys)
        for k, w in wire:
            _check_wire_order(w, value[k])
    elif type(value) is list:
        assert len(wire) == len(value)
        for w, x in zip(wire, value, strict=True):
            _check_wire_order(w, x)


@given(values)
def test_map_keys_are_written_in_ascending_order(v):
    wire = msgpack.unpackb(encode(v), raw=False, strict_map_key=False, object_pairs_hook=list,
                           ext_hook=lambda code, payload: (code, payload))
    _check_wire_order(wire, v)


@given(any_ints)
def test_integers_round_trip_and_pack_int_agrees(n):
    data = encode(n)
    assert decode(data) == n and type(decode(data)) is int
    assert pack_int(n) == data
    assert unpack_int(data) == n
    if INT_LO <= n < INT_HI:
        assert data == msgpack.packb(n)  # native: exactly what msgpack-python emits
    else:
        ext = msgpack.unpackb(data, ext_hook=lambda code, payload: (code, payload))
        assert ext[0] == 1
        assert int.from_bytes(ext[1], "big", signed=True) == n


@pytest.mark.parametrize("n,hexed", [
    (2**64, "c70901010000000000000000"),
    (-(2**63) - 1, "c70901ff7fffffffffffffff"),
    (-(2**64), "c70901ff0000000000000000"),
    (2**64 - 1, "cfffffffffffffffff"),
    (-(2**63), "d38000000000000000"),
    (2**71 - 1, "c709017fffffffffffffffff"),
    (2**71, "c70a0100800000000000000000"),
])
def test_bigint_boundaries(n, hexed):
    assert encode(n).hex() == hexed
    assert decode(bytes.fromhex(hexed)) == n


@pytest.mark.parametrize("k", [9, 10, 16, 17])
def test_negative_power_of_two_bigint_payload_is_minimal(k):
    n = -(2 ** (8 * k - 1))
    minimal = n.to_bytes(k, "big", signed=True)  # 0x80 followed by zero bytes
    assert int.from_bytes(minimal[1:], "big", signed=True) != n  # one byte less cannot hold it
    expected = msgpack.packb(msgpack.ExtType(1, minimal))
    assert encode(n) == expected
    assert decode(expected) == n


@given(st.lists(big_ints, min_size=1, max_size=6, unique=True))
def test_bigint_payload_is_minimal_two_complement(ns):
    for n in ns:
        code, payload = msgpack.unpackb(encode(n), ext_hook=lambda c, p: (c, p))
        assert code == 1
        assert int.from_bytes(payload, "big", signed=True) == n
        assert len(payload) == 1 or int.from_bytes(payload[1:], "big", signed=True) != n


@pytest.mark.parametrize("d", [{2**70: 1}, {-(2**63) - 1: 0, 0: 1}, {1: "a", 2**64: "b"}])
def test_bigint_map_keys_round_trip(d):
    data = encode(d)
    assert same(decode(data), normalize(d))


# ----- refusal of non-canonical bytes ---------------------------------------------------
def refuse(data: bytes) -> None:
    with pytest.raises(NonCanonical):
        decode(data)


NON_CANONICAL = {
    "uint8 for fixint 5": "cc05",
    "uint16 for 5": "cd0005",
    "uint32 for 5": "ce00000005",
    "uint64 for 5": "cf0000000000000005",
    "int8 for positive 5": "d005",
    "int8 for fixint -1": "d0ff",
    "int16 for -1": "d1ffff",
    "int64 for -1": "d3ffffffffffffffff",
    "uint16 for 200": "cd00c8",
    "int16 for -100": "d1ff9c",
    "int64 for 2**32": "d30000000100000000",
    "str8 for 'abc'": "d903616263",
    "str16 for 'abc'": "da0003616263",
    "str32 for ''": "db00000000",
    "bin16 for b'ab'": "c500026162",
    "bin32 for b''": "c600000000",
    "array16 for [1]": "dc000101",
    "array32 for []": "dd00000000",
    "map16 for {}": "de0000",
    "map32 for {'a': 1}": "df00000001a16101",
    "unsorted str keys": "82a16201a16102",
    "unsorted bytes keys": "82c4016201c4016102",
    "unsorted int keys": "8202010101",
    "unsorted non-ascii str keys": "82a2c3a901a17a02",
    "duplicate str keys": "82a16101a16102",
    "duplicate int keys": "8201010102",
    "mixed str and bytes keys": "82a16101c4016202",
    "mixed int and str keys": "820101a16102",
    "bool keys": "81c301",
    "nil key": "81c001",
    "float32": "ca3fc00000",
    "float64": "cb3ff8000000000000",
    "float64 zero": "cb0000000000000000",
    "float inside list": "91cb3ff8000000000000",
    "bigint ext for 5": "c70901000000000000000005",
    "bigint ext (fixext1) for 5": "d40105",
    "bigint ext for 2**64 - 1": "c7090100ffffffffffffffff",
    "bigint ext for -2**63": "c70901ff8000000000000000",
    "bigint ext padded with 0x00": "c70a0100010000000000000000",
    "bigint ext padded with 0xff": "c70a01ffff0000000000000000",
    "bigint ext with empty payload": "c70001",
    "bigint ext as ext16": "c8000901010000000000000000",
    "ext type 2": "d40200",
    "ext type 0": "c7010005",
    "ext type -1 (timestamp)": "d6ff00000000",
    "ext type 127": "d47f00",
    "trailing byte": "0500",
    "trailing value": "91019102",
    "empty input": "",
    "truncated str": "a36162",
    "truncated array": "9201",
    "invalid utf-8 str": "a2fffe",
    "never-used byte 0xc1": "c1",
}


@pytest.mark.parametrize("label", sorted(NON_CANONICAL))
def test_refuses_known_non_canonical_bytes(label):
    refuse(bytes.fromhex(NON_CANONICAL[label]))


def test_canonical_counterparts_of_refused_bytes_decode():
    """The refused table's canonical twins are accepted (the refusals are about the bytes)."""
    assert decode(bytes.fromhex("05")) == 5
    assert decode(bytes.fromhex("ff")) == -1
    assert decode(bytes.fromhex("a3616263")) == "abc"
    assert decode(bytes.fromhex("82a16101a16202")) == {"a": 1, "b": 2}
    assert decode(bytes.fromhex("8201010202")) == {1: 1, 2: 2}
    assert decode(bytes.fromhex("c70901010000000000000000")) == 2**64
    assert decode(bytes.fromhex("80")) == {}


@given(native_ints)
def test_refuses_every_wider_integer_header(n):
    canonical = encode(n)
    candidates = []
    for fmt, code, lo, hi in (("B", 0xCC, 0, 2**8), ("H", 0xCD, 0, 2**16), ("I", 0xCE, 0, 2**32),
                              ("Q", 0xCF, 0, 2**64), ("b", 0xD0, -(2**7), 2**7),
                              ("h", 0xD1, -(2**15), 2**15), ("i", 0xD2, -(2**31), 2**31),
                              ("q", 0xD3, -(2**63), 2**63)):
        if lo <= n < hi:
            candidates.append(bytes([code]) + struct.pack(">" + fmt, n))
    if 0 <= n < 128 or -32 <= n < 0:
        candidates.append(struct.pack(">b", n))
    assert canonical in candidates
    for c in candidates:
        if c != canonical:
            refuse(c)
    # the bigint ext form of a native value, minimal and padded payloads
    size = ((n if n >= 0 else ~n).bit_length() + 8) // 8
    for extra in (0, 1):
        refuse(msgpack.packb(msgpack.ExtType(1, n.to_bytes(size + extra, "big", signed=True))))


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_refuses_wider_string_and_bin_headers(s):
    canonical = encode(s)
    payload = s.encode() if type(s) is str else s
    n = len(payload)
    if type(s) is str:
        headers = [b"\xd9" + struct.pack(">B", n) if n < 256 else None,
                   b"\xda" + struct.pack(">H", n), b"\xdb" + struct.pack(">I", n)]
        if n < 32:
            headers.append(bytes([0xA0 | n]))
    else:
        headers = [b"\xc4" + struct.pack(">B", n) if n < 256 else None,
                   b"\xc5" + struct.pack(">H", n), b"\xc6" + struct.pack(">I", n)]
    encodings = [h + payload for h in headers if h is not None]
    assert canonical in encodings
    for e in encodings:
        if e != canonical:
            refuse(e)


@given(st.lists(st.integers(0, 5), max_size=20),
       st.dictionaries(st.text(max_size=3), st.integers(0, 5), max_size=20))
def test_refuses_wider_array_and_map_headers(lst, dct):
    body = b"".join(encode(x) for x in lst)
    n = len(lst)
    arrays = [b"\xdc" + struct.pack(">H", n) + body, b"\xdd" + struct.pack(">I", n) + body]
    if n < 16:
        arrays.append(bytes([0x90 | n]) + body)
    assert encode(lst) in arrays
    for a in arrays:
        if a != encode(lst):
            refuse(a)
    mbody = b"".join(encode(k) + encode(dct[k]) for k in sorted(dct))
    m = len(dct)
    maps = [b"\xde" + struct.pack(">H", m) + mbody, b"\xdf" + struct.pack(">I", m) + mbody]
    if m < 16:
        maps.append(bytes([0x80 | m]) + mbody)
    assert encode(dct) in maps
    for x in maps:
        if x != encode(dct):
            refuse(x)


key_sets = st.one_of(
    st.lists(st.text(max_size=6), min_size=2, max_size=8, unique=True),
    st.lists(st.binary(max_size=6), min_size=2, max_size=8, unique=True),
    st.lists(native_ints, min_size=2, max_size=8, unique=True),
)


@given(key_sets, st.randoms(use_true_random=False))
def test_refuses_any_non_sorted_key_order(keys, rnd):
    order = list(keys)
    rnd.shuffle(order)
    assume(order != sorted(keys))
    data = bytes([0x80 | len(order)]) + b"".join(encode(k) + encode(i) for i, k in enumerate(order))
    refuse(data)
    # the same pairs in sorted order are the canonical encoding
    pairs = dict(zip(order, range(len(order)), strict=True))
    ok = bytes([0x80 | len(order)]) + b"".join(encode(k) + encode(pairs[k]) for k in sorted(keys))
    assert ok == encode(pairs)
    assert decode(ok) == pairs


@given(key_sets, st.data())
def test_refuses_duplicate_keys(keys, data):
    keys = sorted(keys)
    i = data.draw(st.integers(0, len(keys) - 1))
    dup = keys[: i + 1] + [keys[i]] + keys[i + 1:]
    raw = bytes([0x80 | len(dup)]) + b"".join(encode(k) + encode(j) for j, k in enumerate(dup))
    refuse(raw)


@given(values, st.binary(min_size=1, max_size=4))
def test_refuses_trailing_bytes(v, extra):
    refuse(encode(v) + extra)


@given(values.filter(lambda v: len(encode(v)) > 1), st.data())
def test_refuses_truncation(v, data):
    enc = encode(v)
    cut = data.draw(st.integers(0, len(enc) - 1))
    refuse(enc[:cut])


def ext_bytes(code: int, payload: bytes) -> bytes:
    """msgpack ext bytes for any type code in [-128, 127] (msgpack.ExtType takes 0..127)."""
    n = len(payload)
    t = struct.pack(">b", code)
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if n in fixed:
        return bytes([fixed[n]]) + t + payload
    if n < 256:
        return b"\xc7" + struct.pack(">B", n) + t + payload
    return b"\xc8" + struct.pack(">H", n) + t + payload


@given(st.floats())
def test_floats_are_refused_both_ways(f):
    with pytest.raises(TypeError):
        encode(f)
    with pytest.raises(TypeError):
        encode([1, {"x": f}])
    refuse(msgpack.packb(f))
    refuse(msgpack.packb([f]))


@given(st.floats(width=32))
def test_float32_is_refused(f):
    refuse(msgpack.packb(f, use_single_float=True))
    refuse(msgpack.packb({"a": f}, use_single_float=True))


@given(st.integers(-128, 127).filter(lambda c: c != 1), st.binary(max_size=20))
def test_foreign_ext_types_are_refused(code, payload):
    raw = ext_bytes(code, payload)
    refuse(raw)
    refuse(b"\x81\xa1k" + raw)  # as the value of {"k": ...}
    refuse(b"\x92\x01" + raw)  # inside a list


def test_ext_bytes_helper_matches_msgpack():
    for n in (0, 1, 2, 3, 4, 8, 9, 16, 17, 255, 256):
        assert ext_bytes(5, bytes(n)) == msgpack.packb(msgpack.ExtType(5, bytes(n)))


@pytest.mark.parametrize("bad", [
    1.5, {1, 2}, frozenset(), object(), bytearray(b"x"), memoryview(b"x"), complex(1, 2),
    {"a": 1, b"b": 2}, {1: 1, "a": 2}, {True: 1}, {None: 1}, {(1, 2): 3}, {1.5: 1},
    [1, [2, {"k": 0.5}]],
])
def test_encode_refuses_disallowed_values(bad):
    with pytest.raises(TypeError):
        encode(bad)


# ----- mutation property ---------------------------------------------------------------
@given(values, st.data())
def test_single_byte_mutation_is_refused_or_self_consistent(v, data):
    enc = encode(v)
    pos = data.draw(st.integers(0, len(enc) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != enc[pos]), label="byte")
    mutated = enc[:pos] + bytes([new]) + enc[pos + 1:]
    try:
        got = decode(mutated)
    except NonCanonical:
        return
    assert encode(got) == mutated


@settings(max_examples=15)
@given(st.lists(st.integers(0, 2**70) | st.text(max_size=3), max_size=4))
def test_every_single_byte_mutation_of_small_values(v):
    """Exhaustive over positions and all 255 replacement bytes for small encodings."""
    enc = encode(v)
    for pos in range(len(enc)):
        for new in range(256):
            if new == enc[pos]:
                continue
            mutated = enc[:pos] + bytes([new]) + enc[pos + 1:]
            try:
                got = decode(mutated)
            except NonCanonical:
                continue
            assert encode(got) == mutated
