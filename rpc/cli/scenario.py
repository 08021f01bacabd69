"""`rwad scenario ...`: replay scenario files (genesis/scenario/files.py, docs/scenarios.md).

    rwad scenario run FILE [--rpc URL] [--json] [--progress] [--update-root]
        replay in process (a throwaway chain over a real LevelDB store), or with --rpc
        against a node started with `rwad devnet --genesis FILE --mining manual` (the
        scenario file itself; or the genesis `rwad scenario genesis FILE` writes); the
        same state root either way. --json prints {stateRoot, steps, metrics}.
    rwad scenario genesis FILE [--out PATH]
        the scenario's resolved genesis document (actors merged in), for `rwad devnet`
Over RPC, each block's transactions are sent in order with tx_send (a refusal is the
step's outcome), the block is made with dev_mine at the block's time, and receipts and
expectations are read with the ordinary query methods; the invariants are checked only
in process (they need the state itself).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rwachain.genesis.scenario import files as sc_mod
from rwachain.genesis.scenario.files import (
    Backend,
    Outcome,
    Scenario,
    ScenarioError,
    ScenarioFailed,
)
from rwachain.rpc.client.clients import Client, MempoolRefused, NotFound, RpcError, TxRefused


class RpcBackend(Backend):
    """A node in manual mining mode, reached with the JSON-RPC client."""

    checks_invariants = False

    def __init__(self, client: Client, sc: Scenario):
        self.c = client
        st = client.call("chain_status")
        if st["chainId"] != sc.genesis["chainId"]:
            raise ScenarioFailed(f"the node runs chain {st['chainId']!r}, the scenario {sc.genesis['chainId']!r}")
        start = int(sc.genesis.get("initialHeight", 1)) - 1
        if st["height"] != start:
            raise ScenarioFailed(f"the node is at height {st['height']}, not at the scenario's genesis "
                                 f"(height {start}): start a fresh one")
        self._pending: list[str] = []

    def admit(self, raw: bytes) -> Outcome | None:
        try:  # one at a time: arrival order is block order
            self._pending.append(self.c.call("tx_send", {"tx": "0x" + raw.hex()}))
        except TxRefused as exc:
            return Outcome(exc.tx_code, exc.name, exc.message, admitted=False)
        except MempoolRefused as exc:
            raise ScenarioFailed(f"the node's mempool refused a transaction: {exc.message}") from None
        return None

    def make_block(self, time: int) -> list[Outcome]:
        hashes, self._pending = self._pending, []
        height = self.c.call("dev_mine", {"blocks": 1, "time": time})[0]
        out = []
        for h in hashes:
            try:
                r = self.c.call("tx_getReceipt", {"hash": h})
            except NotFound:
                raise ScenarioFailed(f"transaction {h} was not included in block {height}") from None
            if r["height"] != height:
                raise ScenarioFailed(f"transaction {h} landed in block {r['height']}, not {height}")
            out.append(Outcome(r["code"], r["error"], r["message"]))
        return out

    def operators(self) -> tuple[int, list[str]]:
        s = self.c.call("oracle_operators")
        return s["epoch"], [o["address"] for o in s["operators"]]

    def next_round(self, feed: str) -> int:
        f = self.c.call("oracle_latest", {"feed": feed})
        return int(f["pending"]["round"] if f["pending"] else f["round"]) + 1

    def state_root(self) -> str:
        return self.c.call("chain_status")["stateRoot"]

    def last_time(self) -> int:
        return self.c.call("chain_status")["time"]

    def probe(self, kind: str, q: dict) -> Any:
        c = self.c
        try:
            if kind == "balance":
                return c.call("bank_balance", {"address": q["account"], "denom": q["denom"]})
            if kind == "supply":
                return c.call("bank_supply", {"denom": q["denom"]})
            if kind in ("feed", "pendingFeed"):
                f = c.call("oracle_latest", {"feed": q["feed"]})
                if kind == "feed":
                    return f["value"]
                return None if f["pending"] is None else f["pending"]["value"]
            if kind in ("referencePrice", "bestBid", "bestAsk"):
                b = c.call("market_book", {"denom": q["denom"], "levels": 1})
                if kind == "referencePrice":
                    return b["referencePrice"]
                side = b["bids" if kind == "bestBid" else "asks"]
                return side[0][0] if side else None
            if kind == "cr":
                return c.call("stable_info")["recorded"].get("cr")
            if kind == "assetStatus":
                return c.call("assets_get", {"id": q["asset"]})["status"]
            if kind == "tranche":
                t = c.call("tranche_get", {"pool": q["pool"], "tranche": q["tranche"]})
                return t[q["field"]]
            if kind == "pool":
                return c.call("pool_get", {"pool": q["pool"]})[q["field"]]
            if kind == "claimable":
                return c.call("tranche_claimable", {"pool": q["pool"], "tranche": q["tranche"],
                                                    "address": q["account"]})
        except NotFound:
            return None
        raise ScenarioFailed(f"unknown expectation kind {kind!r}")


# ----- the command ---------------------------------------------------------------------------------
def add_parser(sub, func) -> None:
    """Add `scenario run` and `scenario genesis` to the rwad parser; func(args) carries them out
    (with run below)."""
    p = sub.add_parser("scenario", help="replay a scenario file (genesis, actors, blocks, expectations, root)",
                       description="Scenario files: a genesis, named actors, blocks of transactions, oracle "
                                   "reports and expectations, and the expected final state root "
                                   "(docs/scenarios.md).")
    ssub = p.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")
    ssub.required = True
    r = ssub.add_parser("run", help="replay a scenario in process, or against a node with --rpc",
                        description="Replay FILE block by block, checking every expectation, the modules' "
                                    "invariants after every block (in process) and the final state root. With "
                                    "--rpc URL the same signed transactions go to a node started with `rwad "
                                    "devnet --genesis FILE --mining manual` (the scenario file itself), blocks are made with dev_mine, and expectations are read "
                                    "over JSON-RPC.")
    r.add_argument("file", metavar="FILE", help="scenario file (JSON)")
    r.add_argument("--rpc", metavar="URL", help="replay against this node (manual mining) instead of in process")
    r.add_argument("--rpc-timeout", metavar="S", type=float, default=60.0,
                   help="seconds to wait for an HTTP answer (default 60)")
    r.add_argument("--json", action="store_true", help="print {stateRoot, steps, metrics} as JSON")
    r.add_argument("--progress", action="store_true", help="show a progress bar on stderr even when it is not a "
                                                           "terminal")
    r.add_argument("--update-root", action="store_true",
                   help="do not compare the final state root: write it into FILE (only that value changes)")
    r.add_argument("--home", metavar="DIR", help="keep the in-process chain in DIR (default: a temporary directory)")
    r.add_argument("--series", metavar="PATH", help="in process: write the per-block metrics (prices, NAV, supply, "
                                                    "CR, reserve, oracle values) as a series JSON document to PATH, "
                                                    "for `rwad report PATH` (docs/outputs.md)")
    r.set_defaults(func=func)
    g = ssub.add_parser("genesis", help="print the scenario's resolved genesis (for rwad devnet --genesis)",
                        description="Write FILE's genesis with its actors merged in (balances, roles, operator "
                                    "keys) and references replaced by addresses: the file a node starts from.")
    g.add_argument("file", metavar="FILE", help="scenario file (JSON)")
    g.add_argument("--out", metavar="PATH", help="write here instead of standard output")
    g.set_defaults(func=func)


class Progress:
    """A one-line progress bar on stderr: steps done of the total."""

    WIDTH = 30

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream or sys.stderr
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        if filled == self.shown and done != total:
            return
        self.shown = filled
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.name} [{bar}] {done}/{total} steps")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace, error: type[Exception]) -> int:
    """Carry out `rwad scenario ...`; problems raise `error` (one line, exit code 1)."""
    try:
        sc = sc_mod.load(args.file)
        if args.scenario_command == "genesis":
            return _genesis(sc, args)
        return _run(sc, args)
    except (ScenarioError, ScenarioFailed) as exc:
        raise error(f"scenario {args.file}: {exc}") from None


def _genesis(sc: Scenario, args) -> int:
    text = json.dumps(sc.genesis, indent=1) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _run(sc: Scenario, args) -> int:
    show = args.progress or sys.stderr.isatty()
    progress = Progress(sc.name) if show else None
    check = not args.update_root
    if args.rpc and args.series:
        raise ScenarioError("--series records in process; over RPC use `rwad export --rpc URL`")
    if args.rpc:
        try:
            client = Client(args.rpc, timeout=args.rpc_timeout)
        except ValueError as exc:
            raise ScenarioError(f"--rpc: {exc}") from None
        with client:
            try:
                result = sc_mod.replay(sc, RpcBackend(client, sc), check_root=check, progress=progress)
            except RpcError as exc:
                raise ScenarioFailed(f"RPC error {exc.code}: {exc.message}") from None
    else:
        from rwachain.genesis.scenario.local import LocalBackend

        with LocalBackend(sc, args.home, record_series=bool(args.series)) as b:
            result = sc_mod.replay(sc, b, check_root=check, progress=progress)
            if args.series:
                try:
                    with open(args.series, "w") as f:
                        json.dump(b.series_document(), f, indent=1)
                except OSError as exc:
                    raise ScenarioError(f"--series: {exc}") from None
    if args.update_root:
        if sc.path is None:
            raise ScenarioError("--update-root needs a scenario file")
        sc_mod.update_root(sc.path, result.state_root)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=1) + "\n")
    else:
        m = result.metrics
        where = "over RPC" if args.rpc else "in process"
        pinned = ("written to the file" if args.update_root else
                  "matches the file" if sc.expected_root else "not pinned in the file")
        sys.stdout.write(f"{sc.name}: {result.steps} steps in {m['blocks']} blocks {where}, "
                         f"{m['seconds']:.3f} s ({m['stepsPerSecond']} steps/s); every expectation met\n"
                         f"state root {result.state_root} ({pinned})\n")
    return 0
