"""The ABCI wire codec against CometBFT's own encodings, plus round-trip properties.

tests/vectors/abci/vectors.json was made by tests/vectors/abci/main.go with the pinned
CometBFT release's Go types (`make abci-vectors`). SAMPLES builds the same messages here;
each must encode to CometBFT's bytes exactly and decode back to an equal message, so every
field number, kind and presence rule is checked against the real implementation.
"""

from __future__ import annotations

import calendar
import json
import pathlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rwachain.node.abci import types as t
from rwachain.node.abci.codec import (
    VARINT_RANGES,
    FrameReader,
    WireError,
    decode,
    encode,
    field_specs,
    frame,
    read_uvarint,
    uvarint,
)
from tests.cometbft import pinned_version

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "abci"


def rep(byte: int, n: int) -> bytes:
    return bytes([byte]) * n


T1 = t.Timestamp(calendar.timegm((2024, 1, 2, 3, 4, 5)), 6)
VAL1 = t.Validator(address=rep(0xA1, 20), power=10)
VAL2 = t.Validator(address=rep(0xA2, 20), power=30)
ED = t.PublicKey(ed25519=rep(0x01, 32))
SECP = t.PublicKey(secp256k1=rep(0x02, 33))
MISB = (t.Misbehavior(type=t.MisbehaviorType.DUPLICATE_VOTE, validator=VAL2, height=3, time=T1,
                      total_voting_power=40),)
COMMIT = t.CommitInfo(round=1, votes=(t.VoteInfo(VAL1, t.BlockIDFlag.COMMIT),
                                      t.VoteInfo(VAL2, t.BlockIDFlag.ABSENT)))
PARAMS = t.ConsensusParams(
    block=t.BlockParams(max_bytes=22020096, max_gas=-1),
    evidence=t.EvidenceParams(max_age_num_blocks=100000, max_age_duration=t.Duration(48 * 3600),
                              max_bytes=1048576),
    validator=t.ValidatorParams(pub_key_types=("ed25519",)),
    version=t.VersionParams(app=1),
    abci=t.ABCIParams(vote_extensions_enable_height=0),
)
EVENT = t.Event(type="transfer", attributes=(t.EventAttribute("sender", "rwa1abc", True),
                                             t.EventAttribute("amount", "", False)))

REQUESTS = {
    "echo": t.RequestEcho("hello ✓"),
    "flush": t.RequestFlush(),
    "info": t.RequestInfo(version="0.38.26", block_version=11, p2p_version=8, abci_version="2.0.0"),
    "init_chain": t.RequestInitChain(
        time=T1, chain_id="rwachain-localnet", consensus_params=PARAMS,
        validators=(t.ValidatorUpdate(ED, 10), t.ValidatorUpdate(SECP, 0)),
        app_state_bytes=b'{"a":1}', initial_height=1),
    "query": t.RequestQuery(data=b"\x00\x01", path="/store/key", height=42, prove=True),
    "check_tx_new": t.RequestCheckTx(tx=b"tx1", type=t.CheckTxType.NEW),
    "check_tx_recheck": t.RequestCheckTx(tx=b"tx2", type=t.CheckTxType.RECHECK),
    "commit": t.RequestCommit(),
    "list_snapshots": t.RequestListSnapshots(),
    "offer_snapshot": t.RequestOfferSnapshot(
        snapshot=t.Snapshot(height=1000, format=1, chunks=3, hash=rep(0x33, 32), metadata=b"m"),
        app_hash=rep(0x44, 32)),
    "load_snapshot_chunk": t.RequestLoadSnapshotChunk(height=1000, format=1, chunk=2),
    "apply_snapshot_chunk": t.RequestApplySnapshotChunk(index=2, chunk=b"chunk", sender="peer"),
    "prepare_proposal": t.RequestPrepareProposal(
        max_tx_bytes=1048576, txs=(b"a", b"", b"ccc"),
        local_last_commit=t.ExtendedCommitInfo(round=1, votes=(
            t.ExtendedVoteInfo(VAL1, b"ext", b"sig", t.BlockIDFlag.COMMIT),
            t.ExtendedVoteInfo(VAL2, block_id_flag=t.BlockIDFlag.NIL))),
        misbehavior=MISB, height=7, time=T1, next_validators_hash=rep(0x55, 32),
        proposer_address=rep(0xA1, 20)),
    "process_proposal": t.RequestProcessProposal(
        txs=(b"a",), proposed_last_commit=COMMIT, misbehavior=MISB, hash=rep(0x66, 32), height=7,
        time=T1, next_validators_hash=rep(0x55, 32), proposer_address=rep(0xA2, 20)),
    "extend_vote": t.RequestExtendVote(
        hash=rep(0x66, 32), height=7, time=T1, txs=(b"a",), proposed_last_commit=COMMIT,
        next_validators_hash=rep(0x55, 32), proposer_address=rep(0xA1, 20)),
    "verify_vote_extension": t.RequestVerifyVoteExtension(
        hash=rep(0x66, 32), validator_address=rep(0xA2, 20), height=7, vote_extension=b"ext"),
    "finalize_block": t.RequestFinalizeBlock(
        txs=(b"a", b"bb"), decided_last_commit=COMMIT, misbehavior=MISB, hash=rep(0x66, 32),
        height=8, time=T1, next_validators_hash=rep(0x55, 32), proposer_address=rep(0xA1, 20)),
    # Go's zero time.Time is 0001-01-01T00:00:00Z, and gogoproto writes it even when unset.
    "finalize_block_zero": t.RequestFinalizeBlock(time=t.Timestamp(seconds=-62135596800)),
}

