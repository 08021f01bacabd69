"""Chain-level parameters (stored under params/chain) with their defaults and hard bounds.

    chainId       str  the chain id every transaction must carry
    nonceWindow   int  how far ahead of an account's nonce check_tx admits (mempool mode)
    maxTxBytes    int  largest signed transaction, bytes
    maxBlockTxs   int  most transactions in one block
    feePerByte    int  cost units per byte of signed transaction
    feePrice      int  native base units per cost unit: min fee = (call cost + feePerByte x size) x feePrice
"""

from __future__ import annotations

from rwachain.modules.core.context import Ctx

KEY = b"params/chain"
DEFAULTS = {"nonceWindow": 64, "maxTxBytes": 16_384, "maxBlockTxs": 20_000, "feePerByte": 10, "feePrice": 1}
BOUNDS = {
    "nonceWindow": (1, 4096),
    "maxTxBytes": (256, 1 << 20),
    "maxBlockTxs": (1, 1_000_000),
    "feePerByte": (0, 1_000_000),
    "feePrice": (0, 10**18),
}


def check(params: dict) -> list[str]:
    """Problems with a chain params map (field: message), empty if valid."""
    out = []
    if type(params.get("chainId")) is not str or not 1 <= len(params["chainId"]) <= 64:
        out.append("chainId: a string of 1..64 characters")
    for name, (lo, hi) in BOUNDS.items():
        v = params.get(name)
        if type(v) is not int or not lo <= v <= hi:
            out.append(f"{name}: an integer in [{lo}, {hi}]")
    extra = set(params) - set(BOUNDS) - {"chainId"}
    out.extend(f"{k}: unknown parameter" for k in sorted(extra))
    return out


def load(ctx: Ctx) -> dict:
    return ctx.get_obj(KEY)


def min_fee(params: dict, call_cost: int, size: int) -> int:
    """Minimum fee in native base units for a call of call_cost units and size bytes."""
    return (call_cost + params["feePerByte"] * size) * params["feePrice"]
