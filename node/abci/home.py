"""An ABCI node's home: rwachain's genesis and data beside CometBFT's own home.

    HOME/genesis.json            the rwachain genesis (the same file on every validator)
    HOME/data/                   the chain's LevelDB (state, blocks, receipts, indexes)
    HOME/cometbft/config/        CometBFT's config.toml, genesis.json and keys
    HOME/cometbft/data/          CometBFT's block store, state and write-ahead log
The app listens on tcp://127.0.0.1:PORT, the address CometBFT's proxy_app names.
The functions below write CometBFT's side: `cometbft init` makes the keys, then the shared
genesis (chain id, time, initial height and the validators with their powers, all from the
rwachain genesis) and the config (ports, peers, timeouts) are written over its defaults.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass

COMET_DIR = "cometbft"
GENESIS = "genesis.json"
DEFAULT_POWER = 10  # voting power of each genesis validator
PUBKEY_TYPE = "tendermint/PubKeyEd25519"


@dataclass(frozen=True, slots=True)
class Ports:
    """A node's loopback ports: CometBFT's RPC and P2P, the app's ABCI socket and its JSON-RPC."""
    rpc: int
    p2p: int
    app: int
    jsonrpc: int


def comet_home(home: str) -> str:
    return os.path.join(home, COMET_DIR)


def comet_config(home: str) -> str:
    return os.path.join(comet_home(home), "config", "config.toml")


def comet_init(binary: str, home: str) -> None:
    """Create CometBFT's home inside home (its keys, a default config and genesis)."""
    subprocess.run([binary, "init", "--home", comet_home(home)], check=True, capture_output=True)


def _key_bytes(path: str) -> bytes:
    with open(path) as f:
        return base64.b64decode(json.load(f)["priv_key"]["value"])


def validator_pubkey(home: str) -> bytes:
    """The 32-byte ed25519 public key of home's CometBFT validator."""
    return _key_bytes(os.path.join(comet_home(home), "config", "priv_validator_key.json"))[32:]


def validator_address(pubkey: bytes) -> bytes:
    """CometBFT's 20-byte validator address of an ed25519 key: sha256(key)[:20]."""
    return hashlib.sha256(pubkey).digest()[:20]


def node_id(home: str) -> str:
    """CometBFT's P2P node id: hex of sha256(node public key)[:20]."""
    return validator_address(_key_bytes(os.path.join(comet_home(home), "config", "node_key.json"))[32:]).hex()


def genesis_validator(pubkey: bytes, power: int = DEFAULT_POWER, name: str = "") -> dict:
    """One validator entry of CometBFT's genesis."""
    return {"address": validator_address(pubkey).hex().upper(),
            "pub_key": {"type": PUBKEY_TYPE, "value": base64.b64encode(pubkey).decode()},
            "power": str(power), "name": name}


def rfc3339(unix_seconds: int) -> str:
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rwa_validators(pubkeys: list[bytes], names: list[str], power: int = DEFAULT_POWER) -> list[dict]:
    """The rwachain genesis's "validators" for these ed25519 keys, each at power."""
    return [{"pubkey": "0x" + k.hex(), "power": power, "name": n} for k, n in zip(pubkeys, names, strict=True)]


def write_comet_genesis(home: str, rwa_genesis: dict) -> None:
    """CometBFT's genesis for home: chain id, time, initial height and validator set (with
    their powers) of the rwachain genesis; consensus parameters as `cometbft init` wrote them."""
    path = os.path.join(comet_home(home), "config", "genesis.json")
    with open(path) as f:
        doc = json.load(f)
    validators = [genesis_validator(bytes.fromhex(v["pubkey"][2:]), int(v["power"]), v.get("name", ""))
                  for v in rwa_genesis["validators"]]
    doc.update(genesis_time=rfc3339(rwa_genesis["genesisTime"]), chain_id=rwa_genesis["chainId"],
               initial_height=str(rwa_genesis["initialHeight"]), validators=validators, app_hash="")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)


def set_toml(text: str, section: str, key: str, value) -> str:
    """text with `key = value` set inside [section] ("" for the top level); the key must exist."""
    start = 0
    if section:
        found = re.search(rf"^\[{re.escape(section)}\]\s*$", text, re.M)
        if found is None:
            raise ValueError(f"config.toml has no [{section}]")
        start = found.end()
    following = re.compile(r"^\[", re.M).search(text, start)
    end = following.start() if following else len(text)
    literal = json.dumps(value) if isinstance(value, str) else str(value).lower()
    body, n = re.subn(rf"^{re.escape(key)} = .*$", lambda _: f"{key} = {literal}", text[start:end], count=1,
                      flags=re.M)
    if n != 1:
        raise ValueError(f"config.toml has no {key} in [{section or 'top level'}]")
    return text[:start] + body + text[end:]


FAST_CONSENSUS = {  # short timeouts for a loopback localnet (CometBFT's defaults are for WANs)
    "timeout_propose": "1s", "timeout_propose_delta": "200ms", "timeout_prevote": "300ms",
    "timeout_prevote_delta": "200ms", "timeout_precommit": "300ms", "timeout_precommit_delta": "200ms",
    "timeout_commit": "300ms",
}


def configure(home: str, moniker: str, ports: Ports, peers: list[str], consensus: dict | None = None) -> None:
    """Write home's CometBFT config: the app, RPC and P2P on loopback
    ports, persistent peers ("id@127.0.0.1:port"), several nodes on one address, the
    consensus timeouts given (default FAST_CONSENSUS)."""
    path = comet_config(home)
    with open(path) as f:
        text = f.read()
    settings = [
        ("", "proxy_app", f"tcp://127.0.0.1:{ports.app}"),
        ("", "moniker", moniker),
        ("rpc", "laddr", f"tcp://127.0.0.1:{ports.rpc}"),
        ("p2p", "laddr", f"tcp://127.0.0.1:{ports.p2p}"),
        ("p2p", "external_address", f"127.0.0.1:{ports.p2p}"),
        ("p2p", "persistent_peers", ",".join(peers)),
        ("p2p", "addr_book_strict", False),
        ("p2p", "allow_duplicate_ip", True),
        *(("consensus", k, v) for k, v in (FAST_CONSENSUS if consensus is None else consensus).items()),
    ]
    for section, key, value in settings:
        text = set_toml(text, section, key, value)
    with open(path, "w") as f:
        f.write(text)


def proxy_app(home: str) -> str:
    """The address CometBFT's config names for the app (tcp://HOST:PORT or unix://PATH)."""
    try:
        with open(comet_config(home), "rb") as f:
            return tomllib.load(f)["proxy_app"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"rwad: {home} has no CometBFT config ({exc}); rwad localnet writes one") from None


def rpc_laddr(home: str) -> str:
    """CometBFT's RPC listen address in home's config (tcp://127.0.0.1:PORT)."""
    with open(comet_config(home), "rb") as f:
        return tomllib.load(f)["rpc"]["laddr"]
