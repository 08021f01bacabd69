"""Genesis files: validation with field paths, streamed import, export.

A genesis is one JSON object (docs/genesis.md). Everything but "accounts" is small and
read whole; "accounts" is streamed twice with ijson (pass 1 validates and totals, pass 2
imports in chunks), so a genesis with millions of accounts loads in bounded memory.
Amounts are decimal strings (JSON integers are accepted too); bytes are 0x-hex;
addresses are rwa1... text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import IO, Any

import ijson

from rwachain.genesis import mechanism, typed, units
from rwachain.genesis.checks import CHAIN_CHECKS
from rwachain.genesis.fields import GenesisError, _addr, _hex, _int, any_length_numbers
from rwachain.modules.core import params as chain_params
from rwachain.modules.core.app import App, GenesisInvariantError, default_modules
from rwachain.modules.core.args import AMOUNT_MAX
from rwachain.modules.core.crypto import decode_address, encode_address
from rwachain.modules.core.records import Record
from rwachain.modules.core.registry import Module
from rwachain.modules.core.sections import DENOMINATIONS
from rwachain.modules.governance import validators as validator_set

CHAIN_FIELDS = {"chainId", "genesisTime", "initialHeight", "appVersion", "stateSchemaVersion", "validator",
                "nativeDenom", DENOMINATIONS, "params", "accounts"}
"""The fields every genesis has ("denoms": the denominations, which the module that declares
them checks and imports: modules/core/sections.DENOMINATIONS)."""
OPTIONAL_FIELDS = {"validators"}
"""Chain fields a genesis may leave out: "validators", the set CometBFT runs with (none: the
one "validator" at power 10, a devnet's)."""


def typed_sections(modules: list[Module]) -> dict[str, tuple[Record, ...]]:
    """{module name: its records} of the modules whose genesis section is typed by records."""
    return {m.name: m.genesis_records for m in modules if m.genesis_records}


def section_field(m: Module) -> str:
    """The genesis field of a module's section: its name, unless its Section names another
    (the bank's: "denoms")."""
    return (m.genesis_json.field if m.genesis_json is not None else "") or m.name


def top_fields(modules: list[Module]) -> set[str]:
    """The top-level fields a genesis for these modules may hold: the chain's, and one
    section per module that declares one (typed by its genesis_records, or in its own JSON
    form: genesis_json, modules/core/sections.py)."""
    return CHAIN_FIELDS | OPTIONAL_FIELDS | {section_field(m) for m in modules if m.genesis_records or m.genesis_json}


def denominations(modules: list[Module]) -> Module:
    """The module that declares the genesis's denominations (sections.DENOMINATIONS: the bank)."""
    for m in modules:
        if m.genesis_json is not None and m.genesis_json.field == DENOMINATIONS:
            return m
    raise GenesisError(f"{DENOMINATIONS}: no module of this chain declares the denominations")


def declared_sections(head: dict, checked: dict, modules: list[Module]) -> dict:
    """{module name: its section} of the modules that declare their section's JSON form
    (Module.genesis_json), checked in module order but each after the sections it needs;
    each check sees the sections checked before it. A section already in checked (by its
    field: the denominations) is taken as it is."""
    out: dict = {}
    pending = [m for m in modules if m.genesis_json is not None]
    done: set[str] = set()
    while pending:
        m = next(m for m in pending if all(n in done or n not in {p.name for p in pending} for n in m.genesis_json.needs))
        pending.remove(m)
        done.add(m.name)
        field = section_field(m)
        if field in checked:
            section = checked[field]
        elif field in head:
            section = m.genesis_json.check(head[field], {**checked, **out})
        else:
            section = m.genesis_json.absent
        if section is not None:
            out[m.name] = section
    return out


def with_totals(declared: dict, totals: dict[str, int], modules: list[Module]) -> dict:
    """The declared sections completed with the genesis accounts' totals (Section.with_totals)."""
    out = dict(declared)
    for m in modules:
        if m.genesis_json is not None and m.genesis_json.with_totals is not None and m.name in out:
            out[m.name] = m.genesis_json.with_totals(out[m.name], totals)
    return out


@cache
def _default_modules() -> tuple[Module, ...]:
    return tuple(default_modules())


TOP_FIELDS = top_fields(list(_default_modules()))
"""The top-level fields of a genesis of the chain's default modules."""
TYPED_SECTIONS = typed_sections(list(_default_modules()))
"""Sections typed by their modules' record declarations (modules/core/records.py, modules/core/typed.py)."""
REQUIRED = CHAIN_FIELDS
STATE_SCHEMA_VERSION = 1
CHUNK = 5_000  # accounts per import batch: bounds the memory of a large genesis


def _read_head(f: IO[bytes]) -> dict:
    """Every top-level field except accounts, streaming past the accounts array."""
    head: dict = {}
    builder = None
    key = None
    depth_skip = False
    for prefix, event, value in any_length_numbers(ijson.parse(f, use_float=False)):
        if prefix == "" and event == "map_key":
            key = value
            depth_skip = key == "accounts"
            continue
        if depth_skip:
            continue
        if prefix == "" and event in ("start_map", "end_map"):
            continue
        if builder is None:
            builder = ijson.ObjectBuilder()
        builder.event(event, value)
        if prefix == key and event not in ("start_map", "start_array", "map_key"):
            head[key] = builder.value
            builder = None
    return head


def _stable_unit(head: dict, denoms: dict) -> units.Stable:
    """The denomination parameter amounts are named in: the stable section's, else the only
    denomination of kind stable (none: amounts take only the raw form)."""
    st = head.get("stable")
    name = st.get("denom") if type(st) is dict else None
    if name not in denoms:
        kinds = [d for d, v in denoms.items() if v["kind"] == "stable"]
        name = kinds[0] if len(kinds) == 1 else None
    return units.Stable(name, denoms[name]["decimals"]) if name else units.NO_STABLE


def _check_head(head: dict, modules: list[Module]) -> dict:
    unknown = set(head) - top_fields(modules)
    if unknown:
        raise GenesisError(f"{sorted(unknown)[0]}: unknown field")
    missing = (REQUIRED - {"accounts"}) - set(head)
    if missing:
        raise GenesisError(f"{sorted(missing)[0]}: required field is missing")
    if type(head["chainId"]) is not str or not 1 <= len(head["chainId"]) <= 64:
        raise GenesisError("chainId: a string of 1..64 characters")
    meta = {
        "chainId": head["chainId"],
        "genesisTime": _int("genesisTime", head["genesisTime"]),
        "initialHeight": _int("initialHeight", head["initialHeight"], 1),
        "appVersion": _int("appVersion", head["appVersion"], 1),
        "stateSchemaVersion": _int("stateSchemaVersion", head["stateSchemaVersion"], 1),
    }
    if meta["stateSchemaVersion"] != STATE_SCHEMA_VERSION:
        raise GenesisError(f"stateSchemaVersion: this node reads version {STATE_SCHEMA_VERSION}")
    v = head["validator"]
    if type(v) is not dict or "pubkey" not in v:
        raise GenesisError("validator: expected {\"pubkey\": \"0x...\"}")
    meta["validator"] = _hex("validator.pubkey", v["pubkey"], 32)
    meta["nativeDenom"] = head["nativeDenom"]  # the denominations' check holds it to one of kind native
    checked: dict = {"meta": meta}
    checked[DENOMINATIONS] = denominations(modules).genesis_json.check(head[DENOMINATIONS], checked)
    p = head["params"]
    if type(p) is not dict or type(p.get("chain")) is not dict:
        raise GenesisError("params.chain: expected a map")
    module_params = mechanism.check_module_params(p, _stable_unit(head, checked[DENOMINATIONS]), modules)
    cp = {"chainId": meta["chainId"], **chain_params.DEFAULTS, **p["chain"]}
    problems = chain_params.check(cp)
    if problems:
        raise GenesisError(f"params.chain.{problems[0]}")
    meta["params"] = cp
    declared = declared_sections(head, checked, modules)
    out = {"meta": meta, "denoms": checked[DENOMINATIONS], "declared": declared, "params": module_params}
    if "validators" in head:
        out["validators"] = check_validators(head["validators"])
    for name, records in typed_sections(modules).items():
        if name in head:
            out[name] = typed.check(name, head[name], records)
    return out


def check_validators(raw: Any) -> list[dict]:
    """The genesis "validators": [{pubkey: 0x-hex ed25519 key, power, name?}], 1 to
    MAX_VALIDATORS of them, each key once, each power in [1, MAX_POWER]; the checked list
    ({pubkey: bytes, power: int, name: str})."""
    if type(raw) is not list or not 1 <= len(raw) <= validator_set.MAX_VALIDATORS:
        raise GenesisError(f"validators: expected a list of 1 to {validator_set.MAX_VALIDATORS} validators")
    out, seen = [], set()
    for i, v in enumerate(raw):
        p = f"validators[{i}]"
        if type(v) is not dict or not {"pubkey", "power"} <= set(v) <= {"pubkey", "power", "name"}:
            raise GenesisError(f"{p}: expected {{pubkey, power, name?}}")
        key = _hex(f"{p}.pubkey", v["pubkey"], validator_set.KEY_SIZE)
        if key in seen:
            raise GenesisError(f"{p}.pubkey: duplicate validator")
        seen.add(key)
        name = v.get("name", "")
        if type(name) is not str or len(name) > 64:
            raise GenesisError(f"{p}.name: a string of at most 64 characters")
        out.append({"pubkey": key, "power": _int(f"{p}.power", v["power"], 1, validator_set.MAX_POWER),
                    "name": name})
    return out


def _check_account(i: int, a: Any, denoms: dict) -> dict:
    p = f"accounts[{i}]"
    if type(a) is not dict or "address" not in a or not set(a) <= {"address", "nonce", "balances"}:
        raise GenesisError(f"{p}: expected {{address, nonce?, balances?}}")
    out = {"address": _addr(f"{p}.address", a["address"]), "nonce": _int(f"{p}.nonce", a.get("nonce", 0)),
           "balances": {}}
    bals = a.get("balances", {})
    if type(bals) is not dict:
        raise GenesisError(f"{p}.balances: expected a map of denomination to amount")
    for denom in sorted(bals):
        if denom not in denoms:
            raise GenesisError(f"{p}.balances.{denom}: denomination is not declared in denoms")
        amt = _int(f"{p}.balances.{denom}", bals[denom], 0, AMOUNT_MAX)
        if amt:
            out["balances"][denom] = amt
    return out


def _iter_accounts(path: str, denoms: dict) -> Iterator[dict]:
    with open(path, "rb") as f:
        for i, a in enumerate(any_length_numbers(ijson.items(f, "accounts.item", use_float=False))):
            yield _check_account(i, a, denoms)


class GenesisFile:
    """A validated genesis file: the small head in memory, accounts re-streamed on demand.
    modules: the application's module list, whose sections it may hold (default: the
    chain's modules)."""

    def __init__(self, path: str, modules: list[Module] | None = None):
        self.path = path
        modules = list(_default_modules()) if modules is None else modules
        try:
            with open(path, "rb") as f:
                head = _read_head(f)
        except ijson.JSONError as exc:
            raise GenesisError(f"not valid JSON: {exc}") from None
        except OSError as exc:
            raise GenesisError(f"cannot read {path}: {exc}") from None
        checked = _check_head(head, modules)
        self.meta = checked["meta"]
        self.denoms = checked["denoms"]
        self.modules = modules
        self.declared = checked["declared"]
        self.validators = checked.get("validators")
        self.mechanism = {k: checked[k] for k in ("params",
                                                  *typed_sections(modules)) if k in checked}
        self.totals, self.count = self._validate_accounts()

    def _validate_accounts(self) -> tuple[dict[str, int], int]:
        """Pass 1: every account checked, totals summed, duplicates refused."""
        totals: dict[str, int] = {}
        prev = b""
        seen: set[bytes] | None = None  # only needed when the file is not in address order
        n = 0
        try:
            for n, acct in enumerate(_iter_accounts(self.path, self.denoms), 1):
                addr = acct["address"]
                if seen is None and addr > prev:
                    prev = addr
                else:
                    if seen is None:
                        seen = set()
                        with open(self.path, "rb") as f:
                            for j, a in enumerate(any_length_numbers(ijson.items(f, "accounts.item",
                                                                                 use_float=False))):
                                if j >= n - 1:
                                    break
                                seen.add(decode_address(a["address"]))
                    if addr in seen:
                        raise GenesisError(f"accounts[{n - 1}].address: duplicate account {encode_address(addr)}")
                    seen.add(addr)
                for d, amt in acct["balances"].items():
                    totals[d] = totals.get(d, 0) + amt
        except ijson.JSONError as exc:
            raise GenesisError(f"accounts: not valid JSON: {exc}") from None
        for d, total in totals.items():
            if total > AMOUNT_MAX:
                raise GenesisError(f"accounts: total supply of {d} exceeds 2^128 - 1")
        self.declared = with_totals(self.declared, totals, self.modules)
        return totals, n

    def account_chunks(self, size: int = CHUNK) -> Iterator[list[dict]]:
        """Pass 2: validated accounts in lists of at most size."""
        chunk: list[dict] = []
        for acct in _iter_accounts(self.path, self.denoms):
            chunk.append(acct)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def sections(self) -> dict:
        s: dict = {**self.declared}
        s.update(self.mechanism)
        if self.validators is not None:
            if s.get("governance", {}).get("validators"):
                raise GenesisError("validators: named twice (top level and governance.validators)")
            s["governance"] = {**s.get("governance", {}),
                               "validators": [{"pubkey": v["pubkey"], "power": v["power"]} for v in self.validators]}
        return s


GENESIS_SKIPS = ("stable-supply",)
"""Chain-wide checks a genesis is not held to: a genesis may hold stable tokens before any
custodian is named (nothing records their mint); the loader bounds them by the attested
reserve instead (GenesisFile._validate_accounts)."""


def block_invariants(ctx) -> list[tuple[str, str]]:
    """The chain-wide block invariants (genesis/checks.CHAIN_CHECKS, but GENESIS_SKIPS) of
    ctx's state; App.init_chain checks every module's own invariants itself."""
    return [(f"chain/{name}", msg) for name, fn in CHAIN_CHECKS.items() if name not in GENESIS_SKIPS
            for msg in fn(ctx)]


def import_genesis(app: App, path: str) -> bytes:
    """Validate the genesis at path, import it into app's empty store; the state root. A
    genesis whose state breaks a block invariant is refused (GenesisError naming them)."""
    g = GenesisFile(path, app.modules)
    try:
        return app.init_chain(g.meta, g.sections(), g.account_chunks(), check=block_invariants)
    except GenesisInvariantError as exc:
        raise GenesisError(f"the imported state breaks the block invariants: {exc}") from None


# ----- export --------------------------------------------------------------------------
def _jsonable_account(a: dict) -> dict:
    out: dict = {"address": encode_address(a["address"])}
    if a["nonce"]:
        out["nonce"] = a["nonce"]
    out["balances"] = {d: str(v) for d, v in sorted(a["balances"].items())}
    return out


def export_genesis(app: App, out: IO[str]) -> int:
    """Write the app's latest state as a genesis file to out (streamed); accounts written."""
    meta, sections, accounts = app.export()
    bank = denominations(app.modules)
    denoms = bank.genesis_json.to_json(sections[bank.name])
    stable_unit = _stable_unit({"stable": sections.get("stable") or {}}, {d["id"]: d for d in denoms})
    head: dict = {
        "chainId": meta["chainId"], "genesisTime": meta["genesisTime"], "initialHeight": meta["initialHeight"],
        "appVersion": meta["appVersion"], "stateSchemaVersion": meta["stateSchemaVersion"],
        "validator": {"pubkey": "0x" + meta["validator"].hex()}, "nativeDenom": meta["nativeDenom"],
        DENOMINATIONS: denoms,
        "params": {"chain": {k: v for k, v in meta["params"].items() if k != "chainId"},
                   **mechanism.module_params_to_json(sections.get("params", {}), stable_unit, app.modules)},
    }
    for m in app.modules:
        if m.genesis_json is not None and m is not bank and m.name in sections:
            j = m.genesis_json.to_json(sections[m.name])
            if j is not None:
                head[section_field(m)] = j
    named = sections.get("governance", {}).pop("validators", None)
    if named:
        head["validators"] = [{"pubkey": "0x" + v["pubkey"].hex(), "power": v["power"]} for v in named]
    for name, records in typed_sections(app.modules).items():
        if sections.get(name):
            head[name] = typed.to_json(sections[name], records)
    text = json.dumps(head, indent=1)
    out.write(text[:-2] + ',\n "accounts": [')
    n = 0
    for a in accounts:
        out.write(("\n  " if n == 0 else ",\n  ") + json.dumps(_jsonable_account(a), separators=(",", ":")))
        n += 1
    out.write("\n ]\n}\n")
    return n
