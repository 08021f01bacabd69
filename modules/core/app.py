"""The application: a deterministic state machine behind an ABCI-shaped surface.

    check_tx(raw, mode)                     admission; changes nothing
    finalize_block(height, time, proposer, txs)
                                            begin-block hooks, each transaction, end-block
                                            hooks; returns receipts, events, state root
    commit(extra)                           persists the finalized block in one synced batch
    query(key, height)                      a raw state value with its proof

Block production, networking and clocks live in node/; this module only reacts.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from rwachain.modules.assets import module as assets_module
from rwachain.modules.bank import keeper as bank
from rwachain.modules.bank import module as bank_module
from rwachain.modules.core import accounts, dirty, fees, params, verdicts
from rwachain.modules.core.args import check_args
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.crypto import module_address
from rwachain.modules.core.errors import (
    CannotPayFee,
    ExecutionError,
    Expired,
    FeeTooLow,
    HandlerFault,
    InvalidTransaction,
    NonceGap,
    Paused,
    ReplayedNonce,
    UnknownCall,
    UnknownModule,
    WrongChainId,
)
from rwachain.modules.core.hookmemo import HookMemo
from rwachain.modules.core.registry import Call, Module
from rwachain.modules.core.tx import Tx, check_signature, decode_tx, size_with_fee
from rwachain.modules.core.wiring import Wiring, wire
from rwachain.modules.governance import changes
from rwachain.modules.governance import module as governance_module
from rwachain.modules.insurance import module as insurance_module
from rwachain.modules.market import module as market_module
from rwachain.modules.oracle import module as oracle_module
from rwachain.modules.reserve import module as reserve_module
from rwachain.modules.roles import module as roles_module
from rwachain.modules.stable import module as stable_module
from rwachain.modules.tranches import module as tranches_module
from rwachain.state.codec import SCALAR_TYPES, decode, encode, encode_shaped, unpack_int
from rwachain.state.overlay import Overlay
from rwachain.state.store import NODE_FAULTS, BoundedCache, PendingCommit, Store
from rwachain.state.yieldpoint import NEVER, YieldPoint


class GenesisInvariantError(ValueError):
    """A genesis whose imported state breaks block invariants: problems [(source, message)]."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{src}: {msg}" for src, msg in problems))


GENESIS_KEY = b"chain/genesis"  # the chain's identity: IDENTITY_FIELDS of its genesis
IDENTITY_FIELDS = ("chainId", "appVersion", "stateSchemaVersion", "validator", "nativeDenom")
LAST_KEY = b"chain/last"
FEE_COLLECTOR = "reserve"  # fees go to the reserve's module account (MECHANISM.md)

SIGNATURE_CACHE = 65_536  # transactions whose checks an App remembers (up to about twice as many)
DEV_OP_MARK = b"\x95"  # a 5-element msgpack array: ["dev", op, ...]; devnets only
MEMPOOL = "mempool"
BLOCK = "block"


def default_modules() -> list[Module]:
    """The modules of the chain, in hook order: a begin- or end-block hook runs after those
    of the modules listed before it. The stable module's end-block (the collateral ratio of
    the block) runs after the assets' revaluation, so a CR reflects this block's marks;
    governance and then the reserve come last. A new module goes at the end of `governed`
    (governance hands on what the modules it is given declare: parameters, pauses)."""
    governed = [bank_module.module(), roles_module.module(), oracle_module.module(), assets_module.module(),
                tranches_module.module(), stable_module.module(), market_module.module(), insurance_module.module()]
    reserve = reserve_module.module()
    return [*governed, governance_module.module([*governed, reserve]), reserve]