RESPONSES = {
    "exception": t.ResponseException("boom"),
    "echo": t.ResponseEcho("hello ✓"),
    "flush": t.ResponseFlush(),
    "info": t.ResponseInfo(data="rwachain", version="0.1.0", app_version=1, last_block_height=12,
                           last_block_app_hash=rep(0x77, 32)),
    "info_empty": t.ResponseInfo(),
    "init_chain": t.ResponseInitChain(
        consensus_params=t.ConsensusParams(block=t.BlockParams(max_bytes=4194304, max_gas=-1)),
        validators=(t.ValidatorUpdate(ED, 10),), app_hash=rep(0x77, 32)),
    "query": t.ResponseQuery(
        code=3, log="not found", info="i", index=-1, key=b"k", value=b"v",
        proof_ops=t.ProofOps((t.ProofOp("rwa:tree", b"k", b"d"),)), height=42,
        codespace="rwachain"),
    "check_tx": t.ResponseCheckTx(code=10, data=b"d", log="replayed nonce", info="i",
                                  gas_wanted=5, gas_used=6, events=(EVENT,), codespace="rwachain"),
    "commit": t.ResponseCommit(retain_height=5),
    "list_snapshots": t.ResponseListSnapshots((
        t.Snapshot(height=1000, format=1, chunks=3, hash=rep(0x33, 32)), t.Snapshot(height=2000))),
    "offer_snapshot": t.ResponseOfferSnapshot(t.OfferSnapshotResult.ACCEPT),
    "load_snapshot_chunk": t.ResponseLoadSnapshotChunk(b"chunk"),
    "apply_snapshot_chunk": t.ResponseApplySnapshotChunk(
        result=t.ApplySnapshotChunkResult.RETRY, refetch_chunks=(1, 300), reject_senders=("a", "b")),
    "prepare_proposal": t.ResponsePrepareProposal((b"a", b"", b"ccc")),
    "process_proposal": t.ResponseProcessProposal(t.ProposalStatus.REJECT),
    "extend_vote": t.ResponseExtendVote(b"ext"),
    "verify_vote_extension": t.ResponseVerifyVoteExtension(t.VerifyStatus.ACCEPT),
    "finalize_block": t.ResponseFinalizeBlock(
        events=(EVENT,),
        tx_results=(t.ExecTxResult(code=0, events=(EVENT,)),
                    t.ExecTxResult(code=52, log="insufficient funds", gas_used=9,
                                   codespace="rwachain"),
                    t.ExecTxResult()),
        validator_updates=(t.ValidatorUpdate(ED, 0),),
        consensus_param_updates=t.ConsensusParams(
            abci=t.ABCIParams(vote_extensions_enable_height=100)),
        app_hash=rep(0x77, 32)),
    "finalize_block_empty": t.ResponseFinalizeBlock(),
}

