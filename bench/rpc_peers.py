"""Outside tools of bench_rpc.py, each installed on demand into a cache and skipped with a
note when it cannot be had: wrk (Debian package), Anvil (npm package
@foundry-rs/anvil-linux-amd64), and Ethereum legacy-transaction signing (PyPI packages
eth-account + coincurve, installed with pip --target into the cache, never into the
project's virtualenv).

Ethereum signing: a small EIP-155 legacy signer (RLP here, keccak from pycryptodome,
secp256k1 from coincurve), checked byte for byte against eth_account on its first
transaction; eth_account itself takes ~0.8 ms per transaction, this path ~0.1 ms.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time

ANVIL_PKG = "@foundry-rs/anvil-linux-amd64"
ETH_CHAIN_ID = 31337
GAS_PRICE = 10**12  # 1,000 gwei: far above any base fee these bursts can push Anvil to (+12.5 % per full block)
ETH_BALANCE = 10**21


def _run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


# ----- wrk -------------------------------------------------------------------------------------
def ensure_wrk() -> tuple[str | None, str]:
    """Path of wrk, installing the Debian package if missing; (None, why) if impossible."""
    path = shutil.which("wrk")
    if path:
        return path, "wrk found"
    if shutil.which("apt-get") is None:
        return None, "wrk missing and apt-get unavailable"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        r = _run(["apt-get", "install", "-y", "-qq", "wrk"], 300, env=env)
        if r.returncode != 0:
            _run(["apt-get", "update", "-qq"], 300, env=env)
            r = _run(["apt-get", "install", "-y", "-qq", "wrk"], 300, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"wrk could not be installed: {exc}"
    path = shutil.which("wrk")
    if path:
        return path, "wrk installed with apt-get"
    return None, f"wrk could not be installed: {(r.stderr or r.stdout).strip()[-200:]}"


WRK_LUA = """wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
"""


def wrk_run(wrk: str, url: str, body: str, seconds: float, threads: int, conns: int, workdir: str) -> dict:
    """req/s and latency percentiles of a constant POST, from wrk --latency."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("wrk is only pointed at loopback")
    script = os.path.join(workdir, f"wrk-{hashlib.sha256(body.encode()).hexdigest()[:12]}.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % body)
    cmd = [wrk, f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "--latency",
           "-s", script, url]
    r = _run(cmd, seconds + 60)
    out = r.stdout
    res = {"cmd": " ".join(cmd), "rps": None, "p50_ms": None, "p99_ms": None, "non2xx": 0, "errors": ""}
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("Requests/sec:"):
            res["rps"] = float(s.split()[1])
        elif s.startswith("50%"):
            res["p50_ms"] = _wrk_ms(s.split()[1])
        elif s.startswith("99%"):
            res["p99_ms"] = _wrk_ms(s.split()[1])
        elif s.startswith("Non-2xx"):
            res["non2xx"] = int(s.split()[-1])
        elif s.startswith("Socket errors"):
            res["errors"] = s
    if res["rps"] is None:
        res["errors"] = (r.stderr or out)[-300:]
    return res


def _wrk_ms(text: str) -> float:
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * f
    return float(text)


# ----- Anvil -----------------------------------------------------------------------------------
def ensure_anvil(cache: str) -> tuple[str | None, str]:
    """Path of the anvil binary from the npm package (installed into cache/anvil)."""
    prefix = os.path.join(cache, "anvil")
    binary = os.path.join(prefix, "node_modules", ".bin", "anvil")
    if not os.path.exists(binary):
        if shutil.which("npm") is None:
            return None, "Anvil skipped: npm unavailable"
        try:
            r = _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, ANVIL_PKG], 600)
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"Anvil skipped: npm install failed: {exc}"
        if r.returncode != 0 or not os.path.exists(binary):
            return None, f"Anvil skipped: npm install {ANVIL_PKG} failed: {(r.stderr or r.stdout).strip()[-200:]}"
    try:
        v = _run([binary, "--version"], 30).stdout.splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        return None, f"Anvil skipped: binary does not run: {exc}"
    return binary, v


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """anvil --silent on a free loopback port, automine (its default)."""

    def __init__(self, binary: str, *args: str):
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(self.port), "--silent", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, call, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited with {self.proc.returncode}")
            try:
                call("eth_blockNumber")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("anvil did not answer")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# ----- Ethereum legacy transactions ---------------------------------------------------------------
