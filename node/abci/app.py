"""rwachain as an ABCI 2.0 application: the chain's App and its LevelDB behind CometBFT.

CometBFT orders the blocks; this app executes them:
    Info              the last committed height and its state root (the app hash), so the
                      handshake replays to the app the blocks it lacks after a crash
    InitChain         imports the home's rwachain genesis (the same file on every
                      validator) and answers with the validator set it names (none named:
                      CometBFT's genesis's set stands)
    CheckTx           admission in mempool mode; CometBFT's re-check after each block
                      evicts what became invalid (a used nonce, a fee no longer covered)
    PrepareProposal   the mempool's transactions that pass the stateless checks and can
                      run (each sender's nonces in order from its account's, no gap),
                      within the block's byte budget and maxBlockTxs
    ProcessProposal   refuses a block over maxBlockTxs or the byte budget, or holding a
                      transaction that fails the stateless checks (malformed, wrong
                      chain, unknown call, bad arguments, bad signature)
    FinalizeBlock     runs the block at CometBFT's height, time (whole seconds) and
                      proposer; the receipts become the tx results; the validator
                      updates are the set changes governance executed in it; AppHash =
                      state root
    Commit            persists state and block records (blocks, receipts, indexes, as a
                      devnet stores them) in the one synced batch
    Query             "/state" (or ""): a raw state key with its proof; "/receipt": a
                      transaction's receipt by hash; "/root": the state root at a height
Nothing here reads a clock or draws randomness: the block time comes from the header.

FinalizeBlock and Commit reach the chain only through execute_block and commit_block,
which run node/chain.py's block steps (Chain.execute, Chain.commit_block): the same steps
as apply_block and produce. CometBFT, not compare_roots, compares the app hashes of the
validators; ProcessProposal is where a proposed block is checked before it is voted on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import ijson

from rwachain.modules.core import accounts
from rwachain.modules.core.app import MEMPOOL, BlockResult
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.governance import validators
from rwachain.node.abci import types as t
from rwachain.node.abci.codec import uvarint
from rwachain.node.abci.server import NoExtensionsNoSnapshots
from rwachain.node.block import Block, Header
from rwachain.node.chain import Chain
from rwachain.node.chain import Executed as ChainExecuted
from rwachain.state.codec import decode_stored, encode
from rwachain.state.store import StoreError

COMET_HASH = b"bc"  # <height 8B> -> CometBFT's hash of the block at that height
CODESPACE = "rwachain"
QUERY_FAILED = 1  # ResponseQuery code of a query that could not be answered
PROOF_OP = "rwachain/state"  # ProofOp type: data is the msgpack proof of state/tree.py


@dataclass(slots=True)
class Executed:
    """A block executed on an overlay, waiting for Commit: rwachain's block over CometBFT's
    header fields, what Chain.execute produced, and CometBFT's hash of the block."""

    block: Block
    block_hash: bytes
    executed: ChainExecuted
    comet_hash: bytes

    @property
    def result(self) -> BlockResult:
        return self.executed.result

    @property
    def receipts(self) -> list[dict]:
        return self.executed.receipts


def execute_block(chain: Chain, height: int, time: int, proposer: bytes, txs: list[bytes],
                  comet_hash: bytes) -> Executed:
    """Run txs as block `height` at `time` (unix s) by `proposer` (CometBFT's 20-byte
    address) through Chain.execute, the devnet's own step; nothing is persisted until
    commit_block. The header is rwachain's own (as a devnet's, unsigned: CometBFT's commit
    carries the signatures)."""
    executed = chain.execute(height, time, proposer, txs)
    header = Header(height=height, parent=chain.head_hash(), time=time, proposer=proposer,
                    txs_root=executed.txs_root, receipts_root=executed.receipts_root,
                    state_root=executed.result.state_root, app_version=chain.app.genesis["appVersion"])
    return Executed(Block(header, b"", list(txs)), header.hash, executed, comet_hash)