CODECS = {"request": (REQUESTS, t.encode_request, t.decode_request),
          "response": (RESPONSES, t.encode_response, t.decode_response)}


def _vectors() -> list[dict]:
    return json.loads((VECTORS / "vectors.json").read_text())["vectors"]


def test_vectors_come_from_the_pinned_release():
    pinned = pinned_version()
    assert json.loads((VECTORS / "vectors.json").read_text())["cometbft"] == pinned.lstrip("v")
    assert re.search(rf"github\.com/cometbft/cometbft {re.escape(pinned)}\b",
                     (VECTORS / "go.mod").read_text())


def test_every_vector_has_a_sample_and_every_message_a_vector():
    names = {(v["kind"], v["name"]) for v in _vectors()}
    assert names == {(kind, n) for kind, (samples, _, _) in CODECS.items() for n in samples}
    sampled = {type(m) for m in REQUESTS.values()} | {type(m) for m in RESPONSES.values()}
    assert sampled == set(t.REQUEST_FIELDS) | set(t.RESPONSE_FIELDS)


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"{v['kind']}-{v['name']}")
def test_codec_matches_cometbft_byte_for_byte(vector):
    samples, encoder, decoder = CODECS[vector["kind"]]
    framed = bytes.fromhex(vector["framed"])
    reader = FrameReader()
    reader.feed(framed)
    [body] = reader.frames()
    assert reader.pending() == 0
    sample = samples[vector["name"]]
    assert frame(encoder(sample)) == framed
    assert decoder(body) == sample
    assert encoder(decoder(body)) == body


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"{v['kind']}-{v['name']}")
def test_every_truncated_vector_is_refused(vector):
    _, _, decoder = CODECS[vector["kind"]]
    [body] = _split(bytes.fromhex(vector["framed"]))
    for cut in range(len(body)):
        with pytest.raises(WireError):
            decoder(body[:cut])


def _split(stream: bytes) -> list[bytes]:
    reader = FrameReader()
    reader.feed(stream)
    return reader.frames()


# ----- malformed input and bad values ----------------------------------------------------
def test_malformed_bytes_are_refused_with_wire_errors():
    with pytest.raises(WireError, match="wire type"):
        decode(t.RequestQuery, b"\x1a\x01\x00")  # height (varint) sent length-delimited
    with pytest.raises(WireError, match="UTF-8"):
        decode(t.RequestEcho, b"\x0a\x01\xff")
    with pytest.raises(WireError, match="longer than 10"):
        read_uvarint(b"\x80" * 11, 0)
    with pytest.raises(WireError, match="overflows"):
        read_uvarint(b"\xff" * 9 + b"\x02", 0)
    with pytest.raises(WireError, match="field number 0"):
        decode(t.RequestEcho, b"\x00\x00")
    with pytest.raises(WireError, match="no known message"):
        t.decode_request(b"\x22\x00")  # field 4: BeginBlock's reserved number
    with pytest.raises(WireError, match="unsupported wire type"):
        decode(t.RequestEcho, b"\x13")  # a group start


def test_unknown_fields_are_skipped():
    extra = b"\x48\x05" + b"\x51" + bytes(8) + b"\x5d" + bytes(4) + b"\x62\x01x"  # 9,10,11,12
    assert decode(t.RequestEcho, b"\x0a\x02hi" + extra) == t.RequestEcho("hi")


def test_oversize_frame_is_refused_before_its_body_arrives():
    reader = FrameReader(max_bytes=100)
    reader.feed(uvarint(101))
    with pytest.raises(WireError, match="exceeds"):
        reader.frames()


