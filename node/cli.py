"""rwad: the node's command line (node-side commands; rpc/cli/main.py adds the client ones).

    rwad devnet [--home DIR] [--genesis FILE] [--port 8545] [--host 127.0.0.1]
                [--mining auto|interval|manual] [--block-time S]
        FILE is a genesis file or a scenario file (docs/scenarios.md: its genesis with
        the actors merged in, as `rwad scenario genesis` writes it)
    rwad init --home DIR [--dev] [--genesis FILE] [--validator-seed HEX] [--chain-id ID]
        without --dev: a fresh validator key, a genesis of its own (time: now, no dev
        accounts); with --dev: the public devnet setup (dev validator key, dev accounts)
    rwad start --home DIR [--port] [--host] [--mining] [--block-time]
    rwad abci --home DIR | rwad localnet [start|stop|status] --home DIR   (node/abci/cli.py)
The front-end that serves the node (JSON-RPC) is passed in by the caller, so this module
does not import rpc/ (the layering of DESIGN.md).
"""

from __future__ import annotations

import argparse
import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time as _time
from collections.abc import Awaitable, Callable

import ijson
import trio

from rwachain.genesis import devnet as devnet_genesis
from rwachain.genesis.fields import any_length_numbers
from rwachain.modules.core.crypto import Keypair
from rwachain.node.abci import cli as abci_cli
from rwachain.node.chain import Chain
from rwachain.node.devtools import LOAD_MAX_BYTES
from rwachain.node.service import MINING_MODES, Node, NodeOptions

Frontend = Callable[..., Awaitable[None]]
MAX_CONNECTIONS = 1000  # default cap on open RPC connections
FD_RESERVE = 200  # file descriptors kept for LevelDB (74 tables, logs, manifest), the journal, pipes
CONFIG = "config.json"
GENESIS = "genesis.json"
LOCAL_CHAIN_ID = "rwa-local-1"  # chain id of a genesis made by a non-dev rwad init
log = logging.getLogger("rwachain.node")


