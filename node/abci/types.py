"""The ABCI 2.0 messages of CometBFT v0.38, as frozen dataclasses for node/abci/codec.py.

Field numbers and kinds are those of the pinned release's proto files
(proto/tendermint/abci/types.proto, crypto/keys.proto, crypto/proof.proto,
types/params.proto, google/protobuf/timestamp.proto and duration.proto). Field names are
the proto names. Repeated fields are tuples; enums are ints (the IntEnum classes name the
values). A field typed `X | None` is a nullable message; a plain `X` is non-nullable
(gogoproto nullable=false) and always on the wire.

A Request or Response is a oneof: encode_request/decode_request and
encode_response/decode_response wrap one message in it by its field number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rwachain.node.abci.codec import (
    WIRE_LEN,
    WireError,
    decode,
    encode,
    pb,
    put_uvarint,
    read_uvarint,
)

_dc = dataclass(frozen=True, slots=True)


# ----- google.protobuf ---------------------------------------------------------------------
@_dc
class Timestamp:
    """A UTC instant: seconds since the Unix epoch and nanoseconds within the second."""
    seconds: int = pb(1, "int64")
    nanos: int = pb(2, "int32")


@_dc
class Duration:
    """A span of time in seconds and nanoseconds."""
    seconds: int = pb(1, "int64")
    nanos: int = pb(2, "int32")


# ----- tendermint.crypto -------------------------------------------------------------------
@_dc
class PublicKey:
    """A validator key: exactly one member of the oneof is set (raw key bytes)."""
    ed25519: bytes | None = pb(1, "bytes", oneof=True)
    secp256k1: bytes | None = pb(2, "bytes", oneof=True)
    mldsa65: bytes | None = pb(4, "bytes", oneof=True)


@_dc
class ProofOp:
    type: str = pb(1, "string")
    key: bytes = pb(2, "bytes")
    data: bytes = pb(3, "bytes")


@_dc
class ProofOps:
    ops: tuple[ProofOp, ...] = pb(1, ProofOp, repeated=True)


# ----- tendermint.types (consensus parameters) ---------------------------------------------
@_dc
class BlockParams:
    max_bytes: int = pb(1, "int64")  # bytes per block
    max_gas: int = pb(2, "int64")  # -1: no limit


@_dc
class EvidenceParams:
    max_age_num_blocks: int = pb(1, "int64")
    max_age_duration: Duration = pb(2, Duration, always=True)
    max_bytes: int = pb(3, "int64")


@_dc
class ValidatorParams:
    pub_key_types: tuple[str, ...] = pb(1, "string", repeated=True)


@_dc
class VersionParams:
    app: int = pb(1, "uint64")


@_dc
class ABCIParams:
    vote_extensions_enable_height: int = pb(1, "int64")


@_dc
class ConsensusParams:
    block: BlockParams | None = pb(1, BlockParams)
    evidence: EvidenceParams | None = pb(2, EvidenceParams)
    validator: ValidatorParams | None = pb(3, ValidatorParams)
    version: VersionParams | None = pb(4, VersionParams)
    abci: ABCIParams | None = pb(5, ABCIParams)


# ----- tendermint.abci: shared records -----------------------------------------------------
class CheckTxType(enum.IntEnum):
    NEW = 0
    RECHECK = 1


class BlockIDFlag(enum.IntEnum):
    UNKNOWN = 0
    ABSENT = 1
    COMMIT = 2
    NIL = 3


class MisbehaviorType(enum.IntEnum):
    UNKNOWN = 0
    DUPLICATE_VOTE = 1
    LIGHT_CLIENT_ATTACK = 2


class OfferSnapshotResult(enum.IntEnum):
    UNKNOWN = 0
    ACCEPT = 1
    ABORT = 2
    REJECT = 3
    REJECT_FORMAT = 4
    REJECT_SENDER = 5


class ApplySnapshotChunkResult(enum.IntEnum):
    UNKNOWN = 0
    ACCEPT = 1
    ABORT = 2
    RETRY = 3
    RETRY_SNAPSHOT = 4
    REJECT_SNAPSHOT = 5


class ProposalStatus(enum.IntEnum):
    UNKNOWN = 0
    ACCEPT = 1
    REJECT = 2


class VerifyStatus(enum.IntEnum):
    UNKNOWN = 0
    ACCEPT = 1
    REJECT = 2


@_dc
class Validator:
    address: bytes = pb(1, "bytes")  # first 20 bytes of sha256(public key)
    power: int = pb(3, "int64")


@_dc
class ValidatorUpdate:
    pub_key: PublicKey = pb(1, PublicKey, always=True)
    power: int = pb(2, "int64")  # 0 removes the validator


@_dc
class VoteInfo:
    validator: Validator = pb(1, Validator, always=True)
    block_id_flag: int = pb(3, "enum")  # BlockIDFlag


@_dc
class ExtendedVoteInfo:
    validator: Validator = pb(1, Validator, always=True)
    vote_extension: bytes = pb(3, "bytes")
    extension_signature: bytes = pb(4, "bytes")
    block_id_flag: int = pb(5, "enum")  # BlockIDFlag


@_dc
class CommitInfo:
    round: int = pb(1, "int32")
    votes: tuple[VoteInfo, ...] = pb(2, VoteInfo, repeated=True)


@_dc
class ExtendedCommitInfo:
    round: int = pb(1, "int32")
    votes: tuple[ExtendedVoteInfo, ...] = pb(2, ExtendedVoteInfo, repeated=True)


@_dc
class Misbehavior:
    type: int = pb(1, "enum")  # MisbehaviorType
    validator: Validator = pb(2, Validator, always=True)
    height: int = pb(3, "int64")
    time: Timestamp = pb(4, Timestamp, always=True)
    total_voting_power: int = pb(5, "int64")


@_dc
class EventAttribute:
    key: str = pb(1, "string")
    value: str = pb(2, "string")
    index: bool = pb(3, "bool")


@_dc
class Event:
    type: str = pb(1, "string")
    attributes: tuple[EventAttribute, ...] = pb(2, EventAttribute, repeated=True)


@_dc
class ExecTxResult:
    """One transaction's outcome in a block (code 0: success)."""
    code: int = pb(1, "uint32")
    data: bytes = pb(2, "bytes")
    log: str = pb(3, "string")
    info: str = pb(4, "string")
    gas_wanted: int = pb(5, "int64")
    gas_used: int = pb(6, "int64")
    events: tuple[Event, ...] = pb(7, Event, repeated=True)
    codespace: str = pb(8, "string")


