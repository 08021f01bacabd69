"""GIL hand-offs from a block in a worker thread (node/pacing.py): a paced block commits
exactly what an unpaced one does, the pause hook is reached from every long phase, and the
Pacer and LoopWatch behave as documented."""

from __future__ import annotations

import ctypes
import sys
import threading
import time

import pytest
import trio

from rwachain.genesis import devnet
from rwachain.modules.core.tx import sign_tx
from rwachain.node.chain import Chain
from rwachain.node.pacing import _FINE_SLACK, LoopWatch, Pacer, fine_timer_slack
from rwachain.state.yieldpoint import YieldPoint

T0 = devnet.GENESIS_TIME


def _transfers(keys, nonce0: int, per_key: int) -> list[bytes]:
    return [sign_tx(k, chain=devnet.CHAIN_ID, nonce=nonce0 + n, fee=5000, module="bank", call="transfer",
                    args={"to": keys[(i + 1) % len(keys)].address, "denom": "rwa", "amount": 1 + n})
            for n in range(per_key) for i, k in enumerate(keys)]


class _Calls(YieldPoint):
    """A yield point that calls fn at each pause."""

    def __init__(self, fn):
        self.pause = fn


def _contents(chain: Chain) -> list[tuple[bytes, bytes]]:
    return list(chain.store.db.iterator())


def test_paced_blocks_commit_what_unpaced_blocks_do(tmp_path):
    keys = devnet.dev_keys()
    blocks = [_transfers(keys, 0, 40), _transfers(keys, 40, 3)]  # 400 transactions, then 30
    chains = []
    for name in ("plain", "paced"):
        c = Chain(str(tmp_path / name), devnet.validator_key())
        c.init_genesis(devnet.PATH)
        c.close()
        chains.append(Chain(str(tmp_path / name), devnet.validator_key()))  # reopened: cold caches
    plain, paced = chains
    where: list[str] = []

    def pause() -> None:
        where.append(sys._getframe(1).f_code.co_name)

    try:
        for i, txs in enumerate(blocks):
            b1, r1 = plain.produce(txs, T0 + 1 + i)
            n = len(where)
            b2, r2 = paced.produce(txs, T0 + 1 + i, _Calls(pause))
            assert b1.header.hash == b2.header.hash
            assert [x.code for x in r2.receipts] == [0] * len(txs)
            assert len(where) - n >= len(txs)  # at least once per transaction
        assert _contents(plain) == _contents(paced)
    finally:
        plain.close()
        paced.close()
    # Reached from execution, the store's change and record loops, the tree's node reads
    # from LevelDB and the block-store records.
    assert {"before_tx", "paced", "_load_node", "_load_replaced_node"} <= set(where)


class _Watch:
    busy = False


def test_pacer_returns_at_once_until_an_offer_is_due():
    pacer = Pacer(_Watch(), period=60.0)
    for _ in range(1000):
        pacer.pause()
    assert pacer.offers == 0 and pacer.rested == 0.0


def test_pacer_offers_once_when_the_loop_is_idle():
    pacer = Pacer(_Watch(), period=0.0, rest=0.0001, max_wait=5.0)
    pacer.pause()
    pacer.pause()
    assert pacer.offers == 2
    assert 0.0002 <= pacer.rested < 5.0  # one short rest each, not the whole max_wait


def test_pacer_waits_for_a_busy_loop_at_most_max_wait():
    watch = _Watch()
    watch.busy = True
    pacer = Pacer(watch, period=0.0, rest=0.0001, max_wait=0.03)
    pacer.pause()
    assert pacer.offers == 1 and pacer.rested >= 0.03


def test_loop_watch_sees_the_loop_idle_while_a_thread_works():
    seen: dict[str, bool] = {}

    async def main():
        watch = LoopWatch()
        trio.lowlevel.add_instrument(watch)
        try:
            def in_thread():
                time.sleep(0.1)  # the loop has nothing to do but wait for this thread
                seen["thread"] = watch.busy

            await trio.to_thread.run_sync(in_thread)
            seen["loop"] = watch.busy  # code on the loop runs inside a round
        finally:
            trio.lowlevel.remove_instrument(watch)

    trio.run(main)
    assert seen == {"thread": False, "loop": True}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="timer slack is a Linux setting")
def test_fine_timer_slack_is_scoped_to_the_block():
    prctl = ctypes.CDLL(None).prctl
    out: dict[str, int] = {}

    def body():
        out["before"] = prctl(30, 0, 0, 0, 0)
        with fine_timer_slack():
            out["inside"] = prctl(30, 0, 0, 0, 0)
        out["after"] = prctl(30, 0, 0, 0, 0)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert out["inside"] == _FINE_SLACK
    assert out["after"] == out["before"]  # the thread's own setting comes back


def test_a_node_block_in_a_worker_thread_offers_the_gil_and_the_loop_runs(tmp_path):
    from rwachain.node.service import Node, NodeOptions

    chain = Chain(str(tmp_path / "chain"), devnet.validator_key())
    chain.init_genesis(devnet.PATH)
    node = Node(chain, str(tmp_path / "journal"), NodeOptions(mining="manual", dev=True))
    txs = _transfers(devnet.dev_keys(), 0, 60)
    seen: dict[str, int] = {}

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            assert all(type(h) is bytes for h in await node.submit_many(txs))
            ticks = 0
            mining = True

            async def tick() -> None:
                nonlocal ticks
                while mining:
                    await trio.sleep(0)
                    ticks += 1

            nursery.start_soon(tick)
            [block] = await node.mine()
            mining = False
            seen.update(txs=len(block.txs), ticks=ticks, offers=node.gil_offers)
            nursery.cancel_scope.cancel()

    trio.run(main)
    node.close()
    assert seen["txs"] == len(txs)
    assert seen["offers"] >= 1  # 600 transfers take well over one 2 ms period
    assert seen["ticks"] >= 1  # the event loop kept running while the block executed


def test_a_proof_read_beside_a_paced_tree_update_never_calls_its_pause(tmp_path):
    from rwachain.state.store import Store

    path = str(tmp_path / "s")
    store = Store(path)
    store.commit(store.prepare(0, {b"k%05d" % i: b"v%d" % i for i in range(3000)}))
    store.close()
    store = Store(path)  # cold caches: the update reads its nodes from LevelDB
    callers: list[int] = []
    proof: dict = {}

    def pause() -> None:
        callers.append(threading.get_ident())
        if not proof and sys._getframe(1).f_code.co_name in ("_load_node", "_load_replaced_node"):
            proof["started"] = True
            store._node_cache.clear()  # the reader below reads its path from LevelDB too

            def read() -> None:
                proof["value"] = store.get_at(b"k00001")[0]

            t = threading.Thread(target=read)
            t.start()
            t.join()

    try:
        store.prepare(1, {b"k%05d" % i: b"new" for i in range(0, 3000, 7)}, yield_point=_Calls(pause))
    finally:
        store.close()
    assert proof["value"] == b"v1"
    assert set(callers) == {threading.get_ident()}