@dataclass(slots=True)
class Receipt:
    """What happened to one transaction of a block. code 0 is success."""

    tx_hash: bytes
    code: int = 0
    error: str = ""
    message: str = ""
    fee: int = 0
    cost: int = 0
    events: list[dict] = field(default_factory=list)
    sender: bytes | None = None  # for the node's indexes; not part of the encoding
    module: str | None = None

    def to_obj(self) -> dict:
        return {"code": self.code, "cost": self.cost, "error": self.error, "events": self.events,
                "fee": self.fee, "message": self.message, "tx": self.tx_hash}


def encode_receipt(obj: dict) -> bytes:
    """Canonical bytes of a receipt object (Receipt.to_obj()): the same bytes as
    codec.encode, packed directly when every event is {attrs, type} with str attribute
    names in order and scalar values (what Context.emit builds); else the general path."""
    for e in obj["events"]:
        attrs = e.get("attrs")
        if (len(e) != 2 or next(iter(e)) != "attrs" or type(attrs) is not dict
                or type(e.get("type")) is not str
                or not SCALAR_TYPES.issuperset(map(type, attrs.values()))
                or not _all_str_in_order(list(attrs))):
            return encode(obj)
    return encode_shaped(obj)


def _all_str_in_order(keys: list) -> bool:
    return all(type(k) is str for k in keys) and keys == sorted(keys)


@dataclass(slots=True)
class BlockResult:
    """finalize_block's answer: the state root after the block, receipts and hook events."""

    height: int
    time: int
    state_root: bytes
    tx_hashes: list[bytes]
    receipts: list[Receipt]
    events: list[dict]


@dataclass(frozen=True, slots=True)
class CheckResult:
    tx: Tx
    cost: int
    min_fee: int