@_dc
class Snapshot:
    height: int = pb(1, "uint64")
    format: int = pb(2, "uint32")
    chunks: int = pb(3, "uint32")
    hash: bytes = pb(4, "bytes")
    metadata: bytes = pb(5, "bytes")


# ----- requests ----------------------------------------------------------------------------
@_dc
class RequestEcho:
    message: str = pb(1, "string")


@_dc
class RequestFlush:
    pass


@_dc
class RequestInfo:
    version: str = pb(1, "string")  # CometBFT's software version
    block_version: int = pb(2, "uint64")
    p2p_version: int = pb(3, "uint64")
    abci_version: str = pb(4, "string")


@_dc
class RequestInitChain:
    time: Timestamp = pb(1, Timestamp, always=True)  # genesis time
    chain_id: str = pb(2, "string")
    consensus_params: ConsensusParams | None = pb(3, ConsensusParams)
    validators: tuple[ValidatorUpdate, ...] = pb(4, ValidatorUpdate, repeated=True)
    app_state_bytes: bytes = pb(5, "bytes")
    initial_height: int = pb(6, "int64")


@_dc
class RequestQuery:
    data: bytes = pb(1, "bytes")
    path: str = pb(2, "string")
    height: int = pb(3, "int64")  # 0: latest
    prove: bool = pb(4, "bool")


@_dc
class RequestCheckTx:
    tx: bytes = pb(1, "bytes")
    type: int = pb(2, "enum")  # CheckTxType


@_dc
class RequestCommit:
    pass


@_dc
class RequestListSnapshots:
    pass


@_dc
class RequestOfferSnapshot:
    snapshot: Snapshot | None = pb(1, Snapshot)
    app_hash: bytes = pb(2, "bytes")


@_dc
class RequestLoadSnapshotChunk:
    height: int = pb(1, "uint64")
    format: int = pb(2, "uint32")
    chunk: int = pb(3, "uint32")


@_dc
class RequestApplySnapshotChunk:
    index: int = pb(1, "uint32")
    chunk: bytes = pb(2, "bytes")
    sender: str = pb(3, "string")


@_dc
class RequestPrepareProposal:
    max_tx_bytes: int = pb(1, "int64")  # the returned txs may total at most this many bytes
    txs: tuple[bytes, ...] = pb(2, "bytes", repeated=True)
    local_last_commit: ExtendedCommitInfo = pb(3, ExtendedCommitInfo, always=True)
    misbehavior: tuple[Misbehavior, ...] = pb(4, Misbehavior, repeated=True)
    height: int = pb(5, "int64")
    time: Timestamp = pb(6, Timestamp, always=True)
    next_validators_hash: bytes = pb(7, "bytes")
    proposer_address: bytes = pb(8, "bytes")


