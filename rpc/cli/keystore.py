"""Encrypted key files: one Ed25519 seed per file, sealed with a passphrase.

    key  = Argon2id(passphrase, salt; opslimit, memlimit) -> 32 bytes    (nacl.pwhash.argon2id.kdf)
    file = SecretBox(key).encrypt(seed, nonce)                          (XSalsa20-Poly1305)

A key file is JSON, written with mode 0600 in the keyring directory (created 0700):

    {"version": 1, "name": "alice", "address": "rwa1...", "pubkey": "0x...",
     "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "0x..."},
     "cipher": "xsalsa20-poly1305", "nonce": "0x...", "ciphertext": "0x..."}

KDF cost: libsodium's "moderate" limits, opslimit 3 passes over memlimit 256 MiB (about 1 s
and 256 MiB of memory per unlock on a laptop-class CPU): strong against guessing, still
fine for a command-line tool. The limits are stored in each file, so files made with other
limits (the Python API takes opslimit/memlimit) still open, within KDF_OPSLIMIT and
KDF_MEMLIMIT (libsodium's minimum to its "sensitive" level, a few seconds and 1 GiB at most):
a file asking for more is refused before any work, so a planted key file cannot make an
unlock take hours or exhaust memory. The address and public key are
stored in clear so `list` and `show` need no passphrase; after decryption the address is
re-derived and must match. A wrong passphrase raises WrongPassphrase (the Poly1305 tag
does not verify).

The keyring directory is, in order: the `keyring` argument (`--keyring` on the command
line), the RWAD_KEYRING environment variable, ~/.rwachain/keys. It is created 0700; one
found open to group or others is tightened to 0700 (with a warning), or refused if that fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils

from rwachain.modules.core.crypto import Keypair

VERSION = 1
ENV_KEYRING = "RWAD_KEYRING"
DEFAULT_KEYRING = os.path.join("~", ".rwachain", "keys")
OPSLIMIT = argon2id.OPSLIMIT_MODERATE  # 3 passes
MEMLIMIT = argon2id.MEMLIMIT_MODERATE  # 256 MiB
KDF_OPSLIMIT = (argon2id.OPSLIMIT_MIN, argon2id.OPSLIMIT_SENSITIVE)  # accepted passes: 1..4
KDF_MEMLIMIT = (argon2id.MEMLIMIT_MIN, argon2id.MEMLIMIT_SENSITIVE)  # accepted bytes: 8 KiB..1 GiB
log = logging.getLogger("rwachain.keystore")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KeystoreError(Exception):
    """A keyring problem, with a message meant for the user."""


class KeyNotFound(KeystoreError):
    pass


class KeyExists(KeystoreError):
    pass


class WrongPassphrase(KeystoreError):
    pass


@dataclass(frozen=True)
class KeyInfo:
    """What a key file says in clear: no passphrase needed."""

    name: str
    address: str
    pubkey: str
    path: str

    def to_json(self) -> dict:
        return {"name": self.name, "address": self.address, "pubkey": self.pubkey, "path": self.path}


def keyring_dir(keyring: str | None = None) -> str:
    """The keyring directory: keyring, else $RWAD_KEYRING, else ~/.rwachain/keys."""
    return os.path.abspath(os.path.expanduser(keyring or os.environ.get(ENV_KEYRING) or DEFAULT_KEYRING))


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise KeystoreError(f"invalid key name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
                            "starting with a letter or digit")
    return name


def parse_seed(text: str) -> bytes:
    """32 bytes of a hex seed (64 hex digits, optionally 0x-prefixed, surrounding space ignored)."""
    t = text.strip()
    if t[:2].lower() == "0x":
        t = t[2:]
    try:
        seed = bytes.fromhex(t)
    except ValueError:
        raise KeystoreError("a seed is 64 hex digits (32 bytes), optionally 0x-prefixed") from None
    if len(seed) != 32:
        raise KeystoreError(f"a seed is 32 bytes (64 hex digits); got {len(seed)} bytes")
    return seed


def _pw(passphrase: str | bytes) -> bytes:
    return passphrase.encode() if isinstance(passphrase, str) else bytes(passphrase)


def _unhex(doc: dict, field: str, size: int | None = None) -> bytes:
    v = doc.get(field)
    try:
        if not isinstance(v, str) or not v.startswith("0x"):
            raise ValueError
        b = bytes.fromhex(v[2:])
    except ValueError:
        raise KeystoreError(f"key file field {field!r} is not 0x-hex") from None
    if size is not None and len(b) != size:
        raise KeystoreError(f"key file field {field!r} must be {size} bytes")
    return b


def check_kdf_cost(opslimit, memlimit, what: str = "a key file") -> None:
    """Refuse argon2id limits outside KDF_OPSLIMIT and KDF_MEMLIMIT (KeystoreError)."""
    (ops_lo, ops_hi), (mem_lo, mem_hi) = KDF_OPSLIMIT, KDF_MEMLIMIT
    if type(opslimit) is not int or type(memlimit) is not int or not ops_lo <= opslimit <= ops_hi \
            or not mem_lo <= memlimit <= mem_hi:
        raise KeystoreError(f"{what} asks for argon2id opslimit {opslimit!r} and memlimit {memlimit!r}: accepted are "
                            f"opslimit {ops_lo}..{ops_hi} and memlimit {mem_lo}..{mem_hi} bytes")


def encrypt_seed(name: str, seed: bytes, passphrase: str | bytes, *, opslimit: int = OPSLIMIT,
                 memlimit: int = MEMLIMIT) -> dict:
    """The key file document of seed under passphrase."""
    if not _pw(passphrase):
        raise KeystoreError("an empty passphrase is not allowed")
    check_kdf_cost(opslimit, memlimit, "the key")
    kp = Keypair(seed)
    salt = nacl.utils.random(argon2id.SALTBYTES)
    key = argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, _pw(passphrase), salt, opslimit=opslimit, memlimit=memlimit)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ct = nacl.secret.SecretBox(key).encrypt(seed, nonce).ciphertext
    return {"version": VERSION, "name": name, "address": kp.address_text, "pubkey": "0x" + kp.pubkey.hex(),
            "kdf": {"name": "argon2id", "opslimit": opslimit, "memlimit": memlimit, "salt": "0x" + salt.hex()},
            "cipher": "xsalsa20-poly1305", "nonce": "0x" + nonce.hex(), "ciphertext": "0x" + ct.hex()}


def decrypt_seed(doc: dict, passphrase: str | bytes) -> bytes:
    """The seed in a key file document; WrongPassphrase if the passphrase does not open it."""
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise KeystoreError(f"unsupported key file (version {doc.get('version') if isinstance(doc, dict) else '?'})")
    kdf = doc.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id" or doc.get("cipher") != "xsalsa20-poly1305":
        raise KeystoreError("unsupported key file: expected argon2id and xsalsa20-poly1305")
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    check_kdf_cost(ops, mem, f"key file {doc.get('name')!r}")
    salt = _unhex(kdf, "salt", argon2id.SALTBYTES)
    nonce = _unhex(doc, "nonce", nacl.secret.SecretBox.NONCE_SIZE)
    ct = _unhex(doc, "ciphertext")
    key = argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, _pw(passphrase), salt, opslimit=ops, memlimit=mem)
    try:
        seed = nacl.secret.SecretBox(key).decrypt(ct, nonce)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase(f"wrong passphrase for key {doc.get('name')!r} "
                              "(or the key file is damaged)") from None
    if len(seed) != 32 or Keypair(seed).address_text != doc.get("address"):
        raise KeystoreError(f"key file {doc.get('name')!r} is inconsistent: its address does not match its key")
    return seed


class Keyring:
    """A directory of key files named <name>.json."""

    def __init__(self, keyring: str | None = None):
        self.dir = keyring_dir(keyring)

    def _secure_dir(self) -> None:
        """Tighten an existing keyring directory open to group or others to 0700 (warning),
        or refuse it (KeystoreError) if that is not possible."""
        try:
            mode = stat.S_IMODE(os.stat(self.dir).st_mode)
        except FileNotFoundError:
            return
        if not mode & 0o077:
            return
        try:
            os.chmod(self.dir, 0o700)
        except OSError as exc:
            raise KeystoreError(f"keyring {self.dir} has permissions {mode:04o} (others may read its keys) and "
                                f"cannot be tightened ({exc.strerror}): run chmod 700 {self.dir}") from None
        log.warning("keyring %s had permissions %04o (others could read its keys); tightened to 0700", self.dir, mode)

    def path_of(self, name: str) -> str:
        return os.path.join(self.dir, check_name(name) + ".json")

    def _read(self, name: str) -> dict:
        path = self.path_of(name)
        self._secure_dir()
        try:
            with open(path) as f:
                doc = json.load(f)
        except FileNotFoundError:
            raise KeyNotFound(f"no key {name!r} in {self.dir} (see `rwad keys list`)") from None
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"cannot read key file {path}: {exc}") from None
        if not isinstance(doc, dict):
            raise KeystoreError(f"key file {path} is not a JSON object")
        return doc

    def _write(self, name: str, doc: dict) -> str:
        path = self.path_of(name)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self._secure_dir()
        if os.path.exists(path):
            raise KeyExists(f"key {name!r} already exists ({path}); pick another name")
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic, and never replaces an existing key
            except FileExistsError:
                raise KeyExists(f"key {name!r} already exists ({path}); pick another name") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return path

    def create(self, name: str, passphrase: str | bytes, seed: bytes | None = None, *, opslimit: int = OPSLIMIT,
               memlimit: int = MEMLIMIT) -> KeyInfo:
        """Store seed (default: 32 fresh random bytes) under name, encrypted with passphrase."""
        check_name(name)
        if os.path.exists(self.path_of(name)):
            raise KeyExists(f"key {name!r} already exists ({self.path_of(name)}); pick another name")
        seed = nacl.utils.random(32) if seed is None else seed
        if len(seed) != 32:
            raise KeystoreError("a seed is 32 bytes")
        doc = encrypt_seed(name, seed, passphrase, opslimit=opslimit, memlimit=memlimit)
        path = self._write(name, doc)
        return KeyInfo(name, doc["address"], doc["pubkey"], path)

    def import_seed(self, name: str, seed_hex: str, passphrase: str | bytes, **kdf) -> KeyInfo:
        """Store an existing key given as a hex seed (64 hex digits, optionally 0x)."""
        return self.create(name, passphrase, parse_seed(seed_hex), **kdf)

    def info(self, name: str) -> KeyInfo:
        """Name, address, public key and path of a key (no passphrase needed)."""
        doc = self._read(name)
        return KeyInfo(name, str(doc.get("address")), str(doc.get("pubkey")), self.path_of(name))

    def load(self, name: str, passphrase: str | bytes) -> Keypair:
        """The key pair stored under name; WrongPassphrase if passphrase does not open it."""
        return Keypair(decrypt_seed(self._read(name), passphrase))

    def export_seed(self, name: str, passphrase: str | bytes) -> str:
        """The 0x-hex seed of a key: whoever has it controls the account."""
        return "0x" + decrypt_seed(self._read(name), passphrase).hex()

    def export_file(self, name: str) -> dict:
        """The encrypted key file document (safe to back up; useless without the passphrase)."""
        return self._read(name)

    def list(self) -> list[KeyInfo]:
        """Every readable key file, by name."""
        self._secure_dir()
        try:
            entries = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return []
        out = []
        for fn in entries:
            name = fn[:-5]
            if not fn.endswith(".json") or not _NAME_RE.match(name):
                continue
            try:
                out.append(self.info(name))
            except KeystoreError:
                continue
        return out


# module-level shortcuts over Keyring(keyring)
def create(name: str, passphrase: str | bytes, seed: bytes | None = None, *, keyring: str | None = None,
           **kdf) -> KeyInfo:
    return Keyring(keyring).create(name, passphrase, seed, **kdf)


def import_seed(name: str, seed_hex: str, passphrase: str | bytes, *, keyring: str | None = None, **kdf) -> KeyInfo:
    return Keyring(keyring).import_seed(name, seed_hex, passphrase, **kdf)


def load(name: str, passphrase: str | bytes, *, keyring: str | None = None) -> Keypair:
    return Keyring(keyring).load(name, passphrase)


def info(name: str, *, keyring: str | None = None) -> KeyInfo:
    return Keyring(keyring).info(name)


def export_seed(name: str, passphrase: str | bytes, *, keyring: str | None = None) -> str:
    return Keyring(keyring).export_seed(name, passphrase)


def list_keys(*, keyring: str | None = None) -> list[KeyInfo]:
    return Keyring(keyring).list()


# keystore.list(): defined last, so nothing above sees the builtin shadowed
def list(*, keyring: str | None = None) -> list[KeyInfo]:  # noqa: A001
    """Every key in the keyring (same as list_keys)."""
    return Keyring(keyring).list()