def add_serve_args(p: argparse.ArgumentParser, *, default_mining: str) -> None:
    p.add_argument("--port", type=int, default=8545, help="JSON-RPC port (default 8545)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--mining", choices=MINING_MODES, default=default_mining,
                   help=f"block production: auto (a block as soon as transactions arrive), interval "
                        f"(every --block-time seconds), manual (only dev_mine) (default {default_mining})")
    p.add_argument("--block-time", type=float, default=1.0, help="seconds between blocks with --mining interval")
    p.add_argument("--keep-versions", type=int, default=100, help="recent heights kept queryable (default 100)")
    p.add_argument("--log-preallocate", action="store_true",
                   help="keep zeros ahead of LevelDB's log so that a small block's synced commit overwrites in "
                        "place instead of appending (faster on some disks). Risk: it relies on two undocumented "
                        "LevelDB internals; if a LevelDB release changes them, recovery after a crash may "
                        "silently lose committed blocks (default: off)")
    p.add_argument("--batch-limit", type=int, default=1000, help="most calls in one JSON-RPC batch (default 1000)")
    p.add_argument("--max-body", type=int, default=5 * 1024 * 1024,
                   help="largest request body in bytes (default 5 MiB); larger ones get HTTP 413")
    p.add_argument("--cors", default="", metavar="ORIGINS",
                   help="comma-separated origins whose web pages may call the node (CORS, and WebSocket "
                        "upgrades that carry an Origin); '*' for any (default: none)")
    p.add_argument("--http-vhosts", default="", metavar="HOSTS",
                   help="comma-separated Host names served besides localhost, 127.0.0.1, ::1 and the --host "
                        "address; '*' for any (default: none)")
    p.add_argument("--max-load-size", type=int, default=LOAD_MAX_BYTES,
                   help=f"most bytes a dev_loadState dump may decompress to (default {LOAD_MAX_BYTES >> 20} MiB)")
    p.add_argument("--max-connections", type=int, default=None,
                   help="most open RPC connections; past it new ones get HTTP 503 and a close (default: "
                        f"{MAX_CONNECTIONS}, or the file-descriptor limit less {FD_RESERVE} when that is lower)")
    p.add_argument("--max-header-bytes", type=int, default=1 << 20,
                   help="largest HTTP request line plus headers in bytes (default 1 MiB); larger ones get 431")
    p.add_argument("--max-url-bytes", type=int, default=8192,
                   help="longest request URL in bytes (default 8 KiB); longer ones get 414")
    p.add_argument("--header-timeout", type=float, default=10.0,
                   help="seconds a client has to send a request's whole header block (default 10)")
    p.add_argument("--max-response-bytes", type=int, default=25_000_000,
                   help="largest JSON-RPC reply, a batch's replies together (default 25,000,000); calls past it "
                        "get error -32007")
    p.add_argument("--ws-max-queue", type=int, default=4096,
                   help="WebSocket messages queued for one client before it is closed (1008) (default 4096)")
    p.add_argument("--ws-max-queue-bytes", type=int, default=256 * 1024,
                   help="WebSocket bytes queued for one client before it is closed (1008) (default 256 KiB)")
    p.add_argument("--ws-ping-interval", type=float, default=20.0, help="seconds between WebSocket pings (default 20)")
    p.add_argument("--ws-ping-timeout", type=float, default=60.0,
                   help="seconds without a pong before a WebSocket is closed (1001) (default 60)")


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; the soft limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def default_max_connections(fd_limit: int) -> int:
    """MAX_CONNECTIONS, or fewer when the file-descriptor limit would not leave FD_RESERVE free."""
    return max(1, min(MAX_CONNECTIONS, fd_limit - FD_RESERVE))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rwad", description="rwachain node: a native appchain for "
                                     "real-world-asset liquidity.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("devnet", help="start a local devnet with 10 prefunded dev accounts (no files needed)",
                       description="Start a devnet on the embedded genesis (or --genesis). Data goes to a "
                                   "temporary directory unless --home is given; the dev accounts' keys are printed.")
    p.add_argument("--home", help="data directory (default: a fresh temporary directory, removed at exit)")
    p.add_argument("--genesis", help="genesis file, or scenario file to start on its genesis "
                                     "(default: the embedded devnet genesis)")
    add_serve_args(p, default_mining="auto")
    p = sub.add_parser("init", help="create a node home: config, validator key, genesis",
                       description="Create DIR with config.json, the validator key and genesis.json. Without "
                                   "--dev: a fresh random validator key and (without --genesis) a genesis of its "
                                   "own, timed now, whose only account is the validator's; with --dev: the public "
                                   "devnet key and genesis (never outside a devnet).")
    p.add_argument("--home", required=True, help="directory to create")
    p.add_argument("--dev", action="store_true", help="the public devnet setup: dev validator key, dev accounts")
    p.add_argument("--genesis", help="genesis file to copy in (default: a fresh one; with --dev the devnet one)")
    p.add_argument("--validator-seed", help="hex seed of the validator key (default: a fresh random key; "
                                            "with --dev the devnet validator key)")
    p.add_argument("--chain-id", default=LOCAL_CHAIN_ID, help=f"chain id of a fresh genesis (default {LOCAL_CHAIN_ID})")
    p = sub.add_parser("start", help="start the node of an initialised home", description="Run the node in --home.")
    p.add_argument("--home", required=True, help="directory made by rwad init")
    add_serve_args(p, default_mining="interval")
    abci_cli.add_commands(sub)
    parser.subcommands = sub  # front-ends add their own commands here
    return parser


