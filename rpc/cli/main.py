"""The rwad console entry: node commands (node/cli.py) plus the client commands below.

    rwad keys new|list|show|import|export|dev   encrypted keys in a keyring (rpc/cli/keystore.py)
    rwad tx MODULE CALL (--from NAME | --dev-key N | --actor NAME) --args JSON [--fee] [--nonce] [--rpc URL]
                                                build, sign and send any module call
    rwad query METHOD [PARAMS_JSON] [--rpc URL]  call any JSON-RPC method, print the JSON result
    rwad oracle sign|submit|feed                 oracle operator tooling (rpc/cli/oracle.py)
    rwad export | rwad report                    per-block series and HTML reports (rpc/cli/export.py)
    rwad simulate | rwad sweep                   random simulation, Monte-Carlo sweeps (rpc/cli/sim.py)
    rwad study                                   the mechanism study: stresses x variants (rpc/cli/study.py)
    rwad scenario run|genesis                    replay scenario files (rpc/cli/scenario.py)
Errors are one line on stderr ("rwad: ...") with exit code 1 (2 for command-line usage).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import textwrap
from typing import Any

from rwachain.modules.core.crypto import Keypair
from rwachain.node import cli as node_cli
from rwachain.rpc.cli import export, keystore, oracle, scenario, sim, study
from rwachain.rpc.client.clients import (
    DEFAULT_URL,
    Client,
    RpcError,
    Timeout,
    TransportError,
    TxRefused,
    call_specs,
)
from rwachain.rpc.methods.modules import chain_table
from rwachain.rpc.server.serve import serve_rpc

ENV_PASSPHRASE = "RWAD_PASSPHRASE"
ENV_RPC = "RWAD_RPC"
DEV_KEY_MAX = 0xFFFFFFFF


class CliError(Exception):
    """A user error: printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# ----- describing calls and methods (for --help) -------------------------------------------
def _spec_text(spec) -> str:
    from rwachain.modules.core import args as a

    if isinstance(spec, a.AddressArg):
        return "address (rwa1...)"
    if spec == a.AMOUNT:
        return "amount in base units, 1..2^128-1 (decimal string)"
    if isinstance(spec, a.Int):
        return f"integer in [{spec.lo}, {spec.hi}] (decimal string)"
    if isinstance(spec, a.DenomArg):
        return "denomination (e.g. rwa)"
    if isinstance(spec, a.Bytes):
        return f"{spec.size or 'up to ' + str(spec.max_size)} bytes (0x-hex)"
    if isinstance(spec, a.Choice):
        return "one of " + "|".join(spec.options)
    if isinstance(spec, a.Text):
        return f"text, 1..{spec.max_len} characters"
    if isinstance(spec, a.Ints):
        return f"list of 1..{spec.max_len} integers (decimal strings)"
    if isinstance(spec, a.Rows):
        return f"list of at most {spec.max_rows} rows [{', '.join(spec.columns)}] (decimal strings)"
    return type(spec).__name__


def calls_epilog() -> str:
    from rwachain.modules.core.app import default_modules

    lines = ["module calls and their --args (JSON form):"]
    for m in default_modules():
        for c in m.calls.values():
            lines.append(f"  {m.name} {c.name}: {c.doc}")
            for name, spec in c.args.items():
                lines.append(f"      {name}: {_spec_text(spec)}")
    lines += ["", "example:",
              "  rwad tx bank transfer --dev-key 0 --args '{\"to\": \"rwa1...\", \"denom\": \"rwa\", \"amount\": \"5\"}'",
              "", f"The node is --rpc URL, else ${ENV_RPC}, else {DEFAULT_URL}. Keys: --from NAME (keyring, "
              f"passphrase from --passphrase-file, ${ENV_PASSPHRASE} or a prompt), --dev-key N (public devnet keys) "
              f"or --actor NAME (a scenario actor's key, derived from its name: public)."]
    return "\n".join(lines)


def methods_epilog() -> str:
    lines = ["methods:"]
    methods = chain_table()
    for name in sorted(methods):
        m = methods[name]
        ps = " ".join(p.name if p.required else f"[{p.name}]" for p in m.params)
        lines.append(f"  {name} {ps}".rstrip())
        lines.append(f"      {m.summary}")
    lines += ["", "examples:", "  rwad query chain_status",
              "  rwad query bank_balance '[\"rwa1...\", \"rwa\"]'",
              "  rwad query chain_getBlock '{\"height\": 1, \"full\": true}'"]
    return "\n".join(lines)