def test_values_out_of_range_or_of_the_wrong_type_are_not_encoded():
    with pytest.raises(ValueError, match="out of range"):
        encode(t.RequestLoadSnapshotChunk(format=1 << 32))
    with pytest.raises(ValueError, match="out of range"):
        encode(t.RequestQuery(height=1 << 63))
    with pytest.raises(TypeError):
        encode(t.RequestEcho(b"bytes, not str"))
    with pytest.raises(TypeError):
        encode(t.RequestQuery(prove=1))
    with pytest.raises(TypeError):
        encode(t.RequestFinalizeBlock(txs=[b"a"]))  # repeated fields are tuples
    with pytest.raises(TypeError):
        t.encode_request(t.ResponseEcho("a response is not a request"))


def test_negative_int64_takes_ten_bytes_and_comes_back():
    data = encode(t.ResponseQuery(index=-1))
    assert data == b"\x28" + b"\xff" * 9 + b"\x01"
    assert decode(t.ResponseQuery, data).index == -1


def test_repeated_numbers_decode_packed_and_unpacked():
    packed = encode(t.ResponseApplySnapshotChunk(refetch_chunks=(1, 300)))
    unpacked = b"\x10\x01\x10\xac\x02"
    assert decode(t.ResponseApplySnapshotChunk, packed).refetch_chunks == (1, 300)
    assert decode(t.ResponseApplySnapshotChunk, unpacked).refetch_chunks == (1, 300)


# ----- properties --------------------------------------------------------------------------
def _scalar(kind: str):
    if kind == "string":
        return st.text(max_size=12)
    if kind == "bytes":
        return st.binary(max_size=12)
    if kind == "bool":
        return st.booleans()
    low, high = VARINT_RANGES[kind]
    return st.integers(low, high)


def messages(cls: type):
    """Any message of type cls, built from its field specs."""
    parts = {}
    for _number, name, kind, repeated, always, oneof in field_specs(cls):
        one = _scalar(kind) if isinstance(kind, str) else st.deferred(lambda k=kind: messages(k))
        if repeated:
            parts[name] = st.lists(one, max_size=3).map(tuple)
        elif always:
            parts[name] = one
        elif oneof or not isinstance(kind, str):
            parts[name] = st.none() | one
        else:
            parts[name] = one
    return st.builds(cls, **parts)


ALL_TYPES = sorted(set(t.REQUEST_FIELDS) | set(t.RESPONSE_FIELDS), key=lambda c: c.__name__)


@pytest.mark.slow
@given(st.sampled_from(ALL_TYPES).flatmap(messages))
def test_any_message_round_trips(msg):
    data = encode(msg)
    assert decode(type(msg), data) == msg
    assert encode(decode(type(msg), data)) == data


@given(st.sampled_from(sorted(t.REQUEST_FIELDS, key=lambda c: c.__name__)).flatmap(messages))
def test_any_request_round_trips_through_its_envelope(msg):
    assert t.decode_request(t.encode_request(msg)) == msg


@given(st.sampled_from(sorted(t.RESPONSE_FIELDS, key=lambda c: c.__name__)).flatmap(messages))
def test_any_response_round_trips_through_its_envelope(msg):
    assert t.decode_response(t.encode_response(msg)) == msg


@given(st.integers(0, (1 << 64) - 1))
def test_uvarint_round_trips(value):
    data = uvarint(value)
    assert read_uvarint(data, 0) == (value, len(data))


@given(st.lists(st.binary(max_size=300), max_size=6), st.lists(st.integers(1, 50), max_size=20))
def test_frames_survive_any_chunking_of_the_stream(bodies, cuts):
    stream = b"".join(frame(b) for b in bodies)
    reader, got, pos = FrameReader(), [], 0
    for size in [*cuts, len(stream)]:
        reader.feed(stream[pos:pos + size])
        pos += size
        got += reader.frames()
    assert got == bodies
    assert reader.pending() == 0
