"""The embedded devnet genesis: 10 deterministic, prefunded dev accounts and the roles.

Dev account i (0..9) has the Ed25519 seed sha256(b"rwachain/devkey/" || i as 4 bytes,
big-endian) (modules/crypto.py); the devnet validator signs with dev key 4294967295.
These keys are public: never use them outside a devnet.
"""

from __future__ import annotations

import json
import os

from modules.crypto import Keypair

DEV_ACCOUNTS = 10
VALIDATOR_INDEX = 0xFFFFFFFF
CHAIN_ID = "rwa-devnet-1"
GENESIS_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
NATIVE_EACH = 1_000_000 * 10**6  # 1,000,000 RWA (6 decimals)
STABLE_EACH = 1_000_000 * 10**6  # 1,000,000 RUSD (6 decimals)
ROLE_OF = {1: "originator", 2: "verifier", 3: "servicer", 4: "custodian", 5: "guardian"}
PATH = os.path.join(os.path.dirname(__file__), "devnet.json")


def dev_keys() -> list[Keypair]:
    return [Keypair.dev(i) for i in range(DEV_ACCOUNTS)]


def validator_key() -> Keypair:
    return Keypair.dev(VALIDATOR_INDEX)


def build() -> dict:
    """The devnet genesis document (what genesis/devnet.json holds)."""
    keys = dev_keys()
    roles: dict[str, list[str]] = {}
    for i, role in ROLE_OF.items():
        roles.setdefault(role, []).append(keys[i].address_text)
    accounts = sorted(({"address": k.address_text, "balances": {"rusd": str(STABLE_EACH), "rwa": str(NATIVE_EACH)}}
                       for k in keys), key=lambda a: a["address"])
    return {
        "chainId": CHAIN_ID,
        "genesisTime": GENESIS_TIME,
        "initialHeight": 1,
        "appVersion": 1,
        "stateSchemaVersion": 1,
        "validator": {"pubkey": "0x" + validator_key().pubkey.hex()},
        "nativeDenom": "rwa",
        "denoms": [
            {"id": "rwa", "symbol": "RWA", "decimals": 6, "kind": "native"},
            {"id": "rusd", "symbol": "RUSD", "decimals": 6, "kind": "stable"},
        ],
        "params": {"chain": {"nonceWindow": 64, "maxTxBytes": 16384, "maxBlockTxs": 20000,
                             "feePerByte": 10, "feePrice": 1}},
        "roles": roles,
        "stable": {"denom": "rusd", "proofOfReserve": str(2 * DEV_ACCOUNTS * STABLE_EACH)},
        "accounts": accounts,
    }


def write(path: str = PATH) -> None:
    with open(path, "w") as f:
        json.dump(build(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write()