# ----- the parser ----------------------------------------------------------------------------
def _keyring_opts() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--keyring", metavar="DIR",
                   help=f"keyring directory (default ${keystore.ENV_KEYRING}, else ~/.rwachain/keys)")
    return p


def _passphrase_opts() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--passphrase-file", metavar="FILE",
                   help=f"read the passphrase from the first line of FILE (else ${ENV_PASSPHRASE}, "
                        "else a prompt)")
    return p


def _rpc_opts() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--rpc", metavar="URL", default=None,
                   help=f"node JSON-RPC URL (default ${ENV_RPC}, else {DEFAULT_URL})")
    p.add_argument("--rpc-timeout", metavar="S", type=float, default=60.0,
                   help="seconds to wait for an HTTP answer (default 60)")
    return p


def _json_opt() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def _wrap(text: str) -> str:
    return textwrap.fill(text, 78)


def _uint(text: str) -> int:
    try:
        v = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    """node.cli's parser with the client commands keys, tx and query added."""
    parser = node_cli.build_parser()
    sub = parser.subcommands
    kr, pw, rpc_, js = _keyring_opts(), _passphrase_opts(), _rpc_opts(), _json_opt()
    raw = argparse.RawDescriptionHelpFormatter

    # keys
    keys = sub.add_parser("keys", help="manage encrypted keys in a keyring (new, list, show, import, export, dev)",
                          description="Ed25519 keys stored encrypted (Argon2id + XSalsa20-Poly1305) in a keyring "
                                      "directory, one 0600 JSON file per key.")
    ksub = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    ksub.required = True
    p = ksub.add_parser("new", parents=[kr, pw, js], help="create a key with a fresh random seed",
                        description="Create a key NAME from 32 random bytes and store it encrypted. Without "
                                    "--passphrase-file or $RWAD_PASSPHRASE the passphrase is asked twice.")
    p.add_argument("name", metavar="NAME", help="key name: letters, digits, '_', '.', '-'")
    p.set_defaults(func=cmd_keys_new)
    p = ksub.add_parser("list", parents=[kr, js], help="list the keys: name and address",
                        description="List the keyring's keys (no passphrase needed).")
    p.set_defaults(func=cmd_keys_list)
    p = ksub.add_parser("show", parents=[kr, js], help="show a key's address, public key and file",
                        description="Show NAME's address, public key and file (no passphrase needed).")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_keys_show)
    p = ksub.add_parser("import", parents=[kr, pw, js], help="store an existing key given as a hex seed",
                        description="Store an existing Ed25519 key under NAME: its 32-byte seed as 64 hex digits "
                                    "(optionally 0x), read from --seed-file (- for stdin) or a prompt.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--seed-file", metavar="FILE", help="file with the hex seed ('-': standard input)")
    p.set_defaults(func=cmd_keys_import)
    p = ksub.add_parser("export", parents=[kr, pw], help="print the encrypted key file, or with --unsafe the seed",
                        description="Print NAME's encrypted key file (JSON, a safe backup). With --unsafe, "
                                    "decrypt it and print the raw seed instead: anyone who sees the seed "
                                    "controls the account.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--unsafe", action="store_true", help="print the private seed in clear (0x-hex)")
    p.set_defaults(func=cmd_keys_export)
    p = ksub.add_parser("dev", parents=[js], help="print deterministic dev key N (public; devnets only)",
                        description="Print dev key N: seed sha256('rwachain/devkey/' || N as 4 bytes). The "
                                    "devnet funds dev keys 0..9; these keys are public, never use them elsewhere.")
    p.add_argument("index", metavar="N", type=_uint, help=f"index 0..{DEV_KEY_MAX}")
    p.set_defaults(func=cmd_keys_dev)

    # tx
    p = sub.add_parser("tx", parents=[kr, pw, rpc_, js], formatter_class=raw,
                       help="build, sign and send a module call",
                       description=_wrap("Build a transaction MODULE.CALL with --args, sign it with --from NAME, "
                                   "--dev-key N or --actor NAME, and send it. The nonce defaults to the account's pending nonce "
                                   "and the fee to the node's minimum (tx_estimateFee). Without --no-wait, "
                                   "waits for inclusion and prints the receipt; exits 1 if the call failed."),
                       epilog=calls_epilog())
    p.add_argument("module", metavar="MODULE", help="module name, e.g. bank")
    p.add_argument("call", metavar="CALL", help="call name, e.g. transfer")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--from", dest="from_key", metavar="NAME", help="sign with this keyring key")
    who.add_argument("--dev-key", metavar="N", type=_uint, help="sign with public dev key N (devnet)")
    who.add_argument("--actor", metavar="NAME", help="sign as scenario actor NAME (public key derived from the "
                                                     "name; devnets on a scenario)")
    p.add_argument("--args", required=True, metavar="JSON", help="the call's arguments as a JSON object")
    p.add_argument("--fee", type=_uint, metavar="N", help="fee in native base units (default: the minimum)")
    p.add_argument("--nonce", type=_uint, metavar="N", help="sender nonce (default: the account's pending nonce)")
    p.add_argument("--expiry", type=_uint, default=0, metavar="H", help="last block height that may include it (default 0: none)")
    p.add_argument("--no-wait", action="store_true", help="return once admitted; print only the hash")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for inclusion (default 30)")
    p.set_defaults(func=cmd_tx)

    # oracle
    def signer_opts(q: argparse.ArgumentParser) -> None:
        who = q.add_mutually_exclusive_group(required=True)
        who.add_argument("--from", dest="from_key", metavar="NAME", help="send from this keyring key (an operator)")
        who.add_argument("--dev-key", metavar="N", type=_uint, help="send from public dev key N (devnet)")
        who.add_argument("--actor", metavar="NAME", help="send as scenario actor NAME (devnets on a scenario)")

    oracle.add_parser(sub, [kr, pw, rpc_, js], rpc_, signer_opts, cmd_oracle)
    export.add_parsers(sub, rpc_, cmd_outputs)
    sim.add_parsers(sub, cmd_sim)
    study.add_parser(sub, cmd_study)
    scenario.add_parser(sub, cmd_scenario)

    # query
    p = sub.add_parser("query", parents=[rpc_], formatter_class=raw, help="call any JSON-RPC method; print JSON",
                       description=_wrap("Call METHOD with PARAMS_JSON (a JSON array by position or object "
                                         "by name) and print the result as JSON. Dotted names (rpc.discover) "
                                         "work too."), epilog=methods_epilog())
    p.add_argument("method", metavar="METHOD", help="method name, e.g. chain_status")
    p.add_argument("params", metavar="PARAMS_JSON", nargs="?", help="parameters: JSON array or object")
    p.add_argument("--compact", action="store_true", help="print JSON on one line")
    p.set_defaults(func=cmd_query)
    return parser


