"""The signed bytes of an oracle report and the signer bitmap.

    message = DOMAIN || msgpack([chain id, set epoch, feed, value, observed_at, round])
Every operator of the quorum signs the same message (BLS, modules/core/bls.py); one
transaction carries the report with a bitmap of the signers and the aggregate
signature. Bitmap: operator i of the set is bit (i mod 8) of byte i // 8, least
significant bit first; exactly ceil(n / 8) bytes, no bit at or past n set.
"""

from __future__ import annotations

from rwachain.state.codec import encode

DOMAIN = b"rwachain/oracle/report/v1\x00"


def message(chain_id: str, epoch: int, feed: str, value: int, observed_at: int, round_: int) -> bytes:
    """The bytes each operator signs for one report."""
    return DOMAIN + encode([chain_id, epoch, feed, value, observed_at, round_])


def bitmap(indices: list[int], n: int) -> bytes:
    """The bitmap of the given operator indices in a set of n."""
    out = bytearray((n + 7) // 8)
    for i in indices:
        if not 0 <= i < n:
            raise ValueError(f"operator index {i} is outside the set of {n}")
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def signers(bits: bytes, n: int) -> list[int]:
    """The operator indices a bitmap names; ValueError if it does not fit a set of n."""
    if len(bits) != (n + 7) // 8:
        raise ValueError(f"the bitmap has {len(bits)} bytes; a set of {n} operators needs {(n + 7) // 8}")
    out = []
    for i in range(len(bits) * 8):
        if bits[i // 8] >> (i % 8) & 1:
            if i >= n:
                raise ValueError(f"the bitmap names operator {i}; the set has {n}")
            out.append(i)
    return out
