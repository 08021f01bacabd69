"""The in-process backend of a scenario replay: a LocalChain (the application over a real
LevelDB store), admission as a node does it (check_tx against the last committed state,
a refused transaction stays out of the block), each module's invariants after every
block, and the expectation probes read straight from state."""

from __future__ import annotations

import contextlib
import tempfile
from typing import Any

from rwachain.genesis import localchain
from rwachain.genesis.fields import GenesisError
from rwachain.genesis.localchain import LocalChain
from rwachain.genesis.scenario.files import (
    Backend,
    Outcome,
    Result,
    Scenario,
    ScenarioError,
    ScenarioFailed,
    load,
    replay,
)
from rwachain.modules.assets import keeper as assets
from rwachain.modules.assets import marks
from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.crypto import decode_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.fixed import WAD
from rwachain.modules.market import keeper as market
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.stable import keeper as stable_keeper
from rwachain.modules.tranches import keeper as tranches
from rwachain.modules.tranches import waterfall


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A throwaway directory for a replay's chain: on tmpfs where there is one."""
    return localchain.scratch_dir("rwa-scenario-")


class LocalBackend(Backend):
    """A scenario's chain in a directory (if None, a temporary one, on tmpfs where there is
    one, with a throwaway store: the same LevelDB, neither synced nor compacted)."""

    checks_invariants = True

    def __init__(self, sc: Scenario, directory: str | None = None, *, record_series: bool = False):
        from rwachain.genesis import devnet

        self.series: list[dict] | None = [] if record_series else None  # per-block metrics (genesis/sim/series.py)
        self._tmp = scratch_dir() if directory is None else None
        try:
            self.chain = LocalChain(sc.genesis, directory or self._tmp.name,
                                    proposer=devnet.validator_key().address, throwaway=self._tmp is not None)
        except (GenesisError, ValueError, RuntimeError) as exc:  # a bad genesis; a directory with a chain
            if self._tmp is not None:
                self._tmp.cleanup()
            raise ScenarioError(f"genesis: {exc}") from None
        self._pending: list[bytes] = []

    def close(self) -> None:
        self.chain.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- blocks -----------------------------------------------------------------------------
    def admit(self, raw: bytes) -> Outcome | None:
        try:
            self.chain.app.check_tx(raw)
        except InvalidTransaction as exc:
            return Outcome(exc.code, exc.name, exc.message, admitted=False)
        self._pending.append(raw)
        return None

    def make_block(self, time: int) -> list[Outcome]:
        txs, self._pending = self._pending, []
        res = self.chain.produce(txs, time)
        if self.series is not None:
            from rwachain.genesis.sim import series

            events = list(res.events) + [e for r in res.receipts for e in r.events]
            prev = series.reader_at(self.chain.app, res.height - 1)
            self.series.append(series.sample(self.chain.reader(), events, prev))
        return [Outcome(r.code, r.error, r.message) for r in res.receipts]

    def series_document(self) -> dict:
        """The recorded rows as a series document (`rwad report` renders it)."""
        from rwachain.genesis.sim import series

        ctx = self.chain.reader()
        return series.document(self.series or [], self.chain.chain_id, series.stable_decimals(ctx))

    def last_time(self) -> int:
        return self.chain.time

    def state_root(self) -> str:
        return "0x" + self.chain.store.root_hash.hex()

    def operators(self) -> tuple[int, list[str]]:
        from rwachain.modules.core.crypto import encode_address

        s = oracle.operator_set(self.chain.reader())
        return s.epoch, [encode_address(o.address) for o in s.operators]

    def next_round(self, feed: str) -> int:
        st = oracle.state_of(self.chain.reader(), feed)
        if st is None:
            raise ScenarioFailed(f"no feed {feed!r} on this chain")
        return st.last_round + 1

    def invariants(self) -> list[str]:
        ctx = self.chain.reader()
        return [f"{m.name}: {msg}" for m in self.chain.app.modules if m.invariants is not None
                for msg in m.invariants(ctx)]

    # ----- probes ---------------------------------------------------------------------------------
    def probe(self, kind: str, q: dict) -> Any:
        ctx = self.chain.reader()
        if kind == "balance":
            return bank.balance(ctx, decode_address(q["account"]), q["denom"])
        if kind == "supply":
            return bank.supply(ctx, q["denom"])
        if kind in ("feed", "pendingFeed"):
            st = oracle.state_of(ctx, q["feed"])
            if st is None:
                return None
            if kind == "feed":
                return st.value
            return None if st.pending is None else st.pending.value
        if kind == "referencePrice":
            try:
                return market.reference_price(ctx, q["denom"])
            except InvalidTransaction:
                return None
        if kind in ("bestBid", "bestAsk"):
            return market.best(ctx, q["denom"], market.BUY if kind == "bestBid" else market.SELL)
        if kind == "cr":
            return stable_keeper.recorded_cr(ctx)
        if kind == "assetStatus":
            rec = assets.find(ctx, int(q["asset"]))
            return None if rec is None else rec.status
        if kind in ("tranche", "pool"):
            return self._pool_field(ctx, kind, q)
        if kind == "claimable":
            p = tranches.find(ctx, int(q["pool"]))
            return None if p is None else tranches.claimable(ctx, p, int(q["tranche"]), decode_address(q["account"]))
        raise ScenarioFailed(f"unknown expectation kind {kind!r}")

    @staticmethod
    def _pool_field(ctx, kind: str, q: dict) -> Any:
        p = tranches.find(ctx, int(q["pool"]))
        if p is None:
            return None
        f = q["field"]
        if f in ("value", "price"):
            total = p.unallocated
            for aid in p.assets:
                with contextlib.suppress(InvalidTransaction):  # as pool_get: an unpriceable asset counts 0
                    total += marks.value_now(ctx, assets.get(ctx, aid))[0]
        if kind == "pool":
            return total if f == "value" else getattr(p, f)
        k = int(q["tranche"])
        if k >= len(p.tranches):
            return None
        t = p.tranches[k]
        if f in ("value", "price"):
            v = waterfall.tranche_values(p, total, ctx.block.time)[k]
            return v if f == "value" else v * WAD // t.units
        return getattr(t, "interest" if f == "interestDue" else f)


def run_file(path: str, directory: str | None = None, **kw) -> Result:
    """Load and replay a scenario file in process; raises ScenarioError or ScenarioFailed."""
    sc = load(path)
    with LocalBackend(sc, directory) as b:
        return replay(sc, b, **kw)
