"""The tests' shared helpers: a devnet chain in a directory, signed transfers, the broken
invariants of a chain, and a small driver for the mechanism modules in process (signed
transactions with tracked nonces, blocks at chosen times, and quorum-signed oracle reports
from the devnet operators)."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from contextlib import contextmanager

from rwachain.genesis import devnet
from rwachain.modules.assets import keeper as assets
from rwachain.modules.core import bls
from rwachain.modules.core.fixed import WAD  # noqa: F401 (the tests take it from here)
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.report import bitmap, message
from rwachain.node.chain import Chain
from rwachain.state.proof import EMPTY_ROOT, internal_hash, leaf_hash

KEYS = devnet.dev_keys()
ORIGINATOR, VERIFIER, SERVICER, CUSTODIAN, GUARDIAN = (KEYS[i] for i in (1, 2, 3, 4, 5))
OPERATORS = [KEYS[devnet.OPERATOR_ACCOUNT0 + j] for j in range(devnet.OPERATORS)]
SECRETS = [devnet.operator_secret(j) for j in range(devnet.OPERATORS)]
T0 = devnet.GENESIS_TIME
DAY = 86_400
FEE = 200_000
CHAIN = devnet.CHAIN_ID


def devnet_chain_at(path, genesis: str = devnet.PATH, **kw) -> Chain:
    """A new chain in directory `path` (real LevelDB) with `genesis` imported; kw go to Chain."""
    chain = Chain(str(path), devnet.validator_key(), **kw)
    chain.init_genesis(str(genesis))
    return chain


def transfer(key, nonce: int, to, amount: int = 1, *, fee: int = 5000, denom: str = "rwa", chain: str = CHAIN,
             expiry: int = 0) -> bytes:
    """A signed bank transfer of `amount` base units; `to` is a key or a 20-byte address."""
    return sign_tx(key, chain=chain, nonce=nonce, fee=fee, module="bank", call="transfer",
                   args={"to": getattr(to, "address", to), "denom": denom, "amount": amount}, expiry=expiry)


def hx(raw: bytes) -> str:
    """Bytes as the RPC writes them: 0x-prefixed hex."""
    return "0x" + raw.hex()


def spec_root(items: dict[bytes, bytes]) -> bytes:
    """The state root of a key/value set straight from the spec in state/proof.py (no tree
    code, no history): 16-ary nodes over the nibbles of sha256(key), leaves of the hashes."""

    def node(entries: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if len(entries) == 1:
            return leaf_hash(*entries[0])
        groups: dict[int, list] = {}
        for kh, vh in entries:
            groups.setdefault(kh[depth >> 1] >> 4 if depth % 2 == 0 else kh[depth >> 1] & 0x0F, []).append((kh, vh))
        bitmap = sum(1 << n for n in groups)
        return internal_hash(bitmap, [node(groups[n], depth + 1) for n in sorted(groups)])

    if not items:
        return EMPTY_ROOT
    return node([(hashlib.sha256(k).digest(), hashlib.sha256(v).digest()) for k, v in items.items()], 0)


class WorkExceeded(AssertionError):
    """The code under a work budget ran more Python lines than the budget allows."""


@contextmanager
def work_budget(lines: int):
    """Fail if the block runs more than `lines` lines of Python (in this thread): a measure
    of work that, unlike a stopwatch, does not depend on the machine or its load. The first
    line past the budget raises WorkExceeded at once (a runaway loop stops there), and the
    block fails on leaving even where the code under test caught that exception."""
    ran, exceeded = 0, False

    def count(frame, event, arg):
        nonlocal ran, exceeded
        if event == "line" and not exceeded:
            ran += 1
            if ran > lines:
                exceeded = True
                raise WorkExceeded(f"more than {lines} lines of Python ran")  # (this also ends the tracing)
        return None if exceeded else count

    old = sys.gettrace()
    sys.settrace(count)
    try:
        yield
    finally:
        sys.settrace(old)
    if exceeded:
        raise WorkExceeded(f"more than {lines} lines of Python ran")


def broken_invariants(chain, ctx=None) -> list[tuple[str, str]]:
    """(module, message) of every module invariant that the state at the head (or ctx) breaks."""
    return chain.app.invariant_problems(ctx if ctx is not None else chain.app.reader())


class Driver:
    """Blocks on a Chain with signed calls; nonces tracked per key."""

    def __init__(self, chain):
        self.chain = chain
        self.nonces: dict[bytes, int] = {}
        self.time = chain.app.last_block()["time"]

    def tx(self, key, module: str, call: str, args: dict, fee: int = FEE) -> bytes:
        n = self.nonces.get(key.address, 0)
        self.nonces[key.address] = n + 1
        return sign_tx(key, chain=devnet.CHAIN_ID, nonce=n, fee=fee, module=module, call=call, args=args)

    def block(self, *txs: bytes, at: int | None = None, dt: int = 1):
        """Produce a block at time `at` (default: dt after the last); returns (result, receipts)."""
        self.time = at if at is not None else self.time + dt
        _, result = self.chain.produce(list(txs), time=self.time)
        return result, result.receipts

    def run(self, key, module: str, call: str, args: dict, **kw):
        """One call in its own block; returns its receipt."""
        _, receipts = self.block(self.tx(key, module, call, args), **kw)
        return receipts[0]

    def handle(self, ctx, module: str, call: str, sender: bytes, args: dict) -> None:
        """Run a call's handler, as the chain's App declares it, on ctx (an overlay of the
        state) as a block runs it after admission: no signature, no fee, no rollback."""
        self.chain.app.by_name[module].calls[call].handler(ctx, sender, args)

    def repay_installment(self, asset: int, k: int = 0):
        """The servicer repays asset `asset`'s k-th scheduled installment (principal plus
        interest) in a block of its own; returns the receipt."""
        _, principal, interest = assets.schedule_of(self.ctx, asset)[k][:3]
        return self.run(SERVICER, "assets", "repay", {"id": asset, "amount": principal + interest})

    @property
    def ctx(self):
        return self.chain.app.reader()

    def epoch(self) -> int:
        return oracle.operator_set(self.ctx).epoch

    def next_round(self, feed: str) -> int:
        st = oracle.state_of(self.ctx, feed)
        return st.last_round + 1

    def report_args(self, feed: str, value: int, *, observed_at: int | None = None, round_: int | None = None,
                    signers=(0, 1, 2), epoch: int | None = None, chain: str = devnet.CHAIN_ID,
                    signed_value: int | None = None, bits: bytes | None = None) -> dict:
        obs = self.time if observed_at is None else observed_at
        rnd = self.next_round(feed) if round_ is None else round_
        ep = self.epoch() if epoch is None else epoch
        msg = message(chain, ep, feed, value if signed_value is None else signed_value, obs, rnd)
        sig = bls.aggregate([bls.sign(SECRETS[i], msg) for i in signers])
        return {"feed": feed, "value": value, "observedAt": obs, "round": rnd, "epoch": ep,
                "signers": bits if bits is not None else bitmap(list(signers), devnet.OPERATORS), "signature": sig}

    def report(self, feed: str, value: int, sender=None, **kw) -> bytes:
        return self.tx(sender or OPERATORS[0], "oracle", "report", self.report_args(feed, value, **kw))


def events(receipt_or_result, type_: str) -> list[dict]:
    evs = receipt_or_result.events
    return [e["attrs"] for e in evs if e["type"] == type_]


class DevnetMachine:
    """Mixed into hypothesis state machines that run on a fresh devnet chain on disk:
    open_devnet() in the initialize rule, teardown() closes and removes it."""

    def open_devnet(self, prefix: str) -> None:
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.chain = devnet_chain_at(self.dir)
        self.d = Driver(self.chain)

    def teardown(self):
        if hasattr(self, "chain"):
            self.chain.close()
            shutil.rmtree(self.dir, ignore_errors=True)