# ----- helpers ---------------------------------------------------------------------------------
def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _print_json(value: Any, compact: bool = False) -> None:
    _out(json.dumps(value, separators=(",", ":")) if compact else json.dumps(value, indent=2))


def _read_file(path: str, what: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise CliError(f"cannot read the {what} file: {exc}") from None


def passphrase(args: argparse.Namespace, *, confirm: bool) -> str:
    """The passphrase: --passphrase-file, else $RWAD_PASSPHRASE, else a prompt (twice to confirm)."""
    if getattr(args, "passphrase_file", None):
        text = _read_file(args.passphrase_file, "passphrase")
        pw = text.splitlines()[0] if text else ""
    elif os.environ.get(ENV_PASSPHRASE):
        pw = os.environ[ENV_PASSPHRASE]
    else:
        if not sys.stdin.isatty():
            raise CliError(f"no passphrase: pass --passphrase-file FILE or set {ENV_PASSPHRASE} "
                           "(no terminal to prompt on)")
        pw = getpass.getpass("passphrase: ")
        if confirm and getpass.getpass("passphrase again: ") != pw:
            raise CliError("the passphrases differ")
    if not pw:
        raise CliError("the passphrase is empty")
    return pw


def _keyring(args) -> keystore.Keyring:
    return keystore.Keyring(args.keyring)


def _info_text(i: keystore.KeyInfo) -> None:
    _out(f"name:    {i.name}\naddress: {i.address}\npubkey:  {i.pubkey}\nfile:    {i.path}")


def _client(args) -> Client:
    url = args.rpc or os.environ.get(ENV_RPC) or DEFAULT_URL
    try:
        return Client(url, timeout=args.rpc_timeout)
    except ValueError as exc:
        raise CliError(f"--rpc: {exc}", 2) from None


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}", 2) from None


