"""BLS12-381 (IETF PoP ciphersuite) speed through modules.bls, per backend.

Measured per backend ("native" = blspy/blst, "pyecc" = py_ecc), on one thread, operations
of the oracle-report path:
  * sign                     one signature of a 57-byte report;
  * verify                   one signature, the public key already in the key cache
                             (operators' keys verify over and over);
  * verify, cold key         the same with the key cache emptied before every call
                             (decompression and subgroup check of the key included);
  * fast_aggregate_verify    4 signers of one report, keys cached;
  * verify_possession        PopVerify of a key seen for the first time (cold cache);
  * aggregate                4 signatures into one (each decoded and subgroup-checked).
Figures are the median of --rounds rounds, each running an operation for at least
--seconds (py_ecc: at least --pyecc-ops calls, as one call takes ~0.5 s). Every result is
checked (a verification that says False stops the run).
Also, for native: verify on 2 threads at once (does the library release the GIL?), and
with --libs the raw libraries side by side (blspy and, if installed,
py-arkworks-bls12381), which is how the native backend was chosen.

    .venv/bin/python bench/bench_bls.py           # quick (~15 s)
    .venv/bin/python bench/bench_bls.py --full    # more rounds and longer ones (~1.5 min)
    .venv/bin/python bench/bench_bls.py --libs    # plus the library comparison (+10 s; --full +1 min)
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import threading
import time
from collections.abc import Callable

import _common as c

from modules import bls

MSG = b"rwachain/oracle-report/feed=usd-eur/round=1/value=1084500"
SIG_DST = bls.SIG_DST
POP_DST = bls.POP_DST


def seed(i: int) -> bytes:
    return hashlib.sha256(b"rwachain/bench/bls/" + i.to_bytes(4, "big")).digest()


def measure(fn: Callable[[], object], rounds: int, seconds: float, min_ops: int) -> float:
    """Median seconds per call of fn over `rounds` rounds of >= seconds and >= min_ops calls."""
    fn()  # warm-up (imports, caches)
    per_op = []
    for _ in range(rounds):
        n = 0
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while n < min_ops or time.perf_counter() < deadline:
            fn()
            n += 1
        per_op.append((time.perf_counter() - t0) / n)
    return statistics.median(per_op)


def checked(fn: Callable[[], bool], what: str) -> Callable[[], bool]:
    def run() -> bool:
        if fn() is not True:
            raise SystemExit(f"{what}: verification failed")
        return True
    return run


def api_ops() -> dict[str, Callable[[], object]]:
    sks = [bls.secret_from_seed(seed(i)) for i in range(4)]
    pks = [bls.public_key(sk) for sk in sks]
    sigs = [bls.sign(sk, MSG) for sk in sks]
    agg = bls.aggregate(sigs)
    pops = [bls.prove_possession(sk) for sk in sks]

    def verify_cold() -> bool:
        bls.clear_key_cache()
        return bls.verify(pks[0], MSG, sigs[0])

    def pop_cold() -> bool:
        bls.clear_key_cache()
        return bls.verify_possession(pks[1], pops[1])

    return {
        "sign": lambda: bls.sign(sks[0], MSG),
        "verify": checked(lambda: bls.verify(pks[0], MSG, sigs[0]), "verify"),
        "verify, cold key": checked(verify_cold, "verify"),
        "fast_aggregate_verify, 4 keys": checked(lambda: bls.fast_aggregate_verify(pks, MSG, agg), "fav"),
        "verify_possession, cold key": checked(pop_cold, "verify_possession"),
        "aggregate, 4 signatures": lambda: bls.aggregate(sigs),
    }


def threaded_rate(fn: Callable[[], object], threads: int, seconds: float) -> float:
    """Calls per second of fn on `threads` threads at once."""
    counts = [0] * threads
    start = threading.Barrier(threads + 1)

    def loop(i: int) -> None:
        start.wait()
        deadline = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < deadline:
            fn()
            n += 1
        counts[i] = n

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    t0 = time.perf_counter()
    start.wait()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def library_ops() -> dict[str, dict[str, Callable[[], object]]]:
    """The same operations on the raw libraries, bytes in and bytes out."""
    sks = [bls.secret_from_seed(seed(i)) for i in range(4)]
    bls.use("native")
    pks = [bls.public_key(sk) for sk in sks]
    sigs = [bls.sign(sk, MSG) for sk in sks]
    agg = bls.aggregate(sigs)
    pop = bls.prove_possession(sks[0])
    out: dict[str, dict[str, Callable[[], object]]] = {}

    import blspy

    S, G1, G2 = blspy.PopSchemeMPL, blspy.G1Element, blspy.G2Element
    bsk = blspy.PrivateKey.from_bytes(sks[0].to_bytes(32, "big"))

    def b_agg_pks() -> bytes:
        total = G1.from_bytes(pks[0])
        for p in pks[1:]:
            total = total + G1.from_bytes(p)
        return bytes(total)

    out["blspy 2.0.3"] = {
        "sign": lambda: bytes(S.sign(bsk, MSG)),
        "verify": lambda: S.verify(G1.from_bytes(pks[0]), MSG, G2.from_bytes(sigs[0])),
        "fast_aggregate_verify, 4 keys": lambda: S.fast_aggregate_verify(
            [G1.from_bytes(p) for p in pks], MSG, G2.from_bytes(agg)),
        "verify_possession": lambda: S.pop_verify(G1.from_bytes(pks[0]), G2.from_bytes(pop)),
        "aggregate, 4 signatures": lambda: bytes(S.aggregate([G2.from_bytes(s) for s in sigs])),
        "aggregate, 4 public keys": b_agg_pks,
    }
    try:
        import py_arkworks_bls12381 as ark
    except ImportError:
        return out
    gen = ark.G1Point()
    ask = ark.Scalar(sks[0])

    def a_verify(pk: bytes, msg: bytes, sig: bytes, dst: bytes) -> bool:
        p = ark.G1Point.from_compressed_bytes(pk)
        s = ark.G2Point.from_compressed_bytes(sig)
        return ark.GT.pairing_check([gen, -p], [s, ark.G2Point.hash_to_curve(msg, dst)])

    def a_fav() -> bool:
        total = ark.G1Point.identity()
        for p in pks:
            total = total + ark.G1Point.from_compressed_bytes(p)
        s = ark.G2Point.from_compressed_bytes(agg)
        return ark.GT.pairing_check([gen, -total], [s, ark.G2Point.hash_to_curve(MSG, SIG_DST)])

    def a_agg(points: list[bytes], cls) -> bytes:
        total = cls.identity()
        for x in points:
            total = total + cls.from_compressed_bytes(x)
        return total.to_compressed_bytes()

    sign_a = lambda: (ark.G2Point.hash_to_curve(MSG, SIG_DST) * ask).to_compressed_bytes()  # noqa: E731
    if sign_a() != sigs[0] or a_agg(sigs, ark.G2Point) != agg or not a_verify(pks[0], pks[0], pop, POP_DST):
        raise SystemExit("py-arkworks-bls12381 disagrees with blspy")
    out["py-arkworks-bls12381"] = {
        "sign": sign_a,
        "verify": lambda: a_verify(pks[0], MSG, sigs[0], SIG_DST),
        "fast_aggregate_verify, 4 keys": a_fav,
        "verify_possession": lambda: a_verify(pks[0], pks[0], pop, POP_DST),
        "aggregate, 4 signatures": lambda: a_agg(sigs, ark.G2Point),
        "aggregate, 4 public keys": lambda: a_agg(pks, ark.G1Point),
    }
    return out


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}" if seconds >= 1e-4 else f"{seconds * 1e6:,.1f}"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="5 rounds of 1 s (py_ecc: 5 rounds of 3 calls)")
    ap.add_argument("--rounds", type=int, help="rounds per operation (median); default 3, --full 5")
    ap.add_argument("--seconds", type=float, help="minimum seconds per round; default 0.3, --full 1")
    ap.add_argument("--pyecc-ops", type=int, help="minimum py_ecc calls per round; default 1, --full 3")
    ap.add_argument("--libs", action="store_true", help="also compare the raw native libraries")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.full else 3)
    seconds = args.seconds if args.seconds is not None else (1.0 if args.full else 0.3)
    pyecc_ops = args.pyecc_ops or (3 if args.full else 1)

    print(f"# bench_bls: modules.bls per backend, median of {rounds} rounds "
          f"({'full' if args.full else 'quick'})")
    print(f"machine: {c.machine()}\n")
    results: dict[str, dict[str, float]] = {}
    for name in bls.BACKENDS:
        bls.use(name)
        ops = api_ops()
        slow = name == "pyecc"
        results[name] = {op: measure(fn, 1 if slow and not args.full else rounds,
                                     0.0 if slow else seconds, pyecc_ops if slow else 1)
                         for op, fn in ops.items()}
    bls.use("native")
    rows = []
    for op in results["native"]:
        n, p = results["native"][op], results["pyecc"][op]
        rows.append([op, c.rate(1, n), us(n), c.rate(1, p), us(p), f"{p / n:,.0f}x"])
    print(c.table(["operation", "native ops/s", "native µs/op", "pyecc ops/s", "pyecc µs/op",
                   "native speedup"], rows, "modules.bls, one thread"))

    ops = api_ops()
    one = threaded_rate(ops["verify"], 1, seconds * rounds)
    two = threaded_rate(ops["verify"], 2, seconds * rounds)
    print(f"\nnative verify: {one:,.0f}/s on 1 thread, {two:,.0f}/s on 2 threads "
          f"(x{two / one:.2f}; ~x2 on 2 idle cores means the GIL is released)")

    if args.libs:
        libs = library_ops()
        names = list(libs)
        lib_rows = []
        for op in libs[names[0]]:
            row = [op]
            for lib in names:
                s = measure(libs[lib][op], rounds, seconds, 1)
                row += [c.rate(1, s), us(s)]
            lib_rows.append(row)
        headers = ["operation"] + [h for lib in names for h in (f"{lib} ops/s", f"{lib} µs/op")]
        print()
        print(c.table(headers, lib_rows, "raw native libraries (bytes in, bytes out), one thread"))
    return results


if __name__ == "__main__":
    main()
