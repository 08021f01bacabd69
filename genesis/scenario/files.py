"""Scenario files: a genesis, named actors, blocks of steps with expectations, and the
expected final state root; loaded, checked against genesis/scenario/scenario.schema.json, and
replayed against a chain (in process here, or a node over JSON-RPC: rpc/cli/scenario.py).

Format (docs/scenarios.md has the whole of it):
    {"format": 1, "name", "title", "description",
     "actors": {NAME: {"balances": {denom: amount}, "roles": [role], "operator": bool}},
     "genesis": {...genesis document...} | {"file": "relative/path.json"},
     "blocks": [{"label", "time" | "advance", "steps": [STEP], "expect": [EXPECTATION]}],
     "stateRoot": "0x..."}
Amounts are decimal strings of base units. Anywhere in the genesis and in call
arguments, "@NAME" stands for actor NAME's address and "module:NAME" for a module
account's. Actor keys come from their names (genesis/localchain.py):
    Ed25519 seed = sha256(b"rwachain/actor/" || NAME), BLS secret = KeyGen(sha256(b"rwachain/actor-bls/" || NAME)).

A replay signs the same transaction bytes whatever runs them (a Backend: the chain in
process, or a node), so the final state root is the same either way.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rwachain.genesis.localchain import actor_bls_secret, actor_key, group_signature
from rwachain.modules.core import bls
from rwachain.modules.core.args import args_from_json
from rwachain.modules.core.crypto import Keypair, encode_address, module_address
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.tx import make_body, sign_tx
from rwachain.modules.oracle.report import bitmap, message
from rwachain.state.codec import encode

FORMAT = 1
SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenario.schema.json")
SCENARIOS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios")
_ROOT_RE = re.compile(r'("stateRoot"\s*:\s*)("0x[0-9a-fA-F]*"|null)')


class ScenarioError(Exception):
    """A scenario file that cannot be run: unreadable, off the schema, or inconsistent."""


class ScenarioFailed(Exception):
    """A replay that did not go as the file says: names the block and step."""


# ----- loading --------------------------------------------------------------------------------
@dataclass
class Scenario:
    """A loaded scenario: its document, where it came from, and its resolved genesis."""

    doc: dict
    path: str | None
    genesis: dict
    actors: dict[str, dict] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.doc["name"]

    @property
    def expected_root(self) -> str | None:
        return self.doc.get("stateRoot")

    def expectations(self) -> dict[str, dict]:
        """Every block expectation that has an id, by id."""
        out = {}
        for b in self.doc["blocks"]:
            for e in b.get("expect", []):
                if "id" in e:
                    out[e["id"]] = e
        return out


@functools.cache
def schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def validate(doc: Any) -> None:
    """Raise ScenarioError naming the first place where doc leaves the JSON Schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise ScenarioError(f"{where}: {e.message}")