# ----- commands --------------------------------------------------------------------------------
def cmd_keys_new(args) -> int:
    ring = _keyring(args)
    keystore.check_name(args.name)
    if os.path.exists(ring.path_of(args.name)):
        raise keystore.KeyExists(f"key {args.name!r} already exists ({ring.path_of(args.name)}); pick another name")
    info = ring.create(args.name, passphrase(args, confirm=True))
    if args.json:
        _print_json(info.to_json())
    else:
        _out(f"created key {info.name!r}: {info.address}")
        _out(f"file: {info.path} (encrypted: back it up, and do not lose the passphrase)")
    return 0


def cmd_keys_list(args) -> int:
    keys = _keyring(args).list()
    if args.json:
        _print_json([k.to_json() for k in keys])
    elif not keys:
        _out(f"no keys in {_keyring(args).dir} (create one with `rwad keys new NAME`)")
    else:
        width = max(len(k.name) for k in keys)
        for k in keys:
            _out(f"{k.name:<{width}}  {k.address}")
    return 0


def cmd_keys_show(args) -> int:
    info = _keyring(args).info(args.name)
    if args.json:
        _print_json(info.to_json())
    else:
        _info_text(info)
    return 0


def cmd_keys_import(args) -> int:
    ring = _keyring(args)
    keystore.check_name(args.name)
    if os.path.exists(ring.path_of(args.name)):
        raise keystore.KeyExists(f"key {args.name!r} already exists ({ring.path_of(args.name)}); pick another name")
    if args.seed_file:
        seed_text = _read_file(args.seed_file, "seed")
    elif sys.stdin.isatty():
        seed_text = getpass.getpass("seed (64 hex digits): ")
    else:
        raise CliError("no seed: pass --seed-file FILE ('-' for standard input)")
    seed = keystore.parse_seed(seed_text)
    info = ring.create(args.name, passphrase(args, confirm=True), seed)
    if args.json:
        _print_json(info.to_json())
    else:
        _out(f"imported key {info.name!r}: {info.address}")
        _out(f"file: {info.path}")
    return 0


def cmd_keys_export(args) -> int:
    ring = _keyring(args)
    if not args.unsafe:
        _print_json(ring.export_file(args.name))
        return 0
    ring.info(args.name)  # a missing key is reported before asking for a passphrase
    _out(ring.export_seed(args.name, passphrase(args, confirm=False)))
    return 0


def cmd_keys_dev(args) -> int:
    if args.index > DEV_KEY_MAX:
        raise CliError(f"a dev key index is at most {DEV_KEY_MAX}", 2)
    k = Keypair.dev(args.index)
    doc = {"index": args.index, "address": k.address_text, "pubkey": "0x" + k.pubkey.hex(),
           "seed": "0x" + k.seed.hex()}
    if args.json:
        _print_json(doc)
    else:
        _out(f"dev key {args.index} (public: for devnets only)")
        _out(f"address: {doc['address']}\npubkey:  {doc['pubkey']}\nseed:    {doc['seed']}")
    return 0


def _signer(args) -> Keypair:
    if getattr(args, "actor", None) is not None:
        from rwachain.genesis.localchain import actor_key
        from rwachain.genesis.scenario.files import ACTOR_NAME

        if not ACTOR_NAME.fullmatch(args.actor):
            raise CliError(f"--actor {args.actor!r}: an actor name is 1..64 of a-z 0-9 . _ - (starting with a "
                           f"letter or digit)", 2)
        return actor_key(args.actor)
    if args.dev_key is not None:
        if args.dev_key > DEV_KEY_MAX:
            raise CliError(f"a dev key index is at most {DEV_KEY_MAX}", 2)
        return Keypair.dev(args.dev_key)
    ring = _keyring(args)
    ring.info(args.from_key)  # a missing key is reported before asking for a passphrase
    return ring.load(args.from_key, passphrase(args, confirm=False))


def _receipt_text(r: dict) -> None:
    where = f" at height {r['height']} (index {r['index']})" if "height" in r else ""
    status = "ok" if r.get("code") == 0 else f"FAILED {r.get('error')}: {r.get('message')}"
    _out(f"tx {r.get('txHash')}{where}: {status}")
    _out(f"fee {r.get('fee')} (native base units), cost {r.get('cost')} units")
    for e in r.get("events", []):
        attrs = " ".join(f"{k}={v}" for k, v in e.get("attrs", {}).items())
        _out(f"  {e.get('type')} {attrs}".rstrip())


