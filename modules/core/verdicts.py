"""Verdicts of aggregate BLS signatures, remembered in the App's one signature cache.

FastAggregateVerify(keys, message, signature) is a pure function of its bytes, so a true
verdict, once computed (at admission, or by the node in a checker process), spares the
block its own check. The verdicts live in the signature cache the App's contexts carry
(ctx.wiring.verdicts, which is the node's Chain.signatures), under keys that cannot meet
a transaction hash: VERDICT_TAG + sha256(canonical encoding of [keys, message, signature])
is 35 bytes long, a transaction hash 32. Only true verdicts are kept, and only for exactly
the bytes checked: a verdict never lets another signature pass. A context no App made
carries no cache and verifies every time.
"""

from __future__ import annotations

from hashlib import sha256

from rwachain.modules.core import bls
from rwachain.modules.core.context import Ctx
from rwachain.state.codec import encode

VERDICT_TAG = b"bls"  # prefix of a verdict's key in the signature cache


def verdict_key(pks: list[bytes], msg: bytes, sig: bytes) -> bytes:
    """The cache key of FastAggregateVerify(pks, msg, sig): the tag and a digest of an
    unambiguous encoding (no split of the same bytes into other keys and message)."""
    return VERDICT_TAG + sha256(encode([list(pks), msg, sig])).digest()


def fast_aggregate_verify(ctx: Ctx, pks: list[bytes], msg: bytes, sig: bytes) -> bool:
    """FastAggregateVerify(pks, msg, sig), remembered in the cache ctx's App owns."""
    cache = ctx.wiring.verdicts
    if cache is None:
        return bls.fast_aggregate_verify(pks, msg, sig)
    key = verdict_key(pks, msg, sig)
    if cache.get(key) is True:
        return True
    ok = bls.fast_aggregate_verify(pks, msg, sig)
    if ok:
        cache.put(key, True)
    return ok


def note(cache, pks: list[bytes], msg: bytes, sig: bytes) -> None:
    """Record in cache that FastAggregateVerify(pks, msg, sig) holds (checked elsewhere,
    e.g. in the node's checker process)."""
    cache.put(verdict_key(pks, msg, sig), True)
