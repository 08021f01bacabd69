"""An in-process chain for building genesis files, replaying scenarios and simulating:
the application over a real LevelDB store in a directory, blocks made by calling it,
transactions signed by named actors with tracked nonces, oracle reports signed by BLS
operator keys.

Actor keys are derived from names (public, for devnets, scenarios and simulations only):
    Ed25519 seed  = sha256(b"rwachain/actor/" || name as UTF-8)
    BLS secret    = IETF KeyGen of sha256(b"rwachain/actor-bls/" || name as UTF-8)
No node, no clock: block times are given by the caller.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from rwachain.genesis.loader import import_genesis
from rwachain.modules.core import accounts, bls
from rwachain.modules.core.app import App, BlockResult
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.registry import Module
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.report import bitmap, message
from rwachain.state.store import Store

FAST_TMP = "/dev/shm"  # tmpfs: a synced LevelDB write costs nothing there (about 4 ms a block on disk)
SCRATCH_ENV = "RWA_SCRATCH"  # names another directory for throwaway chains


def scratch_dir(prefix: str = "rwa-local-") -> tempfile.TemporaryDirectory:
    """A throwaway directory for a chain: under $RWA_SCRATCH when set, else on tmpfs where
    there is one, else in the system's temporary directory."""
    base = os.environ.get(SCRATCH_ENV) or FAST_TMP
    return tempfile.TemporaryDirectory(prefix=prefix, dir=base if os.path.isdir(base) and os.access(base, os.W_OK)
                                       else None)


def actor_key(name: str) -> Keypair:
    """The Ed25519 key of a named actor."""
    return Keypair(hashlib.sha256(b"rwachain/actor/" + name.encode()).digest())


def actor_bls_secret(name: str) -> int:
    """The BLS secret key of a named oracle operator."""
    return bls.secret_from_seed(hashlib.sha256(b"rwachain/actor-bls/" + name.encode()).digest())


def group_signature(secrets: list[int], msg: bytes) -> bytes:
    """The aggregate of the BLS signatures of msg by each secret key, made as one signature:
    a signature is linear in the secret key, so the keys' sum (mod the curve order) signs
    the sum of their signatures (one hash to the curve and one multiplication, not one of
    each per signer). The same 96 bytes as bls.aggregate of the signatures."""
    total = sum(secrets) % bls.CURVE_ORDER
    if total == 0:  # the keys cancel: their signatures sum to the identity, which sign() cannot make
        return bls.aggregate([bls.sign(sk, msg) for sk in secrets])
    return bls.sign(total, msg)


class LocalChain:
    """A chain in `directory` (a fresh temporary one if None, on tmpfs where there is one) started from a genesis
    document (dict) or file path. Not thread-safe; close() when done. `modules` replaces the
    application's module list (default: modules.app.default_modules()). throwaway: the
    chain is deleted after use, so its store skips synced writes and table flushes
    (Store(throwaway=True)); None: when the chain is in a temporary directory of its own."""

    def __init__(self, genesis: dict | str, directory: str | None = None, *, proposer: bytes = b"\0" * 20,
                 modules: list[Module] | None = None, throwaway: bool | None = None):
        self._tmp = scratch_dir() if directory is None else None
        self.dir = directory if directory is not None else self._tmp.name
        os.makedirs(self.dir, exist_ok=True)
        if isinstance(genesis, dict):
            path = os.path.join(self.dir, "genesis.json")
            with open(path, "w") as f:
                json.dump(genesis, f)
            genesis = path
        self.store = Store(os.path.join(self.dir, "state.ldb"),
                           throwaway=self._tmp is not None if throwaway is None else throwaway)
        self.app = App(self.store, modules=modules)
        self.genesis_root = import_genesis(self.app, genesis)
        self.chain_id = self.app.genesis["chainId"]
        self.proposer = proposer
        self.nonces: dict[bytes, int] = {}

    @property
    def time(self) -> int:
        return self.app.last_block()["time"]

    @property
    def height(self) -> int:
        return self.app.last_block()["height"]

    def reader(self):
        return self.app.reader()

    def produce(self, txs: list[bytes], time: int | None = None) -> BlockResult:
        """Execute txs as the next block at `time` (default: the last block time); committed."""
        last = self.app.last_block()
        res = self.app.finalize_block(last["height"] + 1, last["time"] if time is None else time,
                                      self.proposer, txs)
        self.app.commit()
        return res

    def tx(self, key: Keypair, module: str, call: str, args: dict, fee: int = 0) -> bytes:
        """A signed transaction from key with its next nonce (tracked here, starting from the
        account's nonce in the state)."""
        n = self.nonces.get(key.address)
        if n is None:
            n = accounts.nonce(self.reader(), key.address)
        self.nonces[key.address] = n + 1
        return sign_tx(key, chain=self.chain_id, nonce=n, fee=fee, module=module, call=call, args=args)

    def report_args(self, feed: str, value: int, secrets: list[int], signers: list[int], n_operators: int,
                    observed_at: int | None = None) -> dict:
        """Arguments of an oracle report on feed signed by operators `signers` (indexes into
        the operator set, whose BLS secrets are `secrets`), for the next round."""
        ctx = self.reader()
        st = oracle.state_of(ctx, feed)
        rnd = st.last_round + 1
        epoch = oracle.operator_set(ctx).epoch
        obs = self.time if observed_at is None else observed_at
        msg = message(self.chain_id, epoch, feed, value, obs, rnd)
        sig = group_signature([secrets[i] for i in signers], msg)
        return {"feed": feed, "value": value, "observedAt": obs, "round": rnd, "epoch": epoch,
                "signers": bitmap(list(signers), n_operators), "signature": sig}

    def close(self) -> None:
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> LocalChain:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