def ensure_eth_signing(cache: str) -> tuple[bool, str]:
    """Make coincurve + pycryptodome (+ eth_account for the cross-check) importable."""
    target = os.path.join(cache, "pydeps")
    if target not in sys.path:
        sys.path.append(target)
    try:
        importlib.import_module("coincurve")
        importlib.import_module("Crypto.Hash.keccak")
        importlib.import_module("eth_account")
        return True, "eth-account + coincurve (cached)"
    except ImportError:
        pass
    try:
        r = _run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target", target,
                  "eth-account", "coincurve"], 600)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"pip install eth-account coincurve failed: {exc}"
    importlib.invalidate_caches()
    try:
        importlib.import_module("coincurve")
        importlib.import_module("Crypto.Hash.keccak")
        importlib.import_module("eth_account")
    except ImportError as exc:
        return False, f"eth-account/coincurve not importable after pip install ({r.returncode}): {exc}"
    return True, "eth-account + coincurve installed from PyPI into the bench cache"


def _rlp(item) -> bytes:
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big") if item else b""
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _rlp_len(len(item), 0x80) + item
    payload = b"".join(_rlp(x) for x in item)
    return _rlp_len(len(payload), 0xC0) + payload


def _rlp_len(n: int, offset: int) -> bytes:
    if n < 56:
        return bytes([offset + n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(b)]) + b


def _keccak(data: bytes) -> bytes:
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


class EthKey:
    __slots__ = ("priv", "_pk", "address")

    def __init__(self, i: int):
        import coincurve

        self.priv = hashlib.sha256(b"rwachain/bench/eth/" + i.to_bytes(8, "big")).digest()
        self._pk = coincurve.PrivateKey(self.priv)
        self.address = _keccak(self._pk.public_key.format(compressed=False)[1:])[-20:]

    def sign_transfer(self, nonce: int, to: bytes, value: int, gas_price: int = GAS_PRICE) -> bytes:
        base = [nonce, gas_price, 21000, to, value, b""]
        h = _keccak(_rlp(base + [ETH_CHAIN_ID, 0, 0]))
        sig = self._pk.sign_recoverable(h, hasher=None)
        r, s, rec = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
        return _rlp(base + [rec + 35 + 2 * ETH_CHAIN_ID, r, s])


def eth_keys(n: int, offset: int = 0) -> list[EthKey]:
    return [EthKey(offset + i) for i in range(n)]


def check_signer_against_eth_account(key: EthKey) -> None:
    """Our raw bytes must equal eth_account's for the same legacy transaction."""
    from eth_account import Account

    to = b"\x11" * 20
    ours = key.sign_transfer(7, to, 12345)
    theirs = Account.sign_transaction({"nonce": 7, "gasPrice": GAS_PRICE, "gas": 21000, "to": "0x" + to.hex(),
                                       "value": 12345, "data": b"", "chainId": ETH_CHAIN_ID}, key.priv)
    if bytes(theirs.raw_transaction) != ours:
        raise RuntimeError("the bench's Ethereum signer disagrees with eth_account")
    if Account.from_key(key.priv).address.lower() != "0x" + key.address.hex():
        raise RuntimeError("the bench's Ethereum address disagrees with eth_account")


def sign_eth_transfers(keys: list[EthKey], nonces: int) -> list[str]:
    """Nonce-major: every key's nonce 0, then every key's nonce 1, ...; 0x-hex raw txs."""
    out = []
    for n in range(nonces):
        for i, k in enumerate(keys):
            to = keys[(i + 1) % len(keys)].address
            out.append("0x" + k.sign_transfer(n, to, 1 + i % 1000).hex())
    return out


def json_dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))
