"""Shared helpers of the benchmarks: generated genesis files, signed transfers, tables.

Nothing here is timed. Genesis files are written in ascending raw-address order (the
loader's fast path) and streamed to disk, so a million accounts never sit in memory as
JSON. Signer keys are deterministic (seed sha256(b"rwachain/bench/signer/" || i)), so a
genesis file written once can be reused by every benchmark through a shared --workdir.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # run from anywhere: the project's packages live in ROOT
    sys.path.insert(0, ROOT)

from rwachain.genesis import devnet  # noqa: E402
from rwachain.modules.core.crypto import Keypair, decode_address, encode_address  # noqa: E402
from rwachain.modules.core.tx import sign_tx  # noqa: E402

CHAIN_ID = devnet.CHAIN_ID
GENESIS_TIME = devnet.GENESIS_TIME
DENOM = "rwa"
SIGNER_BALANCE = 10**15
FILLER_BALANCE = 1_000_000
FEE = 5_000  # above the minimum (1000 + 10 x ~190 bytes) x 1 for a transfer


# ----- keys and addresses ----------------------------------------------------------------
def signer_seed(i: int) -> bytes:
    return hashlib.sha256(b"rwachain/bench/signer/" + i.to_bytes(8, "big")).digest()


def signer_keys(n: int) -> list[Keypair]:
    return [Keypair(signer_seed(i)) for i in range(n)]


def filler_address(i: int) -> bytes:
    """A 20-byte address with no key behind it (any 20 bytes is a valid address)."""
    return hashlib.sha256(b"rwachain/bench/filler/" + i.to_bytes(8, "big")).digest()[:20]


# A table-driven bech32 encoder: the same text as modules.crypto.encode_address (checked in
# write_genesis), about 6x faster, so writing a million addresses takes seconds, not a minute.
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_TOP = [0] * 32
for _t in range(32):
    for _i in range(5):
        if (_t >> _i) & 1:
            _TOP[_t] ^= _GEN[_i]


def _hrp_state() -> int:
    chk = 1
    for v in [ord(c) >> 5 for c in "rwa"] + [0] + [ord(c) & 31 for c in "rwa"]:
        chk = ((chk & 0x1FFFFFF) << 5) ^ v ^ _TOP[chk >> 25]
    return chk


_HRP_CHK = _hrp_state()
_SHIFTS = tuple(155 - 5 * i for i in range(32))


def fast_encode_address(addr: bytes) -> str:
    n = int.from_bytes(addr, "big")
    data = [(n >> s) & 31 for s in _SHIFTS]
    chk = _HRP_CHK
    top = _TOP
    for v in data:
        chk = ((chk & 0x1FFFFFF) << 5) ^ v ^ top[chk >> 25]
    for _ in range(6):
        chk = ((chk & 0x1FFFFFF) << 5) ^ top[chk >> 25]
    chk ^= 1
    cs = _CHARSET
    return "rwa1" + "".join([cs[d] for d in data]) + "".join([cs[(chk >> 5 * (5 - i)) & 31] for i in range(6)])


# ----- genesis files -------------------------------------------------------------------
def genesis_head() -> tuple[dict, dict[bytes, str]]:
    """The devnet genesis without its accounts (roles and params as on the devnet), and the
    devnet's accounts {address: their JSON}: they hold what its records account for (the
    insurance fund's stake, the pool's and the vault's units, the stable supply), so a
    genesis keeps them to meet the block invariants."""
    head = devnet.build()
    accounts = {decode_address(a["address"]): json.dumps(a, separators=(",", ":")) for a in head.pop("accounts")}
    return head, accounts


def write_genesis(path: str, signers: int, total_accounts: int) -> dict:
    """Stream-write a genesis with the devnet's accounts, `signers` bench signer accounts
    and filler accounts up to `total_accounts`, in ascending raw-address order. Returns
    {"accounts", "seconds"}."""
    t0 = time.perf_counter()
    for i in range(0, 50):  # the fast encoder must agree with the chain's encoder
        a = filler_address(i)
        assert fast_encode_address(a) == encode_address(a)
    head, dev_accounts = genesis_head()
    addrs = {k.address: SIGNER_BALANCE for k in signer_keys(signers)}
    i = 0
    while len(addrs) < total_accounts:
        addrs.setdefault(filler_address(i), FILLER_BALANCE)
        i += 1
    addrs.update(dict.fromkeys(dev_accounts, 0))
    order = sorted(addrs)
    text = json.dumps(head, indent=1)
    tmp = path + ".tmp"
    with open(tmp, "w", buffering=1 << 20) as f:
        f.write(text[:-2] + ',\n "accounts": [')
        sep = "\n  "
        buf = []
        for n, a in enumerate(order):
            if a in dev_accounts:
                buf.append(sep + dev_accounts[a])
            else:
                buf.append(f'{sep}{{"address":"{fast_encode_address(a)}","balances":{{"rwa":"{addrs[a]}"}}}}')
            sep = ",\n  "
            if n % 10_000 == 9_999:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))
        f.write("\n ]\n}\n")
    os.replace(tmp, path)
    return {"accounts": len(order), "seconds": time.perf_counter() - t0}


def cached_genesis(workdir: str, signers: int, total_accounts: int) -> tuple[str, bool]:
    """Path of the genesis for (signers, total_accounts) in workdir, writing it if absent.

    Returns (path, written_now)."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, f"genesis-v2-{signers}s-{total_accounts}a.json")  # v2: with the devnet accounts
    if os.path.exists(path):
        return path, False
    write_genesis(path, signers, total_accounts)
    return path, True


