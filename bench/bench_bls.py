"""BLS12-381 (IETF PoP ciphersuite) speed through modules.bls, per backend.

Measured per backend ("native" = pyblst/blst, "pyecc" = py_ecc), on one thread, operations
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
with --libs the raw libraries side by side (pyblst and, if installed, blspy and
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

from rwachain.modules.core import bls

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
    """The same operations on the raw libraries, bytes in and bytes out: pyblst always,
    blspy and py-arkworks-bls12381 where installed. Each is first checked to give the
    native backend's bytes."""
    sks = [bls.secret_from_seed(seed(i)) for i in range(4)]
    bls.use("native")
    pks = [bls.public_key(sk) for sk in sks]
    sigs = [bls.sign(sk, MSG) for sk in sks]
    agg = bls.aggregate(sigs)
    pop = bls.prove_possession(sks[0])
    out: dict[str, dict[str, Callable[[], object]]] = {}
    for make in (_pyblst_ops, _blspy_ops, _arkworks_ops):
        try:
            name, ops = make(sks[0], pks, sigs, agg, pop)
        except ImportError:
            continue
        out[name] = ops
    return out


def _sum(points: list[bytes], decode: Callable, encode: Callable, zero: object) -> object:
    """encode(zero + decode(p) for every p): an aggregate of encoded points."""
    total = zero
    for x in points:
        total = total + decode(x)
    return encode(total)


def _pyblst_ops(sk, pks, sigs, agg, pop):
    import pyblst as b

    G1, G2 = b.BlstP1Element, b.BlstP2Element
    gen = G1.uncompress(bls.G1_GENERATOR)

    def verify(pk: bytes, msg: bytes, sig: bytes, dst: bytes) -> bool:
        return b.final_verify(b.miller_loop(G1.uncompress(pk), G2.hash_to_group(msg, dst)),
                              b.miller_loop(gen, G2.uncompress(sig)))

    def fav() -> bool:
        total = _sum(pks, G1.uncompress, lambda p: p, G1())
        return b.final_verify(b.miller_loop(total, G2.hash_to_group(MSG, SIG_DST)),
                              b.miller_loop(gen, G2.uncompress(agg)))

    sign = lambda: G2.hash_to_group(MSG, SIG_DST).scalar_mul(sk).compress()  # noqa: E731
    if sign() != sigs[0] or not verify(pks[0], pks[0], pop, POP_DST) or not fav():
        raise SystemExit("pyblst disagrees with modules.bls")
    return "pyblst", {
        "sign": sign,
        "verify": lambda: verify(pks[0], MSG, sigs[0], SIG_DST),
        "fast_aggregate_verify, 4 keys": fav,
        "verify_possession": lambda: verify(pks[0], pks[0], pop, POP_DST),
        "aggregate, 4 signatures": lambda: _sum(sigs, G2.uncompress, G2.compress, G2()),
        "aggregate, 4 public keys": lambda: _sum(pks, G1.uncompress, G1.compress, G1()),
    }


def _blspy_ops(sk, pks, sigs, agg, pop):
    import blspy

    S, G1, G2 = blspy.PopSchemeMPL, blspy.G1Element, blspy.G2Element
    bsk = blspy.PrivateKey.from_bytes(sk.to_bytes(32, "big"))
    if bytes(S.sign(bsk, MSG)) != sigs[0]:
        raise SystemExit("blspy disagrees with modules.bls")
    return "blspy", {
        "sign": lambda: bytes(S.sign(bsk, MSG)),
        "verify": lambda: S.verify(G1.from_bytes(pks[0]), MSG, G2.from_bytes(sigs[0])),
        "fast_aggregate_verify, 4 keys": lambda: S.fast_aggregate_verify(
            [G1.from_bytes(p) for p in pks], MSG, G2.from_bytes(agg)),
        "verify_possession": lambda: S.pop_verify(G1.from_bytes(pks[0]), G2.from_bytes(pop)),
        "aggregate, 4 signatures": lambda: bytes(S.aggregate([G2.from_bytes(s) for s in sigs])),
        "aggregate, 4 public keys": lambda: _sum(pks[1:], G1.from_bytes, bytes,
                                                 G1.from_bytes(pks[0])),
    }


def _arkworks_ops(sk, pks, sigs, agg, pop):
    import py_arkworks_bls12381 as ark

    G1, G2 = ark.G1Point, ark.G2Point
    gen, ask = G1(), ark.Scalar(sk)

    def verify(pk: bytes, msg: bytes, sig: bytes, dst: bytes) -> bool:
        p, s = G1.from_compressed_bytes(pk), G2.from_compressed_bytes(sig)
        return ark.GT.pairing_check([gen, -p], [s, G2.hash_to_curve(msg, dst)])

    def fav() -> bool:
        total = _sum(pks, G1.from_compressed_bytes, lambda p: p, G1.identity())
        s = G2.from_compressed_bytes(agg)
        return ark.GT.pairing_check([gen, -total], [s, G2.hash_to_curve(MSG, SIG_DST)])

    sign = lambda: (G2.hash_to_curve(MSG, SIG_DST) * ask).to_compressed_bytes()  # noqa: E731
    if sign() != sigs[0] or not verify(pks[0], pks[0], pop, POP_DST):
        raise SystemExit("py-arkworks-bls12381 disagrees with modules.bls")
    return "py-arkworks-bls12381", {
        "sign": sign,
        "verify": lambda: verify(pks[0], MSG, sigs[0], SIG_DST),
        "fast_aggregate_verify, 4 keys": fav,
        "verify_possession": lambda: verify(pks[0], pks[0], pop, POP_DST),
        "aggregate, 4 signatures": lambda: _sum(sigs, G2.from_compressed_bytes,
                                                G2.to_compressed_bytes, G2.identity()),
        "aggregate, 4 public keys": lambda: _sum(pks, G1.from_compressed_bytes,
                                                 G1.to_compressed_bytes, G1.identity()),
    }


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