@_dc
class RequestProcessProposal:
    txs: tuple[bytes, ...] = pb(1, "bytes", repeated=True)
    proposed_last_commit: CommitInfo = pb(2, CommitInfo, always=True)
    misbehavior: tuple[Misbehavior, ...] = pb(3, Misbehavior, repeated=True)
    hash: bytes = pb(4, "bytes")
    height: int = pb(5, "int64")
    time: Timestamp = pb(6, Timestamp, always=True)
    next_validators_hash: bytes = pb(7, "bytes")
    proposer_address: bytes = pb(8, "bytes")


@_dc
class RequestExtendVote:
    hash: bytes = pb(1, "bytes")
    height: int = pb(2, "int64")
    time: Timestamp = pb(3, Timestamp, always=True)
    txs: tuple[bytes, ...] = pb(4, "bytes", repeated=True)
    proposed_last_commit: CommitInfo = pb(5, CommitInfo, always=True)
    misbehavior: tuple[Misbehavior, ...] = pb(6, Misbehavior, repeated=True)
    next_validators_hash: bytes = pb(7, "bytes")
    proposer_address: bytes = pb(8, "bytes")


@_dc
class RequestVerifyVoteExtension:
    hash: bytes = pb(1, "bytes")
    validator_address: bytes = pb(2, "bytes")
    height: int = pb(3, "int64")
    vote_extension: bytes = pb(4, "bytes")


@_dc
class RequestFinalizeBlock:
    txs: tuple[bytes, ...] = pb(1, "bytes", repeated=True)
    decided_last_commit: CommitInfo = pb(2, CommitInfo, always=True)
    misbehavior: tuple[Misbehavior, ...] = pb(3, Misbehavior, repeated=True)
    hash: bytes = pb(4, "bytes")  # the decided block's hash
    height: int = pb(5, "int64")
    time: Timestamp = pb(6, Timestamp, always=True)  # the block time
    next_validators_hash: bytes = pb(7, "bytes")
    proposer_address: bytes = pb(8, "bytes")


# ----- responses ---------------------------------------------------------------------------
@_dc
class ResponseException:
    """The app failed to handle a request; CometBFT stops on it."""
    error: str = pb(1, "string")


@_dc
class ResponseEcho:
    message: str = pb(1, "string")


@_dc
class ResponseFlush:
    pass


@_dc
class ResponseInfo:
    data: str = pb(1, "string")
    version: str = pb(2, "string")
    app_version: int = pb(3, "uint64")
    last_block_height: int = pb(4, "int64")  # last committed height (0: none)
    last_block_app_hash: bytes = pb(5, "bytes")


@_dc
class ResponseInitChain:
    consensus_params: ConsensusParams | None = pb(1, ConsensusParams)
    validators: tuple[ValidatorUpdate, ...] = pb(2, ValidatorUpdate, repeated=True)
    app_hash: bytes = pb(3, "bytes")


@_dc
class ResponseQuery:
    code: int = pb(1, "uint32")
    log: str = pb(3, "string")
    info: str = pb(4, "string")
    index: int = pb(5, "int64")
    key: bytes = pb(6, "bytes")
    value: bytes = pb(7, "bytes")
    proof_ops: ProofOps | None = pb(8, ProofOps)
    height: int = pb(9, "int64")
    codespace: str = pb(10, "string")


@_dc
class ResponseCheckTx:
    code: int = pb(1, "uint32")  # 0: admitted
    data: bytes = pb(2, "bytes")
    log: str = pb(3, "string")
    info: str = pb(4, "string")
    gas_wanted: int = pb(5, "int64")
    gas_used: int = pb(6, "int64")
    events: tuple[Event, ...] = pb(7, Event, repeated=True)
    codespace: str = pb(8, "string")


@_dc
class ResponseCommit:
    retain_height: int = pb(3, "int64")  # blocks below it may be pruned (0: keep all)


@_dc
class ResponseListSnapshots:
    snapshots: tuple[Snapshot, ...] = pb(1, Snapshot, repeated=True)


@_dc
class ResponseOfferSnapshot:
    result: int = pb(1, "enum")  # OfferSnapshotResult


@_dc
class ResponseLoadSnapshotChunk:
    chunk: bytes = pb(1, "bytes")