# ----- transactions --------------------------------------------------------------------
def recipient_of(keys: list[Keypair], i: int, to: str) -> bytes:
    """Transfer target of sender i: the next signer (existing) or a fresh address (new)."""
    if to == "new":
        return hashlib.sha256(b"rwachain/bench/recipient/" + i.to_bytes(8, "big")).digest()[:20]
    return keys[(i + 1) % len(keys)].address


def sign_transfers(keys: list[Keypair], nonce: int, to: str = "existing", salt: int = 0) -> list[bytes]:
    """One signed bank transfer per key, all with the given nonce (signing is not timed)."""
    out = []
    for i, k in enumerate(keys):
        out.append(sign_tx(k, chain=CHAIN_ID, nonce=nonce, fee=FEE, module="bank", call="transfer",
                           args={"to": recipient_of(keys, i + salt, to), "denom": DENOM,
                                 "amount": 1 + (i % 1000)}))
    return out


# ----- arguments -----------------------------------------------------------------------
def parse_args(ap, argv: list[str] | None, quick: dict):
    """ap.parse_args(argv), with --quick changing the defaults to `quick` (explicit
    options still win, e.g. --quick --blocks 1)."""
    import argparse

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--quick", action="store_true")
    known, _ = pre.parse_known_args(argv)
    if known.quick:
        ap.set_defaults(**quick)
    return ap.parse_args(argv)


# ----- timing and output ---------------------------------------------------------------
class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def median(xs: Iterable[float]) -> float:
    return statistics.median(list(xs))


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "inf"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    """A Markdown table (pastes straight into docs/performance.md)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        lines.append("| " + " | ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                                       for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def _numeric(s: str) -> bool:
    s = s.strip("*~<> ")
    return s[:1].isdigit() or (s[:1] == "-" and s[1:2].isdigit())


def revision() -> str:
    """The code measured: git commit, marked if files outside bench/ and docs/ differ."""
    import subprocess

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                            capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = [ln for ln in st if not ln[3:].startswith(("bench/", "docs/"))]
    return (rev or "unknown") + (" + uncommitted changes" if dirty else "")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs (nproc), Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.machine()}; "
            f"code {revision()}; load average at start {load:.2f}")


def max_rss_mb() -> float:
    """Peak RSS of this process in MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----- a block, phase by phase ---------------------------------------------------------
PROCESS_SLICE = 1000


def verify_in_processes(chain, txs: list[bytes]) -> float | None:
    """Seconds for the node's signature-checking child processes (node.sigcheck, if this
    version of the node has them) to check txs in slices; None if it has none."""
    verifier = getattr(chain, "verifier", None)
    if verifier is None or not hasattr(verifier, "submit"):
        return None
    verifier.submit(txs[:1]).result()  # children start lazily: not part of the figure
    t0 = time.perf_counter()
    futs = [verifier.submit(txs[i : i + PROCESS_SLICE]) for i in range(0, len(txs), PROCESS_SLICE)]
    bad = sum(len(f.result()) - sum(f.result()) for f in futs)
    secs = time.perf_counter() - t0
    if bad:
        raise SystemExit(f"{bad} signatures failed in the checker processes")
    return secs


