"""docs/genesis.md documents every field a genesis has: each field the loader declares is
in its field reference, each field documented there is declared, and every field of the
embedded devnet genesis (genesis/devnet.json) is documented."""

from __future__ import annotations

import json
import os
import re

from rwachain.genesis import devnet, loader
from rwachain.modules.assets import genesis as assets_genesis
from rwachain.modules.assets import keeper as assets
from rwachain.modules.core import params as chain_params
from rwachain.modules.core.app import default_modules
from rwachain.modules.governance import changes
from rwachain.modules.market import records as market_records
from rwachain.modules.oracle import feeds
from rwachain.modules.oracle import genesis as oracle_genesis
from rwachain.modules.roles.module import ROLES
from rwachain.modules.stable import module as stable_module
from rwachain.modules.tranches import records as tranche_records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "genesis.md")


def _records(section: str, records) -> set[str]:
    """Paths of a typed section's records (modules/core/records.py): an entry's key and value fields."""
    out = set()
    for r in records:
        base = f"{section}.{r.name}"
        out.add(base)
        item = base if r.single else base + "[]"
        fields = [n for n, _ in r.key]
        if isinstance(r.value, dict):
            fields += list(r.value)
            for f, shape in r.value.items():
                if isinstance(shape, tuple) and shape[0] == "map":
                    out.add(f"{item}.{f}.<denom>")
        elif not r.single:
            fields.append(r.field)
        out.update(f"{item}.{f}" for f in fields)
    return out


def declared() -> set[str]:
    """Every field path the loader accepts; <x> stands for a key of a map (any name)."""
    out = set(loader.TOP_FIELDS) | {"validator.pubkey", "params.chain", "stable.denom", "stable.proofOfReserve",
                                   "stable.custodianMinted", "stable.state"}
    out |= {f"denoms[].{f}" for f in ("id", "symbol", "decimals", "kind")}
    out |= {f"validators[].{f}" for f in ("pubkey", "power", "name")}
    out |= {f"params.chain.{k}" for k in chain_params.DEFAULTS}
    for name, units in changes.governed_units(default_modules()).items():
        out.add(f"params.{name}")
        for k, u in units.items():
            out.add(f"params.{name}.{k}")
            if isinstance(u, dict):
                out |= {f"params.{name}.{k}.{s}" for s in u}
    out |= {f"roles.{r}" for r in ROLES}
    out |= {"oracle.epoch", "oracle.operators", "oracle.policies", "oracle.feeds", "oracle.policies.<class>",
            "oracle.feeds[].pending"}
    out |= {f"oracle.operators[].{f}" for f in ("address", "blsPubkey", "pop")}
    out |= {f"oracle.policies.<class>.{f}" for f in feeds.POLICY_FIELDS}
    out |= {f"oracle.feeds[].{f}" for f in ("id", "value", "observedAt", *oracle_genesis.FEED_STATE)}
    out |= {f"oracle.feeds[].pending.{f}" for f in ("value", "round", "observedAt", "activatesAt")}
    out |= {"assets.params", "assets.next", "assets.assets", "assets.poolMarks", "assets.params.graceMax",
            "assets.params.maxInstallments", "assets.assets[].mark"}
    out |= {f"assets.params.graceMax.{k}" for k in assets.KINDS}
    out |= {f"assets.assets[].{f}" for f in assets_genesis.ASSET_REQUIRED | assets_genesis.ASSET_OPTIONAL}
    out |= {f"assets.assets[].history[].{f}" for f in ("kind", "amount", "time", "height")}
    out |= {f"assets.assets[].mark.{f}" for f in ("value", "time", "stale", "next")}
    out |= {"tranches.next", "tranches.pools", "tranches.payouts", "tranches.pools[].tranches"}
    out |= {f"tranches.pools[].{f}" for f in (*tranche_records.POOL_INTS, "originator", "account", "assets", "status")}
    out |= {f"tranches.pools[].tranches[].{f}" for f in ("denom", *tranche_records.TRANCHE_INTS)}
    out |= {f"market.{f}" for f in ("next", "orders", "trades", "counts")}
    out |= {f"market.orders[].{f}" for f in (*market_records.ORDER_INTS, "denom", "side", "owner")}
    for name, records in loader.TYPED_SECTIONS.items():
        out |= _records(name, records)
    out |= _records("stable.state", stable_module.STATE)
    out |= {"accounts[].address", "accounts[].nonce", "accounts[].balances", "accounts[].balances.<denom>"}
    return out


def documented() -> set[str]:
    """The field paths in the first column of the tables of docs/genesis.md's "Field
    reference" ("a.{b, c}" stands for a.b and a.c)."""
    with open(DOC) as f:
        text = f.read()
    ref = text.split("## Field reference", 1)[1].split("\n## ", 1)[0]
    out = set()
    for line in ref.splitlines():
        if not line.startswith("| `"):
            continue
        for path in re.findall(r"`([^`]+)`", line.split(" | ")[0]):
            mo = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", path)
            parts = [mo[1] + x.strip() + mo[3] for x in mo[2].split(",")] if mo else [path]
            out.update(parts)
    return out


def _walk(v, path: str = ""):
    """Every field path of a JSON document: list items as [], tuples (lists of lists) and
    scalars end a path."""
    if path and not path.endswith("[]"):
        yield path
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _walk(x, f"{path}.{k}" if path else k)
    elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        for x in v:
            yield from _walk(x, path + "[]")


def _matches(path: str, patterns: set[str]) -> bool:
    if path in patterns:
        return True
    segs = re.split(r"\.(?![^<]*>)", path)
    for p in patterns:
        psegs = p.split(".")
        if len(psegs) == len(segs) and all(a == b or (a.startswith("<") and a.endswith(">")) or
                                           (a.startswith("<") and b.endswith("[]") and a.endswith(">[]"))
                                           for a, b in zip(psegs, segs, strict=True)):
            return True
    return False


def test_every_declared_genesis_field_is_documented_and_every_documented_one_declared():
    doc, decl = documented(), declared()
    assert sorted(decl - doc) == [], "declared but not in docs/genesis.md's field reference"
    assert sorted(doc - decl) == [], "documented in docs/genesis.md but not a field the loader takes"


def test_every_field_of_the_devnet_genesis_is_documented():
    with open(devnet.PATH) as f:
        doc = json.load(f)
    documented_ = documented()
    missing = sorted({p for p in _walk(doc) if not _matches(p, documented_)})
    assert missing == []


def test_every_top_level_field_has_its_row_in_the_sections_table():
    """docs/genesis.md "Sections" names every top-level field: a module added with a
    genesis section gets its row there too (docs/adding-a-module.md, step 4)."""
    with open(DOC) as f:
        table = f.read().split("## Sections", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([\w.&;]+) \|", table, re.M)
    fields = [r.split(".")[0] for r in rows if r != "field"]
    assert set(fields) == set(loader.TOP_FIELDS), (sorted(set(loader.TOP_FIELDS) - set(fields)),
                                                   sorted(set(fields) - set(loader.TOP_FIELDS)))