@_dc
class ResponseApplySnapshotChunk:
    result: int = pb(1, "enum")  # ApplySnapshotChunkResult
    refetch_chunks: tuple[int, ...] = pb(2, "uint32", repeated=True)
    reject_senders: tuple[str, ...] = pb(3, "string", repeated=True)


@_dc
class ResponsePrepareProposal:
    txs: tuple[bytes, ...] = pb(1, "bytes", repeated=True)


@_dc
class ResponseProcessProposal:
    status: int = pb(1, "enum")  # ProposalStatus


@_dc
class ResponseExtendVote:
    vote_extension: bytes = pb(1, "bytes")


@_dc
class ResponseVerifyVoteExtension:
    status: int = pb(1, "enum")  # VerifyStatus


@_dc
class ResponseFinalizeBlock:
    events: tuple[Event, ...] = pb(1, Event, repeated=True)  # block events
    tx_results: tuple[ExecTxResult, ...] = pb(2, ExecTxResult, repeated=True)  # one per tx
    validator_updates: tuple[ValidatorUpdate, ...] = pb(3, ValidatorUpdate, repeated=True)
    consensus_param_updates: ConsensusParams | None = pb(4, ConsensusParams)
    app_hash: bytes = pb(5, "bytes")  # the state root after the block


# ----- the Request and Response oneofs -----------------------------------------------------
REQUEST_FIELDS: dict[type, int] = {
    RequestEcho: 1, RequestFlush: 2, RequestInfo: 3, RequestInitChain: 5, RequestQuery: 6,
    RequestCheckTx: 8, RequestCommit: 11, RequestListSnapshots: 12, RequestOfferSnapshot: 13,
    RequestLoadSnapshotChunk: 14, RequestApplySnapshotChunk: 15, RequestPrepareProposal: 16,
    RequestProcessProposal: 17, RequestExtendVote: 18, RequestVerifyVoteExtension: 19,
    RequestFinalizeBlock: 20,
}
RESPONSE_FIELDS: dict[type, int] = {
    ResponseException: 1, ResponseEcho: 2, ResponseFlush: 3, ResponseInfo: 4,
    ResponseInitChain: 6, ResponseQuery: 7, ResponseCheckTx: 9, ResponseCommit: 12,
    ResponseListSnapshots: 13, ResponseOfferSnapshot: 14, ResponseLoadSnapshotChunk: 15,
    ResponseApplySnapshotChunk: 16, ResponsePrepareProposal: 17, ResponseProcessProposal: 18,
    ResponseExtendVote: 19, ResponseVerifyVoteExtension: 20, ResponseFinalizeBlock: 21,
}
_REQUEST_TYPES = {number: cls for cls, number in REQUEST_FIELDS.items()}
_RESPONSE_TYPES = {number: cls for cls, number in RESPONSE_FIELDS.items()}


def _wrap(numbers: dict[type, int], msg) -> bytes:
    number = numbers.get(type(msg))
    if number is None:
        raise TypeError(f"{type(msg).__name__} is not a member of this oneof")
    body = encode(msg)
    out = bytearray()
    put_uvarint(out, number << 3 | WIRE_LEN)
    put_uvarint(out, len(body))
    out += body
    return bytes(out)


def _unwrap(types: dict[int, type], data: bytes, what: str):
    """The oneof's member in data (the last one if several, as protobuf reads it)."""
    view = memoryview(data)
    pos, found = 0, None
    while pos < len(view):
        key, pos = read_uvarint(view, pos)
        if key & 7 != WIRE_LEN:
            raise WireError(f"{what} field {key >> 3} with wire type {key & 7}")
        length, pos = read_uvarint(view, pos)
        if length > len(view) - pos:
            raise WireError(f"truncated {what}")
        cls = types.get(key >> 3)
        if cls is not None:
            found = decode(cls, view[pos:pos + length])
        pos += length
    if found is None:
        raise WireError(f"{what} holds no known message")
    return found


def encode_request(msg) -> bytes:
    """A Request (the oneof) holding msg, one of the Request* types."""
    return _wrap(REQUEST_FIELDS, msg)


def decode_request(data: bytes):
    """The Request* message inside an encoded Request."""
    return _unwrap(_REQUEST_TYPES, data, "request")


def encode_response(msg) -> bytes:
    """A Response (the oneof) holding msg, one of the Response* types."""
    return _wrap(RESPONSE_FIELDS, msg)


def decode_response(data: bytes):
    """The Response* message inside an encoded Response."""
    return _unwrap(_RESPONSE_TYPES, data, "response")