def load(path: str) -> Scenario:
    """Read, validate and resolve a scenario file."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # not JSON, or a number past Python's int-conversion limit
        raise ScenarioError(f"{path}: not JSON: {exc}") from None
    return from_doc(doc, os.path.dirname(os.path.abspath(path)), path)


def from_doc(doc: Any, base_dir: str = ".", path: str | None = None) -> Scenario:
    """A scenario from its JSON document; a genesis file is looked up from base_dir."""
    validate(doc)
    actors = doc.get("actors", {})
    _check_references(doc, actors)
    g = doc["genesis"]
    if set(g) == {"file"}:
        gpath = os.path.join(base_dir, g["file"])
        try:
            with open(gpath) as f:
                g = json.load(f)
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"genesis.file: cannot read {gpath}: {exc}") from None
        if type(g) is not dict:
            raise ScenarioError(f"genesis.file: {gpath} is not a JSON object")
        _check_refs_in(g, actors, "genesis.file")
    return Scenario(doc, path, resolve_genesis(g, actors), actors)


def _check_references(doc: dict, actors: dict) -> None:
    ids: set[str] = set()
    for bi, b in enumerate(doc["blocks"]):
        where = f"blocks/{bi}"
        for si, s in enumerate(b.get("steps", [])):
            body = s.get("tx") or s.get("report")
            for who in [body["from"], *s.get("report", {}).get("signers", [])]:
                if who not in actors:
                    raise ScenarioError(f"{where}/steps/{si}: unknown actor {who!r}")
            for n in s.get("report", {}).get("signers", []):
                if not actors[n].get("operator"):
                    raise ScenarioError(f"{where}/steps/{si}: signer {n!r} is not an operator actor")
            _unique(ids, s.get("id"), f"{where}/steps/{si}")
        for ei, e in enumerate(b.get("expect", [])):
            _unique(ids, e.get("id"), f"{where}/expect/{ei}")
    _check_refs_in(doc["blocks"], actors, "blocks")
    _check_refs_in(doc["genesis"], actors, "genesis")


def _unique(ids: set[str], i: str | None, where: str) -> None:
    if i is None:
        return
    if i in ids:
        raise ScenarioError(f"{where}: id {i!r} is used twice")
    ids.add(i)


def _check_refs_in(v: Any, actors: dict, where: str) -> None:
    mo = _REF_RE.match(v) if isinstance(v, str) else None
    if mo is not None and mo.group(2).startswith("@") and mo.group(2)[1:] not in actors:
        raise ScenarioError(f"{where}: unknown actor {mo.group(2)!r}")
    if isinstance(v, dict):
        for k, x in v.items():
            _check_refs_in(x, actors, f"{where}/{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _check_refs_in(x, actors, f"{where}/{i}")


@functools.lru_cache(maxsize=4096)
def actor(name: str) -> Keypair:
    """Actor NAME's key (genesis/localchain.py actor_key), derived once."""
    return actor_key(name)


@functools.lru_cache(maxsize=256)
def bls_secret(name: str) -> int:
    """Operator actor NAME's BLS secret key (genesis/localchain.py actor_bls_secret), derived once."""
    return actor_bls_secret(name)


@functools.lru_cache(maxsize=4096)
def account(ref: str) -> str:
    """The address text of an account reference: @actor, module:NAME or rwa1... itself."""
    if ref.startswith("@"):
        return actor(ref[1:]).address_text
    if ref.startswith("module:"):
        return encode_address(module_address(ref[len("module:"):]))
    return ref


ACTOR_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""An actor's name (scenario.schema.json $defs/actorName)."""
_REF_RE = re.compile(r"^(.*/)?(@[a-z0-9][a-z0-9._-]{0,63}|module:[a-z0-9/_-]{1,64})$")