class App:
    """The chain's application over one Store."""

    def __init__(self, store: Store, modules: list[Module] | None = None,
                 signatures: BoundedCache | None = None, allow_dev_ops: bool = False):
        self.store = store
        self.allow_dev_ops = allow_dev_ops
        self.modules = modules if modules is not None else default_modules()
        self.by_name = {m.name: m for m in self.modules}
        # The one signature cache, by tx hash: (tx, call) once precheck passed, True when
        # only the signature was checked (elsewhere, e.g. a checker process); and the true
        # verdicts of aggregate BLS signatures under keys of their own (modules/core/verdicts.py).
        # The node creates it and hands it in; an App used alone makes its own.
        self.signatures = signatures if signatures is not None else BoundedCache(SIGNATURE_CACHE)
        # the callbacks these modules offer each other, and the cache their contexts carry
        self.wiring: Wiring = wire(self.modules, self.signatures)
        self._pending: PendingCommit | None = None
        self.on_fault: Callable[[str, Exception], None] | None = None  # the node logs faults
        self.hooks = HookMemo(self._note_fault)  # begin/end-block hooks; pure ones skipped when they would change nothing
        self.handler_faults = 0  # transactions of finalized blocks whose handler raised (HandlerFault)
        self._last: tuple[int | None, dict] | None = None  # (store version, LAST_KEY decoded)
        self.reserve = module_address(FEE_COLLECTOR)
        self.params: dict | None = None
        self.genesis: dict | None = None
        if store.version is not None:
            self._load_chain()

    @property
    def hook_faults(self) -> int:
        """Begin- and end-block hook turns that raised (contained: hook.fault events)."""
        return self.hooks.faults

    def _note_fault(self, where: str, exc: Exception) -> None:
        if self.on_fault is not None:
            self.on_fault(where, exc)

    def reload(self) -> None:
        """Forget cached chain data after the store was rewound or replaced."""
        self._pending = None
        self._last = None
        self.signatures.clear()
        if self.store.version is not None:
            self._load_chain()

    def _load_chain(self) -> None:
        ctx = self.context(self.store, BlockInfo(0, 0, b""))
        self.genesis = ctx.get_obj(GENESIS_KEY)
        self.params = params.load(ctx)
        self.native = self.genesis["nativeDenom"]

    def context(self, state, block: BlockInfo) -> Ctx:
        """A context over state at block that carries this App's wiring."""
        return Ctx(state, block, self.wiring)

    def _wired(self, hook: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        """hook, run on a context that carries this App's wiring (the hook runner gives each
        hook a context of its own)."""
        wiring = self.wiring

        def run(ctx: Ctx) -> None:
            ctx.wiring = wiring
            hook(ctx)

        return run

    # ----- queries of chain status ----------------------------------------------------
    @property
    def height(self) -> int | None:
        return self.store.version

    def last_block(self) -> dict:
        """{"height", "time"} of the last committed block (genesis: its height and time).

        Decoded once per committed version (admission asks for it per transaction); the
        returned map is shared: do not modify it.
        """
        version = self.store.version
        cached = self._last
        if cached is not None and cached[0] == version:
            return cached[1]
        last = self.context(self.store, BlockInfo(0, 0, b"")).get_obj(LAST_KEY)
        self._last = (version, last)
        return last

    def reader(self) -> Ctx:
        """A read-only context over the latest committed state."""
        last = self.last_block()
        return self.context(self.store, BlockInfo(last["height"], last["time"], b""))

    # ----- admission ----------------------------------------------------------------
    def _call(self, tx: Tx) -> Call:
        mod = self.by_name.get(tx.module)
        if mod is None:
            raise UnknownModule(f"no module named {tx.module!r}")
        call = mod.calls.get(tx.call)
        if call is None:
            raise UnknownCall(f"module {tx.module!r} has no call {tx.call!r}")
        return call

    def precheck(self, raw: bytes, h: bytes | None = None) -> tuple[Tx, Call]:
        """Stateless checks (encoding, chain id, call, args, signature); cached by tx hash.

        h is sha256(raw) when the caller has it. Thread-safe: the node calls this from
        worker threads to verify off the event loop.
        """
        if h is None and type(raw) is bytes:
            h = hashlib.sha256(raw).digest()
        hit = self.signatures.get(h) if h is not None else None
        if type(hit) is tuple:
            return hit
        tx = decode_tx(raw, self.params["maxTxBytes"])
        if tx.chain != self.params["chainId"]:
            raise WrongChainId(f"transaction is for chain {tx.chain!r}, this is {self.params['chainId']!r}")
        call = self._call(tx)
        check_args(call.args, tx.args)
        if hit is None:
            check_signature(tx)
        self.signatures.put(tx.hash, (tx, call))
        return tx, call

    def is_prechecked(self, raw: bytes) -> bool:
        """True if raw passed precheck already (its result is cached)."""
        return type(self.signatures.get(hashlib.sha256(raw).digest())) is tuple

    def note_signatures_verified(self, raws: list[bytes], verdicts) -> None:
        """Record the signed bytes whose verdict is true as carrying a valid signature
        (checked by the node elsewhere, e.g. in a checker process); precheck then skips
        their check. verdicts: one truth value per raw, in order."""
        signatures = self.signatures
        for raw, ok in zip(raws, verdicts, strict=False):
            h = hashlib.sha256(raw).digest()
            if ok and type(signatures.get(h)) is not tuple:
                signatures.put(h, True)

    def _check_stateful(self, ctx: Ctx, tx: Tx, call: Call, height: int, mode: str) -> tuple[int, int]:
        if tx.expiry and height > tx.expiry:
            raise Expired(f"transaction expired at height {tx.expiry}; next block is {height}")
        n = accounts.nonce(ctx, tx.sender)
        if tx.nonce < n:
            raise ReplayedNonce(f"nonce {tx.nonce} is used; the account's next nonce is {n}")
        if mode == BLOCK:
            if tx.nonce != n:
                raise NonceGap(f"nonce {tx.nonce} skips ahead; the account's next nonce is {n}")
        elif tx.nonce >= n + self.params["nonceWindow"]:
            raise NonceGap(f"nonce {tx.nonce} is beyond the window of {self.params['nonceWindow']} "
                           f"from the account's next nonce {n}")
        cost = call.cost + self.params["feePerByte"] * tx.size
        need = cost * self.params["feePrice"]
        if tx.fee < need:
            raise FeeTooLow(f"fee {tx.fee} is below the minimum {need} for this call and size")
        have = bank.balance(ctx, tx.sender, self.native)
        if have < tx.fee:
            raise CannotPayFee(f"native balance {have} cannot pay the fee {tx.fee}")
        return cost, need

    def signature_job(self, raw: bytes) -> tuple[Call, tuple[list[bytes], bytes, bytes]] | None:
        """(call, (keys, message, signature)) of the aggregate BLS signature this transaction
        carries, if it passes its other checks; None otherwise. A node verifies the job in
        another process and reports success with note_signature_job, so check_tx and the
        block find the verdict cached."""
        try:
            tx, call = self.precheck(raw)
        except InvalidTransaction:
            return None
        if call.signature_job is None:
            return None
        last = self.last_block()
        job = call.signature_job(self.context(self.store, BlockInfo(last["height"] + 1, last["time"], b"")),
                                 tx.sender, tx.args)
        return None if job is None else (call, job)

    def note_signature_job(self, call: Call, job: tuple[list[bytes], bytes, bytes]) -> None:
        """Record that call's aggregate signature job (keys, message, signature), checked
        elsewhere, verifies: its verdict goes into this App's signature cache."""
        verdicts.note(self.signatures, *job)

    def check_tx(self, raw: bytes, mode: str = MEMPOOL) -> CheckResult:
        """Admission against the latest committed state; raises a typed InvalidTransaction."""
        tx, call = self.precheck(raw)
        last = self.last_block()
        ctx = self.context(self.store, BlockInfo(last["height"] + 1, last["time"], b""))
        cost, need = self._check_stateful(ctx, tx, call, last["height"] + 1, mode)
        if call.admit is not None:
            call.admit(ctx, tx.sender, tx.args)
        return CheckResult(tx, cost, need)

    # ----- execution ----------------------------------------------------------------
    def finalize_block(self, height: int, time: int, proposer: bytes, txs: Iterable[bytes],
                       before_tx: Callable[[int], None] | None = None, *,
                       yield_point: YieldPoint = NEVER) -> BlockResult:
        """Execute a block on an overlay and compute its state root; commit() persists it.

        before_tx(i), if given, is called before transaction i runs (the node uses it to
        wait for that transaction's signature check, done in parallel). yield_point goes to
        Store.prepare (the node's worker-thread blocks let the event loop run).
        """
        if self._pending is not None:
            raise RuntimeError("the previous finalized block is not committed yet")
        last = self.last_block()
        if height != last["height"] + 1:
            raise ValueError(f"block height {height} does not follow {last['height']}")
        if time < last["time"]:
            raise ValueError(f"block time {time} is before the last block time {last['time']}")
        block = Overlay(self.store)
        info = BlockInfo(height, time, proposer)
        hooks = self.context(block, info)
        hooks.set_obj(LAST_KEY, {"height": height, "time": time})
        run_hook = self.hooks.run
        for m in self.modules:
            if m.begin_block is not None:
                run_hook(m.name + ".begin", self._wired(m.begin_block), hooks, m.pure_hooks)
        receipts = []
        hashes = []
        signatures = self.signatures
        for i, raw in enumerate(txs):
            if before_tx is not None:
                before_tx(i)
            r = self._deliver(block, info, raw, in_block=True)
            receipts.append(r)
            hashes.append(r.tx_hash)
            # Included: its admission checks are of no further use (a resubmission is a
            # replayed nonce). Dropping them here keeps a large block's memory peak down.
            signatures.discard(r.tx_hash)
        paid = sum(r.fee for r in receipts)
        if paid:
            fees.record(hooks, self.native, paid)
        for m in self.modules:
            if m.end_block is not None:
                run_hook(m.name + ".end", self._wired(m.end_block), hooks, m.pure_hooks)
        self._pending = self.store.prepare(height, block.writes, yield_point=yield_point)
        return BlockResult(height, time, self._pending.root_hash, hashes, receipts, hooks.events)

    def _deliver(self, block: Overlay, info: BlockInfo, raw: bytes, in_block: bool = False) -> Receipt:
        """Run one transaction on the block's overlay; its receipt. A handler's
        ExecutionError fails it with its code; any other exception (but a node fault) fails
        it with HandlerFault, counted and reported to on_fault when in_block (not a
        simulation). Either way the fee and nonce stay and the handler's writes are dropped."""
        h = hashlib.sha256(raw).digest() if type(raw) is bytes else b""
        bctx = Ctx(block, info, self.wiring)
        if self.allow_dev_ops and raw[:1] == DEV_OP_MARK:
            return self._dev_op(bctx, h, raw)
        try:
            tx, call = self.precheck(raw, h)
            cost, _ = self._check_stateful(bctx, tx, call, info.height, BLOCK)
        except InvalidTransaction as exc:
            # Refused at the door: no fee, no nonce, no state change.
            return Receipt(h, exc.code, exc.name, exc.message)
        bank.transfer(bctx, tx.sender, self.reserve, self.native, tx.fee)
        accounts.bump(bctx, tx.sender, tx.nonce)
        receipt = Receipt(h, fee=tx.fee, cost=cost, sender=tx.sender, module=tx.module)
        receipt.events.append({"attrs": {"amount": tx.fee, "payer": tx.sender}, "type": "tx.fee"})
        tctx = Ctx(Overlay(block), info, self.wiring)
        try:
            if governance_module.is_paused(tctx, tx.module, tx.call):
                raise Paused(f"the guardian paused the {tx.module} module; only governance unpauses it")
            call.handler(tctx, tx.sender, tx.args)
        except ExecutionError as exc:
            receipt.code, receipt.error, receipt.message = exc.code, exc.name, exc.message
            return receipt
        except NODE_FAULTS:
            raise
        except Exception as exc:
            where = f"{tx.module}.{tx.call}"
            fault = HandlerFault(f"{where} raised {type(exc).__name__}")
            receipt.code, receipt.error, receipt.message = fault.code, fault.name, fault.message
            if in_block:
                self.handler_faults += 1
                self._note_fault(where, exc)
            return receipt
        tctx.state.merge_into_parent()
        receipt.events.extend(tctx.events)
        return receipt

    def _dev_op(self, ctx: Ctx, h: bytes, raw: bytes) -> Receipt:
        """Apply a devnet state edit carried in the block (so replay reproduces it)."""
        op = decode(raw)
        if op[1] == "setBalance":
            _, _, addr, denom, amount = op
            bank.require_denom(ctx, denom)
            have = bank.balance(ctx, addr, denom)
            if amount > have:
                bank.mint(ctx, addr, denom, amount - have)
            elif amount < have:
                bank.burn(ctx, addr, denom, have - amount)
            ev = {"attrs": {"account": addr, "amount": amount, "denom": denom}, "type": "dev.setBalance"}
            return Receipt(h, events=[ev], module="dev")
        return Receipt(h, 2, "malformed", f"unknown dev operation {op[1]!r}")

    def simulate(self, raw: bytes) -> Receipt:
        """Run a transaction on a throwaway overlay over the latest state; nothing changes.

        The nonce may be any not yet used (a simulation of a future transaction).
        """
        tx, call = self.precheck(raw)
        last = self.last_block()
        info = BlockInfo(last["height"] + 1, last["time"], b"")
        block = Overlay(self.store)
        bctx = self.context(block, info)
        cost, _ = self._check_stateful(bctx, tx, call, info.height, MEMPOOL)
        if accounts.nonce(bctx, tx.sender) != tx.nonce:
            bctx.set_int(accounts.PREFIX + tx.sender, tx.nonce)
        return self._deliver(block, info, raw)

    def dry_run(self, raws: list[bytes], time: int) -> tuple[list[Receipt], Ctx]:
        """Run transactions in order as the next block's at `time` (after its begin-block
        hooks; no end-block hooks) on a throwaway overlay over the latest state: nothing is
        kept. (their receipts, a reader of the state after them); nonces must be exact."""
        last = self.last_block()
        info = BlockInfo(last["height"] + 1, time, b"")
        block = Overlay(self.store)
        hooks = self.context(block, info)
        hooks.set_obj(LAST_KEY, {"height": info.height, "time": time})
        for m in self.modules:
            if m.begin_block is not None:
                m.begin_block(hooks)
        receipts = [self._deliver(block, info, raw) for raw in raws]
        return receipts, self.context(block, info)

    def estimate_fee(self, raw: bytes) -> dict:
        """{cost, minFee, size} of this transaction signed again with fee minFee: the least
        fee that pays for its own encoding (the fee's msgpack length grows with its value),
        with that encoding's size (bytes) and cost (units). The given fee and signature are
        not checked; re-signed with minFee, the transaction meets the fee rule.

        fee -> cost(size with fee) x feePrice never decreases, so iterating it from 0 climbs
        to its least fixed point: at most one step per length of a msgpack integer."""
        tx = decode_tx(raw, self.params["maxTxBytes"])
        call = self._call(tx)
        fee = 0
        while True:
            size = size_with_fee(tx, fee)
            cost = call.cost + self.params["feePerByte"] * size
            need = cost * self.params["feePrice"]
            if need <= fee:
                return {"cost": cost, "minFee": fee, "size": size}
            fee = need

    def commit(self, extra: dict[bytes, bytes] | None = None, *, yield_point: YieldPoint = NEVER) -> None:
        """Persist the finalized block (and the node's block records) atomically;
        yield_point as in finalize_block."""
        if self._pending is None:
            raise RuntimeError("nothing to commit: call finalize_block first")
        pending, self._pending = self._pending, None
        self.store.commit(pending, extra, yield_point=yield_point)
        if any(k.startswith(params.KEY) for k in pending.flat):
            self.params = params.load(self.context(self.store, BlockInfo(0, 0, b"")))

    def abandon(self) -> None:
        """Drop a finalized block that will not be committed."""
        self._pending = None

    def query(self, key: bytes, height: int | None = None) -> tuple[bytes | None, dict, bytes]:
        """(value, proof, state root) of a raw state key at height (default: latest)."""
        return self.store.get_at(key, height)

    # ----- genesis ------------------------------------------------------------------
    def invariant_problems(self, ctx: Ctx) -> list[tuple[str, str]]:
        """(module, message) of every module invariant broken in ctx's state."""
        return [(m.name, msg) for m in self.modules if m.invariants is not None for msg in m.invariants(ctx)]

    def init_chain(self, meta: dict, sections: dict, account_chunks: Iterable[list[dict]],
                   check: Callable[[Ctx], list[tuple[str, str]]] | None = None) -> bytes:
        """Import a validated genesis; returns the genesis state root.

        meta: chainId, genesisTime, initialHeight, appVersion, stateSchemaVersion,
        validator, nativeDenom, params; sections: per module, and "params" {module:
        parameters} of the governed modules; account_chunks: lists of {address: 20B, nonce:
        int, balances: {denom: int}}, written chunk by chunk so a large genesis loads in
        bounded memory. After the import every module's invariants, and check(ctx) (more
        block invariants, (source, message)), must hold: otherwise GenesisInvariantError,
        and the chain is not created.
        """
        if self.store.version is not None:
            raise RuntimeError("this store already holds a chain")
        version = meta["initialHeight"] - 1
        over = Overlay(self.store)
        ctx = self.context(over, BlockInfo(version, meta["genesisTime"], b""))
        ctx.set_obj(GENESIS_KEY, {k: v for k, v in meta.items() if k in IDENTITY_FIELDS})
        ctx.set_obj(params.KEY, meta["params"])
        ctx.set_obj(LAST_KEY, {"height": version, "time": meta["genesisTime"]})
        for name in self.wiring.accounts:  # the module accounts its modules declare
            bank.register_module_account(ctx, module_address(name), name)
        for name, p in sorted(sections.get("params", {}).items()):  # governed module parameters
            ctx.set_obj(changes.governed(self.modules)[name][0], p)
        for m in self.modules:
            if m.init_genesis is not None and m.name in sections:
                m.init_genesis(ctx, sections[m.name])
        dirty.take(ctx)  # genesis values are as given: nothing to revalue
        supplies: dict[str, int] = {}
        first = True
        for chunk in account_chunks:
            for acct in chunk:
                addr = acct["address"]
                if acct.get("nonce"):
                    ctx.set_int(accounts.PREFIX + addr, acct["nonce"])
                for denom, amount in acct["balances"].items():
                    ctx.set_int(bank.bal_key(addr, denom), amount)
                    supplies[denom] = supplies.get(denom, 0) + amount
            self.store.commit(self.store.prepare(version, over.writes, same_version=not first), final=False,
                              cache=False)
            first = False
            over.reset()
        for denom, total in supplies.items():
            ctx.set_int(bank.SUPPLY + denom.encode(), total)
        broken = self.invariant_problems(ctx) + (check(ctx) if check is not None else [])
        if broken:  # nothing final is written: the store reopens empty
            raise GenesisInvariantError(broken)
        self.store.commit(self.store.prepare(version, over.writes, same_version=not first))
        self._load_chain()
        return self.store.root_hash

    def export(self) -> tuple[dict, dict, Iterator[dict]]:
        """(meta, sections, accounts iterator) of the latest state, for a genesis file."""
        ctx = self.reader()
        meta = dict(ctx.get_obj(GENESIS_KEY))
        last = ctx.get_obj(LAST_KEY)
        meta["params"] = params.load(ctx)
        meta["initialHeight"] = last["height"] + 1
        meta["genesisTime"] = last["time"]
        sections = {m.name: m.export_genesis(ctx) for m in self.modules if m.export_genesis is not None}
        sections["params"] = {name: ctx.get_obj(key) for name, (key, _) in changes.governed(self.modules).items()
                              if ctx.get(key) is not None}
        return meta, sections, self._iter_accounts(ctx)

    def _iter_accounts(self, ctx: Ctx) -> Iterator[dict]:
        """Accounts with a nonce or a balance, in address order, streamed from state."""
        nonces = ((k[len(accounts.PREFIX):], ctx.get_int(k)) for k, _ in ctx.iter_prefix(accounts.PREFIX))
        n = len(bank.BAL)
        bals = ((k[n : n + 20], k[n + 20 :].decode(), v) for k, v in ctx.iter_prefix(bank.BAL))
        yield from _merge_accounts(nonces, bals)


def _merge_accounts(nonces, bals) -> Iterator[dict]:
    """Join two address-ordered streams (nonces; balances) into one record per account."""
    entries = heapq.merge(((a, 0, n) for a, n in nonces), ((a, 1, (d, v)) for a, d, v in bals),
                          key=lambda e: (e[0], e[1]))
    for addr, group in itertools.groupby(entries, key=lambda e: e[0]):
        acct: dict = {"address": addr, "nonce": 0, "balances": {}}
        for _, kind, x in group:
            if kind == 0:
                acct["nonce"] = x
            else:
                acct["balances"][x[0]] = unpack_int(x[1])
        yield acct


def dev_set_balance(addr: bytes, denom: str, amount: int) -> bytes:
    """A block entry that sets addr's balance of denom on a devnet (supply follows)."""
    return encode(["dev", "setBalance", addr, denom, amount])
