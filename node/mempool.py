"""The mempool: admitted transactions waiting for a block, in per-account nonce order.

- Per account, transactions are kept by nonce. Those continuing the account's state
  nonce without a gap are *ready*; the rest are *queued* (future nonces within the
  admission window) until the gap fills.
- The same (sender, nonce) is replaced only by a transaction with a strictly higher
  fee, at least `replace_bump_pct` percent higher.
- Limits: `max_per_account` and `max_total`. When full, a new transaction evicts the
  lowest-fee queued transaction of another account if it pays more; otherwise it is
  refused.
- Block selection takes ready transactions in arrival order, each account's in nonce
  order.
Not thread-safe: the node calls it from the event loop only.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


class MempoolError(Exception):
    """A transaction the mempool will not hold; `reason` is a stable short name."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class Entry:
    hash: bytes
    raw: bytes
    sender: bytes
    nonce: int
    fee: int
    seq: int  # arrival order


@dataclass(slots=True)
class _Account:
    state_nonce: int
    txs: dict[int, Entry] = field(default_factory=dict)


class Mempool:
    def __init__(self, *, max_total: int = 100_000, max_per_account: int = 1_000,
                 replace_bump_pct: int = 10):
        self.max_total = max_total
        self.max_per_account = max_per_account
        self.replace_bump_pct = replace_bump_pct
        self._accounts: dict[bytes, _Account] = {}
        self._by_hash: dict[bytes, Entry] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> Entry | None:
        return self._by_hash.get(tx_hash)

    def pending_nonce(self, sender: bytes, state_nonce: int) -> int:
        """The next nonce the account should use: past its contiguous pending run."""
        acct = self._accounts.get(sender)
        n = state_nonce if acct is None else max(state_nonce, acct.state_nonce)
        if acct is not None:
            while n in acct.txs:
                n += 1
        return n

    def add(self, tx_hash: bytes, raw: bytes, sender: bytes, nonce: int, fee: int,
            state_nonce: int) -> Entry | None:
        """Admit a checked transaction; returns the entry it replaced or evicted, if any."""
        if tx_hash in self._by_hash:
            raise MempoolError("known", "transaction is already in the mempool")
        acct = self._accounts.get(sender)
        if acct is None:
            acct = self._accounts[sender] = _Account(state_nonce)
        acct.state_nonce = max(acct.state_nonce, state_nonce)
        old = acct.txs.get(nonce)
        entry = Entry(tx_hash, raw, sender, nonce, fee, next(self._seq))
        if old is not None:
            if fee * 100 < old.fee * (100 + self.replace_bump_pct) or fee <= old.fee:
                raise MempoolError("underpriced", f"replacing nonce {nonce} needs a fee at least "
                                   f"{self.replace_bump_pct}% above {old.fee}")
            del self._by_hash[old.hash]  # the account keeps its record: only the entry changes
            self._put(acct, entry)
            return old
        if len(acct.txs) >= self.max_per_account:
            raise MempoolError("account_full", f"the account has {len(acct.txs)} pending transactions "
                               f"(limit {self.max_per_account})")
        evicted = None
        if len(self._by_hash) >= self.max_total:
            evicted = self._cheapest_queued(exclude=sender)
            if evicted is None or evicted.fee >= fee:
                raise MempoolError("full", f"the mempool holds {len(self._by_hash)} transactions "
                                   "and none pays less than this one")
            self._drop(evicted)
        self._put(acct, entry)
        return evicted

    def _put(self, acct: _Account, e: Entry) -> None:
        acct.txs[e.nonce] = e
        self._by_hash[e.hash] = e

    def _drop(self, e: Entry) -> None:
        self._by_hash.pop(e.hash, None)
        acct = self._accounts.get(e.sender)
        if acct is not None:
            acct.txs.pop(e.nonce, None)
            if not acct.txs:
                del self._accounts[e.sender]

    def _cheapest_queued(self, exclude: bytes) -> Entry | None:
        best = None
        for sender, acct in self._accounts.items():
            if sender == exclude:
                continue
            ready_end = acct.state_nonce
            while ready_end in acct.txs:
                ready_end += 1
            for n, e in acct.txs.items():
                if n >= ready_end and (best is None or e.fee < best.fee):
                    best = e
        return best

    def select(self, limit: int) -> list[Entry]:
        """Up to limit ready transactions: arrival order, each account in nonce order."""
        heap = []
        for acct in self._accounts.values():
            e = acct.txs.get(acct.state_nonce)
            if e is not None:
                heap.append((e.seq, acct.state_nonce, e.sender))
        heapq.heapify(heap)
        out = []
        while heap and len(out) < limit:
            _, n, sender = heapq.heappop(heap)
            acct = self._accounts[sender]
            out.append(acct.txs[n])
            nxt = acct.txs.get(n + 1)
            if nxt is not None:
                heapq.heappush(heap, (nxt.seq, n + 1, sender))
        return out

    def ready_count(self) -> int:
        total = 0
        for acct in self._accounts.values():
            n = acct.state_nonce
            while n in acct.txs:
                n += 1
            total += n - acct.state_nonce
        return total

    def on_block(self, included: list[bytes], nonces: dict[bytes, int]) -> list[Entry]:
        """Forget included transactions and any made stale by the new account nonces.

        nonces: sender -> state nonce after the block, for every sender touched.
        Returns the dropped entries that were not included (replaced by others' use).
        """
        for h in included:
            e = self._by_hash.get(h)
            if e is not None:
                self._drop(e)
        stale = []
        for sender, n in nonces.items():
            acct = self._accounts.get(sender)
            if acct is None:
                continue
            acct.state_nonce = n
            for old_n in [k for k in acct.txs if k < n]:
                stale.append(acct.txs[old_n])
                self._drop(acct.txs[old_n])
        return stale

    def entries(self) -> list[Entry]:
        """Every pending entry in arrival order."""
        return sorted(self._by_hash.values(), key=lambda e: e.seq)

    def clear(self) -> None:
        self._accounts.clear()
        self._by_hash.clear()