def cmd_tx(args) -> int:
    call_args = _json_arg(args.args, "--args")
    if not isinstance(call_args, dict):
        raise CliError("--args must be a JSON object of argument name to value", 2)
    if call_specs(args.module, args.call) is None:
        known = [f"{m} {c}" for m, c in _known_calls()]
        raise CliError(f"unknown call {args.module} {args.call} (known: {', '.join(known)})", 2)
    key = _signer(args)
    if args.actor is not None:
        from rwachain.genesis.scenario.files import substitute

        call_args = substitute(call_args)  # "@NAME" and "module:NAME" as in scenario files
    with _client(args) as c:
        res = c.send_call(key, args.module, args.call, call_args, fee=args.fee, nonce=args.nonce,
                          wait=not args.no_wait, timeout=args.timeout, expiry=args.expiry)
    if args.no_wait:
        if args.json:
            _print_json({"hash": res})
        else:
            _out(res)
        return 0
    if args.json:
        _print_json(res)
    else:
        _receipt_text(res)
    if res.get("code") != 0:
        if args.json:
            _err(f"the call failed: {res.get('error')}: {res.get('message')} (fee paid)")
        return 1
    return 0


def cmd_oracle(args) -> int:
    try:
        with _client(args) as c:
            if args.oracle_command == "sign":
                oracle.cmd_sign(args, c)
            elif args.oracle_command == "submit":
                res = oracle.cmd_submit(args, c, _signer(args))
                if getattr(args, "json", False):
                    _print_json(res)
                else:
                    _receipt_text(res)
                return 0 if res.get("code") == 0 else 1
            else:
                n = oracle.cmd_feed(args, c, out=_out)
                _out(f"{n} report(s) accepted")
    except oracle.OracleCliError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_outputs(args) -> int:
    try:
        if args.outputs_command == "export":
            with _client(args) as c:
                return export.cmd_export(args, c)
        return export.cmd_report(args, lambda: _client(args))
    except export.OutputError as exc:
        raise CliError(str(exc)) from None


def cmd_sim(args) -> int:
    try:
        return args.sim_func(args)
    except sim.SimCliError as exc:
        raise CliError(str(exc)) from None


def cmd_study(args) -> int:
    try:
        return study.cmd_study(args)
    except study.StudyCliError as exc:
        raise CliError(str(exc)) from None


def _known_calls() -> list[tuple[str, str]]:
    from rwachain.rpc.client.clients import _calls

    return sorted(_calls())


def cmd_scenario(args) -> int:
    return scenario.run(args, CliError)


def cmd_query(args) -> int:
    params = None if args.params is None else _json_arg(args.params, "PARAMS_JSON")
    if params is not None and not isinstance(params, (list, dict)):
        raise CliError("PARAMS_JSON must be a JSON array (by position) or object (by name)", 2)
    with _client(args) as c:
        result = c.call(args.method, params)
    _print_json(result, args.compact)
    return 0


def _err(msg: str) -> None:
    sys.stderr.write(f"rwad: {msg}\n")
    sys.stderr.flush()


def client_commands(args: argparse.Namespace) -> int:
    """Run a client command; user errors become one line on stderr and a non-zero exit code."""
    func = getattr(args, "func", None)
    if func is None:
        _err(f"unknown command {args.command}")
        return 2
    try:
        return func(args)
    except CliError as exc:
        _err(str(exc))
        return exc.code
    except Timeout as exc:
        _err(f"{exc.message} (tx {exc.hash}); check later with `rwad query tx_getReceipt '[\"{exc.hash}\"]'`")
        return 1
    except TxRefused as exc:
        _err(f"transaction refused: {exc.name}: {exc.message}")
        return 1
    except RpcError as exc:
        _err(f"RPC error {exc.code}: {exc.message}")
        return 1
    except TransportError as exc:
        _err(f"{exc} (is the node running? see --rpc)")
        return 1
    except keystore.KeystoreError as exc:
        _err(str(exc))
        return 1
    except EOFError:
        _err("no input")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 1


def main(argv: list[str] | None = None) -> int:
    from rwachain.rpc.methods.abci import serve_abci_rpc

    return node_cli.main(argv, frontend=serve_rpc, parser=build_parser(), client_commands=client_commands,
                         abci_frontend=serve_abci_rpc)


if __name__ == "__main__":
    sys.exit(main())