def _substitute(v: Any) -> Any:
    """v with every account reference replaced by its address text, also after a "/" as in
    the feed id "reserve/@custodian"."""
    if isinstance(v, str):
        mo = _REF_RE.match(v)
        return v if mo is None else (mo.group(1) or "") + account(mo.group(2))
    if isinstance(v, dict):
        return {k: _substitute(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_substitute(x) for x in v]
    return v


substitute = _substitute


def resolve_genesis(g: dict, actors: dict[str, dict]) -> dict:
    """The genesis document a chain imports: references replaced by addresses, the actors'
    balances, roles and operator keys (BLS public key and proof of possession from the
    actor's name) merged in, the devnet validator if none is named."""
    from rwachain.genesis import devnet

    out = _substitute(copy.deepcopy(g))
    if "validator" not in out:
        out["validator"] = {"pubkey": "0x" + devnet.validator_key().pubkey.hex()}
    accounts = {a["address"]: a for a in out.setdefault("accounts", [])}
    roles = out.setdefault("roles", {})
    ops = out.setdefault("oracle", {}).setdefault("operators", []) if any(
        a.get("operator") for a in actors.values()) else None
    for name, a in actors.items():
        addr = actor_key(name).address_text
        if a.get("balances"):
            acct = accounts.setdefault(addr, {"address": addr, "balances": {}})
            acct["balances"].update(a["balances"])
        for r in a.get("roles", []):
            if addr not in roles.setdefault(r, []):
                roles[r].append(addr)
        if a.get("operator"):
            sk = bls_secret(name)
            ops.append({"address": addr, "blsPubkey": "0x" + bls.public_key(sk).hex(),
                        "pop": "0x" + bls.prove_possession(sk).hex()})
    out["accounts"] = sorted(accounts.values(), key=lambda a: a["address"])
    return out


# ----- transactions -----------------------------------------------------------------------------
@functools.cache
def _calls() -> dict:
    from rwachain.modules.core.app import default_modules

    return {(m.name, c.name): c for m in default_modules() for c in m.calls.values()}


def min_fee(cost: int, size: int, chain_params: dict) -> int:
    """The minimum fee in native base units: (call cost + feePerByte x size) x feePrice."""
    return (cost + chain_params["feePerByte"] * size) * chain_params["feePrice"]


def _int_len(n: int) -> int:
    """Bytes of a non-negative int in msgpack (0 and small ints take one byte)."""
    return len(encode(n))


class Signer:
    """Signs a scenario's transactions: actor keys, nonces tracked here, the minimum fee of
    the genesis cost schedule (0 when feePrice is 0)."""

    def __init__(self, genesis: dict):
        from rwachain.modules.core import params as chain_params

        self.chain_id = genesis["chainId"]
        self.params = {**chain_params.DEFAULTS, **genesis["params"]["chain"]}
        self.nonces: dict[str, int] = {}
        for a in genesis.get("accounts", []):
            if a.get("nonce"):
                self.nonces[a["address"]] = int(a["nonce"])

    def sign(self, actor_name: str, module: str, call: str, args: dict) -> bytes:
        c = _calls().get((module, call))
        if c is None:
            raise ScenarioError(f"unknown call {module}.{call}")
        native = args_from_json(c.args, _substitute(args))
        key = actor(actor_name)
        addr = account("@" + actor_name)
        nonce = self.nonces.get(addr, 0)
        body = make_body(chain=self.chain_id, pubkey=key.pubkey, nonce=nonce, fee=0, module=module, call=call,
                         args=native)
        size0 = len(encode([encode(body), bytes(64)]))  # the size with fee 0; a fee adds its own length
        fee = 0
        for _ in range(4):
            need = min_fee(c.cost, size0 + _int_len(fee) - 1, self.params)
            if need <= fee:
                break
            fee = need
        raw = sign_tx(key, chain=self.chain_id, nonce=nonce, fee=fee, module=module, call=call, args=native)
        self.nonces[addr] = nonce + 1
        return raw

    def unuse(self, actor_name: str) -> None:
        """Give back the nonce of a transaction refused at admission (it never ran)."""
        self.nonces[account("@" + actor_name)] -= 1


# ----- backends ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What became of one transaction: code 0 is success; admitted False if refused at the door."""

    code: int
    error: str
    message: str
    admitted: bool = True


class Backend:
    """Where a scenario runs. Implementations: genesis/scenario/local.py (in process) and
    rpc/cli/scenario.py (a node over JSON-RPC)."""

    checks_invariants = False

    def admit(self, raw: bytes) -> Outcome | None:
        """Offer a transaction for the next block, as a node's admission does: None if it
        is admitted, its refusal (admitted False) otherwise."""
        raise NotImplementedError

    def make_block(self, time: int) -> list[Outcome]:
        """Make the next block at `time` of what was admitted; their outcomes in order."""
        raise NotImplementedError

    def operators(self) -> tuple[int, list[str]]:
        """(epoch, operator addresses in bitmap order)."""
        raise NotImplementedError

    def next_round(self, feed: str) -> int:
        raise NotImplementedError

    def probe(self, kind: str, q: dict) -> Any:
        """The current value of an expectation's quantity (docs/scenarios.md, "Expectations")."""
        raise NotImplementedError

    def invariants(self) -> list[str]:
        return []

    def state_root(self) -> str:
        raise NotImplementedError

    def last_time(self) -> int:
        raise NotImplementedError


PROBES = ("balance", "supply", "feed", "pendingFeed", "referencePrice", "bestBid", "bestAsk", "cr",
          "assetStatus", "tranche", "pool", "claimable", "invariants")


def norm(v: Any) -> Any:
    """Compare values in one form: integers as decimal strings."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return str(v)
    return v


# ----- the replay ----------------------------------------------------------------------------------
@dataclass
class Result:
    state_root: str
    steps: int
    metrics: dict

    def to_json(self) -> dict:
        return {"stateRoot": self.state_root, "steps": self.steps, "metrics": self.metrics}


def count_steps(doc: dict) -> int:
    """Steps of a scenario: one per block (its time advance), per step and per expectation."""
    return sum(1 + len(b.get("steps", [])) + len(b.get("expect", [])) for b in doc["blocks"])


def replay(sc: Scenario, backend: Backend, *, check_root: bool = True,
           progress: Callable[[int, int], None] | None = None) -> Result:
    """Run every block of sc on backend, checking each expectation, the invariants after
    every block (when the backend can), and at the end the pinned state root."""
    signer = Signer(sc.genesis)
    total = count_steps(sc.doc)
    done = 0
    t = backend.last_time()
    m = {"blocks": 0, "transactions": 0, "reports": 0, "expectations": 0, "refused": 0, "failed": 0,
         "invariantChecks": 0}
    started = _time.perf_counter()
    for bi, b in enumerate(sc.doc["blocks"]):
        where = f"block {bi + 1}" + (f" ({b['label']})" if b.get("label") else "")
        t = b["time"] if "time" in b else t + b.get("advance", 1)
        if t < backend.last_time():
            raise ScenarioFailed(f"{where}: time {t} is before the last block time {backend.last_time()}")
        steps = b.get("steps", [])
        refusals: list[Outcome | None] = []
        rounds: dict[str, int] = {}
        for si, s in enumerate(steps):
            try:
                raw, actor = _step_tx(sc, signer, backend, s, rounds, t)
            except (InvalidTransaction, ScenarioError) as exc:
                raise ScenarioError(f"{_step_where(where, si, s)}: {exc}") from None
            m["transactions" if "tx" in s else "reports"] += 1
            refused = backend.admit(raw)
            if refused is not None:  # it never runs: the actor's next transaction takes its nonce
                signer.unuse(actor)
                m["refused"] += 1
            refusals.append(refused)
        included = iter(backend.make_block(t))
        m["blocks"] += 1
        for si, (s, refused) in enumerate(zip(steps, refusals, strict=True)):
            o = refused or next(included)
            m["failed"] += 1 if refused is None and o.code else 0
            _check_outcome(s, o, _step_where(where, si, s))
        if backend.checks_invariants:
            broken = backend.invariants()
            m["invariantChecks"] += 1
            if broken:
                raise ScenarioFailed(f"{where}: invariant broken: {broken[0]}")
        for ei, e in enumerate(b.get("expect", [])):
            check_expectation(backend, e, f"{where} expectation {ei + 1}" + (f" ({e['id']})" if e.get("id") else ""))
            m["expectations"] += 1
        done += 1 + len(steps) + len(b.get("expect", []))
        if progress is not None:
            progress(done, total)
    root = backend.state_root()
    elapsed = _time.perf_counter() - started
    m["seconds"] = round(elapsed, 4)
    m["stepsPerSecond"] = round(total / elapsed, 1) if elapsed > 0 else None
    if check_root and sc.expected_root is not None and root != sc.expected_root:
        raise ScenarioFailed(f"final state root {root} differs from the file's {sc.expected_root}")
    return Result(root, total, m)


def _step_where(where: str, si: int, s: dict) -> str:
    return f"{where} step {si + 1}" + (f" ({s['id']})" if s.get("id") else "")


def _step_tx(sc: Scenario, signer: Signer, backend: Backend, s: dict, rounds: dict[str, int],
             t: int) -> tuple[bytes, str]:
    """(signed bytes, sending actor) of a step; rounds: the next round per feed in this block."""
    if "tx" in s:
        x = s["tx"]
        return signer.sign(x["from"], x["module"], x["call"], x.get("args", {})), x["from"]
    r = {**s["report"], "feed": _substitute(s["report"]["feed"])}
    rnd = rounds.get(r["feed"]) or backend.next_round(r["feed"])
    rounds[r["feed"]] = rnd + 1
    args = report_args(sc.genesis["chainId"], backend, r, rnd, t)
    return signer.sign(r["from"], "oracle", "report", args), r["from"]


def report_args(chain_id: str, backend: Backend, r: dict, rnd: int, block_time: int) -> dict:
    """The JSON arguments of an oracle.report signed by r's signers (operator actors)."""
    epoch, ops = backend.operators()
    value = int(r["value"])
    obs = int(r["observedAt"]) if "observedAt" in r else block_time
    idx = []
    for n in r["signers"]:
        addr = account("@" + n)
        if addr not in ops:
            raise ScenarioFailed(f"report on {r['feed']}: {n!r} is not in the chain's operator set")
        idx.append(ops.index(addr))
    msg = message(chain_id, epoch, r["feed"], value, obs, rnd)
    sig = group_signature([bls_secret(n) for n in r["signers"]], msg)
    return {"feed": r["feed"], "value": str(value), "observedAt": str(obs), "round": str(rnd), "epoch": str(epoch),
            "signers": "0x" + bitmap(sorted(idx), len(ops)).hex(), "signature": "0x" + sig.hex()}


def _check_outcome(step: dict, o: Outcome, where: str) -> None:
    want = step.get("expectError")
    if want is None:
        if o.code:
            raise ScenarioFailed(f"{where}: failed with {o.error}: {o.message}")
        return
    if o.code == 0:
        raise ScenarioFailed(f"{where}: expected the error {want}, but it succeeded")
    if o.error != want and str(o.code) != str(want):
        raise ScenarioFailed(f"{where}: expected the error {want}, got {o.error}: {o.message}")
    part = step.get("expectMessage")
    if part is not None and part not in o.message:
        raise ScenarioFailed(f"{where}: the error message {o.message!r} does not contain {part!r}")


def probe_of(e: dict) -> tuple[str, dict]:
    kind = next(k for k in PROBES if k in e)
    return kind, _substitute(e[kind])


def check_expectation(backend: Backend, e: dict, where: str) -> None:
    kind, q = probe_of(e)
    if kind == "invariants":
        if not backend.checks_invariants:
            return
        broken = backend.invariants()
        if broken:
            raise ScenarioFailed(f"{where}: invariant broken: {broken[0]}")
        return
    got = norm(backend.probe(kind, q))
    want = e.get("value")
    tol = int(e.get("tolerance", "0"))
    if tol and got is not None and want is not None:
        if abs(int(got) - int(want)) > tol:
            raise ScenarioFailed(f"{where}: {kind} {_q_text(q)} is {got}, expected {want} +- {tol}")
    elif got != want:
        raise ScenarioFailed(f"{where}: {kind} {_q_text(q)} is {got}, expected {want}")


def _q_text(q: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in q.items())


def update_root(path: str, root: str) -> None:
    """Rewrite only the "stateRoot" value of a scenario file (the rest stays byte for byte)."""
    with open(path) as f:
        text = f.read()
    new, n = _ROOT_RE.subn(lambda mo: f'{mo.group(1)}"{root}"', text, count=1)
    if n == 0:
        new = text.rstrip()
        if not new.endswith("}"):
            raise ScenarioError(f"{path}: cannot find where to write the state root")
        new = new[:-1].rstrip() + f',\n "stateRoot": "{root}"\n}}\n'
    with open(path, "w") as f:
        f.write(new)


def shipped() -> list[str]:
    """The scenario files shipped in genesis/scenarios/, in name order."""
    return sorted(os.path.join(SCENARIOS_DIR, n) for n in os.listdir(SCENARIOS_DIR) if n.endswith(".json"))