def commit_block(chain: Chain, done: Executed) -> None:
    """Persist an executed block through Chain.commit_block: state, block, receipts and
    indexes, and CometBFT's hash of the block, in one synced batch."""
    comet = {COMET_HASH + done.block.header.height.to_bytes(8, "big"): done.comet_hash}
    chain.commit_block(done.block, done.executed, done.block_hash, extra=comet)


def validator_updates(events: list[dict]) -> tuple[t.ValidatorUpdate, ...]:
    """The validator updates of a block: its gov.validatorSet events (governance's executed
    setValidator changes), one per key, the last power of each, in order of first change.
    They come from the block's own execution, so every validator computes the same."""
    powers: dict[bytes, int] = {}
    for e in events:
        if e["type"] == validators.SET_EVENT:
            powers[e["attrs"]["pubkey"]] = e["attrs"]["power"]
    return tuple(validator_update(k, p) for k, p in powers.items())


def validator_update(pubkey: bytes, power: int) -> t.ValidatorUpdate:
    """CometBFT's update of an ed25519 validator's power (0 removes it)."""
    return t.ValidatorUpdate(t.PublicKey(ed25519=pubkey), power)


def comet_hash_at(chain: Chain, height: int) -> bytes | None:
    """CometBFT's hash of the committed block at height, or None."""
    return chain.store.db.get(COMET_HASH + height.to_bytes(8, "big"))


