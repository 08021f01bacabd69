"""The chain-wide block invariants, beside each module's own: checked after every block of a
simulation or scenario replay (genesis/sim/simulate.py) and after a genesis import
(genesis/loader.py, but GENESIS_SKIPS). Each takes a context over a state and returns the
messages of what is broken ([] when it holds)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rwachain.modules.bank import keeper as bank
from rwachain.modules.core.context import Ctx
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.records import FeedState, Policy
from rwachain.modules.stable import keeper as stable
from rwachain.modules.stable import vault
from rwachain.state.codec import decode


def stable_supply_check(ctx: Ctx) -> list[str]:
    """The stable supply never exceeds what custodians minted plus what exits minted."""
    token = stable.info(ctx)
    if token is None:
        return []
    minted = stable.minted_by_custodians(ctx) + stable.minted_against_units(ctx)
    supply = bank.supply(ctx, token.denom)
    return [f"stable supply {supply} above custodian mints plus exit mints {minted}"] if supply > minted else []


def cr_check(ctx: Ctx) -> list[str]:
    """The collateral ratio recorded in the last block equals its definition after it."""
    rec = stable.recorded_ratio(ctx)
    if rec is None or rec.time != ctx.block.time:
        return []
    cr = vault.collateral_ratio(ctx).cr
    if rec.cr == cr:
        return []
    return [f"recorded CR {rec.cr} differs from its definition {cr} at the end of the block"]


def oracle_bounds_check(ctx: Ctx) -> list[str]:
    """Every oracle value (and queued value) lies within its policy's hard bounds."""
    out = []
    policies = {c: ctx.get(oracle.POLICY + c.encode()) for c in feeds.CLASSES}
    n = len(oracle.FEED)
    for key, raw in ctx.iter_prefix(oracle.FEED):
        feed = key[n:].decode()
        out += [f"{feed} {m}" for m in _feed_bounds(raw, policies[feeds.class_of(feed)])]
    return out


@lru_cache(maxsize=4096)
def _feed_bounds(state: bytes, policy: bytes) -> tuple[str, ...]:
    """Bounds problems of one feed's encoded state under its encoded policy (memoized: a
    feed's state bytes rarely change from one block to the next)."""
    st, p = FeedState.from_stored(decode(state)), Policy.from_stored(decode(policy))
    out = []
    for what, v in (("value", st.value), ("queued value", None if st.pending is None else st.pending.value)):
        if v is not None and not p.lo <= v <= p.hi:
            out.append(f"{what} {v} outside [{p.lo}, {p.hi}]")
    return tuple(out)


# Chain-wide checks by name (rwad simulate --skip-check NAME leaves one out).
CHAIN_CHECKS: dict[str, Callable[[Ctx], list[str]]] = {
    "stable-supply": stable_supply_check, "cr": cr_check, "oracle-bounds": oracle_bounds_check}