def produce_phased(chain, txs: list[bytes], time_: int | None = None) -> dict:
    """One block with its phases run one after another and timed, from a cold cache.

    1. verify: node.verify.precheck_parallel(app, txs, pool, workers) on an empty
       verified-signature cache (decoding, argument checks, signatures on threads);
       verify_procs: the same signatures checked by the node's child processes, if any;
    2. chain.produce(txs) itself on the now-warm cache, its signature step kept on the
       thread path (whose checks are now cache hits), timed through thin wrappers:
       execute (App.finalize_block; its Store.prepare tree update also alone as prepare),
       commit (App.commit), assemble (the rest of produce: receipts, Merkle roots, header
       signature, block-store records).
    Wrapping rather than copying produce keeps the figures true to the current node code.
    Returns seconds per phase, produce (step 2), total (verify + produce) and the codes.
    """
    import rwachain.node.chain as chain_mod
    from rwachain.node.verify import precheck_parallel

    app, store = chain.app, chain.store
    procs = verify_in_processes(chain, txs)
    clear_sig_cache(app)
    t0 = time.perf_counter()
    precheck_parallel(app, txs, chain._pool, chain.workers)
    acc = {"verify": time.perf_counter() - t0, "execute": 0.0, "prepare": 0.0, "commit": 0.0}

    def wrap(name: str, fn: Callable) -> Callable:
        def timed_call(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[name] += time.perf_counter() - t
        return timed_call

    app.finalize_block = wrap("execute", app.finalize_block)
    app.commit = wrap("commit", app.commit)
    store.prepare = wrap("prepare", store.prepare)
    min_attr = "PROCESS_VERIFY_MIN"  # blocks this large go to the child processes
    saved = getattr(chain_mod, min_attr, None)
    if saved is not None:
        setattr(chain_mod, min_attr, 1 << 62)
    try:
        t0 = time.perf_counter()
        _, result = chain.produce(txs, time_)
        acc["produce"] = time.perf_counter() - t0
    finally:
        del app.finalize_block, app.commit, store.prepare  # back to the classes' methods
        if saved is not None:
            setattr(chain_mod, min_attr, saved)
    acc["assemble"] = acc["produce"] - acc["execute"] - acc["commit"]
    acc["total"] = acc["verify"] + acc["produce"]
    acc["verify_procs"] = procs
    return {**acc, "codes": [r.code for r in result.receipts]}


def produce_cold(chain, txs: list[bytes], time_: int | None = None) -> tuple[float, list[int]]:
    """Seconds of chain.produce(txs) from raw bytes with an empty signature cache; codes."""
    clear_sig_cache(chain.app)
    t0 = time.perf_counter()
    _, result = chain.produce(txs, time_)
    return time.perf_counter() - t0, [r.code for r in result.receipts]


def clear_sig_cache(app) -> None:
    """Empty the app's verified-signature cache (the measured block starts cold)."""
    app.signatures.clear()


def check_codes(codes: list[int], what: str) -> None:
    bad = [c for c in codes if c != 0]
    if bad:
        raise SystemExit(f"{what}: {len(bad)} of {len(codes)} transactions failed (codes {sorted(set(bad))})")


def synced_write_ms(directory: str, room: bool = False, writes: int = 40, records: int = 51,
                    size: int = 110) -> float:
    """Median ms of a synced LevelDB batch the size of a 1-transaction block's commit
    (records x size bytes), in a fresh database under directory: what this disk charges
    for the durable commit of every sequential round trip at the time of the run. room:
    with zeros ahead of the log, as `rwad --log-preallocate` keeps them (state/logroom.py), so the
    batch overwrites in place; else LevelDB's plain append."""
    import shutil
    import tempfile

    import plyvel

    from rwachain.state.logroom import LogRoom

    path = tempfile.mkdtemp(dir=directory, prefix="synced-write-")
    db = plyvel.DB(path, create_if_missing=True)
    log_room = LogRoom(path) if room else None
    try:
        value = os.urandom(size)
        times = []
        for i in range(writes):
            t = time.perf_counter()
            with db.write_batch(sync=True) as wb:
                for j in range(records):
                    wb.put(b"k%d/%d" % (j, i), value)
            times.append(time.perf_counter() - t)
            if log_room is not None:
                log_room.after_write()
        return statistics.median(times[1:]) * 1e3
    finally:
        db.close()
        shutil.rmtree(path, ignore_errors=True)