def init_home(home: str, genesis_path: str | None, validator_seed: bytes | None = None, *, dev: bool = False,
              chain_id: str = LOCAL_CHAIN_ID, now: int | None = None) -> str:
    """Create a node home (refuses to overwrite one); returns what it says about it.
    Without dev: a fresh validator key unless validator_seed, and without genesis_path a
    genesis of its own at time now whose only funded account is the validator's. With dev:
    the public devnet validator key and (without genesis_path) the devnet genesis for now."""
    if os.path.exists(os.path.join(home, CONFIG)):
        raise SystemExit(f"rwad: {home} is already initialised")
    t = int(_time.time()) if now is None else now
    validator = Keypair(validator_seed or (devnet_genesis.validator_key().seed if dev else os.urandom(32)))
    os.makedirs(home, exist_ok=True)
    target = os.path.join(home, GENESIS)
    if genesis_path:
        shutil.copyfile(genesis_path, target)
        said = f"genesis copied from {genesis_path}"
    elif dev:
        devnet_genesis.write(target, t)
        said = f"the public devnet genesis (dev accounts funded), genesis time {t} (now)"
    else:
        with open(target, "w") as f:
            json.dump(fresh_genesis(validator, t, chain_id), f, indent=1)
        said = (f"a fresh genesis for chain {chain_id}, genesis time {t} (now), no dev accounts; the validator's "
                f"account {validator.address_text} holds {devnet_genesis.NATIVE_EACH // 10**6:,} RWA")
    fd = os.open(os.path.join(home, "validator.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"ed25519Seed": validator.seed.hex()}, f)
    with open(os.path.join(home, CONFIG), "w") as f:
        json.dump({"genesis": GENESIS, "validatorKey": "validator.key", "data": "data"}, f, indent=1)
    key = ("the public devnet validator key (devnets only)" if validator.seed == devnet_genesis.validator_key().seed
           else "the given validator key" if validator_seed else "a fresh validator key")
    return f"initialised {home}: {key} (pubkey 0x{validator.pubkey.hex()}); {said}"


def fresh_genesis(validator: Keypair, genesis_time: int, chain_id: str) -> dict:
    """A genesis of a chain of its own: the devnet's denominations and chain parameters,
    validator as the block signer and the only funded account; no dev accounts, roles,
    feeds or assets."""
    base = devnet_genesis.base(genesis_time)
    doc = {k: base[k] for k in ("genesisTime", "initialHeight", "appVersion", "stateSchemaVersion", "nativeDenom",
                                "denoms", "params")}
    doc["chainId"] = chain_id
    doc["validator"] = {"pubkey": "0x" + validator.pubkey.hex()}
    doc["accounts"] = [{"address": validator.address_text, "balances": {"rwa": str(devnet_genesis.NATIVE_EACH)}}]
    return doc


def genesis_identity(path: str) -> tuple[str, str]:
    """(chain id, sha256 hex of the file) of a genesis file, read as a stream."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
        f.seek(0)
        try:
            chain_id = next(any_length_numbers(ijson.items(f, "chainId")), "?")
        except ijson.JSONError:
            chain_id = "?"
    return str(chain_id), digest.hexdigest()


def _file_kind(path: str) -> str | None:
    """"genesis" or "scenario" by the first top-level key that only one of them has (read as a
    stream, so a large genesis is not loaded), "neither" for other JSON, None if unreadable."""
    from rwachain.genesis.loader import TOP_FIELDS
    from rwachain.genesis.scenario import files as scenario

    scenario_keys = set(scenario.schema()["properties"])
    try:
        with open(path, "rb") as f:
            for prefix, event, value in any_length_numbers(ijson.parse(f, use_float=False)):
                if prefix != "":
                    continue
                if event != "map_key":
                    if event != "start_map":
                        return "neither"  # an array or a scalar
                    continue
                if value in TOP_FIELDS:
                    return "genesis"
                if value in scenario_keys:
                    return "scenario"
    except (OSError, ijson.JSONError):
        return None
    return "neither"


def devnet_genesis_path(path: str, home: str) -> str:
    """The genesis file a devnet starts on, given --genesis PATH: PATH itself for a genesis
    file; for a scenario file, the genesis it describes (actors merged in, as `rwad scenario
    genesis` writes it), written to HOME/scenario-genesis.json. Other JSON is refused in one line."""
    return devnet_start(path, home)[0]


def devnet_start(path: str, home: str) -> tuple[str, dict[str, dict]]:
    """(the genesis file a devnet starts on (devnet_genesis_path), the scenario's actors by
    name: empty for a genesis file)."""
    kind = _file_kind(path)
    if kind == "neither":
        raise SystemExit(f"rwad: --genesis {path}: neither a genesis file (chainId, accounts, ...) nor a scenario "
                         f"file (format, blocks, ...)")
    if kind != "scenario":
        return path, {}  # a genesis, or unreadable: opening the chain says why, as before
    from rwachain.genesis.scenario import files as scenario

    try:
        sc = scenario.load(path)
    except scenario.ScenarioError as exc:
        raise SystemExit(f"rwad: scenario {path}: {exc}") from None
    out = os.path.join(home, "scenario-genesis.json")
    with open(out, "w") as f:
        json.dump(sc.genesis, f, indent=1)
    log.info("scenario %s: starting on its genesis, written to %s", sc.name, out)
    return out, sc.actors


def open_chain(home: str, genesis_path: str | None, validator: Keypair, *, dev: bool, keep_versions: int,
               fresh_devnet: bool = False, log_preallocate: bool = False) -> Chain:
    """Open the chain of home. New data is built from genesis_path (a fresh devnet genesis
    for now when fresh_devnet), which becomes home/genesis.json: that file is always the
    genesis the data was built from. Existing data given another genesis_path is refused
    in one line naming both chains."""
    home_genesis = os.path.join(home, GENESIS)
    chain = Chain(os.path.join(home, "data"), validator, keep_versions=keep_versions, allow_dev_ops=dev,
                  log_preallocate=log_preallocate)
    try:
        if chain.height is None:
            if fresh_devnet:
                devnet_genesis.write(home_genesis, int(_time.time()))  # fresh feeds and current demo loans
            elif os.path.abspath(genesis_path) != os.path.abspath(home_genesis):
                shutil.copyfile(genesis_path, home_genesis)
            chain.init_genesis(home_genesis)
        elif genesis_path and os.path.abspath(genesis_path) != os.path.abspath(home_genesis):
            _refuse_other_genesis(home, genesis_path, home_genesis)
    except BaseException:
        chain.close()
        raise
    return chain


def _refuse_other_genesis(home: str, given: str, home_genesis: str) -> None:
    """SystemExit unless the genesis file given is the one home's data was built from."""
    new_id, new_hash = genesis_identity(given)
    try:
        old_id, old_hash = genesis_identity(home_genesis)
    except OSError:
        old_id, old_hash = "?", "unknown (no genesis.json)"
    if new_hash != old_hash:
        raise SystemExit(f"rwad: --genesis {given} is chain {new_id} (genesis sha256 {new_hash}), but {home} holds "
                         f"chain {old_id} (genesis sha256 {old_hash}); use another --home, or remove {home}/data "
                         f"to start over")


def print_actors(chain: Chain, actors: dict[str, dict], out=sys.stdout) -> None:
    """A scenario's actors: address, keys (derived from the name, public: genesis/localchain.py),
    roles, oracle operator, and what each holds in the chain now."""
    from rwachain.genesis.localchain import actor_bls_secret, actor_key
    from rwachain.modules.bank import keeper as bank

    ctx = chain.app.reader()
    out.write("\nScenario actors (devnet only: each key derives from the actor's name and is public)\n")
    out.write("=================================================================================\n")
    for name, a in actors.items():
        k = actor_key(name)
        bal = bank.balances_of(ctx, k.address)
        out.write(f"{name}  {k.address_text}  private key (ed25519 seed) 0x{k.seed.hex()}\n")
        if a.get("operator"):
            out.write(f"    oracle operator, BLS secret key 0x{actor_bls_secret(name):064x}\n")
        roles = ", ".join(a.get("roles", [])) or "none"
        held = ", ".join(_amount(ctx, d, v) for d, v in sorted(bal.items())) or "nothing"
        out.write(f"    roles: {roles}; holds {held}\n")
    out.write("\nSign as an actor: rwad tx MODULE CALL --actor NAME --args JSON\n")


def print_dev_accounts(chain: Chain | None = None, out=sys.stdout, *, brief_if_empty: bool = False) -> None:
    """The dev accounts' keys (public) and, given the chain, what each holds in it now;
    brief_if_empty: one line instead of the list when none of them holds anything."""
    from rwachain.modules.bank import keeper as bank

    ctx = chain.app.reader() if chain is not None else None
    if brief_if_empty and ctx is not None and not any(bank.balances_of(ctx, k.address)
                                                      for k in devnet_genesis.dev_keys()):
        out.write("\nThe dev accounts hold nothing in this genesis (rwad keys dev N prints their keys).\n")
        return
    out.write("\nAvailable dev accounts (devnet only: these keys are public)\n")
    out.write("==========================================================\n")
    funded = 0
    for i, k in enumerate(devnet_genesis.dev_keys()):
        held = ""
        if ctx is not None:
            bal = bank.balances_of(ctx, k.address)
            funded += bool(bal)
            held = "  holds " + (", ".join(_amount(ctx, d, v) for d, v in sorted(bal.items())) or "nothing")
        out.write(f"({i}) {k.address_text}  private key (ed25519 seed) 0x{k.seed.hex()}{held}\n")
    if ctx is None:
        out.write(f"\nEach holds {devnet_genesis.NATIVE_EACH // 10**6:,} RWA and "
                  f"{devnet_genesis.STABLE_EACH // 10**6:,} RUSD.\n")
    elif not funded:
        out.write("\nNone of them holds anything in this genesis.\n")


def _amount(ctx, denom: str, v: int) -> str:
    """v base units of denom in whole tokens with its symbol (e.g. 1,000,000 RWA)."""
    from rwachain.modules.bank import keeper as bank

    info = bank.denom_info(ctx, denom) or {}
    dec, sym = info.get("decimals", 0), info.get("symbol", denom)
    whole, frac = divmod(v, 10**dec)
    return f"{whole:,}" + (f".{frac:0{dec}d}".rstrip("0") if frac else "") + f" {sym}"


async def run_node(chain: Chain, home: str, options: NodeOptions, frontend: Frontend, host: str, port: int,
                   ready: Callable[[int], None] | None = None, frontend_options: dict | None = None) -> None:
    """Run the node and its front-end until SIGINT or SIGTERM; committed state is kept."""
    node = Node(chain, os.path.join(home, "mempool.journal"), options)
    try:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                await nursery.start(node.run)
                bound = await nursery.start(functools.partial(frontend, node, host, port, **(frontend_options or {})))
                if ready:
                    ready(bound)

                async def stop_on_signal():
                    async for sig in signals:
                        log.warning("received %s: stopping", signal.Signals(sig).name)
                        nursery.cancel_scope.cancel()
                        return

                nursery.start_soon(stop_on_signal)
    finally:
        node.close()


def main(argv: list[str] | None = None, frontend: Frontend | None = None, parser: argparse.ArgumentParser | None = None,
         client_commands: Callable[[argparse.Namespace], int] | None = None,
         abci_frontend: Frontend | None = None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "init":
        seed = bytes.fromhex(args.validator_seed) if args.validator_seed else None
        print(init_home(args.home, args.genesis, seed, dev=args.dev, chain_id=args.chain_id))
        return 0
    if args.command in ("devnet", "start"):
        if frontend is None:
            raise SystemExit("rwad: no front-end to serve with")
        return serve_command(args, frontend)
    if args.command in abci_cli.COMMANDS:
        return abci_cli.run(args, abci_frontend)
    if client_commands is not None:
        return client_commands(args)
    parser.error(f"unknown command {args.command}")
    return 2


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError in exc, or in the (nested) exception group exc, or None."""
    if isinstance(exc, OSError):
        return exc
    for sub in getattr(exc, "exceptions", ()):
        found = _os_error(sub)
        if found is not None:
            return found
    return None


def _names(text: str) -> list[str]:
    """A comma-separated flag value as a list ('none' or empty: no names)."""
    return [] if text.strip().lower() == "none" else [n.strip() for n in text.split(",") if n.strip()]


def serve_command(args: argparse.Namespace, frontend: Frontend) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("binding to %s: the RPC (and, on a devnet, dev_* methods) will be reachable from other "
                    "machines (that reach it by another name or address than %s: list it in --http-vhosts)",
                    args.host, args.host)
    fd_limit = raise_fd_limit()  # before LevelDB opens: it needs descriptors all along
    temp = None
    fresh_devnet = False
    if args.command == "devnet":
        dev = True
        if args.home:
            home = args.home
            os.makedirs(home, exist_ok=True)
        else:
            home = temp = tempfile.mkdtemp(prefix="rwa-devnet-")
        try:
            genesis_path, actors = devnet_start(args.genesis, home) if args.genesis else (None, {})
        except SystemExit:
            if temp:
                shutil.rmtree(temp, ignore_errors=True)
            raise
        fresh_devnet = genesis_path is None and not os.path.exists(os.path.join(home, GENESIS))
        validator = devnet_genesis.validator_key()
    else:
        dev = False
        actors = {}
        home = args.home
        try:
            with open(os.path.join(home, CONFIG)) as f:
                cfg = json.load(f)
            with open(os.path.join(home, cfg["validatorKey"])) as f:
                validator = Keypair(bytes.fromhex(json.load(f)["ed25519Seed"]))
        except (OSError, KeyError, ValueError) as exc:
            raise SystemExit(f"rwad: {home} is not an initialised home ({exc}); run rwad init --home {home}") from None
        genesis_path = os.path.join(home, cfg["genesis"])
    try:
        chain = open_chain(home, genesis_path, validator, dev=dev, keep_versions=args.keep_versions,
                           fresh_devnet=fresh_devnet, log_preallocate=args.log_preallocate)
    except Exception as exc:  # a bad genesis or data dir: say so plainly
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
        raise SystemExit(f"rwad: cannot open the chain: {exc}") from None
    options = NodeOptions(mining=args.mining, block_time=args.block_time, dev=dev, max_load_bytes=args.max_load_size)
    if dev:
        print_dev_accounts(chain, brief_if_empty=bool(actors))
    if actors:
        print_actors(chain, actors)

    def ready(port: int) -> None:
        print(f"\nchain {chain.app.params['chainId']} at height {chain.height}; data in {home}")
        print(f"JSON-RPC listening on http://{args.host}:{port} (WebSocket: ws://{args.host}:{port}/ws), "
              f"mining: {args.mining}", flush=True)

    try:
        frontend_options = {"batch_limit": args.batch_limit, "max_body": args.max_body,
                            "cors": _names(args.cors), "vhosts": _names(args.http_vhosts),
                            "max_connections": args.max_connections or default_max_connections(fd_limit),
                            "max_header": args.max_header_bytes, "max_url": args.max_url_bytes,
                            "header_timeout": args.header_timeout, "max_response": args.max_response_bytes,
                            "ws_limits": {"max_queue": args.ws_max_queue, "max_queue_bytes": args.ws_max_queue_bytes,
                                          "ping_interval": args.ws_ping_interval,
                                          "ping_timeout": args.ws_ping_timeout}}
        trio.run(run_node, chain, home, options, frontend, args.host, args.port, ready, frontend_options)
    except (OSError, ExceptionGroup) as exc:
        err = _os_error(exc)
        if err is None:
            raise
        if err.errno == errno.EADDRINUSE:
            raise SystemExit(f"rwad: port {args.port} on {args.host} is already in use (--port): choose another "
                             f"--port, or stop what listens there") from None
        raise SystemExit(f"rwad: cannot serve on {args.host}:{args.port} (--host, --port): {err.strerror or err}") from None
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    return 0
