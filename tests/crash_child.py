"""Child process of tests/test_crash.py: produce blocks of bank transfers until killed.

    python tests/crash_child.py DATA_DIR TXS_PER_BLOCK KEEP_VERSIONS [MAX_BLOCKS]

Opens (or creates, on the devnet genesis) the chain in DATA_DIR, then loops producing
blocks of TXS_PER_BLOCK signed transfers among the 10 dev accounts, nonces read from the
committed state, keeping KEEP_VERSIONS tree versions (kept small, so that commits also
prune). Each line on stdout is written with a single write(2) and is one of

    ready <height> <state root hex>     the chain is open (before any new block)
    commit <height>                     Store.commit of a batch at this height is starting
                                        (a genesis import commits at its height too)
    block <height> <state root hex>     Chain.produce returned: this block is committed

The parent SIGKILLs it at a random moment. With MAX_BLOCKS it stops after that many
blocks and exits 0 (a graceful run). A receipt that is not a success is a broken state:
the child exits 3 with the details on stderr.
"""

from __future__ import annotations

import os
import sys

# Run as a script from anywhere: make the repository importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rwachain.genesis import devnet  # noqa: E402
from rwachain.modules.core import accounts  # noqa: E402
from rwachain.modules.core.tx import sign_tx  # noqa: E402
from rwachain.node.chain import Chain  # noqa: E402
from rwachain.state.store import Store  # noqa: E402

FEE = 5000


def say(kind: str, height: int, root: bytes) -> None:
    os.write(1, f"{kind} {height} {root.hex()}\n".encode())  # one write: never a torn line


def announce_commits() -> None:
    """Wrap Store.commit (in this process only) to say when a block's batch starts."""
    inner = Store.commit

    def commit(self, pending, extra=None, **kw):
        os.write(1, f"commit {pending.version}\n".encode())
        return inner(self, pending, extra, **kw)

    Store.commit = commit


def block_txs(chain: Chain, keys, height: int, count: int) -> list[bytes]:
    """count transfers, spread over the senders, with nonces following the state."""
    ctx = chain.app.reader()
    nonces = [accounts.nonce(ctx, k.address) for k in keys]
    txs = []
    n = len(keys)
    for i in range(count):
        s = (height + i) % n
        to = keys[(s + 1 + (height + i // n) % (n - 1)) % n]
        txs.append(
            sign_tx(
                keys[s],
                chain=devnet.CHAIN_ID,
                nonce=nonces[s],
                fee=FEE,
                module="bank",
                call="transfer",
                args={
                    "to": to.address,
                    "denom": "rwa" if i % 3 else "rusd",
                    "amount": 1 + (height * 7 + i) % 1000,
                },
            )
        )
        nonces[s] += 1
    return txs


def main(argv: list[str]) -> int:
    data_dir, per_block, keep = argv[1], int(argv[2]), int(argv[3])
    max_blocks = int(argv[4]) if len(argv) > 4 else None
    announce_commits()
    chain = Chain(data_dir, devnet.validator_key(), keep_versions=keep)
    if chain.height is None:
        chain.init_genesis(devnet.PATH)
    keys = devnet.dev_keys()
    say("ready", chain.height, chain.store.root_hash)
    produced = 0
    while max_blocks is None or produced < max_blocks:
        height = chain.height + 1
        txs = block_txs(chain, keys, height, per_block)
        block, result = chain.produce(txs, time=devnet.GENESIS_TIME + height)
        bad = [(i, r.error, r.message) for i, r in enumerate(result.receipts) if r.code != 0]
        if bad:
            sys.stderr.write(f"block {height}: {len(bad)} failed receipts, first {bad[:3]}\n")
            return 3
        say("block", block.header.height, block.header.state_root)
        produced += 1
    chain.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