class ChainApp(NoExtensionsNoSnapshots):
    """The ABCI application over one chain; genesis_path is the home's rwachain genesis."""

    def __init__(self, chain: Chain, genesis_path: str):
        self.chain = chain
        self.genesis_path = genesis_path
        self._executed: Executed | None = None
        self.on_commit: list[Callable[[Executed], None]] = []  # called after each committed block

    # ----- handshake -------------------------------------------------------------------
    def last_height(self) -> int:
        """The last committed block's height (0 before the first block)."""
        return self.chain.blocks.head() or 0

    def info(self, request: t.RequestInfo) -> t.ResponseInfo:
        app = self.chain.app
        height = self.last_height()
        version = app.genesis["appVersion"] if app.genesis else 0
        return t.ResponseInfo(data="rwachain", version=str(version), app_version=version,
                              last_block_height=height,
                              last_block_app_hash=self.chain.store.root_hash if height else b"")

    def init_chain(self, request: t.RequestInitChain) -> t.ResponseInitChain:
        """Import the genesis (or find it imported: a crash before the first block); the
        genesis root is the first app hash. CometBFT's chain id and initial height must be
        the genesis's."""
        head = _genesis_head(self.genesis_path)
        if request.chain_id != head.get("chainId"):
            raise ValueError(f"CometBFT's chain id {request.chain_id!r} is not the genesis's {head.get('chainId')!r}")
        if max(request.initial_height, 1) != head.get("initialHeight"):
            raise ValueError(f"CometBFT's initial height {request.initial_height} is not the genesis's "
                             f"{head.get('initialHeight')}")
        if self.chain.height is None:
            self.chain.init_genesis(self.genesis_path)
        elif self.chain.blocks.head() is not None:
            raise ValueError("InitChain on a chain that already has blocks")
        named = validators.named_set(self.chain.app.reader())
        return t.ResponseInitChain(app_hash=self.chain.store.root_hash,
                                   validators=tuple(validator_update(k, p) for k, p in named.items()))

    # ----- the mempool -----------------------------------------------------------------
    def check_tx(self, request: t.RequestCheckTx) -> t.ResponseCheckTx:
        try:
            res = self.chain.app.check_tx(request.tx, MEMPOOL)
        except InvalidTransaction as exc:
            return t.ResponseCheckTx(code=exc.code, log=exc.message, info=exc.name, codespace=CODESPACE)
        return t.ResponseCheckTx(gas_wanted=res.cost)

    # ----- proposals -------------------------------------------------------------------
    def _stateless_ok(self, raw: bytes):
        """The decoded transaction if raw passes the stateless checks, else None."""
        try:
            return self.chain.app.precheck(raw)[0]
        except InvalidTransaction:
            return None

    def prepare_proposal(self, request: t.RequestPrepareProposal) -> t.ResponsePrepareProposal:
        """The mempool's transactions that pass the stateless checks and can run in this
        block: each sender's in nonce order from its account nonce, without gaps or
        repeats (the others stay in the mempool: CometBFT drops what a block includes,
        even refused). At most maxBlockTxs, within max_tx_bytes counted as CometBFT counts
        them (each with its protobuf framing)."""
        app = self.chain.app
        ready = _runnable(app, [(tx, raw) for raw in request.txs if (tx := self._stateless_ok(raw)) is not None])
        picked, budget = [], request.max_tx_bytes
        for raw in ready[:app.params["maxBlockTxs"]]:
            budget -= len(raw) + len(uvarint(len(raw))) + 1
            if budget < 0:
                break  # not skipped: a later transaction of the same sender would find a gap
            picked.append(raw)
        return t.ResponsePrepareProposal(txs=tuple(picked))

    def process_proposal(self, request: t.RequestProcessProposal) -> t.ResponseProcessProposal:
        """Accept a proposal only if this app would have made it: at most maxBlockTxs
        transactions, each passing the stateless checks."""
        ok = (len(request.txs) <= self.chain.app.params["maxBlockTxs"]
              and all(self._stateless_ok(raw) is not None for raw in request.txs))
        return t.ResponseProcessProposal(t.ProposalStatus.ACCEPT if ok else t.ProposalStatus.REJECT)

    # ----- blocks ------------------------------------------------------------------------
    def finalize_block(self, request: t.RequestFinalizeBlock) -> t.ResponseFinalizeBlock:
        """Execute the decided block; the app hash is the state root after it. The block
        time is the header's, in whole seconds, never before the last block's."""
        if self._executed is not None:  # a block finalized and not committed is dropped
            self.chain.app.abandon()
            self._executed = None
        time = max(request.time.seconds, self.chain.app.last_block()["time"])
        done = execute_block(self.chain, request.height, time, request.proposer_address, list(request.txs),
                             request.hash)
        self._executed = done
        results = tuple(t.ExecTxResult(code=r["code"], log=r["message"], info=r["error"], gas_used=r["cost"],
                                       events=tuple(abci_event(e) for e in r["events"]),
                                       codespace=CODESPACE if r["code"] else "")
                        for r in done.receipts)
        return t.ResponseFinalizeBlock(events=tuple(abci_event(e) for e in done.result.events),
                                       tx_results=results, validator_updates=validator_updates(done.result.events),
                                       app_hash=done.result.state_root)

    def commit(self, request: t.RequestCommit) -> t.ResponseCommit:
        if self._executed is None:
            raise RuntimeError("Commit without a finalized block")
        done, self._executed = self._executed, None
        commit_block(self.chain, done)
        for fn in list(self.on_commit):
            fn(done)
        return t.ResponseCommit()

    # ----- queries -----------------------------------------------------------------------
    def query(self, request: t.RequestQuery) -> t.ResponseQuery:
        height = request.height or None
        if request.height < 0:
            return t.ResponseQuery(code=QUERY_FAILED, log=f"height {request.height} is negative", codespace=CODESPACE)
        try:
            if request.path in ("", "/state"):
                return self._query_state(request.data, height, request.prove)
            if request.path == "/receipt":
                return self._query_receipt(request.data)
            if request.path == "/root":
                return self._query_root(height)
        except (StoreError, ValueError, OverflowError) as exc:
            return t.ResponseQuery(code=QUERY_FAILED, log=str(exc), codespace=CODESPACE)
        return t.ResponseQuery(code=QUERY_FAILED, log=f"unknown query path {request.path!r}: "
                               "/state, /receipt or /root", codespace=CODESPACE)

    def _query_state(self, key: bytes, height: int | None, prove: bool) -> t.ResponseQuery:
        version = self.chain.height if height is None else height
        value, proof, root = self.chain.app.query(key, version)
        ops = t.ProofOps((t.ProofOp(PROOF_OP, key, encode({"proof": proof, "root": root})),)) if prove else None
        return t.ResponseQuery(key=key, value=value or b"", proof_ops=ops, height=version,
                               info="" if value is not None else "absent")

    def _query_receipt(self, tx_hash: bytes) -> t.ResponseQuery:
        """value: msgpack {height, index, receipt} of the transaction with this hash."""
        loc = self.chain.blocks.tx_location(tx_hash)
        if loc is None:
            raise ValueError(f"no committed transaction 0x{tx_hash.hex()}")
        receipt = self.chain.blocks.receipt(*loc)
        return t.ResponseQuery(key=tx_hash, value=encode({"height": loc[0], "index": loc[1], "receipt": receipt}),
                               height=self.last_height())

    def _query_root(self, height: int | None) -> t.ResponseQuery:
        """value: the state root after block `height` (default: the last committed)."""
        version = self.chain.height if height is None else height
        return t.ResponseQuery(value=self.chain.store.root_at(version), height=version)



