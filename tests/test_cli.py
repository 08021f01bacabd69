"""The keystore (rpc/cli/keystore.py) and the rwad client commands (keys, tx, query) as subprocesses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import nacl.pwhash.argon2id as argon2id
import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.crypto import Keypair
from rwachain.rpc.cli import keystore
from tests.rpcnode import ROOT, node_fixture
from tests.rpcnode import rwad as run_rwad

LIGHT = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}  # fast KDF for API tests


def rwad(*args: str, keyring, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command with only this test's RWAD_ settings: the keyring given (never ~/.rwachain)."""
    own = {k: None for k in os.environ if k.startswith("RWAD_")} | {"RWAD_KEYRING": str(keyring)}
    return run_rwad(*args, env=own | (env or {}), timeout=timeout)


def _assert_one_line_error(p: subprocess.CompletedProcess, *words: str) -> None:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rwad: "), p.stderr
    for w in words:
        assert w in lines[0], lines[0]


node = node_fixture("cli")


# ----- the keystore API ------------------------------------------------------------------------
def test_keystore_api_round_trip(tmp_path):
    ring = keystore.Keyring(str(tmp_path / "ring"))
    info = ring.create("alice", "pw one", **LIGHT)
    assert info.address.startswith("rwa1") and ring.list() == [info] and ring.info("alice") == info
    assert stat.S_IMODE(os.stat(info.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(ring.dir).st_mode) == 0o700
    with open(info.path) as f:
        doc = json.load(f)
    assert {"version", "name", "address", "kdf", "nonce", "ciphertext"} <= set(doc)
    assert doc["kdf"]["name"] == "argon2id" and len(bytes.fromhex(doc["kdf"]["salt"][2:])) == 16
    kp = ring.load("alice", "pw one")
    assert kp.address_text == info.address and ring.export_seed("alice", "pw one") == "0x" + kp.seed.hex()
    with pytest.raises(keystore.WrongPassphrase, match="wrong passphrase"):
        ring.load("alice", "pw two")
    with pytest.raises(keystore.KeyExists):
        ring.create("alice", "x", **LIGHT)
    with pytest.raises(keystore.KeyNotFound):
        ring.load("bob", "x")
    with pytest.raises(keystore.KeystoreError, match="invalid key name"):
        ring.create("../evil", "x", **LIGHT)
    with pytest.raises(keystore.KeystoreError, match="empty passphrase"):
        ring.create("empty", "", **LIGHT)
    dev = Keypair.dev(3)
    imp = keystore.import_seed("dev3", "0x" + dev.seed.hex(), "p", keyring=ring.dir, **LIGHT)
    assert imp.address == dev.address_text and keystore.load("dev3", "p", keyring=ring.dir).seed == dev.seed
    assert [k.name for k in keystore.list(keyring=ring.dir)] == ["alice", "dev3"]
    with pytest.raises(keystore.KeystoreError, match="64 hex digits"):
        keystore.parse_seed("abcd")
    # a file whose clear address was changed does not load
    doc["address"] = dev.address_text
    doc["name"] = "forged"
    with open(os.path.join(ring.dir, "forged.json"), "w") as f:
        json.dump(doc, f)
    with pytest.raises(keystore.KeystoreError, match="inconsistent"):
        ring.load("forged", "pw one")


def test_keyring_directory_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("RWAD_KEYRING", str(tmp_path / "env-ring"))
    assert keystore.keyring_dir() == str(tmp_path / "env-ring")
    assert keystore.keyring_dir(str(tmp_path / "arg")) == str(tmp_path / "arg")
    monkeypatch.delenv("RWAD_KEYRING")
    assert keystore.keyring_dir() == os.path.expanduser("~/.rwachain/keys")


# ----- the commands ------------------------------------------------------------------------------
@pytest.mark.slow
def test_keys_round_trip_and_wrong_passphrase(tmp_path):
    ring = tmp_path / "ring"
    pw = tmp_path / "pw.txt"
    pw.write_text("correct horse\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("wrong horse\n")

    p = rwad("keys", "new", "alice", "--keyring", str(ring), "--passphrase-file", str(pw), "--json", keyring=ring)
    assert p.returncode == 0, p.stderr
    alice = json.loads(p.stdout)
    assert alice["name"] == "alice" and alice["address"].startswith("rwa1")
    assert stat.S_IMODE(os.stat(alice["path"]).st_mode) == 0o600

    seed_file = tmp_path / "seed.txt"
    dev5 = Keypair.dev(5)
    seed_file.write_text(dev5.seed.hex() + "\n")
    p = rwad("keys", "import", "five", "--seed-file", str(seed_file), keyring=ring,
             env={"RWAD_PASSPHRASE": "env pass"})  # passphrase from the environment, keyring from RWAD_KEYRING
    assert p.returncode == 0 and dev5.address_text in p.stdout, p.stderr

    p = rwad("keys", "list", "--keyring", str(ring), keyring=ring)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert [ln.split() for ln in lines] == [["alice", alice["address"]], ["five", dev5.address_text]]
    p = rwad("keys", "show", "five", "--json", keyring=ring)
    assert json.loads(p.stdout)["pubkey"] == "0x" + dev5.pubkey.hex()

    p = rwad("keys", "export", "five", "--unsafe", keyring=ring, env={"RWAD_PASSPHRASE": "env pass"})
    assert p.returncode == 0 and p.stdout.strip() == "0x" + dev5.seed.hex(), p.stderr
    p = rwad("keys", "export", "alice", keyring=ring)  # without --unsafe: the encrypted file, no seed
    assert p.returncode == 0 and json.loads(p.stdout)["address"] == alice["address"]
    assert "seed" not in p.stdout

    p = rwad("keys", "export", "alice", "--unsafe", "--passphrase-file", str(bad), keyring=ring)
    _assert_one_line_error(p, "wrong passphrase", "alice")
    assert "0x" not in p.stdout
    p = rwad("keys", "new", "alice", "--passphrase-file", str(pw), keyring=ring)
    _assert_one_line_error(p, "already exists")
    p = rwad("keys", "show", "nobody", keyring=ring)
    _assert_one_line_error(p, "no key 'nobody'")
    p = rwad("keys", "new", "carol", keyring=ring)  # no passphrase source, no terminal
    _assert_one_line_error(p, "no passphrase")

    p = rwad("keys", "dev", "0", "--json", keyring=ring)
    assert json.loads(p.stdout) == {"index": 0, "address": Keypair.dev(0).address_text,
                                    "pubkey": "0x" + Keypair.dev(0).pubkey.hex(),
                                    "seed": "0x" + Keypair.dev(0).seed.hex()}


@pytest.mark.slow
def test_tx_and_query_against_a_node(node, tmp_path):
    ring = tmp_path / "ring"
    to = Keypair.dev(9).address_text
    before = int(node.call("bank_balance", [to, "rwa"]))
    args = json.dumps({"to": to, "denom": "rwa", "amount": "5"})

    p = rwad("tx", "bank", "transfer", "--dev-key", "0", "--args", args, "--rpc", node.url, keyring=ring)
    assert p.returncode == 0, p.stderr
    assert ": ok" in p.stdout and "bank.transfer" in p.stdout
    tx_hash = p.stdout.split()[1]
    receipt = node.call("tx_getReceipt", [tx_hash])
    assert receipt["code"] == 0
    assert any(e["type"] == "bank.transfer" and e["attrs"]["recipient"] == to and e["attrs"]["amount"] == "5"
               for e in receipt["events"])
    assert int(node.call("bank_balance", [to, "rwa"])) == before + 5

    # --json prints the receipt; a key from the keyring signs with --from
    seed = tmp_path / "seed"
    seed.write_text("0x" + Keypair.dev(6).seed.hex())
    assert rwad("keys", "import", "six", "--seed-file", str(seed), keyring=ring,
                env={"RWAD_PASSPHRASE": "pp"}).returncode == 0
    p = rwad("tx", "bank", "transfer", "--from", "six", "--args", args, "--rpc", node.url, "--json", keyring=ring,
             env={"RWAD_PASSPHRASE": "pp"})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["code"] == 0
    assert int(node.call("bank_balance", [to, "rwa"])) == before + 10

    # refusals and failures: one line on stderr, non-zero exit
    p = rwad("tx", "bank", "transfer", "--dev-key", "0", "--nonce", "0", "--args", args, "--rpc", node.url,
             keyring=ring)
    _assert_one_line_error(p, "replayed_nonce")
    p = rwad("tx", "bank", "transfer", "--dev-key", "0", "--args", '{"to": "rwa1x"}', "--rpc", node.url,
             keyring=ring)
    _assert_one_line_error(p, "bad_arguments")
    p = rwad("tx", "bank", "transfer", "--dev-key", "0", "--args", "{not json", keyring=ring)
    _assert_one_line_error(p, "--args")
    big = json.dumps({"to": to, "denom": "rwa", "amount": str(10**30)})
    p = rwad("tx", "bank", "transfer", "--dev-key", "0", "--args", big, "--rpc", node.url, keyring=ring)
    assert p.returncode == 1 and "FAILED insufficient_funds" in p.stdout

    p = rwad("query", "chain_status", "--rpc", node.url, keyring=ring)
    assert p.returncode == 0, p.stderr
    status = json.loads(p.stdout)
    assert status["chainId"] == devnet.CHAIN_ID and status["height"] >= 3
    p = rwad("query", "bank_balance", json.dumps([to, "rwa"]), "--rpc", node.url, keyring=ring)
    assert json.loads(p.stdout) == str(before + 10)
    p = rwad("query", "no_such_method", "--rpc", node.url, keyring=ring)
    _assert_one_line_error(p, "-32601")
    p = rwad("query", "chain_status", "--rpc", "http://127.0.0.1:1", keyring=ring)
    _assert_one_line_error(p, "cannot reach the node")


HELP = [[], ["devnet"], ["init"], ["start"], ["keys"], ["keys", "new"], ["keys", "list"], ["keys", "show"],
        ["keys", "import"], ["keys", "export"], ["keys", "dev"], ["tx"], ["query"]]


def test_every_command_has_help(tmp_path, capsys):
    from rwachain.rpc.cli import main as cli

    for cmd in HELP:  # in-process: argparse prints the help and exits 0
        with pytest.raises(SystemExit) as info:
            cli.main(cmd + ["--help"])
        assert info.value.code == 0, cmd
        out = capsys.readouterr().out
        assert out.startswith("usage: rwad") and len(out) > 200, (cmd, out)
    for cmd in ([], ["tx"]):  # and the real entry point
        p = rwad(*cmd, "--help", keyring=tmp_path)
        assert p.returncode == 0 and p.stdout.startswith("usage: rwad"), p.stderr
    assert "bank transfer" in p.stdout and "amount" in p.stdout


@pytest.mark.slow
def test_the_entry_point_starts_node_commands_without_the_client_side(tmp_path):
    """`rwad init|devnet|start` load only the node and the server (start-up time); other
    commands and --help get the full command line."""
    code = ("import sys; from rwachain.rpc.cli import entry; rc = entry.main(['init', '--home', sys.argv[1]]); "
            "print(rc, 'rwachain.rpc.client.clients' in sys.modules, 'rwachain.rpc.cli.main' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")], cwd=ROOT, text=True,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-3:] == ["0", "False", "False"]
    assert os.path.exists(tmp_path / "home" / "genesis.json")
    helped = subprocess.run([sys.executable, "-m", "rwachain.rpc.cli.entry", "--help"], cwd=ROOT, text=True,
                            capture_output=True, timeout=60)
    assert helped.returncode == 0 and "scenario" in helped.stdout and "devnet" in helped.stdout
    wrong = subprocess.run([sys.executable, "-m", "rwachain.rpc.cli.entry", "devnet", "--no-such-flag"], cwd=ROOT, text=True,
                           capture_output=True, timeout=60)
    assert wrong.returncode == 2 and "--no-such-flag" in wrong.stderr
