"""The validator set: named by the genesis, changed by governance (action setValidator).

State: gov/val/<ed25519 public key, 32 B> -> voting power (an integer, CometBFT's units).
A genesis that names no validators leaves it empty, and the set is then the genesis's one
validator at DEFAULT_POWER (a devnet's). The chain's own producer never reads the set;
under CometBFT, InitChain answers with it and each change reaches CometBFT as a
validator update of the block that executed it (the event gov.validatorSet).

A change sets one validator's power (0 removes it). It is refused, when proposed and
again when executed, if it would leave no validator, more than MAX_VALIDATORS, or if the
old validators' retained power (sum over them of min(old, new power)) would not stay above
2/3 of the old total or of the new total: one change never moves a third of the power,
so the validators of the block before always hold more than 2/3 of the next set.
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx
from rwachain.modules.core.errors import InvalidState

VAL = b"gov/val/"
KEY_SIZE = 32  # an ed25519 public key, bytes
DEFAULT_POWER = 10  # voting power of a genesis's single validator when it names no set
MAX_POWER = 10**12  # one validator's power at most (CometBFT's total limit is 2^63 / 8)
MAX_VALIDATORS = 100  # validators at most
SET_EVENT = "gov.validatorSet"  # {pubkey, power}: a change executed in this block


def validator_set(ctx: Ctx) -> dict[bytes, int]:
    """{public key: power} of the current set, in key order."""
    return named_set(ctx) or {ctx.get_obj(b"chain/genesis")["validator"]: DEFAULT_POWER}


def named_set(ctx: Ctx) -> dict[bytes, int]:
    """{public key: power} as the genesis or governance named it (empty: never named)."""
    return {k[len(VAL):]: ctx.get_int(k) for k, _ in ctx.iter_prefix(VAL)}


def parse_change(value: str) -> tuple[bytes, int]:
    """"0x<64 hex digits>:<power>" -> (public key, power); InvalidState if malformed."""
    key, colon, power = value.partition(":")
    if not colon or not key.startswith("0x") or len(key) != 2 + 2 * KEY_SIZE:
        raise InvalidState(f"value: expected 0x<{2 * KEY_SIZE} hex digits of an ed25519 public key>:<power>")
    try:
        pubkey = bytes.fromhex(key[2:])
    except ValueError:
        raise InvalidState("value: the public key is not valid hex") from None
    if not power.isdigit() or len(power) > 13 or int(power) > MAX_POWER:
        raise InvalidState(f"value: the power is an integer in [0, {MAX_POWER}]")
    return pubkey, int(power)


def changed_set(old: dict[bytes, int], pubkey: bytes, power: int) -> dict[bytes, int]:
    """old with pubkey's power set (0 removes it); InvalidState if the change is refused
    (see the module docstring)."""
    if power == 0 and pubkey not in old:
        raise InvalidState(f"0x{pubkey.hex()} is not a validator: nothing to remove")
    new = {k: v for k, v in old.items() if k != pubkey}
    if power:
        new[pubkey] = power
    if not new:
        raise InvalidState("the change would remove every validator")
    if len(new) > MAX_VALIDATORS:
        raise InvalidState(f"the set holds at most {MAX_VALIDATORS} validators")
    kept = sum(min(p, new.get(k, 0)) for k, p in old.items())
    old_total, new_total = sum(old.values()), sum(new.values())
    if 3 * kept <= 2 * old_total or 3 * kept <= 2 * new_total:
        raise InvalidState(f"the validators of the old set would keep {kept} of the power (old total "
                           f"{old_total}, new total {new_total}): a change keeps more than 2/3 of both")
    return new


def check_change(ctx: Ctx, value: str) -> dict[bytes, int]:
    """The set after the change value ("0x<key>:<power>"), checked against the set now."""
    return changed_set(validator_set(ctx), *parse_change(value))


def apply_change(ctx: Ctx, value: str) -> None:
    """Execute a checked change: write the whole new set and emit gov.validatorSet, the
    validator update a consensus engine reads from the block's events."""
    pubkey, power = parse_change(value)
    new = changed_set(validator_set(ctx), pubkey, power)
    for k in list(named_set(ctx)):
        if k not in new:
            ctx.delete(VAL + k)
    for k, p in new.items():
        ctx.set_int(VAL + k, p)
    ctx.emit("gov.validatorSet", pubkey=pubkey, power=power)  # SET_EVENT
