"""Room ahead of LevelDB's log (state/logroom.py, opt-in: rwad --log-preallocate), on the
installed LevelDB: its writer overwrites the zeros in place, its reader skips them on
recovery (after a clean close and after SIGKILL), the zeros are topped up when records pass
them, a log begun by a large batch gets none, a Store's small commits keep their log's
size, and without the option nothing keeps room."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

import plyvel

from rwachain.state.logroom import LogRoom
from rwachain.state.store import Store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _log(directory: str) -> str:
    logs = [n for n in os.listdir(directory) if n.endswith(".log")]
    return os.path.join(directory, max(logs, key=lambda n: int(n[:-4])))


def _put(db, i: int, size: int = 2000) -> None:
    with db.write_batch(sync=True) as wb:
        wb.put(b"k%06d" % i, bytes([i % 251]) * size)


def test_records_overwrite_the_zeros_in_place_and_reopen_whole(tmp_path):
    path = str(tmp_path / "db")
    db = plyvel.DB(path, create_if_missing=True)
    room = LogRoom(path, room=256 << 10)
    _put(db, 0)
    room.after_write()
    assert room.fills == 1
    size = os.path.getsize(_log(path))
    assert size == room.end > 256 << 10
    for i in range(1, 60):  # about 120 KB of records, inside the room
        _put(db, i)
        room.after_write()
    assert os.path.getsize(_log(path)) == size and room.fills == 1  # written in place: no append
    db.close()
    db = plyvel.DB(path)  # recovery reads the log's records, then its zeros
    assert all(db.get(b"k%06d" % i) == bytes([i % 251]) * 2000 for i in range(60))
    assert db.get(b"k%06d" % 60) is None
    db.close()


def test_records_passing_the_zeros_get_more(tmp_path):
    path = str(tmp_path / "db")
    db = plyvel.DB(path, create_if_missing=True)
    room = LogRoom(path, room=64 << 10)
    for i in range(100):  # 200 KB of records: past the first 64 KB of zeros, more than once
        _put(db, i)
        room.after_write()
    assert room.fills >= 3
    assert os.path.getsize(_log(path)) == room.end  # the zeros are ahead again
    db.close()
    db = plyvel.DB(path)
    assert all(db.get(b"k%06d" % i) is not None for i in range(100))
    db.close()


def test_a_log_begun_by_a_large_batch_gets_no_room(tmp_path):
    path = str(tmp_path / "db")
    db = plyvel.DB(path, create_if_missing=True)
    room = LogRoom(path, room=64 << 10, large_start=16 << 10)
    _put(db, 0, size=100_000)
    room.after_write()
    assert room.fills == 0 and room.end == 0
    _put(db, 1)
    room.after_write()
    assert room.fills == 0  # still the same log: it stays as LevelDB writes it
    db.close()


CHILD = r"""
import os, sys
sys.path.insert(0, sys.argv[2])
import plyvel
from rwachain.state.logroom import LogRoom
path = sys.argv[1]
db = plyvel.DB(path, create_if_missing=True)
room = LogRoom(path, room=int(sys.argv[3]))
start = int(sys.argv[4])
for i in range(start, start + 100_000):
    with db.write_batch(sync=True) as wb:
        wb.put(b"k%06d" % i, bytes([i % 251]) * 1500)
    room.after_write()
    os.write(1, b"%d\n" % i)
"""


def test_sigkill_never_loses_a_synced_write(tmp_path):
    """A child writes synced batches through the room and reports each one; killed at random
    moments (some during a fill), every reported write is there when the database reopens,
    and the next run appends to what the last one left."""
    path = str(tmp_path / "db")
    rng = random.Random(7)
    start = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, path, ROOT, str(48 << 10), str(start)],
                                stdout=subprocess.PIPE)
        reported = []
        target = rng.randint(5, 120)
        while len(reported) < target:
            line = proc.stdout.readline()
            assert line, "the child ended early"
            reported.append(int(line))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        db = plyvel.DB(path)
        assert all(db.get(b"k%06d" % i) == bytes([i % 251]) * 1500 for i in range(reported[-1] + 1))
        start = reported[-1] + 1
        while db.get(b"k%06d" % start) is not None:  # written, not yet reported when killed
            start += 1
        db.close()


def test_a_stores_small_commits_keep_their_logs_size(tmp_path):
    store = Store(str(tmp_path / "db"), log_room=True)
    for v in range(5):
        store.commit(store.prepare(v, {b"a/%d" % v: b"x" * 100, b"b": b"%d" % v}))
    size = os.path.getsize(_log(store.path))
    assert store.log_room.fills >= 1 and size == store.log_room.end
    for v in range(5, 40):
        store.commit(store.prepare(v, {b"a/%d" % v: b"x" * 100, b"b": b"%d" % v}))
    assert os.path.getsize(_log(store.path)) == size
    root = store.root_hash
    store.close()
    again = Store(str(tmp_path / "db"), log_room=True)
    assert again.version == 39 and again.root_hash == root and again.get(b"b") == b"39"
    again.close()
    off = Store(str(tmp_path / "plain"), log_room=False)
    off.commit(off.prepare(0, {b"a": b"1"}))
    assert off.log_room is None
    off.close()


def test_flaw_log_room_relies_on_leveldb_internals_by_default(tmp_path):
    """The zeros ahead of the log lean on two undocumented LevelDB behaviours (its writer's
    own file position, its reader skipping zeroed regions): should either change, recovery
    would lose synced writes silently. So a store, a chain and a node keep no room unless
    asked (rwad --log-preallocate)."""
    from rwachain.genesis import devnet
    from rwachain.node.chain import Chain
    from rwachain.node.cli import build_parser

    plain = Store(str(tmp_path / "plain"))
    plain.commit(plain.prepare(0, {b"a": b"1"}))
    assert plain.log_room is None
    plain.close()
    chain = Chain(str(tmp_path / "chain"), devnet.validator_key())
    assert chain.store.log_room is None
    chain.close()
    chain = Chain(str(tmp_path / "roomy"), devnet.validator_key(), log_preallocate=True)
    assert chain.store.log_room is not None
    chain.close()
    for command in (["start", "--home", "h"], ["devnet"]):
        assert build_parser().parse_args(command).log_preallocate is False
        assert build_parser().parse_args([*command, "--log-preallocate"]).log_preallocate is True