def _runnable(app, checked: list) -> list[bytes]:
    """The raws of (tx, raw) pairs that run in a block in this order: each sender's
    transactions sorted by nonce, the run that starts at its account nonce with no gap
    and no repeat, in the places that sender's transactions held (arrival order)."""
    reader = app.reader()
    slots: dict[bytes, list[int]] = {}
    for i, (tx, _) in enumerate(checked):
        slots.setdefault(tx.sender, []).append(i)
    out: list[bytes | None] = [None] * len(checked)
    for sender, places in slots.items():
        start = expected = accounts.nonce(reader, sender)
        for tx, raw in sorted((checked[i] for i in places), key=lambda p: p[0].nonce):
            if tx.nonce != expected:
                continue  # a repeat, or a gap: nothing after it runs either
            out[places[expected - start]] = raw
            expected += 1
    return [raw for raw in out if raw is not None]


def abci_event(event: dict) -> t.Event:
    """An rwachain event {type, attrs} as an ABCI event: each attribute's value as text
    (bytes as 0x-hex, numbers in decimal, structures as JSON), indexed."""
    attrs = event.get("attrs") or {}
    return t.Event(type=str(event["type"]), attributes=tuple(
        t.EventAttribute(str(k), _text(v), True) for k, v in attrs.items()))


def _text(value) -> str:
    if type(value) is str:
        return value
    if type(value) in (bytes, bytearray):
        return "0x" + bytes(value).hex()
    if type(value) is bool:
        return "true" if value else "false"
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"))


def _jsonable(value):
    if type(value) is dict:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [_jsonable(v) for v in value]
    if type(value) is int and not -(1 << 53) < value < 1 << 53:
        return str(value)
    return _text(value) if type(value) in (bytes, bytearray) else value


def _genesis_head(path: str) -> dict:
    """The chainId and initialHeight of a genesis file, read as a stream."""
    out: dict = {}
    with open(path, "rb") as f:
        for prefix, event, value in ijson.parse(f, use_float=False):
            if prefix in ("chainId", "initialHeight") and event in ("string", "number"):
                out[prefix] = int(value) if event == "number" else value
                if len(out) == 2:
                    break
    return out


def decode_receipt_query(value: bytes) -> dict:
    """{height, index, receipt} from a "/receipt" query's value."""
    return decode_stored(value)


def open_home_chain(home: str, *, keep_versions: int = 100) -> tuple[Chain, str]:
    """(the chain of an ABCI home, its genesis path): HOME/data and HOME/genesis.json."""
    return Chain(os.path.join(home, "data"), None, keep_versions=keep_versions), os.path.join(home, "genesis.json")
